"""Drive the running dashboard in headless Debian Chromium (Playwright) and screenshot pages.

Used by ``tests/pages/test_browser.py`` and by developers:
``python tests/pages/browser.py --out artifacts/screens [page …]`` starts ``streamlit run app.py``
on a free localhost port, opens every page (or the ones named, by URL path), saves a
full-page PNG of each and prints any exception shown on a page.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SIGHTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# URL path of every page in app.py ("" is the default page, Overview).
PAGES = ["", "data", "performance", "slices", "calibration", "explainability", "fairness",
         "drift", "operations", "versions", "model_card"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(port: int | None = None, timeout: float = 90, audit: Path | str | None = None,
                precompute: bool = True, options: tuple[str, ...] = (), env: dict | None = None):
    """Start ``streamlit run app.py`` headless on localhost (on ``audit`` when given, else the
    bundled sample; ``precompute=False`` turns the background computation of every area off;
    ``options`` are more Streamlit flags, ``env`` more environment variables); yields the base
    URL; stops it after."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", *options] + (["--", str(audit)] if audit else [])
    # By default the app as users run it: background computation on (tests/conftest.py turns it
    # off for the in-process page tests).
    env = {**os.environ, "SIGHTLINE_PRECOMPUTE": "1" if precompute else "0", **(env or {})}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{proc.stdout.read()}")
        else:
            raise RuntimeError("streamlit did not become healthy in time")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


QUIET_S = 2.5  # the script counts as finished after this long without a running indicator


def wait_until_idle(page, timeout: float = 180) -> None:
    """Wait until app.py's navigation is in place, the page has a title, and the script has
    finished running (no 'running' indicator for a moment).

    Until app.py's first run reaches ``st.navigation``, Streamlit shows its file-name page list;
    a screenshot taken then would show a page that never ran.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    page.wait_for_selector('[data-testid="stSidebarNav"] >> text=Evaluation', timeout=timeout * 1000)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout * 1000)
    deadline = time.time() + timeout
    quiet_since = None
    while time.time() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0 or page.locator(".stSpinner").count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > QUIET_S:
            return
        time.sleep(0.25)


def visit_pages(base_url: str, paths: list[str], out_dir: Path, timeout: float = 180) -> dict[str, list[str]]:
    """Open each page, screenshot it into ``out_dir``; returns page -> problems found
    (exception boxes and JavaScript page errors)."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        for path in paths:
            errors.clear()
            page.set_viewport_size({"width": 1400, "height": 1000})
            page.goto(f"{base_url}/{path}", wait_until="domcontentloaded")
            wait_until_idle(page, timeout)
            found = list(errors)
            for box in page.locator('[data-testid="stException"]').all():
                found.append("exception on page: " + box.inner_text()[:500])
            problems[path or "overview"] = found
            # Streamlit scrolls inside its main block, so grow the window to the content's height
            # to capture the whole page in one picture.
            height = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                                   " return m ? m.scrollHeight : document.body.scrollHeight; }")
            page.set_viewport_size({"width": 1400, "height": max(1000, min(int(height) + 80, 16000))})
            time.sleep(1.0)
            page.screenshot(path=str(out_dir / f"{path or 'overview'}.png"), full_page=True)
        browser.close()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", help="URL paths (default: every page)")
    parser.add_argument("--out", default="artifacts/screens")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    with running_app(args.port) as url:
        problems = visit_pages(url, args.pages or PAGES, Path(args.out))
    bad = 0
    for page, found in problems.items():
        print(f"{page:16s} {'OK' if not found else 'PROBLEMS'}")
        for f in found:
            print("   ", f)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
