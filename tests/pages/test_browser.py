"""One real-browser test: the running app, every page, headless Debian Chromium.

Skips when Chromium or Playwright is missing, unless SIGHTLINE_REQUIRE_BROWSER=1 (set by
.ci/run), where a missing browser is a failure.
"""

import base64
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.pages.browser import CHROMIUM, PAGES, running_app, visit_pages

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("SIGHTLINE_REQUIRE_BROWSER") == "1"


def _browser_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (pip install playwright)"
    return None


def _require_browser() -> None:
    missing = _browser_missing()
    if missing:
        if REQUIRED:
            pytest.fail(f"browser test required but cannot run: {missing}")
        pytest.skip(missing)


@pytest.mark.browser
def test_every_page_opens_in_chromium_without_exceptions():
    _require_browser()
    out = Path(os.environ.get("SIGHTLINE_SCREENSHOTS", ROOT / "artifacts" / "screens"))
    with running_app() as url:
        problems = visit_pages(url, PAGES, out)
    assert set(problems) == {p or "overview" for p in PAGES}
    assert {p: f for p, f in problems.items() if f} == {}
    for page in problems:
        assert (out / f"{page}.png").stat().st_size > 10_000, f"screenshot of {page} looks blank"


@pytest.mark.browser
def test_model_card_downloads_carry_the_charts_drawn_in_the_background(tmp_path, sample_audit):
    """The card page shows the card before its charts are drawn; a download clicked at once
    waits for them and still carries every chart (PDF and HTML, as a person gets them)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    from sightline.card.build import chart_outlines
    from sightline.report.registry import build_report
    from tests.pages.browser import CHROMIUM_ARGS, wait_until_idle

    n_charts = len(chart_outlines(build_report(sample_audit))[0])
    with running_app() as url, sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = chrome.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
        page.goto(f"{url}/model_card", wait_until="domcontentloaded")
        wait_until_idle(page, 300)
        files = {}
        for label in ("HTML", "PDF"):
            with page.expect_download(timeout=300_000) as download:
                page.get_by_role("button", name=label, exact=True).click()
            files[label] = tmp_path / download.value.suggested_filename
            download.value.save_as(files[label])
        chrome.close()
    html = files["HTML"].read_text(encoding="utf-8")
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]*)", html)
    assert files["HTML"].name == "model_card.html" and len(images) == n_charts > 10
    assert all(base64.b64decode(png).startswith(b"\x89PNG") for png in images)  # drawn, not placeholders
    pdf = files["PDF"].read_bytes()
    assert files["PDF"].name == "model_card.pdf" and pdf.startswith(b"%PDF-")
    assert pdf.count(b"/Subtype /Image") >= n_charts
