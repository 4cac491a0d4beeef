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

2. **The connection** (:mod:`sightline.data.sql_connections`).

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
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

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
        raise DataError(ERR_BAD_URL.format(what=what, problem=short_error(exc))) from None


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
        raise AccessError(ERR_UNCHECKED.format(what=what, problem=short_error(tree.get("error_message", "unknown"))))
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
        raise DataError(ERR_PARSE.format(what=what, problem=short_error(exc), engine=dialect or "standard")) from None
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
    return DataError(ERR_PARSE.format(what=what, problem=short_error(exc), engine="DuckDB"))


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


def short_error(exc: BaseException | str) -> str:
    # sqlglot highlights with ANSI escapes; parser messages run over several lines
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    line = " ".join(part.strip() for part in text.splitlines()[:1]) or type(exc).__name__
    return line[:200]
