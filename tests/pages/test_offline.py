"""The running app in headless Chromium at a 1440 px wide window: every page loads with no request
to any host but the app's own (the tab icon included), and no chart is wider than its column.

Requests to other hosts are recorded and refused, as on a machine without internet. Skips when
Chromium or Playwright is missing, unless SIGHTLINE_REQUIRE_BROWSER=1 (set by .ci/run), where a
missing browser is a failure (as in tests/pages/test_browser.py).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.pages.browser import CHROMIUM, CHROMIUM_ARGS, PAGES, running_app, wait_until_idle
from tests.pages.test_browser import _require_browser

VIEWPORT = {"width": 1440, "height": 1000}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob", "about"}

# Each drawn chart: its right edge and the right edge of the column (vertical block) it sits in.
CHART_EDGES = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(el => {
    const drawn = el.querySelector('canvas, svg.marks') || el;
    const column = el.closest('[data-testid="stVerticalBlock"]') || el.parentElement;
    const d = drawn.getBoundingClientRect(), c = column.getBoundingClientRect();
    const title = (el.querySelector('[aria-label]') || el).getAttribute('aria-label') || '';
    return {title: title.slice(0, 80), width: d.width, right: d.right, column_right: c.right};
})"""


def foreign(url: str) -> bool:
    """True for a request that leaves this machine (not the app's host, not an inline data: URL)."""
    parts = urlsplit(url)
    return parts.scheme not in LOCAL_SCHEMES and parts.hostname not in LOCAL_HOSTS


def test_foreign_tells_the_app_host_from_a_cdn():
    assert foreign("https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/visibility/default/24px.svg")
    assert foreign("https://cdn.jsdelivr.net/npm/vega@5")
    assert not foreign("http://127.0.0.1:8501/_stcore/health")
    assert not foreign("http://localhost:8501/static/js/main.js")
    assert not foreign("data:image/png;base64,iVBORw0KGgo=")


@pytest.mark.browser
def test_every_page_loads_offline_and_fits_a_1440px_window():
    _require_browser()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    overflow: dict[str, list[dict]] = {}
    charts_seen = 0
    with running_app() as url, sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = chrome.new_context(viewport=VIEWPORT)
        context.on("request", lambda request: requests.append(request.url))
        # Refuse what would leave the machine, so the pages are seen as they are offline.
        context.route(lambda u: foreign(u), lambda route: route.abort("internetdisconnected"))
        page = context.new_page()
        for path in PAGES:
            page.goto(f"{url}/{path}", wait_until="domcontentloaded")
            wait_until_idle(page, 300)
            edges = [e for e in page.evaluate(CHART_EDGES) if e["width"] > 0]  # charts in a closed expander are not drawn
            charts_seen += len(edges)
            wide = [e for e in edges if e["right"] > e["column_right"] + 1]
            if wide:
                overflow[path or "overview"] = wide
        icon = page.evaluate("() => [...document.querySelectorAll('link[rel~=\"icon\"]')].map(l => l.href)")
        chrome.close()
    assert [r for r in requests if foreign(r)] == []
    assert any(r.startswith(url) for r in requests)  # the recording works: the app's own requests are in it
    assert icon and all(not foreign(href) for href in icon), icon
    assert charts_seen > 20
    assert overflow == {}
