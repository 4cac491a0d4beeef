"""One query layer: push aggregations down to a Parquet file or a SQL source, pull small results.

When a prediction log is too large for memory (or lives in a database), the statistics behind
every panel can still be computed from *sufficient statistics*: confusion counts per group,
slice or window; binned histograms for drift and calibration; label coverage; latency
quantiles; row counts. The functions here build one SQL query for each, run it where the data
is (DuckDB, embedded, by default) and return a small DataFrame. What must be computed on rows
(SHAP, bootstrap intervals, model-agnostic explainers) gets a bounded random :func:`sample`.

Inputs are a :class:`Table` — a Parquet/CSV file (:meth:`Table.parquet`, :meth:`Table.file`), a
SQL query on a DuckDB file or any SQLAlchemy URL (:meth:`Table.sql`), an audit source
(:meth:`Table.from_source`) or an in-memory DataFrame (:meth:`Table.frame_of`) — plus column names.
Every function takes keyword filters ``where`` (``{column: value}`` or ``{column: [values]}``),
grouping columns ``by`` and an optional time ``window`` (``(timestamp_column, unit)``, unit one of
``hour``, ``day``, ``week`` (weeks start on Monday), ``month``), which adds a ``window`` column
holding each window's start.

Portability. The generated SQL is standard SQL (SQL:2003) so the same text runs on a warehouse
engine that speaks it: double-quoted identifiers, ``CASE``, ``SUM``/``COUNT``, ``GROUP BY``,
``GROUPING SETS``, ``CAST(… AS DOUBLE PRECISION)``, ``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY
x)``. Even SQLite runs the row and confusion counts unchanged (a test checks it). The
exceptions, each confined to one helper here:

- the **relation** of a file source, ``read_parquet('…')`` / ``read_csv_auto('…')`` (DuckDB's
  table functions; on a warehouse the relation is a table name or a sub-query instead);
- **time windows**, ``date_trunc('week', ts)`` (PostgreSQL, Snowflake, Redshift, Databricks and
  DuckDB spell it so; BigQuery spells it ``TIMESTAMP_TRUNC(ts, WEEK(MONDAY))``);
- the **sample**, ``USING SAMPLE reservoir(n ROWS) REPEATABLE (seed)`` (DuckDB only: the standard
  ``TABLESAMPLE BERNOULLI (p)`` cannot bound the row count, so :func:`sample` refuses other
  engines with a message rather than return an unbounded or differently drawn sample);
- ``CAST(x AS VARCHAR)`` where a value must be compared or grouped as text (BigQuery: ``STRING``);
- ``'Infinity'`` as a ``DOUBLE PRECISION`` literal for open-ended bins (PostgreSQL and DuckDB);
- on DuckDB only, quantiles use ``quantile_cont(x, [q1, q2, …])`` (one sort for all quantiles;
  ``standard_sql=True`` gives the standard form there too).

Histograms and category counts bin every column in one scan with ``GROUP BY GROUPING SETS``
(SQL:1999: PostgreSQL, Snowflake, BigQuery, Redshift, Databricks, DuckDB; not SQLite or MySQL).

Conventions: binary labels are compared with the audit's ``positive_label`` the way
:func:`sightline.data.validation.labels_equal` does (numbers as numbers, everything else as stripped
text); a prediction is positive when the logged prediction equals the positive label or, when
``score`` is given instead, when ``score >= threshold`` (a missing score is negative). Rows whose
label is missing are left out of confusion counts. Missing values of a ``by`` column form their
own group (SQL semantics), shown as ``None``/``NaN``. Histograms follow :func:`numpy.histogram`:
bins ``[e0, e1), [e1, e2), …, [e_{k-1}, e_k]``; values outside the edges and missing values are
not counted (pass ``-inf``/``inf`` end edges to count everything). Result rows are sorted by
their group columns. Nothing here modifies a source: files and databases are opened read-only,
a SQL source's query must be one read-only SELECT, and DuckDB reads files only in the source's
own folders and the deployment's data roots (:mod:`sightline.data.sql_guard`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sightline.core.errors import DataError, SightlineInputError
from sightline.data import sql_guard
from sightline.data.spec import Source
from sightline.stats.confusion import CELLS

log = logging.getLogger(__name__)

WINDOW_UNITS = ("hour", "day", "week", "month")
DEFAULT_QUANTILES = (0.5, 0.9, 0.95, 0.99)
_FRAME_NAME = "sightline_frame"
ERR_NO_COLUMNS = "{where}: name at least one column"
ERR_WINDOW_UNIT = "window unit {unit!r} is not one of " + ", ".join(WINDOW_UNITS)
ERR_EDGES = "histogram edges of {column!r} must be at least two increasing numbers, got {edges!r}"
ERR_SAMPLE_ENGINE = "a bounded random sample needs DuckDB (USING SAMPLE reservoir); {url} is another engine — sample there, or export the table to Parquet"


# ----------------------------------------------------------------------------- sources
@dataclass(frozen=True, eq=False)
class Table:
    """Where rows come from: ``relation`` is the SQL that names them (a table function, a table
    name or a parenthesised sub-query), run on ``url`` (``duckdb:///:memory:`` for files and
    frames, ``duckdb:///path.db`` or any SQLAlchemy URL for databases). ``frame`` is an in-memory
    DataFrame registered under the relation's name; ``config`` DuckDB settings such as
    ``{"threads": 2, "memory_limit": "2GB"}``; ``label`` a short description for messages;
    ``folders`` the folders DuckDB may read files from, besides the deployment's data roots
    (the file's folder, the audit's folder; nothing else — see :mod:`sightline.data.sql_guard`)."""

    relation: str
    url: str = "duckdb:///:memory:"
    label: str = ""
    frame: pd.DataFrame | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    folders: tuple[str, ...] = ()

    @property
    def is_duckdb(self) -> bool:
        return self.url.startswith("duckdb://")

    @classmethod
    def parquet(cls, path: Path | str, **config: Any) -> Table:
        """A Parquet file (or a glob of files, e.g. ``logs/*.parquet``) read in place by DuckDB."""
        path = Path(path)
        if "*" not in str(path) and not path.exists():
            raise DataError(f"{path}: file not found — check the path")
        return cls(relation=f"read_parquet({_text(str(path))})", label=path.name, config=config,
                   folders=_folder_of(path))

    @classmethod
    def file(cls, path: Path | str, **config: Any) -> Table:
        """A Parquet, CSV or JSON Lines file, chosen by suffix, read in place by DuckDB."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            return cls.parquet(path, **config)
        if not path.exists():
            raise DataError(f"{path}: file not found — check the path")
        if suffix in (".csv", ".tsv", ".txt"):
            # Types as pandas would read them: no BOOLEAN guess, so 'yes'/'no' labels stay text.
            types = "['BIGINT', 'DOUBLE', 'TIMESTAMP', 'VARCHAR']"
            return cls(relation=f"read_csv_auto({_text(str(path))}, auto_type_candidates = {types})",
                       label=path.name, config=config, folders=_folder_of(path))
        if suffix in (".jsonl", ".ndjson", ".json"):
            return cls(relation=f"read_json_auto({_text(str(path))})", label=path.name, config=config,
                       folders=_folder_of(path))
        raise DataError(f"{path}: unknown file type '{path.suffix}' — use .parquet, .csv or .jsonl")

    @classmethod
    def sql(cls, url: str, query: str, *, base_dir: Path | str | None = None, label: str | None = None,
            **config: Any) -> Table:
        """The rows of ``query`` on a DuckDB file (``duckdb:///x.db``) or a SQLAlchemy URL.

        ``query`` must be one read-only SELECT (:func:`sightline.data.sql_guard.check_read_only_query`,
        checked here: :class:`AccessError` names what is refused); on DuckDB it may read files in
        ``base_dir`` (the audit's folder), the database file's folder and the data roots.
        ``label`` names the source in messages (default: the URL without its password).
        """

        label = label or Source(url=str(url)).describe()
        statement = sql_guard.check_read_only_query(query, dialect=sql_guard.sql_dialect(url, what=label), what=label)
        folders: tuple[str, ...] = ()
        if sql_guard.is_duckdb_url(url):
            db = sql_guard.duckdb_database(url, what=label)
            folders = _folders(base_dir, None if db == ":memory:" else Path(db).parent)
        # On their own lines, so that a trailing -- comment cannot swallow the closing parenthesis.
        return cls(relation=f"(\n{statement}\n) AS src", url=url, label=label, config=config, folders=folders)

    @classmethod
    def frame_of(cls, df: pd.DataFrame, **config: Any) -> Table:
        """An in-memory DataFrame, queried by DuckDB without copying it into a database."""
        return cls(relation=_ident(_FRAME_NAME), label="DataFrame", frame=df, config=config)

    @classmethod
    def from_source(cls, source, base_dir: Path | str = ".", **config: Any) -> Table:
        """The table of an audit :class:`~sightline.data.spec.Source` (``audit.spec.current`` …)."""
        if source.is_sql:
            return cls.sql(source.sql_url(), source.query, base_dir=base_dir, label=source.describe(), **config)
        return cls.file(source.resolve(Path(base_dir)), **config)


def _folder_of(path: Path) -> tuple[str, ...]:
    """The folder DuckDB may read for a file or a glob of files: the deepest folder without a
    wildcard (``logs/*/x.parquet`` → ``logs``)."""
    parts = Path(path).parts
    keep = next((i for i, part in enumerate(parts) if any(ch in part for ch in "*?[")), len(parts) - 1)
    return _folders(Path(*parts[:keep]) if keep else Path("."))


def _folders(*folders: Path | str | None) -> tuple[str, ...]:
    return tuple(str(Path(f).resolve()) for f in folders if f is not None and str(f) != "")


@contextmanager
def _duckdb(table: Table) -> Iterator[Any]:
    """A hardened DuckDB connection for ``table`` (:func:`sightline.data.sql_guard.duckdb_connection`):
    its database read-only, files readable only in ``table.folders`` and the data roots."""
    db = sql_guard.duckdb_database(table.url, what=table.label or table.url)
    with sql_guard.duckdb_connection(db, folders=sql_guard.readable_folders(*table.folders),
                                     config=table.config) as con:
        if table.frame is not None:
            con.register(_FRAME_NAME, table.frame)
        yield con


def run(table: Table, sql: str) -> pd.DataFrame:
    """Run ``sql`` where ``table`` lives and return the (small) result. Raises :class:`DataError`,
    or :class:`AccessError` when the SQL is not one read-only SELECT or reads outside the
    table's folders."""
    what = table.label or table.url
    log.debug("query on %s:\n%s", what, sql)
    if table.is_duckdb:
        import duckdb

        # The whole statement, the source's query inside it included, is checked again: this
        # is the text DuckDB runs.
        sql = sql_guard.check_read_only_query(sql, dialect="duckdb", what=what)
        try:
            with _duckdb(table) as con:
                return con.execute(sql).df()
        except duckdb.Error as exc:
            raise sql_guard.duckdb_failure(exc, what=what) from None
    with _sqlalchemy(table) as (sa, conn):
        return pd.read_sql(sa.text(sql), conn)


@contextmanager
def _sqlalchemy(table: Table) -> Iterator[tuple[Any, Any]]:
    """``(sqlalchemy, connection)`` to a non-DuckDB table's database, opened read-only where the
    driver allows it (:func:`sightline.data.sql_guard.sqlalchemy_connection`) and disposed after; a
    missing driver or any failure inside the block becomes a :class:`DataError` naming the source."""

    what = table.label or table.url
    try:
        with sql_guard.sqlalchemy_connection(table.url, what=what) as (sa, conn):
            yield sa, conn
    except SightlineInputError:
        raise
    except ModuleNotFoundError as exc:
        raise DataError(f"{what}: the database driver is not installed ({exc.name}) — pip install it") from None
    except Exception as exc:  # SQLAlchemy wraps every driver's errors differently
        raise DataError(f"{what}: the query failed — {_first_line(exc)}") from None


def column_kinds(table: Table) -> dict[str, str]:
    """Each column's kind — ``number``, ``bool``, ``time`` or ``text`` — read from the schema
    (DuckDB) or from the first 1,000 rows (other engines, read through a streaming cursor)."""
    if table.is_duckdb:
        desc = run(table, f"DESCRIBE SELECT * FROM {table.relation}")
        out = {}
        for name, typ in zip(desc["column_name"], desc["column_type"].str.upper()):
            if typ == "BOOLEAN":
                out[name] = "bool"
            elif typ.startswith(("TIMESTAMP", "DATE")):
                out[name] = "time"
            elif re.fullmatch(r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|REAL|(DECIMAL|NUMERIC)(\(.*\))?", typ):
                out[name] = "number"
            else:
                out[name] = "text"
        return out
    head = _head(table, 1000)
    out = {}
    for name in head.columns:
        s = head[name]
        if pd.api.types.is_bool_dtype(s):
            out[name] = "bool"
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[name] = "time"
        elif pd.api.types.is_numeric_dtype(s):
            out[name] = "number"
        else:
            out[name] = "text"
    return out


def _head(table: Table, n: int) -> pd.DataFrame:
    """The first ``n`` rows of a non-DuckDB table, streamed with a server-side cursor: row-limit
    syntax differs between engines (LIMIT, FETCH FIRST, TOP), a cursor does not."""
    with _sqlalchemy(table) as (sa, conn):
        result = conn.execution_options(stream_results=True).execute(sa.text(f"SELECT * FROM {table.relation}"))
        return pd.DataFrame(result.fetchmany(n), columns=list(result.keys()))


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


# ----------------------------------------------------------------------------- SQL pieces
def _ident(name: str) -> str:
    """A double-quoted SQL identifier (standard quoting; embedded quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


def _text(value: str) -> str:
    """A single-quoted SQL string literal (embedded quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def _number(value: float) -> str:
    """A float as an exact SQL ``DOUBLE PRECISION`` (repr round-trips; infinities spelled out)."""
    value = float(value)
    if math.isnan(value):
        raise ValueError("NaN is not a valid bin edge or threshold")
    if math.isinf(value):
        return f"CAST({_text('Infinity' if value > 0 else '-Infinity')} AS DOUBLE PRECISION)"
    return f"CAST({value!r} AS DOUBLE PRECISION)"


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _number(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return f"CAST({_text(pd.Timestamp(value).isoformat(sep=' '))} AS TIMESTAMP)"
    return _text(str(value))


def _where(where: Mapping[str, Any] | None, extra: Sequence[str] = ()) -> str:
    """``WHERE`` clause from equality filters (a list value means ``IN``) and extra conditions."""
    parts = list(extra)
    for col, value in (where or {}).items():
        if isinstance(value, (list, tuple, set, frozenset)):
            values = list(value)
            parts.append(f"{_ident(col)} IN ({', '.join(_literal(v) for v in values)})" if values else "1 = 0")
        elif value is None:
            parts.append(f"{_ident(col)} IS NULL")
        else:
            parts.append(f"{_ident(col)} = {_literal(value)}")
    return f"WHERE {' AND '.join(parts)}" if parts else ""


def window_expression(column: str, unit: str) -> str:
    """SQL for the start of each row's time window (``date_trunc``; see the module notes)."""
    if unit not in WINDOW_UNITS:
        raise ValueError(ERR_WINDOW_UNIT.format(unit=unit))
    return f"date_trunc({_text(unit)}, {_ident(column)})"


def _groups(by: Sequence[str], window: tuple[str, str] | None) -> tuple[list[str], list[str]]:
    """(select expressions, output names) for the grouping columns and the window."""
    exprs, names = [_ident(c) for c in by], list(by)
    if window is not None:
        exprs.append(f"{window_expression(*window)} AS {_ident('window')}")
        names.append("window")
    return exprs, names


def _group_by(names: Sequence[str]) -> str:
    return f"GROUP BY {', '.join(_ident(n) for n in names)}" if names else ""


def _is_positive(column: str, label: Any, kind: str) -> str:
    """SQL condition: the value of ``column`` equals the positive ``label`` (labels_equal rules)."""
    col = _ident(column)
    if kind == "number":
        try:
            return f"{col} = {_number(float(label))}"
        except (TypeError, ValueError):
            return "1 = 0"
    if kind == "bool":
        text = str(label).strip()
        return f"{col} = TRUE" if text == "True" else (f"{col} = FALSE" if text == "False" else "1 = 0")
    if kind == "text":
        return f"TRIM({col}) = {_text(str(label).strip())}"
    return f"TRIM(CAST({col} AS VARCHAR)) = {_text(str(label).strip())}"


def _sorted(df: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    if names and len(df):
        df = df.sort_values(list(names), kind="stable", na_position="last")
    return df.reset_index(drop=True)


def _ints(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    for c in columns:
        df[c] = pd.to_numeric(df[c]).fillna(0).astype("int64")
    return df


def _sub(table: Table, where: Mapping[str, Any] | None, extra: Sequence[str] = ()) -> str:
    """The filtered rows as a sub-query (filters first, so DuckDB prunes row groups and columns)."""
    return f"(SELECT * FROM {table.relation} {_where(where, extra)}) AS t"


# ----------------------------------------------------------------------------- aggregates
def row_counts(table: Table, *, by: Sequence[str] = (), window: tuple[str, str] | None = None,
               where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Rows per group. Output: the ``by`` columns (and ``window``), ``rows`` (int)."""
    exprs, names = _groups(by, window)
    sql = f"SELECT {', '.join(exprs + ['COUNT(*) AS rows'])} FROM {_sub(table, where)} {_group_by(names)}"
    return _sorted(_ints(run(table, sql), ["rows"]), names)


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
    truth = _is_positive(target, positive_label, kinds.get(target, "text"))
    pred = (_is_positive(prediction, positive_label, kinds.get(prediction, "text")) if prediction is not None
            else f"{_ident(score)} >= {_number(threshold)}")
    exprs, names = _groups(by, window)
    flags = (f"CASE WHEN {truth} THEN 1 ELSE 0 END AS yt, CASE WHEN {pred} THEN 1 ELSE 0 END AS yp")
    inner = f"SELECT {', '.join(exprs + [flags])} FROM {_sub(table, where, [f'{_ident(target)} IS NOT NULL'])}"
    cell = {"tn": "(1 - yt) * (1 - yp)", "fp": "(1 - yt) * yp", "fn": "yt * (1 - yp)", "tp": "yt * yp"}
    counts = ", ".join(f"SUM({cell[c]}) AS {c}" for c in CELLS) + ", COUNT(*) AS n"
    outer = [_ident(n) for n in names] + [counts]
    sql = f"SELECT {', '.join(outer)} FROM ({inner}) AS c {_group_by(names)}"
    return _sorted(_ints(run(table, sql), [*CELLS, "n"]), names)


def _bin_case(column: str, edges: Sequence[float]) -> str:
    """SQL ``CASE`` giving the numpy.histogram bin index of ``column`` (NULL outside the edges)."""
    col = _ident(column)
    parts = [f"WHEN {col} < {_number(edges[0])} THEN NULL"]
    for i in range(1, len(edges) - 1):
        parts.append(f"WHEN {col} < {_number(edges[i])} THEN {i - 1}")
    parts.append(f"WHEN {col} <= {_number(edges[-1])} THEN {len(edges) - 2}")
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
    exprs, names = _groups(by, window)
    keys = {c: f"v{i}" for i, c in enumerate(values)}
    inner = ", ".join(exprs + [f"{expr} AS {keys[c]}" for c, expr in values.items()])
    group = [_ident(n) for n in names]
    sets = ", ".join("(" + ", ".join(group + [k]) + ")" for k in keys.values())
    select = group + list(keys.values()) + [f"GROUPING({k}) AS g_{k}" for k in keys.values()] + [f"COUNT(*) AS {_ident('count')}"]
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
    _, names = _groups(by, window)
    df = _counts_per_column(table, {c: _bin_case(c, e) for c, e in checked.items()}, by=by, window=window, where=where)
    df = df[df["value"].notna()].rename(columns={"value": "bin"})  # NULL bin: outside the edges, or missing
    df["bin"] = pd.to_numeric(df["bin"]).astype("int64")
    df = _complete(df, "column", names, {c: range(len(e) - 1) for c, e in checked.items()}, ["count"])
    df["lower"] = [checked[c][b] for c, b in zip(df["column"], df["bin"])]
    df["upper"] = [checked[c][b + 1] for c, b in zip(df["column"], df["bin"])]
    order = ["column", *names, "bin", "lower", "upper", "count"]
    return _sorted(df[order], ["column", *names, "bin"])


def category_counts(table: Table, columns: Sequence[str], *, by: Sequence[str] = (),
                    window: tuple[str, str] | None = None, where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Counts of each value of categorical ``columns`` per group/window, all columns in one scan
    (missing values count as a value ``None``). Output (long form): ``column``, the group
    columns, ``value`` (text), ``count``. Only values that occur are listed."""
    if not columns:
        raise ValueError(ERR_NO_COLUMNS.format(where="category_counts"))
    _, names = _groups(by, window)
    values = {c: f"CAST({_ident(c)} AS VARCHAR)" for c in columns}
    df = _counts_per_column(table, values, by=by, window=window, where=where)
    df["value"] = df["value"].astype(object).where(df["value"].notna(), None)
    return _sorted(df, ["column", *names, "value"])


def _reliability_bin_case(column: str, edges: Sequence[float]) -> str:
    """SQL ``CASE`` giving :func:`sightline.stats.reliability.bin_ids` of ``column``: right-closed
    bins as scikit-learn's ``calibration_curve`` (a value on an edge belongs to the bin below;
    below the first edge: bin 0, above the last: the last bin); NULL for a missing value."""
    col = _ident(column)
    parts = [f"WHEN {col} IS NULL THEN NULL"]
    parts += [f"WHEN {col} <= {_number(edges[i])} THEN {i - 1}" for i in range(1, len(edges) - 1)]
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
    truth = _is_positive(target, positive_label, kinds.get(target, "text"))
    exprs, names = _groups(by, window)
    values = [f"{_reliability_bin_case(score, e)} AS bin", f"{_ident(score)} AS s", f"CASE WHEN {truth} THEN 1 ELSE 0 END AS yt"]
    inner = f"SELECT {', '.join(exprs + values)} FROM {_sub(table, where, [f'{_ident(target)} IS NOT NULL'])}"
    outer = [_ident(n) for n in names] + ["bin", f"COUNT(*) AS {_ident('count')}", "SUM(yt) AS positives", "SUM(s) AS prob_sum"]
    sql = (f"SELECT {', '.join(outer)} FROM ({inner}) AS b WHERE bin IS NOT NULL "
           f"GROUP BY {', '.join([_ident(n) for n in names] + ['bin'])}")
    df = run(table, sql)
    df["bin"] = pd.to_numeric(df["bin"]).astype("int64")
    df.insert(0, "_k", score)
    df = _complete(df, "_k", names, {score: range(len(e) - 1)}, ["count", "positives"])
    df["prob_sum"] = df["prob_sum"].astype(float).fillna(0.0)
    df["bin_lower"] = [e[b] for b in df["bin"]]
    df["bin_upper"] = [e[b + 1] for b in df["bin"]]
    return _sorted(df[[*names, "bin", "bin_lower", "bin_upper", "count", "positives", "prob_sum"]], [*names, "bin"])


def label_coverage(table: Table, *, target: str, timestamp: str, unit: str = "week", by: Sequence[str] = (),
                   where: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Rows and labelled rows per time window. Output: the ``by`` columns, ``window`` (start),
    ``rows``, ``labelled`` (rows whose ``target`` is not missing), ``coverage`` (labelled / rows)."""
    exprs, names = _groups(by, (timestamp, unit))
    sql = (f"SELECT {', '.join(exprs + ['COUNT(*) AS rows', f'COUNT({_ident(target)}) AS labelled'])} "
           f"FROM {_sub(table, where, [f'{_ident(timestamp)} IS NOT NULL'])} {_group_by(names)}")
    df = _ints(run(table, sql), ["rows", "labelled"])
    df["coverage"] = df["labelled"] / df["rows"]
    return _sorted(df, names)


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
    exprs, names = _groups(by, window)
    col = _ident(column)
    if table.is_duckdb and not standard_sql:
        # DuckDB's list form sorts each group once for every quantile (about twice as fast as
        # one PERCENTILE_CONT per quantile); same interpolation, same numbers.
        listed = ", ".join(repr(x) for x in qs)
        aggs = [f"COUNT({col}) AS n", f"quantile_cont({col}, [{listed}]) AS q"]
    else:
        aggs = [f"COUNT({col}) AS n"] + [
            f"PERCENTILE_CONT({x!r}) WITHIN GROUP (ORDER BY {col}) AS {_ident(quantile_name(x))}" for x in qs]
    sql = f"SELECT {', '.join(exprs + aggs)} FROM {_sub(table, where)} {_group_by(names)}"
    df = _ints(run(table, sql), ["n"])
    if "q" in df.columns:
        lists = [list(v) if v is not None and not (isinstance(v, float) and math.isnan(v)) else [None] * len(qs) for v in df.pop("q")]
        for i, x in enumerate(qs):
            df[quantile_name(x)] = [row[i] for row in lists]
    for x in qs:
        df[quantile_name(x)] = pd.to_numeric(df[quantile_name(x)], errors="coerce").astype(float)
    return _sorted(df, names)


# ----------------------------------------------------------------------------- samples
@dataclass(frozen=True)
class Sample:
    """A bounded random sample: ``rows`` (at most ``size`` rows, all of them when the
    population is smaller), ``population`` (rows that matched the filters), ``seed``, ``method``."""

    rows: pd.DataFrame
    population: int
    size: int
    seed: int
    method: str = "reservoir"

    @property
    def sampled(self) -> bool:
        return len(self.rows) < self.population

    def provenance(self) -> dict:
        """How the rows were drawn, for a result's provenance (sample size shown next to it)."""
        return {"method": f"{self.method} sample (DuckDB, seed {self.seed})" if self.sampled else "all rows",
                "sample_size": len(self.rows), "population": int(self.population)}


def sample(table: Table, size: int, *, seed: int = 0, columns: Sequence[str] | None = None,
           where: Mapping[str, Any] | None = None) -> Sample:
    """A uniform random sample of at most ``size`` rows (reservoir sampling, repeatable for a
    given seed and source), reading only ``columns`` (default all). DuckDB sources only (see the
    module notes). Single-threaded, because DuckDB's reservoir is repeatable only on one thread."""
    if not table.is_duckdb:
        raise DataError(ERR_SAMPLE_ENGINE.format(url=table.url))
    if int(size) < 1:
        raise ValueError(f"sample size must be at least 1, got {size!r}")
    cols = ", ".join(_ident(c) for c in columns) if columns else "*"
    population = int(row_counts(table, where=where)["rows"].sum())
    sql = (f"SELECT {cols} FROM (SELECT {cols} FROM {table.relation} {_where(where)}) AS s "
           f"USING SAMPLE reservoir({int(size)} ROWS) REPEATABLE ({int(seed)})")
    single = replace(table, config={**dict(table.config), "threads": 1})
    return Sample(rows=run(single, sql), population=population, size=int(size), seed=int(seed))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
