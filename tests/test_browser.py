"""One real-browser test: the running app, every page, headless Debian Chromium.

Skips when Chromium or Playwright is missing, unless SIGHTLINE_REQUIRE_BROWSER=1 (set by
.ci/run), where a missing browser is a failure.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, PAGES, running_app, visit_pages

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = os.environ.get("SIGHTLINE_REQUIRE_BROWSER") == "1"


def _browser_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (pip install playwright)"
    return None


@pytest.mark.browser
def test_every_page_opens_in_chromium_without_exceptions():
    missing = _browser_missing()
    if missing:
        if REQUIRED:
            pytest.fail(f"browser test required but cannot run: {missing}")
        pytest.skip(missing)
    out = Path(os.environ.get("SIGHTLINE_SCREENSHOTS", ROOT / "artifacts" / "screens"))
    with running_app() as url:
        problems = visit_pages(url, PAGES, out)
    assert set(problems) == {p or "overview" for p in PAGES}
    assert {p: f for p, f in problems.items() if f} == {}
    for page in problems:
        assert (out / f"{page}.png").stat().st_size > 10_000, f"screenshot of {page} looks blank"
