"""Sufficient statistics of a log, computed where the log is: one SQL query per aggregate, run by
:func:`sightline.data.query.run` on the source (DuckDB by default), a small DataFrame back.

Confusion counts per group, slice or window; row counts; histograms and category counts (every
column binned in one scan with ``GROUP BY GROUPING SETS``); reliability-bin sums; label coverage;
quantiles. Every function takes a :class:`~sightline.data.query.Table`, keyword filters ``where``
(``{column: value}`` or ``{column: [values]}``), grouping columns ``by`` and an optional time
``window`` (``(timestamp_column, unit)``, unit ``hour``, ``day``, ``week`` (weeks start on Monday)
or ``month``), which adds a ``window`` column holding each window's start.

Conventions: binary labels are compared with the audit's ``positive_label`` the way
:func:`sightline.data.validation.labels_equal` does (numbers as numbers, everything else as
stripped text); a prediction is positive when the logged prediction equals the positive label or,
when ``score`` is given instead, when ``score >= threshold`` (a missing score is negative). Rows
whose label is missing are left out of confusion counts. Missing values of a ``by`` column form
their own group (SQL semantics), shown as ``None``/``NaN``. Histograms follow
:func:`numpy.histogram`: bins ``[e0, e1), [e1, e2), …, [e_{k-1}, e_k]``; values outside the edges
and missing values are not counted (pass ``-inf``/``inf`` end edges to count everything). Result
rows are sorted by their group columns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from sightline.data.query import Table, column_kinds, run
from sightline.data.sql_text import (
    group_by,
    group_columns,
    ident,
    is_positive,
    number_literal,
    where_clause,
)
from sightline.stats.confusion import CELLS

DEFAULT_QUANTILES = (0.5, 0.9, 0.95, 0.99)
ERR_NO_COLUMNS = "{where}: name at least one column"
ERR_EDGES = "histogram edges of {column!r} must be at least two increasing numbers, got {edges!r}"


def sorted_by(df: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    if names and len(df):
        df = df.sort_values(list(names), kind="stable", na_position="last")
    return df.reset_index(drop=True)


def _ints(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for c in columns:
        df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64")
    return df


def _sub(table: Table, where: Mapping[str, Any] | None, extra: Sequence[str] = ()) -> str:
    """The filtered rows as a sub-query (filters first, so DuckDB prunes row groups and columns)."""
    return f"(SELECT * FROM {table.relation} {where_clause(where, extra)}) AS t"


def row_counts(table: Table, *, by: Sequence[str] = (), window: tuple[str, str] | None = None,
               where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Rows per group. Output: the ``by`` columns (and ``window``), ``rows`` (int)."""
    exprs, names = group_columns(by, window)
    sql = f"SELECT {', '.join(exprs + ['COUNT(*) AS rows'])} FROM {_sub(table, where)} {group_by(names)}"
    return sorted_by(_ints(run(table, sql), ["rows"]), names)


def confusion_counts(table: Table, *, target: str, positive_label: Any, prediction: str | None = None,
                     score: str | None = None, threshold: float = 0.5, by: Sequence[str] = (),
                     window: tuple[str, str] | None = None, where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Binary confusion counts of the labelled rows per group.

    Inputs: the label column ``target`` and its ``positive_label``; the prediction as a logged
    ``prediction`` column (positive when it equals ``positive_label``) or, when ``prediction`` is
    None, as ``score >= threshold``; grouping ``by`` columns and/or a time ``window``; filters.
    Output: the group columns, then ``tn``, ``fp``, ``fn``, ``tp`` (the columns of
    :func:`sightline.stats.confusion.confusion_counts`) and ``n`` (= their sum; ints).
    """
    if prediction is None and score is None:
        raise ValueError("confusion_counts needs a prediction column or a score column")
    kinds = column_kinds(table)
    truth = is_positive(target, positive_label, kinds.get(target, "text"))
    pred = (is_positive(prediction, positive_label, kinds.get(prediction, "text")) if prediction is not None
            else f"{ident(score)} >= {number_literal(threshold)}")
    exprs, names = group_columns(by, window)
    flags = (f"CASE WHEN {truth} THEN 1 ELSE 0 END AS yt, CASE WHEN {pred} THEN 1 ELSE 0 END AS yp")
    inner = f"SELECT {', '.join(exprs + [flags])} FROM {_sub(table, where, [f'{ident(target)} IS NOT NULL'])}"
    cell = {"tn": "(1 - yt) * (1 - yp)", "fp": "(1 - yt) * yp", "fn": "yt * (1 - yp)", "tp": "yt * yp"}
    counts = ", ".join(f"SUM({cell[c]}) AS {c}" for c in CELLS) + ", COUNT(*) AS n"
    outer = [ident(n) for n in names] + [counts]
    sql = f"SELECT {', '.join(outer)} FROM ({inner}) AS c {group_by(names)}"
    return sorted_by(_ints(run(table, sql), [*CELLS, "n"]), names)


def _bin_case(column: str, edges: Sequence[float]) -> str:
    """SQL ``CASE`` giving the numpy.histogram bin index of ``column`` (NULL outside the edges)."""
    col = ident(column)
    parts = [f"WHEN {col} < {number_literal(edges[0])} THEN NULL"]
    for i in range(1, len(edges) - 1):
        parts.append(f"WHEN {col} < {number_literal(edges[i])} THEN {i - 1}")
    parts.append(f"WHEN {col} <= {number_literal(edges[-1])} THEN {len(edges) - 2}")
    return f"CASE {' '.join(parts)} END"


def _check_edges(column: str, edges: Sequence[float]) -> list[float]:
    e = [float(x) for x in edges]
    if len(e) < 2 or any(math.isnan(x) for x in e) or any(b <= a for a, b in zip(e, e[1:])):
        raise ValueError(ERR_EDGES.format(column=column, edges=list(edges)))
    return e


def _complete(df: pd.DataFrame, key: str, names: list[str], values_of: Mapping[str, Sequence[Any]],
              fill: Sequence[str]) -> pd.DataFrame:
    """Add zero rows for every (key, group, value) where the group occurs (for any key) but the
    value did not."""
    pieces = []
    groups = df[names].drop_duplicates() if names else pd.DataFrame(index=[0])
    for k, values in values_of.items():
        full = groups.merge(pd.DataFrame({"_v": list(values)}), how="cross")
        full.insert(0, key, k)
        pieces.append(full)
    if not pieces:
        return df
    grid = pd.concat(pieces, ignore_index=True).rename(columns={"_v": "bin"})
    out = grid.merge(df, on=[key, *names, "bin"], how="left")
    for c in fill:
        out[c] = out[c].fillna(0).astype("int64")
    return out


def _counts_per_column(table: Table, values: Mapping[str, str], *, by: Sequence[str],
                       window: tuple[str, str] | None, where: Mapping[str, Any] | None) -> pd.DataFrame:
    """Row counts of several per-row ``values`` (column -> SQL expression), each by the group
    columns, in **one scan** of the source: ``GROUP BY GROUPING SETS ((groups…, v0), (groups…,
    v1), …)`` (SQL:1999). ``GROUPING(v_i) = 0`` marks the rows of v_i's set, so a missing value
    inside a set stays distinguishable from "not this set".
    Output: ``column``, the group columns, ``value``, ``count``."""
    exprs, names = group_columns(by, window)
    keys = {c: f"v{i}" for i, c in enumerate(values)}
    inner = ", ".join(exprs + [f"{expr} AS {keys[c]}" for c, expr in values.items()])
    group = [ident(n) for n in names]
    sets = ", ".join("(" + ", ".join(group + [k]) + ")" for k in keys.values())
    select = group + list(keys.values()) + [f"GROUPING({k}) AS g_{k}" for k in keys.values()] + [f"COUNT(*) AS {ident('count')}"]
    sql = f"SELECT {', '.join(select)} FROM (SELECT {inner} FROM {_sub(table, where)}) AS v GROUP BY GROUPING SETS ({sets})"
    df = run(table, sql)
    parts = []
    for column, k in keys.items():
        part = df.loc[pd.to_numeric(df[f"g_{k}"]) == 0, [*names, k, "count"]].rename(columns={k: "value"})
        part.insert(0, "column", column)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["column", *names, "value", "count"])
    return _ints(out, ["count"])


def histograms(table: Table, edges: Mapping[str, Sequence[float]], *, by: Sequence[str] = (),
               window: tuple[str, str] | None = None, where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Counts of numeric columns in given bins (numpy.histogram semantics), per group/window.

    Inputs: ``edges`` maps each numeric column to its increasing bin edges (e.g. reference
    deciles, with ``-inf``/``inf`` ends for PSI); grouping and filters. Every column is binned in
    the same single scan of the source (see :func:`_counts_per_column`).
    Output (long form): ``column``, the group columns, ``bin`` (0-based), ``lower``, ``upper``,
    ``count`` — every bin of every group that has rows, empty bins as 0.
    """
    if not edges:
        raise ValueError(ERR_NO_COLUMNS.format(where="histograms"))
    checked = {c: _check_edges(c, e) for c, e in edges.items()}
    _, names = group_columns(by, window)
    df = _counts_per_column(table, {c: _bin_case(c, e) for c, e in checked.items()}, by=by, window=window, where=where)
    df = df[df["value"].notna()].rename(columns={"value": "bin"})  # NULL bin: outside the edges, or missing
    df["bin"] = pd.to_numeric(df["bin"]).astype("int64")
    df = _complete(df, "column", names, {c: range(len(e) - 1) for c, e in checked.items()}, ["count"])
    df["lower"] = [checked[c][b] for c, b in zip(df["column"], df["bin"])]
    df["upper"] = [checked[c][b + 1] for c, b in zip(df["column"], df["bin"])]
    order = ["column", *names, "bin", "lower", "upper", "count"]
    return sorted_by(df[order], ["column", *names, "bin"])


def category_counts(table: Table, columns: Sequence[str], *, by: Sequence[str] = (),
                    window: tuple[str, str] | None = None, where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Counts of each value of categorical ``columns`` per group/window, all columns in one scan
    (missing values count as a value ``None``). Output (long form): ``column``, the group
    columns, ``value`` (text), ``count``. Only values that occur are listed."""
    if not columns:
        raise ValueError(ERR_NO_COLUMNS.format(where="category_counts"))
    _, names = group_columns(by, window)
    values = {c: f"CAST({ident(c)} AS VARCHAR)" for c in columns}
    df = _counts_per_column(table, values, by=by, window=window, where=where)
    df["value"] = df["value"].astype(object).where(df["value"].notna(), None)
    return sorted_by(df, ["column", *names, "value"])


def _reliability_bin_case(column: str, edges: Sequence[float]) -> str:
    """SQL ``CASE`` giving :func:`sightline.stats.reliability.bin_ids` of ``column``: right-closed
    bins as scikit-learn's ``calibration_curve`` (a value on an edge belongs to the bin below;
    below the first edge: bin 0, above the last: the last bin); NULL for a missing value."""
    col = ident(column)
    parts = [f"WHEN {col} IS NULL THEN NULL"]
    parts += [f"WHEN {col} <= {number_literal(edges[i])} THEN {i - 1}" for i in range(1, len(edges) - 1)]
    return f"CASE {' '.join(parts)} ELSE {len(edges) - 2} END"


def calibration_bins(table: Table, *, score: str, target: str, positive_label: Any, edges: Sequence[float],
                     by: Sequence[str] = (), window: tuple[str, str] | None = None,
                     where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Per-bin sums behind a reliability diagram and the expected calibration error, over labelled rows.

    Inputs: the ``score`` column (P(positive)), the label ``target`` and ``positive_label``, bin
    ``edges`` on the score (:func:`sightline.stats.reliability.bin_edges`, binned as
    :func:`~sightline.stats.reliability.bin_ids`). Output: the group columns, ``bin``,
    ``bin_lower``, ``bin_upper``, ``count`` (labelled rows with a score in the bin), ``positives``
    (rows whose label is positive), ``prob_sum`` (sum of scores) — the sums of
    :func:`~sightline.stats.reliability.bin_sums`, from which
    :func:`~sightline.stats.reliability.reliability_rows` and
    :func:`~sightline.stats.reliability.calibration_errors` give the table and the ECE. Every bin
    of every group with rows is listed, empty bins as 0.
    """
    e = _check_edges(score, edges)
    kinds = column_kinds(table)
    truth = is_positive(target, positive_label, kinds.get(target, "text"))
    exprs, names = group_columns(by, window)
    values = [f"{_reliability_bin_case(score, e)} AS bin", f"{ident(score)} AS s", f"CASE WHEN {truth} THEN 1 ELSE 0 END AS yt"]
    inner = f"SELECT {', '.join(exprs + values)} FROM {_sub(table, where, [f'{ident(target)} IS NOT NULL'])}"
    outer = [ident(n) for n in names] + ["bin", f"COUNT(*) AS {ident('count')}", "SUM(yt) AS positives", "SUM(s) AS prob_sum"]
    sql = (f"SELECT {', '.join(outer)} FROM ({inner}) AS b WHERE bin IS NOT NULL "
           f"GROUP BY {', '.join([ident(n) for n in names] + ['bin'])}")
    df = run(table, sql)
    df["bin"] = pd.to_numeric(df["bin"]).astype("int64")
    df.insert(0, "_k", score)
    df = _complete(df, "_k", names, {score: range(len(e) - 1)}, ["count", "positives"])
    df["prob_sum"] = df["prob_sum"].astype(float).fillna(0.0)
    df["bin_lower"] = [e[b] for b in df["bin"]]
    df["bin_upper"] = [e[b + 1] for b in df["bin"]]
    return sorted_by(df[[*names, "bin", "bin_lower", "bin_upper", "count", "positives", "prob_sum"]], [*names, "bin"])


def label_coverage(table: Table, *, target: str, timestamp: str, unit: str = "week", by: Sequence[str] = (),
                   where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Rows and labelled rows per time window. Output: the ``by`` columns, ``window`` (start),
    ``rows``, ``labelled`` (rows whose ``target`` is not missing), ``coverage`` (labelled / rows)."""
    exprs, names = group_columns(by, (timestamp, unit))
    sql = (f"SELECT {', '.join(exprs + ['COUNT(*) AS rows', f'COUNT({ident(target)}) AS labelled'])} "
           f"FROM {_sub(table, where, [f'{ident(timestamp)} IS NOT NULL'])} {group_by(names)}")
    df = _ints(run(table, sql), ["rows", "labelled"])
    df["coverage"] = df["labelled"] / df["rows"]
    return sorted_by(df, names)


def quantile_name(q: float) -> str:
    """Output column of quantile ``q``: 0.5 → ``p50``, 0.999 → ``p99_9``."""
    text = f"{q * 100:.6f}".rstrip("0").rstrip(".")
    return "p" + text.replace(".", "_")


def quantiles(table: Table, column: str, *, q: Sequence[float] = DEFAULT_QUANTILES, by: Sequence[str] = (),
              window: tuple[str, str] | None = None, where: Mapping[str, Any] | None = None,
              standard_sql: bool = False) -> pd.DataFrame:
    """Exact quantiles of ``column`` per group/window, interpolated like ``numpy.quantile``'s
    default (``PERCENTILE_CONT``). Missing values are ignored. Output: the group columns, ``n``
    (non-missing values), then one column per quantile named by :func:`quantile_name`
    (``p50``, ``p90``, ``p95``, ``p99`` for latency in ms). On DuckDB the faster
    ``quantile_cont(x, [q…])`` is used unless ``standard_sql``; other engines always get
    ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)``."""
    qs = [float(x) for x in q]
    if not qs or any(not 0 <= x <= 1 for x in qs):
        raise ValueError(f"quantiles must be between 0 and 1, got {list(q)!r}")
    exprs, names = group_columns(by, window)
    col = ident(column)
    if table.is_duckdb and not standard_sql:
        # DuckDB's list form sorts each group once for every quantile (about twice as fast as
        # one PERCENTILE_CONT per quantile); same interpolation, same numbers.
        listed = ", ".join(repr(x) for x in qs)
        aggs = [f"COUNT({col}) AS n", f"quantile_cont({col}, [{listed}]) AS q"]
    else:
        aggs = [f"COUNT({col}) AS n"] + [
            f"PERCENTILE_CONT({x!r}) WITHIN GROUP (ORDER BY {col}) AS {ident(quantile_name(x))}" for x in qs]
    sql = f"SELECT {', '.join(exprs + aggs)} FROM {_sub(table, where)} {group_by(names)}"
    df = _ints(run(table, sql), ["n"])
    if "q" in df.columns:
        lists = [list(v) if v is not None and not (isinstance(v, float) and math.isnan(v)) else [None] * len(qs) for v in df.pop("q")]
        for i, x in enumerate(qs):
            df[quantile_name(x)] = [row[i] for row in lists]
    for x in qs:
        df[quantile_name(x)] = pd.to_numeric(df[quantile_name(x)], errors="coerce").astype(float)
    return sorted_by(df, names)


def primary_where(spec, table: Table) -> dict:
    """The filter that selects the audit's primary model version in ``table`` (``{}`` when the
    log has no version column or one version): ``spec.primary_version``, else the version with
    the most rows — the same rule as :attr:`sightline.data.audit.Audit.primary`."""
    col = spec.columns.model_version
    if not col:
        return {}
    counts = row_counts(table, by=[col])
    if len(counts) <= 1:
        return {}
    if spec.primary_version:
        return {col: spec.primary_version}
    counts[col] = counts[col].astype(str)
    return {col: counts.sort_values(["rows", col], ascending=[False, True])[col].iloc[0]}
