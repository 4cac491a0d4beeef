"""Connections that cannot write or reach out: layer 2 of :mod:`sightline.data.sql_guard`.

DuckDB (:func:`duckdb_connection`) runs without extension autoloading or Python replacement
scans, database files read-only, file access limited to the source's folders and the
deployment's data roots, spills to a private temporary folder, configuration locked. SQLite
opens ``mode=ro`` with ``query_only``, no attached databases and a read-only authorizer;
PostgreSQL and MySQL run each query in a READ ONLY transaction (:func:`sqlalchemy_connection`).
"""

from __future__ import annotations

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
from sightline.data.sql_guard import ERR_BAD_URL, ERR_DUCKDB_DRIVER, ERR_NO_FILE, ERR_OUTSIDE, OTHER_FUNCTIONS, RULE, short_error

log = logging.getLogger(__name__)


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
        return AccessError(f"{what}: refused by the connection's settings ({short_error(exc)}) — " + RULE)
    return DataError(f"{what}: the query failed — {short_error(exc)}")


# ----------------------------------------------------------------------------- SQLAlchemy
def read_only_url(url: str, *, what: str = "SQL source"):
    """The SQLAlchemy URL to open for ``url``: for SQLite a ``file:…?mode=ro`` URI (never
    creates a file; :class:`DataError` naming a missing one), other URLs unchanged."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(str(url))
    except (ArgumentError, ValueError) as exc:
        raise DataError(ERR_BAD_URL.format(what=what, problem=short_error(exc))) from None
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
