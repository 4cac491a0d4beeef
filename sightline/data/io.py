"""Loading tables: CSV, Parquet, JSON Lines, and SQL (DuckDB embedded, or any SQLAlchemy URL).

Files are opened read-only and never modified. A SQL source runs one checked read-only SELECT
on a hardened connection (:mod:`sightline.data.sql_guard`). Every failure becomes a
:class:`~sightline.core.errors.DataError` naming the file and the fix, or an
:class:`~sightline.core.errors.AccessError` naming what the deployment or the SQL check refused.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import logging
from pathlib import Path

import pandas as pd

from sightline.core.errors import DataError, SightlineInputError
from sightline.data import sql_connections, sql_guard
from sightline.data.spec import Source

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
SUPPORTED = CSV_SUFFIXES + PARQUET_SUFFIXES + JSONL_SUFFIXES
_SNIFF_BYTES = 64 * 1024


def read_source(source: Source, base_dir: Path | str = ".", columns: list[str] | None = None) -> pd.DataFrame:
    """Read one table described by an audit :class:`Source`.

    Inputs: the source, the folder relative paths start from, optionally the columns to keep
    (a Parquet file is read for those only; other sources are read whole).
    Output: a DataFrame. Raises :class:`DataError`.
    """
    if source.is_sql:
        return read_sql(source.sql_url(), source.query, base_dir=base_dir, what=source.describe())
    return read_file(source.resolve(Path(base_dir)), delimiter=source.delimiter,
                     encoding=source.encoding, columns=columns)


def read_file(path: Path | str, *, delimiter: str | None = None, encoding: str | None = None,
              columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV/TSV, Parquet or JSON Lines file chosen by its suffix. Raises :class:`DataError`."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found — check the path (relative paths start at the audit file's folder)")
    if path.is_dir():
        raise DataError(f"{path}: is a folder — give a .csv, .parquet or .jsonl file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes) — was it fully written or downloaded?")
    suffix = path.suffix.lower()
    if suffix == ".gz":
        suffix = Path(path.stem).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        df = _read_parquet(path, columns)
    elif suffix in CSV_SUFFIXES:
        df = _read_csv(path, delimiter, encoding)
    elif suffix in JSONL_SUFFIXES:
        df = _read_jsonl(path, encoding)
    elif suffix in (".pkl", ".pickle", ".joblib"):
        raise DataError(f"{path}: pickle files are not read (they can run code) — export the table as Parquet or CSV")
    else:
        raise DataError(f"{path}: unknown file type '{path.suffix}' — use one of {', '.join(SUPPORTED)}")
    if df.shape[0] == 0:
        raise DataError(f"{path}: the file has a header but no rows")
    return df


def _read_parquet(path: Path, columns: list[str] | None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if columns is not None:
            present = set(pq.read_schema(path).names)
            columns = [c for c in columns if c in present]
        return pd.read_parquet(path, columns=columns)
    except Exception as exc:  # pyarrow raises several types for broken files
        raise DataError(f"{path}: not a readable Parquet file ({_first_line(exc)}) — is it truncated or another format?") from None
    finally:
        # Arrow's allocator keeps the pages of the decoded table (about twice the frame) for
        # reuse; nothing else in Sightline reads Parquet often enough to want them, so give them
        # back: on a 5,000,000-row log this is 1.2 GB of resident memory.
        pa.default_memory_pool().release_unused()


def parquet_columns(path: Path | str) -> list[str] | None:
    """The column names of a Parquet file (read from its footer, not its data), or None when it
    is not a readable Parquet file (the full read then reports the problem)."""
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception:  # pyarrow raises several types for broken files
        return None


def _read_csv(path: Path, delimiter: str | None, encoding: str | None) -> pd.DataFrame:
    raw = path.open("rb").read(_SNIFF_BYTES)
    encoding = encoding or "utf-8"
    try:
        head = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4 or len(raw) < _SNIFF_BYTES:
            raise DataError(
                f"{path}: not {encoding} text (bad byte at offset {exc.start}) — re-save it as UTF-8, "
                f"or give the encoding in the audit: {{path: {path.name}, encoding: latin-1}}"
            ) from None
        head = raw[: exc.start].decode(encoding)  # cut mid-character by the sniff window
    except LookupError:
        raise DataError(f"{path}: unknown encoding '{encoding}' — use e.g. utf-8 or latin-1") from None
    if delimiter is None:
        delimiter = _sniff_delimiter(head, path)
    try:
        df = pd.read_csv(path, sep=delimiter, encoding=encoding, low_memory=False)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not {encoding} text (bad byte at offset {exc.start}) — re-save it as UTF-8, "
            f"or give the encoding in the audit: {{path: {path.name}, encoding: latin-1}}"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file has no columns — is it empty?") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: malformed CSV ({_first_line(exc)}) — is it truncated, or a row has extra delimiters?") from None
    if df.shape[1] == 1 and any(d in str(df.columns[0]) for d in (";", "\t", "|")):
        found = next(d for d in (";", "\t", "|") if d in str(df.columns[0]))
        raise DataError(
            f"{path}: every row landed in one column — the file seems to use {found!r} as delimiter; "
            f"give it in the audit: {{path: {path.name}, delimiter: {found!r}}}"
        )
    return df


def _sniff_delimiter(head: str, path: Path) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(head.split("\n", 20)[0] if head else ",", delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_jsonl(path: Path, encoding: str | None) -> pd.DataFrame:
    try:
        return pd.read_json(path, lines=True, encoding=encoding or "utf-8", convert_dates=False)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}) — re-save it as UTF-8") from None
    except ValueError as exc:
        line = _bad_json_line(path)
        where = f" at line {line}" if line else ""
        raise DataError(f"{path}: not valid JSON Lines{where} ({_first_line(exc)}) — one JSON object per line expected") from None


def _bad_json_line(path: Path) -> int | None:
    import json

    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    json.loads(line)
                except ValueError:
                    return number
    return None


def read_sql(url: str, query: str, *, base_dir: Path | str | None = ".", what: str | None = None) -> pd.DataFrame:
    """Run one read-only SELECT on a DuckDB database (``duckdb:///path.db``, or ``duckdb:///``
    for files read with ``read_parquet``/``read_csv``) or a SQLAlchemy URL, and return its rows.

    Inputs: the URL (from :meth:`~sightline.data.spec.Source.sql_url`, which applies the deployment's
    rules), the query, ``base_dir`` the audit's folder (DuckDB may read files there, in the
    database file's folder and under the data roots; nowhere else), ``what`` the source's name
    in messages (default: the URL). Raises :class:`AccessError` when the query is not one
    read-only SELECT or reads outside those folders, :class:`DataError` when it fails otherwise
    or returns no rows. See :mod:`sightline.data.sql_guard` for how each engine is kept read-only.
    """
    what = what or _redacted(url)
    statement = sql_guard.check_read_only_query(query, dialect=sql_guard.sql_dialect(url, what=what), what=what)
    if sql_guard.is_duckdb_url(url):
        import duckdb

        db = sql_connections.duckdb_database(url, what=what)
        folders = sql_connections.readable_folders(base_dir, None if db == ":memory:" else Path(db).parent)
        try:
            with sql_connections.duckdb_connection(db, folders=folders) as con:
                df = con.execute(statement).df()
        except duckdb.Error as exc:
            raise sql_connections.duckdb_failure(exc, what=what) from None
    else:
        try:
            with sql_connections.sqlalchemy_connection(url, what=what) as (sa, conn):
                df = pd.read_sql(sa.text(statement), conn)
        except SightlineInputError:
            raise
        except ModuleNotFoundError as exc:
            raise DataError(f"{what}: the database driver is not installed ({exc.name}) — pip install it") from None
        except Exception as exc:  # SQLAlchemy wraps every driver error differently
            raise DataError(f"{what}: the query failed — {_first_line(exc)}") from None
    if df.shape[0] == 0:
        raise DataError(f"{what}: the query returned no rows")
    return df


def _redacted(url: str) -> str:
    return Source(url=str(url)).describe()  # never show a password


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def file_sha256(path: Path | str) -> str:
    """SHA-256 hex digest of a file's bytes (read in chunks; the file is not changed)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def frame_sha256(df: pd.DataFrame) -> str:
    """SHA-256 of a DataFrame's content (for SQL sources, which have no file to hash)."""
    digest = hashlib.sha256()
    digest.update(",".join(map(str, df.columns)).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return digest.hexdigest()


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """A DataFrame as UTF-8 CSV bytes (for download buttons and exports)."""
    buf = _io.StringIO()
    df.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")
