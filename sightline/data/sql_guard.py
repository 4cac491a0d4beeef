"""SQL that only reads: one checked SELECT, run on a connection that cannot write or reach out.

Two layers, so that neither alone has to be perfect:

1. **The statement** (:func:`check_read_only_query`). A SQL source runs exactly one read-only
   ``SELECT`` (``WITH … SELECT``, ``UNION`` and the like included). The check parses the text
   with the engine's own parser where Sightline embeds the engine — DuckDB's
   ``extract_statements`` and ``json_serialize_sql`` — and with sqlglot, in the dialect named by
   the SQLAlchemy URL, for every other engine; it never matches strings. Refused, each by
   name: more than one statement; any statement that is not a SELECT (``COPY``, ``ATTACH``,
   ``INSTALL``, ``LOAD``, ``SET``, ``PRAGMA``, ``CALL``, ``EXPORT``, ``CREATE …``, ``INSERT`` …);
   ``SELECT … INTO``; ``SELECT … FOR UPDATE``; data-changing statements hidden in a ``WITH``
   (DuckDB and PostgreSQL accept ``WITH d AS (DELETE … RETURNING *) SELECT …``); and the few
   functions that run other SQL, write, read server files or change settings from inside a
   SELECT (:data:`DUCKDB_FUNCTIONS`, :data:`OTHER_FUNCTIONS`). For other engines the query that
   runs is the one sqlglot re-wrote from the tree it checked (comments dropped), so what runs is
   what was checked.

2. **The connection.**

   - DuckDB (:func:`duckdb_connection`): extensions are neither installed nor loaded
     automatically (``autoinstall_known_extensions``/``autoload_known_extensions`` off);
     Python variables are not scanned as tables (``python_enable_replacements`` off); a database
     file is opened ``read_only``; file access is limited to the folders the source may read
     (``enable_external_access = false`` with ``allowed_directories`` = the audit's folder, the
     database or data file's folder and the deployment's data roots — no network, no other
     file); spilling goes to a temporary folder of our own, deleted on close; then
     ``lock_configuration`` makes every later ``SET`` fail. Within those folders a SELECT can
     read files (``read_csv``, ``read_parquet``, ``glob`` …) but write none: DuckDB writes files
     only through statements (``COPY``, ``EXPORT``, ``ATTACH``), which layer 1 refuses.
   - SQLite (:func:`sqlalchemy_connection`): opened as ``file:PATH?mode=ro`` (a URI, so SQLite
     never creates the file; a missing file is an error naming it) with ``PRAGMA query_only``,
     no attached databases (``SQLITE_LIMIT_ATTACHED`` 0: ``ATTACH`` would create a file even on
     a read-only connection) and an authorizer that lets SQLite do nothing but read; extension
     loading stays off (Python's default).
   - PostgreSQL: every query runs in a ``READ ONLY`` transaction (``SET TRANSACTION READ ONLY``
     first); MySQL and MariaDB: ``SET SESSION TRANSACTION READ ONLY`` before the query.
   - Other engines (SQL Server, Oracle, Snowflake, BigQuery, …): layer 1 only — the
     administrator gives their named connection a database user that may only read.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sightline.core.deployment import current_deployment
from sightline.core.errors import AccessError, DataError

log = logging.getLogger(__name__)

RULE = "a SQL source runs exactly one read-only SELECT (or WITH … SELECT)"
ERR_REFUSED = "{what}: {kind} is refused — " + RULE + "; write the query as a SELECT"
ERR_MANY = "{what}: {n} statements are refused — " + RULE + "; keep one SELECT"
ERR_EMPTY = "{what}: the query is empty — write one SELECT"
ERR_PARSE = "{what}: the query does not parse ({problem}) — write one SELECT in {engine}'s SQL"
ERR_FUNCTION = ("{what}: the function {name}() is refused — it runs other SQL, writes, reads server files or changes "
                "settings; " + RULE)
ERR_UNCHECKED = "{what}: this SELECT cannot be checked ({problem}) — write it as a plain SELECT (e.g. GROUP BY instead of PIVOT)"
ERR_OUTSIDE = ("{what}: the query reads '{path}', outside the folders this source may read (the audit's folder, the "
               "database's folder and SIGHTLINE_DATA_ROOTS) — move the file there, or ask the administrator to add its folder")
ERR_NO_FILE = "{what}: {engine} database file '{path}' not found — check the path in the URL (it is never created)"
ERR_BAD_URL = "{what}: not a database URL ({problem}) — e.g. duckdb:///logs.db or postgresql://user@host/db"
ERR_DUCKDB_DRIVER = "{what}: DuckDB runs embedded here — write the URL as duckdb:///PATH.db (no +driver)"

# sqlglot dialect for each SQLAlchemy backend name; an unlisted backend is parsed as generic SQL.
DIALECTS = {
    "postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql", "mssql": "tsql",
    "oracle": "oracle", "snowflake": "snowflake", "bigquery": "bigquery", "redshift": "redshift",
    "databricks": "databricks", "trino": "trino", "presto": "presto", "clickhouse": "clickhouse",
    "hive": "hive", "spark": "spark", "teradata": "teradata", "awsathena": "athena", "duckdb": "duckdb",
}
# DuckDB query nodes a SELECT may contain; anything else (DELETE_QUERY_NODE …) changes data.
_DUCKDB_READ_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})
DUCKDB_FUNCTIONS = frozenset({
    "query", "json_execute_serialized_sql",  # run SQL given as text, beyond this check
    "checkpoint", "force_checkpoint", "write_log", "truncate_duckdb_logs",
})
OTHER_FUNCTIONS = frozenset({
    # PostgreSQL: server files, large objects, other databases, settings, sequences, server control
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export", "lo_unlink",
    "dblink", "dblink_exec", "dblink_connect", "set_config", "nextval", "setval", "pg_sleep",
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote",
    "pg_switch_wal", "pg_create_restore_point", "pg_logical_emit_message",
    # SQLite: extensions and file I/O of the shell's helpers; MySQL: server files, stalls
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "load_file", "sleep", "benchmark",
})


# ----------------------------------------------------------------------------- dialects
def is_duckdb_url(url: str) -> bool:
    """Whether ``url`` is run by the embedded DuckDB (``duckdb:///path.db`` or ``duckdb://``)."""
    return str(url).startswith("duckdb://")


def sql_dialect(url: str, *, what: str = "SQL source") -> str:
    """The parser for ``url``: ``"duckdb"`` for DuckDB URLs, else the sqlglot dialect of its
    SQLAlchemy backend (``""``, sqlglot's generic SQL, for a backend sqlglot does not know).
    Raises :class:`DataError` for text that is not a database URL."""
    if is_duckdb_url(url):
        return "duckdb"
    return DIALECTS.get(_backend(url, what), "")


def _backend(url: str, what: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(str(url)).get_backend_name()
    except (ArgumentError, ValueError) as exc:
        raise DataError(ERR_BAD_URL.format(what=what, problem=_short(exc))) from None


# ----------------------------------------------------------------------------- the statement
def check_read_only_query(query: str, *, dialect: str, what: str = "SQL query") -> str:
    """The one read-only statement in ``query``, ready to run; refuses everything else.

    Inputs: the query text; ``dialect`` ``"duckdb"`` (DuckDB's own parser) or a sqlglot dialect
    name (``"postgres"``, ``"sqlite"``, ``""`` for generic SQL; see :func:`sql_dialect`);
    ``what`` names the source in messages. Output: the statement without its trailing ``;`` —
    DuckDB's own text of it, or for other engines the SQL sqlglot writes back from the checked
    tree. Raises :class:`AccessError` naming what was refused ("COPY", "2 statements",
    "SELECT … INTO", "the function query()" …), or :class:`DataError` with the parser's message
    when the text does not parse.
    """
    text = str(query or "")
    if dialect == "duckdb":
        return _check_duckdb(text, what)
    return _check_sqlglot(text, dialect, what)


def _check_duckdb(text: str, what: str) -> str:
    import duckdb

    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        try:
            statements = con.extract_statements(text)
        except duckdb.Error as exc:  # ParserException, mostly
            raise _parse_refusal(text, "duckdb", exc, what) from None
        if not statements:
            raise DataError(ERR_EMPTY.format(what=what))
        if len(statements) > 1:
            raise AccessError(ERR_MANY.format(what=what, n=len(statements)))
        statement = statements[0]
        try:
            kind = statement.type
        except ValueError:  # a statement type the Python API does not know (UPDATE EXTENSIONS …)
            kind = None
        if kind != duckdb.StatementType.SELECT:
            raise AccessError(ERR_REFUSED.format(what=what, kind=_leading_words(statement.query)))
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [statement.query]).fetchone()[0])
    finally:
        con.close()
    if tree.get("error"):
        raise AccessError(ERR_UNCHECKED.format(what=what, problem=_short(tree.get("error_message", "unknown"))))
    for node in _walk(tree):
        kind = node.get("type")
        if isinstance(kind, str) and kind.endswith("_NODE") and kind not in _DUCKDB_READ_NODES:
            raise AccessError(ERR_REFUSED.format(what=what, kind=f"{kind.split('_')[0]} inside a SELECT"))
        name = node.get("function_name")
        if isinstance(name, str) and name.lower() in DUCKDB_FUNCTIONS:
            raise AccessError(ERR_FUNCTION.format(what=what, name=name.lower()))
    return _strip_semicolon(statement.query)


def _check_sqlglot(text: str, dialect: str, what: str) -> str:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        with _quiet_sqlglot():
            trees = [t for t in sqlglot.parse(text, dialect=dialect or None) if t is not None]
    except SqlglotError as exc:
        raise DataError(ERR_PARSE.format(what=what, problem=_short(exc), engine=dialect or "standard")) from None
    if not trees:
        raise DataError(ERR_EMPTY.format(what=what))
    if len(trees) > 1:
        raise AccessError(ERR_MANY.format(what=what, n=len(trees)))
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise AccessError(ERR_REFUSED.format(what=what, kind=_sqlglot_kind(tree)))
    for node in tree.walk():
        if isinstance(node, exp.Into):
            raise AccessError(ERR_REFUSED.format(what=what, kind="SELECT … INTO"))
        if isinstance(node, exp.Lock):
            raise AccessError(ERR_REFUSED.format(what=what, kind="SELECT … FOR UPDATE/SHARE (it takes locks)"))
        if isinstance(node, (exp.DDL, exp.DML, exp.Command, exp.Set, exp.Pragma, exp.Copy, exp.Attach, exp.Detach,
                             exp.Use, exp.Transaction, exp.Commit, exp.Rollback, exp.Grant, exp.Revoke, exp.Analyze,
                             exp.LoadData, exp.Cache, exp.Uncache, exp.Install, exp.Export, exp.Kill, exp.Refresh,
                             exp.Alter, exp.Drop, exp.Create, exp.Merge, exp.TruncateTable)):
            kind = _sqlglot_kind(node)
            raise AccessError(ERR_REFUSED.format(what=what, kind=kind if node is tree else f"{kind} inside a SELECT"))
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in OTHER_FUNCTIONS:
                raise AccessError(ERR_FUNCTION.format(what=what, name=name))
    return tree.sql(dialect=dialect or None, comments=False)


def _sqlglot_kind(node) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Command):
        return _leading_words(f"{node.this} {node.expression or ''}")
    if isinstance(node, (exp.Create, exp.Drop)):
        return f"{'CREATE' if isinstance(node, exp.Create) else 'DROP'} {str(node.args.get('kind') or '').upper()}".strip()
    names = {"TruncateTable": "TRUNCATE", "LoadData": "LOAD DATA", "Transaction": "BEGIN", "Into": "SELECT … INTO"}
    return names.get(type(node).__name__, type(node).__name__.upper())


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    # sqlglot logs a warning for text it falls back to parsing as a Command; the refusal says it.
    logger = logging.getLogger("sqlglot")

    def drop(record: logging.LogRecord) -> bool:
        return "unsupported syntax" not in record.getMessage()

    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _parse_refusal(text: str, dialect: str, exc: BaseException, what: str) -> Exception:
    """A DuckDB parse error, unless sqlglot sees a ``SELECT … INTO`` there (DuckDB has no such syntax)."""
    try:
        _check_sqlglot(text, dialect, what)
    except AccessError as refused:
        if "INTO" in str(refused):
            return refused
    except Exception:  # noqa: BLE001 — only a hint; DuckDB's own message follows
        pass
    return DataError(ERR_PARSE.format(what=what, problem=_short(exc), engine="DuckDB"))


_OBJECTS = ("TABLE", "VIEW", "MACRO", "FUNCTION", "SEQUENCE", "SCHEMA", "SECRET", "TYPE", "INDEX", "DATABASE", "TRIGGER")


def _leading_words(statement: str) -> str:
    """What a statement is, in its own keywords: ``COPY``, ``INSTALL``, ``CREATE TABLE`` …"""
    body = re.sub(r"^(\s|--[^\n]*\n?|/\*.*?\*/)*", "", str(statement), flags=re.S)
    words = [w.upper() for w in re.findall(r"[A-Za-z_]+", body[:200])]
    if not words:
        return "this statement"
    if words[0] in ("CREATE", "DROP", "ALTER"):
        obj = next((w for w in words[1:6] if w in _OBJECTS), "")
        return f"{words[0]} {obj}".strip()
    if words[0] == "FORCE" and len(words) > 1:
        return f"FORCE {words[1]}"
    return words[0]


def _walk(node: Any) -> Iterator[Mapping]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _strip_semicolon(text: str) -> str:
    return re.sub(r"[\s;]+$", "", text.strip())


def _short(exc: BaseException | str) -> str:
    # sqlglot highlights with ANSI escapes; parser messages run over several lines
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    line = " ".join(part.strip() for part in text.splitlines()[:1]) or type(exc).__name__
    return line[:200]


# ----------------------------------------------------------------------------- DuckDB
def duckdb_database(url: str, *, what: str = "SQL source") -> str:
    """The database a DuckDB URL names: a file path, or ``:memory:``. Raises :class:`DataError`
    when the file does not exist (DuckDB would create it)."""
    db = url[len("duckdb:///"):] if url.startswith("duckdb:///") else ""
    if not db or db == ":memory:":
        return ":memory:"
    if not Path(db).is_file():
        raise DataError(ERR_NO_FILE.format(what=what, engine="DuckDB", path=db))
    return db


def readable_folders(*folders: Path | str | None) -> tuple[str, ...]:
    """``allowed_directories`` for DuckDB: each folder given (absolute, and with symlinks
    resolved), then the deployment's data roots; each ends with a separator, because DuckDB
    allows any path that starts with an entry (``/data/a`` would let ``/data/ab`` through).

    On a shared server a folder given counts only where the deployment allows it: the folder
    a page passes for a query typed on the Data page is the server's working folder, which
    holds ``.streamlit/secrets.toml``."""

    deployment = current_deployment()
    out: list[str] = []
    for folder in [*folders, *deployment.data_roots]:
        if folder is None or str(folder) == "":
            continue
        if deployment.shared and not deployment.is_allowed(folder):
            continue
        for form in (os.path.abspath(folder), os.path.realpath(folder)):
            entry = form.rstrip(os.sep) + os.sep
            if entry not in out:
                out.append(entry)
    return tuple(out)


@contextmanager
def duckdb_connection(database: str = ":memory:", *, folders: Iterable[str] = (),
                      config: Mapping[str, Any] | None = None) -> Iterator[Any]:
    """A hardened DuckDB connection (see the module notes), closed and its spill folder deleted after.

    Inputs: ``database`` (a file, opened read-only, or ``:memory:``); ``folders`` the only
    folders it may read (:func:`readable_folders`); ``config`` further DuckDB settings such as
    ``{"threads": 2, "memory_limit": "2GB"}`` (applied before the lock).
    """
    import duckdb

    spill = tempfile.mkdtemp(prefix="sightline-duckdb-")
    settings = {**dict(config or {}), "autoinstall_known_extensions": False, "autoload_known_extensions": False,
                "python_enable_replacements": False}
    con = None
    try:
        con = duckdb.connect(database, read_only=database != ":memory:", config=settings)
        # Order matters: DuckDB accepts allowed_directories and temp_directory only while external
        # access is still on, and nothing can be changed once the configuration is locked. No
        # SQL from outside runs before the lock.
        con.execute("SET enable_progress_bar = false")  # a library must not draw on the user's terminal
        con.execute("SET allowed_directories = ?", [list(folders)])
        con.execute("SET temp_directory = ?", [spill])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con
    finally:
        if con is not None:
            con.close()
        shutil.rmtree(spill, ignore_errors=True)


def duckdb_failure(exc: BaseException, *, what: str) -> Exception:
    """The input error for a DuckDB failure: :class:`AccessError` naming the file when DuckDB's
    settings refused it, :class:`DataError` with DuckDB's first line otherwise."""
    import duckdb

    if isinstance(exc, duckdb.PermissionException):
        found = re.search(r'Cannot access (?:file|directory) "([^"]*)"', str(exc))
        if found:
            return AccessError(ERR_OUTSIDE.format(what=what, path=found.group(1)))
        return AccessError(f"{what}: refused by the connection's settings ({_short(exc)}) — " + RULE)
    return DataError(f"{what}: the query failed — {_short(exc)}")


# ----------------------------------------------------------------------------- SQLAlchemy
def read_only_url(url: str, *, what: str = "SQL source"):
    """The SQLAlchemy URL to open for ``url``: for SQLite a ``file:…?mode=ro`` URI (never
    creates a file; :class:`DataError` naming a missing one), other URLs unchanged."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(str(url))
    except (ArgumentError, ValueError) as exc:
        raise DataError(ERR_BAD_URL.format(what=what, problem=_short(exc))) from None
    backend = parsed.get_backend_name()
    if backend == "duckdb":
        raise DataError(ERR_DUCKDB_DRIVER.format(what=what))
    if backend != "sqlite":
        return parsed
    db = parsed.database or ""
    if db.startswith("file:"):
        db = db[len("file:"):].split("?", 1)[0]
    if db in ("", ":memory:"):
        return parsed.set(database=":memory:", query={})  # in memory: there is no file to write
    if not Path(db).is_file():
        raise DataError(ERR_NO_FILE.format(what=what, engine="SQLite", path=db))
    return parsed.set(database="file:" + quote(os.path.abspath(db)), query={"mode": "ro", "uri": "true"})


@contextmanager
def sqlalchemy_connection(url: str, *, what: str = "SQL source") -> Iterator[tuple[Any, Any]]:
    """``(sqlalchemy, connection)`` opened read-only where the driver allows it (see the module
    notes); the engine is disposed after. Driver and database errors are the caller's to wrap."""
    import sqlalchemy as sa

    target = read_only_url(url, what=what)
    backend = target.get_backend_name()
    engine = sa.create_engine(target)
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_query_only)
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # the first statement of the transaction
            elif backend in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
                conn.commit()  # the next transaction, which runs the query, is read-only
            yield sa, conn
    finally:
        engine.dispose()


def _sqlite_query_only(dbapi_connection, _record) -> None:
    import sqlite3

    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = 1")
    cursor.close()
    if isinstance(dbapi_connection, sqlite3.Connection):
        # ATTACH of a missing file creates it even on a read-only connection: allow none, and
        # let SQLite itself refuse every action but reading (its authorizer sees each one).
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        dbapi_connection.set_authorizer(_sqlite_authorizer)


def _sqlite_authorizer(action: int, arg1, arg2, _db, _trigger) -> int:
    import sqlite3

    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE, sqlite3.SQLITE_TRANSACTION):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() not in OTHER_FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY
