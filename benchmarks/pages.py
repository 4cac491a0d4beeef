"""Time every dashboard page in a real browser on a large log: cold and warm.

For each page: start a fresh ``streamlit run app.py -- <audit>`` (so nothing is cached) and
open the Data page in headless Chromium — the **session start** (the server's first run and
loading the audit, paid once a session). Then open the page from the sidebar and time until the
script has finished (no running indicator; see ``tests/browser.py``) — **cold**. Then away to
the Data page and back — **warm** (Streamlit's caches hold the results).
Screenshots of the cold visits go to ``--shots`` so a person can check what
was timed.

    python benchmarks/pages.py --size 1m                 # every page, results into results_pages.md
    python benchmarks/pages.py --size 1m drift fairness  # some pages

The audit file is the benchmark's ``benchmarks/data/audit_<size>.yaml`` (made by synthetic.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests"), str(ROOT)]

import browser  # tests/browser.py: the app runner and the idle detection the browser test uses
import synthetic

RESULTS = HERE / "results_pages.md"
# The sidebar link of each page (app.py's titles), to move between pages as a user does.
TITLES = {"": "Overview", "data": "Data & audit file", "performance": "Performance", "slices": "Slices",
          "calibration": "Calibration", "explainability": "Explainability", "fairness": "Fairness", "drift": "Drift",
          "operations": "Operations", "versions": "Model versions", "model_card": "Model card"}


def _timed(page, go, timeout: float) -> tuple[float, list[str]]:
    """Seconds from ``go()`` until the page has finished running, and any exception shown on it."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    t0 = time.perf_counter()
    go()
    browser.wait_until_idle(page, timeout)
    seconds = time.perf_counter() - t0 - browser.QUIET_S
    errors += ["exception: " + b.inner_text()[:200] for b in page.locator('[data-testid="stException"]').all()]
    return seconds, errors


def _click(page, path: str):
    return lambda: page.locator('[data-testid="stSidebarNav"] a').filter(has_text=TITLES[path]).first.click()


def time_page(path: str, audit: Path, shots: Path, timeout: float) -> dict:
    """Cold and warm seconds of one page, each in a fresh server."""
    from playwright.sync_api import sync_playwright

    with browser.running_app(audit=audit) as url, sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS, headless=True)
        page = chrome.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        # The session starts on a page that computes nothing: the server's first run, the app's
        # imports and loading the audit are paid here, once per session.
        start_page = "versions" if path == "data" else "data"
        start, errors = _timed(page, lambda: page.goto(f"{url}/{start_page}", wait_until="domcontentloaded"), timeout)
        cold, more = _timed(page, _click(page, path), timeout)
        page.screenshot(path=str(shots / f"{path or 'overview'}.png"), full_page=True)
        # Warm: leave for another page and come back through the sidebar, as a user does.
        _timed(page, _click(page, start_page), timeout)
        warm, again = _timed(page, _click(page, path), timeout)
        chrome.close()
    return {"session_start_s": round(start, 1), "cold_s": round(cold, 1), "warm_s": round(warm, 1),
            "problems": errors + more + again}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", help="URL paths (default: every page; '' is the Overview)")
    parser.add_argument("--size", default="1m")
    parser.add_argument("--shots", type=Path, default=Path("artifacts/pages"))
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    label = synthetic.size_label(synthetic.parse_size(args.size))
    synthetic.ensure(label)
    audit = synthetic.DATA_DIR / f"audit_{label}.yaml"
    args.shots.mkdir(parents=True, exist_ok=True)
    pages = args.pages or browser.PAGES
    results = {}
    for path in pages:
        results[path or "overview"] = r = time_page(path, audit, args.shots, args.timeout)
        print(f"{path or 'overview':14s} session start {r['session_start_s']:5.1f} s   cold {r['cold_s']:6.1f} s   "
              f"warm {r['warm_s']:5.1f} s   {'; '.join(r['problems'])}", flush=True)
    load = os.getloadavg()
    lines = [f"# Dashboard pages on the {synthetic.parse_size(label):,}-row log", "",
             f"Measured {datetime.now(UTC).replace(microsecond=0).isoformat()} by `python benchmarks/pages.py "
             f"{' '.join(sys.argv[1:] if argv is None else argv)}` on {os.cpu_count()} cores (load average at the end "
             f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}). Each page in a fresh server: the session starts on the Data "
             "page (server's first run, imports, loading the audit: *session start*); then the page is opened from the "
             "sidebar with nothing of it cached (*cold*, until the script finished); then, after visiting the Data page, "
             "opened again (*warm*).", "",
             "| page | session start s | cold s | warm s | target (cold < 10 s, warm < 2 s) | problems |",
             "|---|---:|---:|---:|---|---|"]
    for name, r in results.items():
        ok = "met" if r["cold_s"] < 10 and r["warm_s"] < 2 else "**not met**"
        lines.append(f"| {name} | {r['session_start_s']:.1f} | {r['cold_s']:.1f} | {r['warm_s']:.1f} | {ok} | "
                     f"{'; '.join(r['problems']) or '–'} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("\n".join(lines))
    return 1 if any(r["problems"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
