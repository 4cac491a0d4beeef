"""Compute times of the Operations and Model versions pages on synthetic logs (default 100k and 1M rows).

Run: ``python benchmarks/bench_operations.py [--rows 100000 1000000]``. Each log is generated
deterministically (seeded): ``rows`` requests of the primary version over 12 weeks, plus a
challenger scored in shadow on the same request ids for the last 4 weeks (about a third more
rows), lognormal latencies (challenger 1.5× slower) with two 2-hour incidents, 80% labelled.
It is written to a temporary Parquet file with an audit.yaml beside it and loaded with
:func:`sightline.data.audit.load_audit`; then the engine calls behind each page are timed as a first
(uncached) visit makes them:

- Operations: ``operations_result`` for daily (the default), hourly and weekly windows, and
  ``operations_section`` (daily, plus the version comparison and charts, as report/card use);
- Model versions: ``compare_versions`` (join on the id, paired intervals with a bounded
  bootstrap of at most 20,000 requests × 500 resamples, slices, score bands, latency).

Wall and CPU seconds are printed: the machine is shared, and CPU time says more about the code.
A warm-up run on 5,000 rows comes first, so one-off module imports are not counted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

log = logging.getLogger("bench_operations")


def synthetic_log(rows: int, seed: int = 0) -> pd.DataFrame:
    """A binary prediction log with a primary version on every request and a shadow challenger
    on the requests of weeks 9-12 (same ids), latency incidents on days 16 and 71."""
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2026-06-01") + pd.to_timedelta(np.sort(rng.integers(0, 84 * 86400, rows)), unit="s")
    age = rng.integers(18, 80, rows)
    hours = rng.integers(5, 80, rows)
    work = rng.choice(["Private", "Self-emp", "Gov", "Other"], rows, p=[0.6, 0.2, 0.15, 0.05])
    logit = 0.04 * (age - 40) + 0.03 * (hours - 40) + rng.normal(0, 1.2, rows) - 1
    truth = rng.random(rows) < 1 / (1 + np.exp(-logit))
    label = np.where(truth, ">50K", "<=50K").astype(object)
    label[rng.random(rows) >= 0.8] = None
    base = pd.DataFrame({"request_id": np.char.add("req-", np.arange(rows).astype(str)), "ts": ts,
                         "age": age, "hours_per_week": hours, "workclass": work, "income": label})

    def scored(frame: pd.DataFrame, version: str, noise: float, median_ms: float, salt: int) -> pd.DataFrame:
        r = np.random.default_rng(seed + salt)
        lg = 0.04 * (frame["age"] - 40) + 0.03 * (frame["hours_per_week"] - 40) - 1 + r.normal(0, noise, len(frame))
        score = np.round(1 / (1 + np.exp(-lg)), 4)
        latency = median_ms * r.lognormal(0, 0.69, len(frame))
        day = (frame["ts"] - pd.Timestamp("2026-06-01")).dt.days.to_numpy()
        hour = frame["ts"].dt.hour.to_numpy()
        latency[((day == 16) | (day == 71)) & (hour >= 14) & (hour < 16)] *= 7
        return frame.assign(score=score, predicted=np.where(score >= 0.5, ">50K", "<=50K"), model_version=version,
                            latency_ms=latency.round(2))

    champion = scored(base, "champion", 0.9, 40.0, 1)
    shadow = scored(base[base["ts"] >= pd.Timestamp("2026-07-27")], "challenger", 0.7, 60.0, 2)
    return pd.concat([champion, shadow], ignore_index=True)


AUDIT_YAML = """name: Operations benchmark
task: binary
positive_label: ">50K"
current: log.parquet
primary_version: champion
columns: {target: income, prediction: predicted, score: score, timestamp: ts, model_version: model_version,
          latency_ms: latency_ms, id: request_id, features: [age, hours_per_week, workclass]}
"""


QUIET = False


def say(text: str) -> None:
    if not QUIET:
        print(text)


def timed(label: str, fn, rows: int):
    """Run ``fn`` once; print wall and CPU seconds and rows per wall second; return its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    say(f"  {label:<50s} {wall:7.2f} s wall {cpu:7.2f} s CPU {rows / wall:>12,.0f} rows/s")
    return out


def bench(rows: int) -> None:
    from sightline.data.audit import load_audit
    from sightline.data.spec import load_spec
    from sightline.operations.section import operations_result
    from sightline.report.compose import operations_section
    from sightline.versions.section import compare_versions

    frame = synthetic_log(rows)
    with tempfile.TemporaryDirectory() as tmp:
        frame.to_parquet(Path(tmp) / "log.parquet")
        (Path(tmp) / "audit.yaml").write_text(AUDIT_YAML)
        audit = load_audit(load_spec(Path(tmp) / "audit.yaml"))
    n = len(audit.current)
    say(f"{rows:,} primary requests + {n - rows:,} shadow rows = {n:,} logged rows")
    for window in ("day", "hour", "week"):
        result = timed(f"operations_result(window={window!r})", lambda: operations_result(audit, window), n)
        say(f"      {len(result.latency_windows):,} windows, {len(result.incidents)} incidents")
    timed("compare_versions (paired, bootstrap ≤20k×500)", lambda: compare_versions(audit, "challenger"), n)
    timed("operations_section (report/card, incl. versions)", lambda: operations_section(audit), n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    global QUIET
    QUIET = True  # warm-up on a small log: module imports happen once per app, not per page visit
    bench(5_000)
    QUIET = False
    for rows in args.rows:
        bench(rows)


if __name__ == "__main__":
    main()
