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
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from sightline.core.errors import DataError, SightlineInputError
from sightline.data import sql_connections, sql_guard
from sightline.data.spec import Source
from sightline.data.sql_text import ident, text_literal, where_clause

log = logging.getLogger(__name__)

_FRAME_NAME = "sightline_frame"
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
        return cls(relation=f"read_parquet({text_literal(str(path))})", label=path.name, config=config,
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
            return cls(relation=f"read_csv_auto({text_literal(str(path))}, auto_type_candidates = {types})",
                       label=path.name, config=config, folders=_folder_of(path))
        if suffix in (".jsonl", ".ndjson", ".json"):
            return cls(relation=f"read_json_auto({text_literal(str(path))})", label=path.name, config=config,
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
            db = sql_connections.duckdb_database(url, what=label)
            folders = _folders(base_dir, None if db == ":memory:" else Path(db).parent)
        # On their own lines, so that a trailing -- comment cannot swallow the closing parenthesis.
        return cls(relation=f"(\n{statement}\n) AS src", url=url, label=label, config=config, folders=folders)

    @classmethod
    def frame_of(cls, df: pd.DataFrame, **config: Any) -> Table:
        """An in-memory DataFrame, queried by DuckDB without copying it into a database."""
        return cls(relation=ident(_FRAME_NAME), label="DataFrame", frame=df, config=config)

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
    """A hardened DuckDB connection for ``table`` (:func:`sightline.data.sql_connections.duckdb_connection`):
    its database read-only, files readable only in ``table.folders`` and the data roots."""
    db = sql_connections.duckdb_database(table.url, what=table.label or table.url)
    with sql_connections.duckdb_connection(db, folders=sql_connections.readable_folders(*table.folders),
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
            raise sql_connections.duckdb_failure(exc, what=what) from None
    with _sqlalchemy(table) as (sa, conn):
        return pd.read_sql(sa.text(sql), conn)


@contextmanager
def _sqlalchemy(table: Table) -> Iterator[tuple[Any, Any]]:
    """``(sqlalchemy, connection)`` to a non-DuckDB table's database, opened read-only where the
    driver allows it (:func:`sightline.data.sql_connections.sqlalchemy_connection`) and disposed after; a
    missing driver or any failure inside the block becomes a :class:`DataError` naming the source."""

    what = table.label or table.url
    try:
        with sql_connections.sqlalchemy_connection(table.url, what=what) as (sa, conn):
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
    cols = ", ".join(ident(c) for c in columns) if columns else "*"
    population = int(run(table, f"SELECT COUNT(*) AS {ident('rows')} FROM {table.relation} {where_clause(where)}")["rows"].iloc[0])
    sql = (f"SELECT {cols} FROM (SELECT {cols} FROM {table.relation} {where_clause(where)}) AS s "
           f"USING SAMPLE reservoir({int(size)} ROWS) REPEATABLE ({int(seed)})")
    single = replace(table, config={**dict(table.config), "threads": 1})
    return Sample(rows=run(single, sql), population=population, size=int(size), seed=int(seed))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
