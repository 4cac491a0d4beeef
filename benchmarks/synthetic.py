"""Deterministic synthetic prediction logs for the scale benchmark.

``python benchmarks/synthetic.py --sizes 100k,1m`` writes, into ``benchmarks/data/`` (git-ignored):

- ``log_<size>.parquet`` — the prediction log: ``request_id``, ``ts`` (12 weeks from Monday
  2026-01-05, in time order), 20 features (``num_00``…``num_09`` numeric, ``cat_00``…``cat_09``
  categorical, stored as Parquet dictionary columns so pandas reads them as ``category``),
  ``group`` (a 5-group sensitive column, unequal sizes), ``outcome`` (the label, ``yes``/``no``;
  missing for late labels), ``score`` (P(yes)), ``predicted`` (``yes`` when score ≥ 0.5),
  ``model_version`` (``v1``; a ``v2`` canary takes 10 % of traffic in weeks 9–12) and
  ``latency_ms``.
- ``reference.parquet`` — 100,000 labelled rows from the week-1 distribution (same columns
  minus the serving ones), the reference for drift.
- ``audit_<size>.yaml`` — the audit file, so ``python -m sightline report
  benchmarks/data/audit_1m.yaml --out /tmp/out`` runs on it.

Effects planted so every area has something to find: covariate shift of ``num_00`` (+0.5 SD)
and of ``cat_01``'s mix from week 7; a new ``cat_02`` category ``NEW`` from week 9; the label's
dependence on ``num_01`` weakens in weeks 9–10 (concept drift); labels arrive late (weeks 11–12
have none, other weeks miss 3 %); group ``E`` gets systematically lower scores (a fairness gap);
a latency incident in week 5.

Rows are generated in blocks of 1,000,000 with a seed derived from (seed, block), so a file's
content depends only on its size and seed, not on the machine; peak memory stays at about one
block however large the file.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
SIZES = {"100k": 100_000, "1m": 1_000_000, "5m": 5_000_000, "10m": 10_000_000}
REFERENCE_ROWS = 100_000
BLOCK_ROWS = 1_000_000
START = np.datetime64("2026-01-05T00:00:00", "us")  # a Monday, so weeks align with ISO weeks
WEEKS = 12
WEEK_US = 7 * 24 * 3600 * 1_000_000
NUMERIC = [f"num_{i:02d}" for i in range(10)]
CATEGORICAL = [f"cat_{i:02d}" for i in range(10)]
FEATURES = NUMERIC + CATEGORICAL
CARDINALITY = [3, 5, 8, 12, 20, 50, 4, 6, 10, 100]
GROUPS = ["A", "B", "C", "D", "E"]
GROUP_SHARES = [0.40, 0.25, 0.15, 0.12, 0.08]
LABELS = ["no", "yes"]  # "yes" is the positive label
VERSIONS = ["v1", "v2"]


def categories(j: int) -> list[str]:
    """The category names of ``cat_<j>`` (``cat_02`` also has ``NEW``, unseen before week 9)."""
    names = [f"c{j:02d}_{k:03d}" for k in range(CARDINALITY[j])]
    return names + ["NEW"] if j == 2 else names


def parse_size(text: str) -> int:
    """Rows of a size label: ``100k`` → 100000, ``1m`` → 1000000, ``2500`` → 2500."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)", text.strip().lower())
    if not m:
        raise ValueError(f"size {text!r}: use a number with an optional k or m suffix, e.g. 100k, 1m, 10m")
    return int(float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2)])


def size_label(rows: int) -> str:
    """The file-name label of a row count (1000000 → ``1m``)."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


def _categorical_probs(k: int) -> np.ndarray:
    """Zipf-like probabilities of ``k`` categories (a few common ones, a long tail)."""
    base = 1.0 / np.arange(1, k + 1) ** 0.9
    return base / base.sum()


def _draw_categories(rng: np.random.Generator, j: int, week: np.ndarray) -> np.ndarray:
    """Category codes of ``cat_<j>`` for rows in ``week`` (0-based), with the planted shifts."""
    k = CARDINALITY[j]
    p = _categorical_probs(k)
    codes = rng.choice(k, size=len(week), p=p)
    if j == 1:  # covariate shift: from week 7 (index 6) a third of rows come from the reversed mix
        late = (week >= 6) & (rng.random(len(week)) < 1 / 3)
        codes[late] = rng.choice(k, size=int(late.sum()), p=p[::-1])
    if j == 2:  # unseen category from week 9 (index 8) on 5 % of rows
        new = (week >= 8) & (rng.random(len(week)) < 0.05)
        codes[new] = k  # index of "NEW"
    return codes


def block(rows: int, week: np.ndarray, rng: np.random.Generator, *, serving: bool) -> dict[str, np.ndarray]:
    """One block of rows as column arrays. ``week`` is each row's 0-based week; ``serving``
    adds the log-only columns (model_version, latency, late labels)."""
    n = rows
    out: dict[str, np.ndarray] = {}
    num = np.empty((10, n))
    num[0] = rng.normal(40, 12, n) + np.where(week >= 6, 6.0, 0.0)      # covariate shift from week 7
    num[1] = rng.lognormal(10, 0.8, n)                                   # income-like, skewed
    num[2] = rng.poisson(3, n)                                           # a count
    num[3] = rng.uniform(0, 1, n)
    num[4] = np.where(rng.random(n) < 0.9, 0.0, rng.exponential(5000, n))  # mostly zero
    num[5] = rng.normal(0, 1, n)
    num[6] = rng.gamma(2.0, 2.0, n)
    num[7] = rng.integers(1, 100, n)
    num[8] = rng.normal(100, 15, n)
    num[9] = rng.beta(2, 5, n)
    num[9][rng.random(n) < 0.02] = np.nan                                # some missing values
    for i, name in enumerate(NUMERIC):
        out[name] = num[i]
    cats = [_draw_categories(rng, j, week) for j in range(10)]
    for j, name in enumerate(CATEGORICAL):
        out[name] = cats[j]
    group = rng.choice(len(GROUPS), size=n, p=GROUP_SHARES)
    out["group"] = group
    # The truth: a logistic model; num_01's effect weakens in weeks 9–10 (concept drift).
    weight_1 = np.where(serving & (week >= 8) & (week <= 9), 0.2, 1.0)
    z = (0.05 * (num[0] - 40) + weight_1 * 0.9 * (np.log(num[1]) - 10) / 0.8 + 0.6 * num[5]
         - 0.8 * (num[3] - 0.5) + 0.3 * (cats[0] == 1) - 0.4 * (cats[3] % 3 == 0) - 1.1)
    y = rng.random(n) < 1 / (1 + np.exp(-z))
    # The model: sees z with noise, a little overconfident, and scores group E lower.
    logit = 1.2 * (0.05 * (num[0] - 40) + 0.9 * (np.log(num[1]) - 10) / 0.8 + 0.6 * num[5]
                   - 0.8 * (num[3] - 0.5) + 0.3 * (cats[0] == 1) - 0.4 * (cats[3] % 3 == 0) - 1.1)
    logit = logit + rng.normal(0, 0.6, n) - 0.7 * (group == 4)
    score = 1 / (1 + np.exp(-logit))
    out["outcome"] = y.astype(np.int8)
    out["score"] = score
    out["predicted"] = (score >= 0.5).astype(np.int8)
    if serving:
        missing = (week >= 10) | (rng.random(n) < 0.03)                  # late labels
        out["outcome_missing"] = missing
        canary = (week >= 8) & (rng.random(n) < 0.10)
        out["model_version"] = canary.astype(np.int8)
        latency = rng.lognormal(np.log(40), 0.35, n) * np.where(canary, 1.4, 1.0)
        tail = rng.random(n) < 0.01
        latency[tail] *= rng.uniform(3, 8, int(tail.sum()))
        incident = (week == 4) & (rng.random(n) < 0.02)                  # a slow episode in week 5
        latency[incident] *= 10
        out["latency_ms"] = latency
    return out


def _dictionary(codes: np.ndarray, names: list[str], mask: np.ndarray | None = None) -> pa.DictionaryArray:
    indices = pa.array(codes.astype(np.int32), mask=mask)
    return pa.DictionaryArray.from_arrays(indices, pa.array(names, type=pa.string()))


def _schema(serving: bool) -> pa.Schema:
    dict_t = pa.dictionary(pa.int32(), pa.string())
    fields = []
    if serving:
        fields += [pa.field("request_id", pa.int64()), pa.field("ts", pa.timestamp("us"))]
    fields += [pa.field(c, pa.float64()) for c in NUMERIC]
    fields += [pa.field(c, dict_t) for c in CATEGORICAL]
    fields += [pa.field("group", dict_t), pa.field("outcome", dict_t),
               pa.field("score", pa.float64()), pa.field("predicted", dict_t)]
    if serving:
        fields += [pa.field("model_version", dict_t), pa.field("latency_ms", pa.float64())]
    return pa.schema(fields)


def _table(cols: dict[str, np.ndarray], schema: pa.Schema, extra: dict[str, pa.Array]) -> pa.Table:
    arrays = []
    for f in schema:
        if f.name in extra:
            arrays.append(extra[f.name])
        elif f.name in NUMERIC or f.name in ("score", "latency_ms"):
            arrays.append(pa.array(cols[f.name], type=pa.float64(), from_pandas=True))  # NaN -> null
        elif f.name in CATEGORICAL:
            arrays.append(_dictionary(cols[f.name], categories(CATEGORICAL.index(f.name))))
        elif f.name == "group":
            arrays.append(_dictionary(cols["group"], GROUPS))
        elif f.name == "outcome":
            arrays.append(_dictionary(cols["outcome"], LABELS, mask=cols.get("outcome_missing")))
        elif f.name == "predicted":
            arrays.append(_dictionary(cols["predicted"], LABELS))
        elif f.name == "model_version":
            arrays.append(_dictionary(cols["model_version"], VERSIONS))
    return pa.Table.from_arrays(arrays, schema=schema)


def write_log(path: Path, rows: int, seed: int = 0) -> Path:
    """Write a ``rows``-row prediction log to ``path`` (Parquet), block by block. Returns the path."""
    schema = _schema(serving=True)
    span = WEEKS * WEEK_US
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema) as writer:
        for b, lo in enumerate(range(0, rows, BLOCK_ROWS)):
            hi = min(rows, lo + BLOCK_ROWS)
            rng = np.random.default_rng([seed, b])
            index = np.arange(lo, hi, dtype=np.int64)
            # Evenly spread over 12 weeks in row order, with sub-second jitter that keeps the order.
            # (index * span would overflow int64 above ~1.2M rows: split span into quotient and remainder.)
            offset = index * (span // rows) + index * (span % rows) // rows + rng.integers(0, max(1, span // rows), hi - lo)
            week = (offset // WEEK_US).astype(np.int64)
            cols = block(hi - lo, week, rng, serving=True)
            extra = {"request_id": pa.array(index + 1), "ts": pa.array(START + offset.astype("timedelta64[us]"))}
            writer.write_table(_table(cols, schema, extra), row_group_size=BLOCK_ROWS)
    tmp.replace(path)
    return path


def write_reference(path: Path, rows: int = REFERENCE_ROWS, seed: int = 0) -> Path:
    """Write the labelled reference (the week-1 distribution, no serving columns) to ``path``."""
    schema = _schema(serving=False)
    rng = np.random.default_rng([seed, 10_000])
    cols = block(rows, np.zeros(rows, dtype=np.int64), rng, serving=False)
    tmp = path.with_suffix(".tmp")
    pq.write_table(_table(cols, schema, {}), tmp)
    tmp.replace(path)
    return path


def audit_yaml(label: str) -> str:
    """The audit file text for ``log_<label>.parquet`` (paths relative to benchmarks/data/)."""
    return f"""# Benchmark audit (written by benchmarks/synthetic.py -- regenerate rather than edit).
name: Synthetic benchmark log ({label} rows)
version: "1.0"
task: binary
positive_label: "yes"
current: log_{label}.parquet
reference: reference.parquet
primary_version: v1
columns:
  target: outcome
  prediction: predicted
  score: score
  timestamp: ts
  model_version: model_version
  latency_ms: latency_ms
  id: request_id
  features: [{", ".join(FEATURES)}]
  sensitive: [group]
fairness:
  reference_groups: {{group: A}}
  min_group_size: 30
card:
  overview: Synthetic prediction log for Sightline's scale benchmark (benchmarks/synthetic.py).
  limitations:
    - Synthetic data with planted effects; the numbers say nothing about any real model.
"""


def ensure(label: str, seed: int = 0, data_dir: Path = DATA_DIR, force: bool = False) -> Path:
    """Make sure ``log_<label>.parquet``, ``reference.parquet`` and ``audit_<label>.yaml`` exist
    in ``data_dir`` (generate what is missing). Returns the audit file's path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    rows = parse_size(label)
    label = size_label(rows)
    ref = data_dir / "reference.parquet"
    if force or not ref.exists():
        log.info("writing %s", ref)
        write_reference(ref, seed=seed)
    log_path = data_dir / f"log_{label}.parquet"
    if force or not log_path.exists():
        log.info("writing %s (%s rows)", log_path, f"{rows:,}")
        write_log(log_path, rows, seed=seed)
    audit = data_dir / f"audit_{label}.yaml"
    text = audit_yaml(label)
    if not audit.exists() or audit.read_text() != text:
        audit.write_text(text)
    return audit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write deterministic synthetic prediction logs for the benchmark.")
    parser.add_argument("--sizes", default="100k,1m", help="comma-separated sizes: 100k, 1m, 5m, 10m or any N[k|m]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write into (default benchmarks/data/)")
    parser.add_argument("--force", action="store_true", help="rewrite files that already exist")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for label in args.sizes.split(","):
        log.info("audit: %s", ensure(label.strip(), seed=args.seed, data_dir=args.out, force=args.force))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
