"""Fairness timings: our vectorised group metrics vs fairlearn's MetricFrame, and the whole
fairness section, on synthetic logs of 100,000 and 1,000,000 rows.

Run: ``python benchmarks/bench_fairness.py [--rows 100000 1000000]``. Prints one line per
measurement: wall and CPU seconds, rows per CPU-second. Timings depend on the machine; on a
shared machine compare CPU seconds.
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

from sightline.fairness import fairness_section, rates_at_thresholds, tradeoff_curve
from sightline.fairness.groups import group_metrics


def synthetic_log(n: int, seed: int = 0) -> pd.DataFrame:
    """A binary prediction log: 12 weeks, sex and race, a selection gap by sex, 20% of labels missing."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n, p=[0.35, 0.65])
    race = rng.choice(["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"], n,
                      p=[0.85, 0.1, 0.03, 0.01, 0.01])
    y = rng.random(n) < np.where(sex == "Male", 0.3, 0.12)
    score = np.clip(0.2 + 0.45 * y + rng.normal(0, 0.18, n), 0, 1)
    label = np.where(y, ">50K", "<=50K").astype(object)
    label[rng.random(n) < 0.2] = None
    ts = pd.Timestamp("2026-06-01") + pd.to_timedelta(np.sort(rng.random(n)) * 84 * 86400, unit="s")
    return pd.DataFrame({"ts": ts, "sex": sex, "race": race, "income": label, "score": score,
                         "predicted": np.where(score >= 0.5, ">50K", "<=50K")})


def timed(label: str, n: int, func):
    """Run ``func`` once; print wall and CPU seconds (CPU time is what a loaded machine cannot inflate)."""
    start, cpu = time.perf_counter(), time.process_time()
    out = func()
    secs, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:60s} {n:>9,} rows  wall {secs:7.2f} s  cpu {cpu:7.2f} s  {n / max(cpu, 1e-9):>12,.0f} rows/cpu-s")
    return out


def main() -> None:
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import accuracy_score, precision_score

    from sightline.data.audit import load_audit
    from sightline.data.spec import spec_from_dict

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    args = parser.parse_args()
    for n in args.rows:
        log = synthetic_log(n)
        lab = log[log["income"].notna()]
        y = (lab["income"] == ">50K").to_numpy(int)
        p = (lab["predicted"] == ">50K").to_numpy(int)
        s = lab["score"].to_numpy()
        m = len(lab)
        print(f"--- {n:,} logged rows ({m:,} labelled)")
        timed("ours: group_metrics by sex, 7 rates + Wilson CIs", m, lambda: group_metrics(y, p, sensitive_features=lab["sex"]))
        timed("ours: group_metrics by race & sex, + ROC AUC/ECE bootstrap", m,
              lambda: group_metrics(y, p, sensitive_features=lab[["race", "sex"]], y_score=s))
        metrics = {"selection_rate": selection_rate, "true_positive_rate": true_positive_rate,
                   "false_positive_rate": false_positive_rate, "precision": precision_score, "accuracy": accuracy_score}
        timed("fairlearn: MetricFrame by sex, 5 metrics, no CIs", m,
              lambda: MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=lab["sex"]).by_group)
        timed("what-if: rates at per-group thresholds (one slider move)", m,
              lambda: rates_at_thresholds(y, s, sensitive_features=lab["sex"], thresholds={"Female": 0.4}))
        timed("what-if: ThresholdOptimizer curve, 7 points (20k sample)", m,
              lambda: tradeoff_curve(y, s, sensitive_features=lab["sex"], constraint="demographic_parity"))
        with tempfile.TemporaryDirectory() as tmp:
            log.to_parquet(Path(tmp) / "log.parquet")
            spec = spec_from_dict({"name": "bench", "task": "binary", "positive_label": ">50K", "current": "log.parquet",
                                   "columns": {"target": "income", "prediction": "predicted", "score": "score",
                                               "timestamp": "ts", "sensitive": ["sex", "race"]}}, base_dir=tmp)
            audit = load_audit(spec)
            timed("fairness_section: 3 tables, summaries, weekly gaps, charts", n, lambda: fairness_section(audit))


if __name__ == "__main__":
    main()
