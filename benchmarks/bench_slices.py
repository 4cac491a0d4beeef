"""Timings of the Slices page's computations on synthetic logs of 100,000 and 1,000,000 rows.

Run: ``python benchmarks/bench_slices.py [rows …]`` (default: 100000 1000000). Prints, per
size: encoding the 13 slice columns, the slice table of 5 columns (each alone) and of a
3-column intersection, worst-slice discovery up to 3 columns (searching a 250,000-row sample
above that size, re-counting found slices on all rows), the metrics of the found slices, the
Simpson check on two versions scoring the same requests, and the whole ``slices_section``
(what the page and the CLI compute), with rows per second.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sightline.data.audit import Audit
from sightline.data.spec import spec_from_dict
from sightline.slices import compare_versions, slice_data, slices_section
from sightline.slices.section import discover, discovered_table

CATEGORIES = {"workclass": 9, "education": 16, "marital_status": 7, "occupation": 15, "relationship": 6,
              "race": 5, "sex": 2, "native_country": 41}
NUMERIC = ("age", "education_num", "capital_gain", "capital_loss", "hours_per_week")


def synthetic_log(rows: int, seed: int = 0) -> pd.DataFrame:
    """An Adult-like log: 8 categorical and 5 numeric features, a score, a prediction, a label;
    a planted weak slice (education=e2 & occupation=o0) where the score ignores the label;
    and a second model version scoring the first 20% of requests in shadow."""
    rng = np.random.default_rng(seed)
    data = {}
    for name, k in CATEGORIES.items():
        p = rng.dirichlet(np.ones(k))
        data[name] = pd.Categorical.from_codes(rng.choice(k, rows, p=p), [f"{name[0]}{i}" for i in range(k)]).astype(str)
    data["age"] = rng.integers(17, 90, rows)
    data["education_num"] = rng.integers(1, 17, rows)
    data["capital_gain"] = np.where(rng.random(rows) < 0.9, 0, rng.integers(100, 99999, rows))
    data["capital_loss"] = np.where(rng.random(rows) < 0.95, 0, rng.integers(100, 4000, rows))
    data["hours_per_week"] = rng.integers(1, 99, rows)
    frame = pd.DataFrame(data)
    y = rng.random(rows) < 0.25
    score = np.clip(np.where(y, 0.7, 0.25) + rng.normal(0, 0.2, rows), 0, 1)
    weak = ((frame["education"] == "e2") & (frame["occupation"] == "o0")).to_numpy()
    score[weak] = rng.random(int(weak.sum()))
    frame["income"] = np.where(y, ">50K", "<=50K")
    frame["score"] = score
    frame["predicted"] = np.where(score >= 0.5, ">50K", "<=50K")
    frame["request_id"] = np.arange(rows)
    frame["model_version"] = "champion"
    shadow = frame.iloc[: rows // 5].copy()
    shadow_score = np.clip(np.where(y[: rows // 5], 0.72, 0.24) + rng.normal(0, 0.2, rows // 5), 0, 1)
    shadow["score"] = shadow_score
    shadow["predicted"] = np.where(shadow_score >= 0.5, ">50K", "<=50K")
    shadow["model_version"] = "challenger"
    return pd.concat([frame, shadow], ignore_index=True)


def audit_for(log: pd.DataFrame) -> Audit:
    spec = spec_from_dict({
        "name": "synthetic", "task": "binary", "positive_label": ">50K", "current": "synthetic.parquet",
        "primary_version": "champion",
        "columns": {"target": "income", "prediction": "predicted", "score": "score", "id": "request_id",
                    "model_version": "model_version", "features": list(CATEGORIES) + list(NUMERIC), "sensitive": ["sex", "race"]},
        "fairness": {"min_group_size": 30}})
    return Audit(spec=spec, current=log, features=tuple(CATEGORIES) + NUMERIC, fingerprint=f"bench{len(log)}")


def timed(label: str, rows: int, func):
    """Run ``func`` once; print wall and CPU seconds (on a shared machine wall time also
    measures the neighbours) and rows per wall second."""
    start, cpu = time.perf_counter(), time.process_time()
    out = func()
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label:<58s} {seconds:7.2f} s wall {cpu_s:7.2f} s cpu {rows / seconds:>12,.0f} rows/s")
    return out


def bench(rows: int) -> None:
    log = synthetic_log(rows)
    audit = audit_for(log)
    n = len(audit.labelled())
    print(f"\n{rows:,} logged predictions of the primary version ({len(log):,} rows with the shadow version)")
    data = timed("prepare: labelled rows, outcomes, encode 13 columns", n, lambda: slice_data(audit))
    five = ["sex", "race", "education", "occupation", "age"]
    timed("slice table: 5 columns, each on its own", n, lambda: [data.table([c], min_size=30) for c in five])
    timed("slice table: sex x race x education intersections", n, lambda: data.table(["sex", "race", "education"], min_size=30))
    search = timed("discovery: lattice up to 3 of 13 columns", n, lambda: discover(data, min_size=30, max_order=3))
    sampled = f"searched {search.search_rows:,} sampled rows, re-counted on all" if search.sampled else "searched all rows"
    print(f"    {search.n_examined:,} slices examined, {len(search.slices)} listed ({sampled}); "
          f"top: {search.slices['slice'].iloc[0] if len(search.slices) else '—'}")
    timed("metrics of the listed slices (all rows)", n, lambda: discovered_table(data, search.slices))
    timed("Simpson check: 2 versions on shared requests, 13 columns", n,
          lambda: compare_versions(audit, data, min_size=30))
    timed("slices_section (everything the page / CLI computes)", n, lambda: slices_section(audit))


def main() -> None:
    import os

    sizes = [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for rows in sizes:
        bench(rows)


if __name__ == "__main__":
    main()
