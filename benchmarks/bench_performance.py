"""Compute times of the Performance and Calibration pages on synthetic logs of 100k and 1M rows.

Run: ``python benchmarks/bench_performance.py [--rows 100000 1000000]``. Each log is generated
deterministically (seeded), written to a temporary Parquet file with an audit.yaml beside it,
and loaded with :func:`sightline.data.audit.load_audit`; then the engine calls behind each page are
timed as the page makes them on a first (uncached) visit:

- Performance: ``performance_section`` (metrics + intervals, baselines, the other version on the
  same requests, confusion matrix, ROC/PR/threshold curves and charts);
- Calibration: ``calibration_section`` (overall and per sensitive group, with bootstrap
  intervals and the chance-ECE simulation) and the page's ``calibration_result`` for its
  default group column, plus a switch to the quantile scheme.

The log holds a primary version (all rows) and a challenger scored in shadow on 20% of the same
request ids; 85% of the primary rows have a label.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def synthetic_log(rows: int, seed: int = 0) -> pd.DataFrame:
    """A binary prediction log: features, two sensitive columns, scores of a fairly good model
    with an under-confident stretch, labels for 85% of the rows, a 20% shadow challenger."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, rows)
    hours = rng.integers(5, 80, rows)
    sex = rng.choice(["Female", "Male"], rows, p=[0.35, 0.65])
    race = rng.choice(["White", "Black", "Asian-Pac-Islander", "Other"], rows, p=[0.8, 0.1, 0.07, 0.03])
    logit = 0.04 * (age - 40) + 0.03 * (hours - 40) + np.where(sex == "Male", 0.6, -0.4) + rng.normal(0, 1.2, rows) - 1
    truth = rng.random(rows) < 1 / (1 + np.exp(-logit))
    score = np.round(1 / (1 + np.exp(-(0.8 * logit + rng.normal(0, 0.5, rows)))), 4)
    label = np.where(truth, ">50K", "<=50K").astype(object)
    label[rng.random(rows) >= 0.85] = None
    frame = pd.DataFrame({
        "request_id": np.char.add("req-", np.arange(rows).astype(str)),
        "ts": pd.Timestamp("2026-06-01") + pd.to_timedelta(np.sort(rng.integers(0, 84 * 86400, rows)), unit="s"),
        "age": age, "hours_per_week": hours, "sex": sex, "race": race,
        "income": label, "score": score, "predicted": np.where(score >= 0.5, ">50K", "<=50K"),
        "model_version": "champion", "latency_ms": rng.gamma(2.0, 12.0, rows).round(2),
    })
    shadow = frame.sample(frac=0.2, random_state=seed).copy()
    shadow["model_version"] = "challenger"
    shadow["score"] = np.round(np.clip(shadow["score"] + rng.normal(0, 0.05, len(shadow)), 0, 1), 4)
    shadow["predicted"] = np.where(shadow["score"] >= 0.5, ">50K", "<=50K")
    return pd.concat([frame, shadow], ignore_index=True)


AUDIT = """name: benchmark
task: binary
positive_label: ">50K"
current: log.parquet
primary_version: champion
columns:
  target: income
  prediction: predicted
  score: score
  timestamp: ts
  model_version: model_version
  latency_ms: latency_ms
  id: request_id
  features: [age, hours_per_week, sex, race]
  sensitive: [sex, race]
"""


def timed(label: str, func, rows: int):
    """Run ``func``; print wall and CPU seconds (the machine is shared: CPU time is what the
    computation costs, wall time what a user waited) and rows per wall second."""
    start, cpu = time.perf_counter(), time.process_time()
    out = func()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label:58s} {seconds:6.2f} s wall {cpu_seconds:6.2f} s CPU  ({rows / seconds:>10,.0f} rows/s)")
    return out, seconds


def bench(rows: int) -> None:
    from sightline.calibration.section import calibration_result, calibration_section
    from sightline.data.audit import load_audit
    from sightline.data.spec import load_spec
    from sightline.performance.section import performance_section

    with tempfile.TemporaryDirectory() as tmp:
        log = synthetic_log(rows)
        log.to_parquet(Path(tmp) / "log.parquet", index=False)
        (Path(tmp) / "audit.yaml").write_text(AUDIT)
        print(f"\n{rows:,} primary rows ({len(log):,} logged with the shadow challenger)")
        audit, _ = timed("load_audit (shared by every page, cached by the app)",
                         lambda: load_audit(load_spec(Path(tmp) / "audit.yaml")), len(log))
        perf, t_perf = timed("Performance page: performance_section", lambda: performance_section(audit), rows)
        cal, t_cal = timed("Calibration page: calibration_section (overall + sex, race)",
                           lambda: calibration_section(audit), rows)
        _, t_view = timed("Calibration page: its default group view (sex)",
                          lambda: calibration_result(audit, group_columns=("sex",)), rows)
        _, t_quant = timed("Calibration page: switch to quantile bins", lambda: calibration_result(
            audit, strategy="quantile", group_columns=("sex",)), rows)
        print(f"  first visit: Performance {t_perf:.2f} s; Calibration {t_cal + t_view:.2f} s; "
              f"later interactions: threshold slider 0 s (precomputed), bin switch {t_quant:.2f} s")
        print(f"  bootstrap on {perf.provenance['bootstrap_rows']:,} of {perf.provenance['labelled_rows']:,} labelled "
              f"rows, {perf.provenance['bootstrap_resamples']} resamples; {perf.provenance['curves']}")
        print(f"  verdicts: performance {perf.verdict.status}, calibration {cal.verdict.status}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    args = parser.parse_args()
    import altair  # noqa: F401  (imported once by the app; keep it out of the timings)

    for rows in args.rows:
        bench(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
