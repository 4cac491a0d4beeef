"""SQL sources only read: one SELECT, checked by parsing, on connections that
cannot write files, install or load extensions, change settings or read outside their folders.

Every attack asserts both that it was refused with a message naming what was refused and
that it had no effect: the file it would write is absent, the table it would create is absent.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from sightline.core.errors import AccessError, DataError, SightlineInputError
from sightline.data import aggregates as A
from sightline.data import query as Q
from sightline.data.io import read_source, read_sql
from sightline.data.spec import Source
from sightline.data.sql_guard import check_read_only_query

ROOT = Path(__file__).resolve().parents[2]
FRAME = pd.DataFrame({"id": [1, 2, 3, 4], "score": [0.1, 0.7, 0.4, 0.9], "label": ["no", "yes", "no", "yes"],
                      "predicted": ["no", "yes", "yes", "yes"]})


@pytest.fixture(autouse=True)
def _local_without_secrets(monkeypatch, tmp_path):
    """Every test starts in local mode with an empty secrets file, whatever the machine has."""
    for name in ("SIGHTLINE_MODE", "SIGHTLINE_DATA_ROOTS"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "no-secrets.toml"
    empty.write_text("")
    monkeypatch.setenv("SIGHTLINE_SECRETS", str(empty))


@pytest.fixture
def duck(tmp_path) -> Path:
    """A DuckDB file with a ``preds`` table, in its own folder."""
    folder = tmp_path / "db"
    folder.mkdir()
    db = folder / "logs.db"
    with duckdb.connect(str(db)) as con:
        con.register("f", FRAME)
        con.execute("CREATE TABLE preds AS SELECT * FROM f")
    return db


@pytest.fixture
def lite(tmp_path) -> Path:
    db = tmp_path / "logs.sqlite"
    with sqlite3.connect(db) as con:
        FRAME.to_sql("preds", con, index=False)
    con.close()
    return db


def _tables(db: Path) -> set[str]:
    if db.suffix == ".sqlite":
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    with duckdb.connect(str(db), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


# ----------------------------------------------------------------------------- the attacks
def _duckdb_payloads(tmp_path: Path) -> list[tuple[str, str, Path | None]]:
    """(query, word the refusal must name, file that must never appear)."""
    out = tmp_path / "db" / "stolen.csv"  # inside the readable folder: only the check stops it
    attached = tmp_path / "db" / "evil.db"
    export = tmp_path / "db" / "export"
    return [
        (f"COPY (SELECT * FROM preds) TO '{out}'", "COPY", out),
        (f"ATTACH '{attached}' AS evil; CREATE TABLE evil.t AS SELECT 1", "2 statements", attached),
        (f"ATTACH '{attached}' AS evil", "ATTACH", attached),
        ("CREATE TABLE owned AS SELECT 1 AS a", "CREATE TABLE", None),
        ("INSTALL httpfs", "INSTALL", None),
        ("LOAD httpfs", "LOAD", None),
        ("SET enable_external_access = true", "SET", None),
        ("SELECT 1; SELECT 2", "2 statements", None),
        ("PRAGMA version", "PRAGMA", None),
        ("CALL pragma_version()", "CALL", None),
        (f"EXPORT DATABASE '{export}'", "EXPORT", export),
        ("SELECT 1 AS a INTO owned", "SELECT … INTO", None),
        ("WITH d AS (DELETE FROM preds RETURNING *) SELECT * FROM d", "DELETE", None),
        (f"SELECT * FROM query('COPY preds TO ''{out}''')", "query()", out),
    ]


def test_duckdb_payloads_are_refused_and_write_nothing(tmp_path, duck):
    before = _tables(duck)
    for payload, word, marker in _duckdb_payloads(tmp_path):
        with pytest.raises(AccessError) as err:
            read_sql(f"duckdb:///{duck}", payload)
        assert word in str(err.value), (payload, str(err.value))
        if marker is not None:
            assert not marker.exists(), payload
    assert _tables(duck) == before == {"preds"}


@pytest.mark.parametrize("payload, path", [
    ("SELECT * FROM read_csv('/etc/passwd', sep = ':')", "/etc/passwd"),
    ("SELECT * FROM read_text('/etc/hostname')", "/etc/hostname"),
    ("SELECT * FROM glob('/*')", "/*"),
    ("SELECT * FROM read_blob('/proc/self/environ')", "/proc/self/environ"),
    ("SELECT * FROM read_text('https://example.com/')", "https://example.com/"),
])
def test_duckdb_reads_nothing_outside_its_folders(tmp_path, duck, payload, path):
    with pytest.raises(AccessError) as err:
        read_sql(f"duckdb:///{duck}", payload)
    assert path in str(err.value) and "outside the folders" in str(err.value)


def test_a_file_next_to_the_audit_folder_is_out_of_reach(tmp_path, duck):
    """``allowed_directories`` matches prefixes: ``/x/db`` must not let ``/x/db2`` through."""
    sibling = tmp_path / "db2"
    sibling.mkdir()
    (sibling / "secret.csv").write_text("a\n1\n")
    with pytest.raises(AccessError, match="secret.csv"):
        read_sql(f"duckdb:///{duck}", f"SELECT * FROM read_csv('{sibling / 'secret.csv'}')", base_dir=None)


def test_duckdb_payloads_are_refused_by_the_connection_too(tmp_path):
    """Layer 2 alone (the check bypassed): a hardened connection writes no file outside, loads
    no extension and keeps its settings."""
    from sightline.data.sql_connections import duckdb_connection, readable_folders

    folder = tmp_path / "audit"
    folder.mkdir()
    outside = tmp_path / "outside.csv"
    with duckdb_connection(folders=readable_folders(folder)) as con:
        for payload in (f"COPY (SELECT 1) TO '{outside}'", f"ATTACH '{tmp_path / 'e.db'}'", "INSTALL httpfs",
                        "LOAD httpfs", "SET enable_external_access = true", "SET lock_configuration = false",
                        "SELECT * FROM read_text('/etc/hostname')"):
            with pytest.raises(duckdb.Error):
                con.execute(payload)
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone()[0] is False
    assert not outside.exists() and not (tmp_path / "e.db").exists()


def test_sqlite_payloads_are_refused_and_change_nothing(tmp_path, lite):
    evil = tmp_path / "evil.db"
    for payload, word in [(f"ATTACH '{evil}' AS e", "ATTACH"), ("CREATE TABLE owned (a)", "CREATE TABLE"),
                          (f"ATTACH '{evil}' AS e; CREATE TABLE e.t (a)", "2 statements"),
                          ("INSERT INTO preds (id) VALUES (9)", "INSERT"), ("PRAGMA query_only = 0", "PRAGMA"),
                          (f"VACUUM INTO '{evil}'", "VACUUM"), ("SELECT load_extension('x')", "load_extension")]:
        with pytest.raises(AccessError) as err:
            read_sql(f"sqlite:///{lite}", payload)
        assert word in str(err.value), (payload, str(err.value))
    assert not evil.exists()
    assert _tables(lite) == {"preds"}
    assert len(read_sql(f"sqlite:///{lite}", "SELECT * FROM preds")) == len(FRAME)


def test_sqlite_connection_refuses_writes_even_without_the_check(tmp_path, lite):
    from sightline.data.sql_connections import sqlalchemy_connection

    evil = tmp_path / "evil.db"
    with sqlalchemy_connection(f"sqlite:///{lite}") as (sa, conn):
        for payload in (f"ATTACH '{evil}' AS e", "CREATE TABLE owned (a)", "INSERT INTO preds (id) VALUES (9)",
                        "PRAGMA query_only = 0"):
            with pytest.raises(sa.exc.DBAPIError):
                conn.exec_driver_sql(payload)
    assert not evil.exists() and _tables(lite) == {"preds"}


def test_a_missing_sqlite_file_is_named_and_never_created(tmp_path):
    missing = tmp_path / "evil.db"
    with pytest.raises(DataError, match="evil.db.*not found"):
        read_sql(f"sqlite:///{missing}", "SELECT 1")
    with pytest.raises(DataError, match="not found"):
        Q.run(Q.Table.sql(f"sqlite:///{missing}", "SELECT 1 AS a"), "SELECT * FROM (SELECT 1) AS s")
    assert not missing.exists()


def test_a_missing_duckdb_file_is_never_created(tmp_path):
    missing = tmp_path / "new.db"
    with pytest.raises(DataError, match="not found"):
        read_sql(f"duckdb:///{missing}", "SELECT 1")
    with pytest.raises(DataError, match="not found"):
        Q.Table.sql(f"duckdb:///{missing}", "SELECT 1")
    assert not missing.exists()


def test_payloads_through_the_query_layer(tmp_path, duck, lite):
    out = tmp_path / "db" / "stolen.csv"
    for url in (f"duckdb:///{duck}", f"sqlite:///{lite}"):
        for payload in (f"COPY preds TO '{out}'", "SELECT 1; SELECT 2", "CREATE TABLE owned AS SELECT 1 AS a"):
            with pytest.raises(AccessError):
                Q.Table.sql(url, payload)
    # The source's query sits inside the layer's own SQL: that whole text is checked again, so
    # closing the parenthesis early cannot smuggle in a second statement.
    table = Q.Table(relation=f"preds) AS t; COPY preds TO '{out}'; SELECT * FROM (SELECT 1",
                    url=f"duckdb:///{duck}", folders=(str(duck.parent),))
    with pytest.raises(AccessError, match="3 statements"):
        A.row_counts(table)
    with pytest.raises(AccessError, match="/etc/passwd"):
        A.row_counts(Q.Table.sql("duckdb:///", "SELECT * FROM read_csv('/etc/passwd')"))
    assert not out.exists() and _tables(duck) == {"preds"} and _tables(lite) == {"preds"}


def test_a_trailing_comment_cannot_swallow_the_layer_sql(duck):
    table = Q.Table.sql(f"duckdb:///{duck}", "SELECT * FROM preds -- the log")
    assert int(A.row_counts(table)["rows"].sum()) == len(FRAME)


@pytest.mark.parametrize("query, dialect, word", [
    ("SELECT 1 INTO t", "postgres", "SELECT … INTO"),
    ("SELECT * FROM t FOR UPDATE", "postgres", "FOR UPDATE"),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "postgres", "DELETE"),
    ("SELECT pg_read_file('/etc/passwd')", "postgres", "pg_read_file"),
    ("SELECT set_config('default_transaction_read_only', 'off', false)", "postgres", "set_config"),
    ("COPY t TO '/tmp/x'", "postgres", "COPY"),
    ("SELECT 1; DROP TABLE t", "postgres", "2 statements"),
    ("SET search_path = x", "postgres", "SET"),
    ("SELECT * FROM t INTO OUTFILE '/tmp/x'", "mysql", "does not parse"),
    ("SELECT TOP 5 * INTO #t FROM x", "tsql", "SELECT … INTO"),
])
def test_other_dialects_are_parsed_not_matched(query, dialect, word):
    with pytest.raises(SightlineInputError) as err:
        check_read_only_query(query, dialect=dialect)
    assert word in str(err.value)


def test_what_runs_on_other_engines_is_what_was_checked():
    """sqlglot writes the query back from its tree without comments: text hidden behind a
    comment the engine might read differently never reaches it."""
    assert check_read_only_query("select 1 -- */ ; drop table t", dialect="sqlite") == "SELECT 1"
    assert check_read_only_query("  SELECT a FROM t;  ", dialect="postgres") == "SELECT a FROM t"


def test_a_query_that_does_not_parse_gets_the_parsers_message():
    with pytest.raises(DataError, match="does not parse.*selec"):
        check_read_only_query("selec 1", dialect="duckdb")
    with pytest.raises(DataError, match="empty"):
        check_read_only_query(" ; ", dialect="duckdb")


# ----------------------------------------------------------------------------- what still works
def test_select_and_with_on_a_duckdb_file(duck):
    got = read_sql(f"duckdb:///{duck}", "WITH p AS (SELECT * FROM preds) SELECT id, score FROM p ORDER BY id;")
    assert got["id"].tolist() == [1, 2, 3, 4] and got["score"].tolist() == FRAME["score"].tolist()
    union = read_sql(f"duckdb:///{duck}", "SELECT id FROM preds WHERE id < 2 UNION ALL SELECT id FROM preds WHERE id > 3")
    assert sorted(union["id"]) == [1, 4]


def test_files_in_the_audit_folder_through_duckdb(tmp_path):
    folder = tmp_path / "audit"
    folder.mkdir()
    FRAME.to_parquet(folder / "log.parquet")
    FRAME.to_csv(folder / "log.csv", index=False)
    FRAME.to_json(folder / "log.jsonl", orient="records", lines=True)
    for reader, name in (("read_parquet", "log.parquet"), ("read_csv", "log.csv"), ("read_json_auto", "log.jsonl")):
        got = read_sql("duckdb:///", f"SELECT * FROM {reader}('{folder / name}') ORDER BY id", base_dir=folder)
        assert got["id"].tolist() == FRAME["id"].tolist() and got["score"].tolist() == FRAME["score"].tolist(), reader
    # the query layer reads the same files and registers in-memory frames under the same settings
    for table in (Q.Table.parquet(folder / "log.parquet"), Q.Table.file(folder / "log.csv"),
                  Q.Table.file(folder / "log.jsonl"), Q.Table.frame_of(FRAME)):
        counts = A.confusion_counts(table, target="label", positive_label="yes", prediction="predicted")
        assert counts[["tp", "fp", "tn", "fn"]].iloc[0].tolist() == [2, 1, 1, 0]  # counted by hand


def test_a_data_root_is_readable_and_the_rest_is_not(tmp_path, monkeypatch):
    root = tmp_path / "srv"
    root.mkdir()
    FRAME.to_parquet(root / "log.parquet")
    query = f"SELECT * FROM read_parquet('{root / 'log.parquet'}')"
    with pytest.raises(AccessError, match="outside the folders"):
        read_sql("duckdb:///", query, base_dir=tmp_path / "elsewhere")
    monkeypatch.setenv("SIGHTLINE_DATA_ROOTS", str(root))
    assert len(read_sql("duckdb:///", query, base_dir=tmp_path / "elsewhere")) == len(FRAME)


def test_select_on_a_sqlite_file(lite):
    got = read_source(Source(url=f"sqlite:///{lite}", query="SELECT * FROM preds WHERE score > 0.5 ORDER BY id"))
    assert got["id"].tolist() == [2, 4]


def _secrets(tmp_path, monkeypatch, **connections) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text("".join(f'[connections.{name}]\nurl = "{url}"\n\n' for name, url in connections.items()))
    monkeypatch.setenv("SIGHTLINE_SECRETS", str(path))


@pytest.mark.parametrize("mode", ["local", "shared"])
def test_a_named_connection_in_either_mode(tmp_path, monkeypatch, duck, lite, mode):
    _secrets(tmp_path, monkeypatch, logs=f"duckdb:///{duck}", lite=f"sqlite:///{lite}")
    monkeypatch.setenv("SIGHTLINE_MODE", mode)
    for name in ("logs", "lite"):
        source = Source(connection=name, query="SELECT * FROM preds ORDER BY id")
        assert read_source(source, tmp_path)["id"].tolist() == [1, 2, 3, 4]
        assert int(A.row_counts(Q.Table.from_source(source, tmp_path))["rows"].sum()) == 4
    with pytest.raises(AccessError, match="COPY"):
        read_source(Source(connection="logs", query=f"COPY preds TO '{tmp_path / 'x.csv'}'"), tmp_path)
    assert not (tmp_path / "x.csv").exists()


def test_a_raw_url_is_refused_on_a_shared_server(tmp_path, monkeypatch, duck):
    from sightline.data.scale import source_rows

    _secrets(tmp_path, monkeypatch, logs=f"duckdb:///{duck}")
    monkeypatch.setenv("SIGHTLINE_MODE", "shared")
    raw = Source(url=f"duckdb:///{duck}", query="SELECT * FROM preds")
    for attempt in (lambda: read_source(raw, tmp_path), lambda: Q.Table.from_source(raw, tmp_path),
                    lambda: source_rows(raw, tmp_path)):
        with pytest.raises(AccessError, match="connection: NAME"):
            attempt()
    with pytest.raises(AccessError, match="no connection named 'nope'"):
        read_source(Source(connection="nope", query="SELECT 1"), tmp_path)


# ----------------------------------------------------------------------------- the command line
def _audit(folder: Path, source: dict) -> Path:
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump({
        "name": "sql attack", "task": "binary", "positive_label": "yes", "current": source,
        "columns": {"target": "label", "prediction": "predicted", "score": "score", "id": "id"}}))
    return path


def _validate(audit: Path, **env) -> subprocess.CompletedProcess:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("SIGHTLINE_")}
    environ.update({"SIGHTLINE_SECRETS": str(audit.parent / "no-secrets.toml"), **env})
    return subprocess.run([sys.executable, "-m", "sightline", "validate", str(audit)], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=600)


def test_cli_refuses_each_payload_with_one_line(tmp_path, duck, lite):
    out = tmp_path / "db" / "stolen.csv"
    cases = [
        ({"url": f"duckdb:///{duck}", "query": f"COPY preds TO '{out}'"}, "COPY"),
        ({"url": f"duckdb:///{duck}", "query": "SELECT * FROM read_csv('/etc/passwd', sep = ':')"}, "/etc/passwd"),
        ({"url": f"duckdb:///{duck}", "query": "INSTALL httpfs"}, "INSTALL"),
        ({"url": f"sqlite:///{lite}", "query": "CREATE TABLE owned AS SELECT 1 AS a"}, "CREATE TABLE"),
        ({"url": f"sqlite:///{tmp_path / 'evil.db'}", "query": "SELECT 1"}, "not found"),
    ]
    for source, word in cases:
        result = _validate(_audit(tmp_path, source))
        assert result.returncode == 2, (source, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and word in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert not out.exists() and not (tmp_path / "evil.db").exists()
    assert _tables(duck) == {"preds"} and _tables(lite) == {"preds"}
    ok = _validate(_audit(tmp_path, {"url": f"duckdb:///{duck}", "query": "SELECT * FROM preds"}))
    assert ok.returncode == 0, ok.stderr
    shared = _validate(_audit(tmp_path, {"url": f"duckdb:///{duck}", "query": "SELECT * FROM preds"}),
                       SIGHTLINE_MODE="shared")
    assert shared.returncode == 2 and "connection: NAME" in shared.stderr and "Traceback" not in shared.stderr


# Needs a PostgreSQL server, which CI does not run: the test exists only when
# SIGHTLINE_TEST_POSTGRES_URL names a scratch database (CI fails on a skipped test, so it is
# not defined at all otherwise). Checked by hand against PostgreSQL 15.
if os.environ.get("SIGHTLINE_TEST_POSTGRES_URL"):
    def test_postgres_runs_queries_in_a_read_only_transaction():
        from sightline.data.sql_connections import sqlalchemy_connection

        url = os.environ["SIGHTLINE_TEST_POSTGRES_URL"]
        with sqlalchemy_connection(url) as (sa, conn):
            with pytest.raises(sa.exc.DBAPIError, match="read-only transaction"):
                conn.exec_driver_sql("CREATE TABLE sightline_owned (a int)")
        with pytest.raises(AccessError, match="CREATE TABLE"):
            read_sql(url, "CREATE TABLE sightline_owned (a int)")
        assert read_sql(url, "SELECT 1 AS a")["a"].tolist() == [1]


def test_a_shared_server_does_not_open_its_working_folder_to_queries(tmp_path, monkeypatch):
    """The Data page passes the server's working folder as the audit folder; on a shared server
    a visitor's query must not read it (it holds .streamlit/secrets.toml)."""
    app = tmp_path / "app"
    (app / ".streamlit").mkdir(parents=True)
    secret = app / ".streamlit" / "secrets.toml"
    secret.write_text('[connections.mem]\nurl = "duckdb:///"\n')
    monkeypatch.setenv("SIGHTLINE_SECRETS", str(secret))
    steal = Source(connection="mem", query=f"SELECT * FROM read_text('{secret}')")
    assert "connections" in read_source(steal, app)["content"][0]  # local mode: the owner's own folder
    monkeypatch.setenv("SIGHTLINE_MODE", "shared")
    monkeypatch.setenv("SIGHTLINE_DATA_ROOTS", str(tmp_path / "srv"))
    with pytest.raises(AccessError, match="secrets.toml"):
        read_source(steal, app)
