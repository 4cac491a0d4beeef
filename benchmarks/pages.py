"""Time every dashboard page in a real browser on a large log: cold and warm, strict and as shipped.

For each page: start a fresh ``streamlit run app.py -- <audit>`` (so nothing is cached) and
open the Data page in headless Chromium — the **session start** (the server's first run and
loading the audit, paid once a session). Then open the page from the sidebar and time until the
script has finished (no running indicator; see ``tests/pages/browser.py``) — **cold**. Then away to
the Data page and back — **warm** (Streamlit's caches hold the results).

Every page is timed twice, each time in a fresh server: **strict**, with the app's background
computation off (``SIGHTLINE_PRECOMPUTE=0``: nothing of the page exists before the click), and
**as shipped**, with it on (loading the audit starts every area; the click comes as soon as the
Data page is idle, so only the Data page's own seconds are gained). With the Overview in the
list it also times **opening the app's address** on a fresh server, everything included.
Screenshots of the cold visits go to ``--shots`` so a person can check what was timed.

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
sys.path[:0] = [str(HERE), str(ROOT)]

import synthetic  # noqa: E402 — benchmarks/ is put on the path just above

from tests.pages import browser  # noqa: E402 — the app runner and idle detection the browser test uses

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


def time_page(path: str, audit: Path, shots: Path, timeout: float, precompute: bool) -> dict:
    """Session start, cold and warm seconds of one page in a fresh server."""
    from playwright.sync_api import sync_playwright

    with browser.running_app(audit=audit, precompute=precompute) as url, sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS, headless=True)
        page = chrome.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        # The session starts on a page that computes nothing: the server's first run, the app's
        # imports and loading the audit are paid here, once per session.
        start_page = "versions" if path == "data" else "data"
        start, errors = _timed(page, lambda: page.goto(f"{url}/{start_page}", wait_until="domcontentloaded"), timeout)
        cold, more = _timed(page, _click(page, path), timeout)
        page.screenshot(path=str(shots / f"{path or 'overview'}{'' if precompute else '_strict'}.png"), full_page=True)
        # Warm: leave for another page and come back through the sidebar, as a user does.
        _timed(page, _click(page, start_page), timeout)
        warm, again = _timed(page, _click(page, path), timeout)
        chrome.close()
    return {"session_start_s": round(start, 1), "cold_s": round(cold, 1), "warm_s": round(warm, 1),
            "problems": errors + more + again}


def time_landing(audit: Path, timeout: float) -> dict:
    """Seconds from opening the app's address (a fresh server, the Overview as the first page)
    until the Overview has finished: what a person starting the dashboard waits, all included."""
    from playwright.sync_api import sync_playwright

    with browser.running_app(audit=audit) as url, sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS, headless=True)
        page = chrome.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        seconds, problems = _timed(page, lambda: page.goto(url, wait_until="domcontentloaded"), timeout)
        chrome.close()
    return {"seconds": round(seconds, 1), "problems": problems}


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
        # Strict: background computation off, so nothing of the page is computed before the
        # click. As shipped: on, so the areas start computing when the Data page loads the audit.
        strict = time_page(path, audit, args.shots, args.timeout, precompute=False)
        shipped = time_page(path, audit, args.shots, args.timeout, precompute=True)
        results[path or "overview"] = r = {"strict": strict, "shipped": shipped}
        print(f"{path or 'overview':14s} strict: start {strict['session_start_s']:5.1f} cold {strict['cold_s']:6.1f} "
              f"warm {strict['warm_s']:5.1f} | as shipped: cold {shipped['cold_s']:6.1f} warm {shipped['warm_s']:5.1f}   "
              f"{'; '.join(strict['problems'] + shipped['problems'])}", flush=True)
    landing = time_landing(audit, args.timeout) if "" in pages else None
    load = os.getloadavg()
    lines = [f"# Dashboard pages on the {synthetic.parse_size(label):,}-row log", "",
             f"Measured {datetime.now(UTC).replace(microsecond=0).isoformat()} by `python benchmarks/pages.py "
             f"{' '.join(sys.argv[1:] if argv is None else argv)}` on {os.cpu_count()} cores (load average at the end "
             f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}), in headless Chromium on the same 2 cores. Each page in a "
             "fresh server: the session starts on the Data page (server's first run, imports, loading the audit: "
             "*session start*); then the page is opened from the sidebar (*cold*, until the script finished); then, "
             "after visiting the Data page, opened again (*warm*, Streamlit's caches hold the results).", "",
             "- **strict**: the app's background computation off (`SIGHTLINE_PRECOMPUTE=0`): nothing of the page is "
             "computed before the click.",
             "- **as shipped**: background computation on: loading the audit on the Data page starts every area, "
             "and the page waits only for what is not done yet (the click comes as soon as the Data page is idle).", "",
             "| page | session start s | cold s (strict) | warm s (strict) | cold s (as shipped) | warm s (as shipped) "
             "| target (cold < 10 s, warm < 2 s) | problems |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    for name, r in results.items():
        strict, shipped = r["strict"], r["shipped"]
        ok = ("met" if strict["cold_s"] < 10 and strict["warm_s"] < 2 else
              "met as shipped" if shipped["cold_s"] < 10 and shipped["warm_s"] < 2 else "**not met**")
        lines.append(f"| {name} | {strict['session_start_s']:.1f} | {strict['cold_s']:.1f} | {strict['warm_s']:.1f} | "
                     f"{shipped['cold_s']:.1f} | {shipped['warm_s']:.1f} | {ok} | "
                     f"{'; '.join(strict['problems'] + shipped['problems']) or '–'} |")
    if landing:
        lines += ["", f"Opening the app's address on a fresh server (the Overview as the first page, everything "
                  f"included: server start, imports, loading the audit, all seven areas): **{landing['seconds']:.1f} s**"
                  + (f" ({'; '.join(landing['problems'])})" if landing["problems"] else "") + "."]
        results["landing"] = landing
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("\n".join(lines))
    return 1 if any(r.get("problems") or r.get("strict", {}).get("problems") or r.get("shipped", {}).get("problems")
                    for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
