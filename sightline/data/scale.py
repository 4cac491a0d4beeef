"""Logs too large for memory: a seeded sample for the pages, exact whole-log counts from DuckDB.

An audit whose log has more than ``scale.max_rows`` rows (default 5,000,000) is not read into
pandas whole. :func:`read_log_sample` draws a uniform random sample of ``scale.sample_rows`` rows
(default 1,000,000; seeded, so the same file gives the same sample) and every section computes
on it, saying so in its provenance and on screen. What does not need rows is pushed down to
the data instead: :func:`whole_log_figures` computes row counts, label coverage, confusion counts
overall and per sensitive group, and latency quantiles over *every* row with the SQL of
:mod:`sightline.data.query` (DuckDB on the Parquet file, or the audit's SQL source), and sets them
beside the sample's own figures so a reader sees how close the sample is.

Which sources can be sampled: a Parquet file (row groups are read one at a time and the chosen
rows taken from each, so memory holds one row group plus the sample) and a DuckDB SQL source
(DuckDB's repeatable reservoir sample). CSV and JSON Lines files, and SQL on other engines, are
read whole as before — convert a huge CSV to Parquet first (DuckDB does it in one statement).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sightline.core.errors import SpecError
from sightline.data import aggregates, query

log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS = 5_000_000
DEFAULT_SAMPLE_ROWS = 1_000_000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class ScaleSettings:
    """``max_rows``: above this many logged rows the log is sampled; ``sample_rows``: rows kept;
    ``seed``: the sample's random seed."""

    max_rows: int = DEFAULT_MAX_ROWS
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    seed: int = DEFAULT_SEED


def scale_settings(spec) -> ScaleSettings:
    """The audit's ``scale:`` settings, checked. Raises :class:`SpecError` naming a bad value."""
    raw = dict(getattr(spec, "scale", {}) or {})
    values = {}
    for key, default, low in (("max_rows", DEFAULT_MAX_ROWS, 1_000), ("sample_rows", DEFAULT_SAMPLE_ROWS, 1_000),
                              ("seed", DEFAULT_SEED, 0)):
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise SpecError(f"'scale.{key}' must be a whole number of at least {low:,}, got {value!r}")
        values[key] = value
    if values["sample_rows"] > values["max_rows"]:
        raise SpecError(f"'scale.sample_rows' ({values['sample_rows']:,}) must not exceed 'scale.max_rows' "
                        f"({values['max_rows']:,})")
    return ScaleSettings(**values)


@dataclass(frozen=True, eq=False)
class LogSample:
    """How the rows in memory relate to the whole log: ``table`` is where the whole log lives
    (for the pushed-down queries), ``population`` its row count, ``rows`` the sample size."""

    table: query.Table
    population: int
    rows: int
    seed: int
    method: str

    def provenance(self) -> dict:
        return {"sampled": True, "population_rows": self.population, "sample_rows": self.rows, "seed": self.seed,
                "method": self.method}

    def sentence(self) -> str:
        """One line for every page and the card."""
        return (f"This log has {self.population:,} rows, more than fit comfortably in memory: the analyses use a "
                f"uniform random sample of {self.rows:,} rows ({self.method}, seed {self.seed}); the whole-log "
                f"counts on the Overview are exact (computed by DuckDB over every row).")


def source_rows(source, base_dir: Path) -> int | None:
    """Rows of a Parquet file (from its footer, instantly) or a DuckDB SQL source (``COUNT(*)``);
    None for sources that would have to be read to be counted. A SQL source's URL is its
    :meth:`~sightline.data.spec.Source.sql_url` (the deployment's rules apply; :class:`AccessError`)."""
    if source.is_sql:
        if not source.sql_url().startswith("duckdb://"):
            return None
        return int(aggregates.row_counts(query.Table.from_source(source, base_dir))["rows"].sum())
    path = source.resolve(base_dir)
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return None
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # an unreadable file is reported by the normal reader, with its message
        return None


def _parquet_sample(path: Path, size: int, seed: int) -> pd.DataFrame:
    """``size`` rows drawn uniformly without replacement, in file order; one row group in memory at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    n = pf.metadata.num_rows
    chosen = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    parts, offset = [], 0
    for group in range(pf.num_row_groups):
        rows = pf.metadata.row_group(group).num_rows
        lo, hi = np.searchsorted(chosen, [offset, offset + rows])
        if hi > lo:
            parts.append(pf.read_row_group(group).take(pa.array(chosen[lo:hi] - offset)))
        offset += rows
    table = pa.concat_tables(parts)
    del parts
    frame = table.to_pandas()
    del table
    pa.default_memory_pool().release_unused()
    return frame


def read_log_sample(source, base_dir: Path, population: int, settings: ScaleSettings) -> tuple[pd.DataFrame, LogSample]:
    """The sample of a large log and its :class:`LogSample`. ``source`` must be a Parquet file or
    a DuckDB SQL source (see :func:`source_rows`)."""
    table = query.Table.from_source(source, base_dir)
    if source.is_sql:
        drawn = query.sample(table, settings.sample_rows, seed=settings.seed)
        frame, method = drawn.rows, "DuckDB reservoir sample"
    else:
        frame, method = _parquet_sample(source.resolve(base_dir), settings.sample_rows, settings.seed), "rows drawn without replacement"
    log.info("log of %s rows sampled to %s rows (%s, seed %s)", f"{population:,}", f"{len(frame):,}", method, settings.seed)
    return frame, LogSample(table=table, population=population, rows=len(frame), seed=settings.seed, method=method)


# ----------------------------------------------------------------------------- whole-log figures
def _rates(counts: pd.Series | dict) -> dict:
    """accuracy, precision, recall, selection rate, FPR from one row of confusion counts."""
    tp, fp, tn, fn = (float(counts[k]) for k in ("tp", "fp", "tn", "fn"))
    n = tp + fp + tn + fn

    def div(a: float, b: float) -> float | None:
        return a / b if b else None

    precision, recall = div(tp, tp + fp), div(tp, tp + fn)
    f1 = div(2 * tp, 2 * tp + fp + fn)
    return {"n": int(n), "accuracy": div(tp + tn, n), "precision": precision, "recall": recall, "f1": f1,
            "selection_rate": div(tp + fp, n), "false_positive_rate": div(fp, fp + tn)}


def _prediction_args(audit) -> dict:
    cols = audit.spec.columns
    if cols.prediction:
        return {"prediction": cols.prediction}
    return {"score": cols.score, "threshold": audit.spec.threshold}


def _sample_counts(audit, frame: pd.DataFrame) -> dict:
    y, p = audit.y_true(frame), audit.y_pred(frame)
    return {"tp": int(np.sum((y == 1) & (p == 1))), "fp": int(np.sum((y == 0) & (p == 1))),
            "tn": int(np.sum((y == 0) & (p == 0))), "fn": int(np.sum((y == 1) & (p == 0)))}


def whole_log_figures(audit) -> dict | None:
    """Exact figures over every row of a sampled log, each beside the sample's value.

    Input: an :class:`~sightline.data.audit.Audit` whose ``log_sample`` is set (None is returned
    otherwise). Output (JSON-safe): ``rows`` and ``sample_rows``; ``versions`` (rows per model
    version); ``label_coverage`` (per week: rows, labelled, coverage); for binary tasks
    ``overall`` (accuracy, precision, recall, f1, selection_rate, false_positive_rate of the
    primary version's labelled rows: ``whole_log`` and ``sample``) and ``groups`` (the same per
    group of each sensitive column); ``latency`` (p50/p90/p95/p99 in ms per version);
    ``queries`` (what ran where, and seconds).
    """
    sample: LogSample | None = getattr(audit, "log_sample", None)
    if sample is None:
        return None
    import time

    spec, cols, table = audit.spec, audit.spec.columns, sample.table
    started = time.perf_counter()
    where = {cols.model_version: audit.primary_version} if cols.model_version and len(audit.versions) > 1 else {}
    out: dict[str, Any] = {"rows": sample.population, "sample_rows": sample.rows, "engine": "DuckDB",
                           "source": table.label, "primary_version": audit.primary_version}
    if cols.model_version:
        v = aggregates.row_counts(table, by=[cols.model_version])
        out["versions"] = {str(a): int(b) for a, b in zip(v[cols.model_version], v["rows"])}
    if cols.target and cols.timestamp:
        cov = aggregates.label_coverage(table, target=cols.target, timestamp=cols.timestamp, unit="week", where=where)
        out["label_coverage"] = [{"week": str(pd.Timestamp(w).date()), "rows": int(r), "labelled": int(lab),
                                  "coverage": float(c)} for w, r, lab, c in
                                 zip(cov["window"], cov["rows"], cov["labelled"], cov["coverage"])]
    if spec.task == "binary" and cols.target and (cols.prediction or cols.score):
        args = dict(target=cols.target, positive_label=spec.positive_label, where=where, **_prediction_args(audit))
        overall = aggregates.confusion_counts(table, **args)
        labelled = audit.labelled()
        out["overall"] = {"whole_log": _rates(overall.iloc[0]) if len(overall) else None,
                          "sample": _rates(_sample_counts(audit, labelled)) if len(labelled) else None}
        groups = []
        for col in cols.sensitive:
            whole = aggregates.confusion_counts(table, by=[col], **args)
            for _, row in whole.iterrows():
                value = row[col]
                part = labelled[labelled[col].astype(str) == str(value)] if value is not None and not pd.isna(value) else labelled.iloc[0:0]
                groups.append({"column": col, "group": None if value is None or pd.isna(value) else str(value),
                               "whole_log": _rates(row), "sample": _rates(_sample_counts(audit, part)) if len(part) else None})
        out["groups"] = groups
    if cols.latency_ms:
        by = [cols.model_version] if cols.model_version else []
        q = aggregates.quantiles(table, cols.latency_ms, by=by)
        out["latency"] = [{"version": str(r[cols.model_version]) if by else None, "n": int(r["n"]),
                           **{k: float(r[k]) for k in ("p50", "p90", "p95", "p99")}} for _, r in q.iterrows()]
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out
