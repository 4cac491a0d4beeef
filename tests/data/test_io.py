"""Loading tables from files and SQL, and what happens with bad files (sightline/io.py)."""

import pandas as pd
import pytest

from sightline.core.errors import DataError
from sightline.data.io import file_sha256, read_file, read_source, read_sql
from sightline.data.roles import suggest_roles, suggest_sensitive, suggest_task
from sightline.data.spec import Source

FRAME = pd.DataFrame({"id": ["a", "b", "c"], "x": [1.5, 2.0, None], "city": ["Zürich", "Paris", "Oslo"],
                      "y": [1, 0, 1], "p": [0.9, 0.2, 0.7]})


def _same(a: pd.DataFrame, b: pd.DataFrame):
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_csv_parquet_jsonl_give_the_same_table(tmp_path):
    FRAME.to_csv(tmp_path / "t.csv", index=False)
    FRAME.to_parquet(tmp_path / "t.parquet")
    FRAME.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    for name in ("t.csv", "t.parquet", "t.jsonl"):
        _same(read_file(tmp_path / name), FRAME)


def test_semicolon_and_tab_delimiters_are_detected(tmp_path):
    FRAME.to_csv(tmp_path / "semi.csv", sep=";", index=False)
    FRAME.to_csv(tmp_path / "tab.tsv", sep="\t", index=False)
    _same(read_file(tmp_path / "semi.csv"), FRAME)
    _same(read_file(tmp_path / "tab.tsv"), FRAME)


def test_wrong_delimiter_says_which_one_to_use(tmp_path):
    FRAME.to_csv(tmp_path / "semi.csv", sep=";", index=False)
    with pytest.raises(DataError, match="delimiter"):
        read_file(tmp_path / "semi.csv", delimiter=",")


def test_wrong_encoding_names_the_fix_and_the_fix_works(tmp_path):
    path = tmp_path / "latin.csv"
    FRAME.to_csv(path, index=False, encoding="latin-1")
    with pytest.raises(DataError, match="encoding"):
        read_file(path)
    _same(read_file(path, encoding="latin-1"), FRAME)


@pytest.mark.parametrize("name, content, words", [
    ("empty.csv", b"", "empty"),
    ("header.csv", b"a,b\n", "no rows"),
    ("bad.parquet", b"PAR1 this is not parquet", "Parquet"),
    ("bad.jsonl", b'{"a": 1}\n{"a": 2\n', "line 2"),
    ("model.pkl", b"\x80\x04", "pickle"),
    ("data.xlsx", b"PK", "unknown file type"),
])
def test_bad_files_get_one_clear_message(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_file(path)
    assert words in str(err.value) and name in str(err.value)


def test_truncated_parquet_is_reported(tmp_path):
    path = tmp_path / "t.parquet"
    FRAME.to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated"):
        read_file(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_file(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="folder"):
        read_file(tmp_path)


def test_duckdb_source_reads_a_query_read_only(tmp_path):
    import duckdb

    db = tmp_path / "logs.db"
    con = duckdb.connect(str(db))
    con.register("f", FRAME)
    con.execute("create table preds as select * from f")
    con.close()
    before = file_sha256(db)
    got = read_source(Source(url=f"duckdb:///{db}", query="select * from preds order by id"))
    _same(got, FRAME)
    assert file_sha256(db) == before
    with pytest.raises(DataError, match="query failed"):
        read_sql(f"duckdb:///{db}", "select * from no_such_table")
    with pytest.raises(DataError, match="not found"):
        read_sql(f"duckdb:///{tmp_path / 'missing.db'}", "select 1")


def test_other_sqlalchemy_urls_work_where_the_driver_exists(tmp_path):
    import sqlite3

    db = tmp_path / "logs.sqlite"
    with sqlite3.connect(db) as con:
        FRAME.to_sql("preds", con, index=False)
    got = read_sql(f"sqlite:///{db}", "select * from preds order by id")
    _same(got, FRAME)
    with pytest.raises(DataError, match="driver is not installed|query failed"):
        read_sql("postgresql+nosuchdriver://u@localhost/db", "select 1")


def test_role_suggestions_on_the_sample(sample_audit):
    roles = suggest_roles(sample_audit.current)
    assert roles["score"] == "score"
    assert roles["timestamp"] == "ts"
    assert roles["prediction"] == "predicted"
    assert roles["model_version"] == "model_version"
    assert roles["latency_ms"] == "latency_ms"
    assert roles["id"] == "request_id"
    assert roles["target"] == "income"
    assert suggest_sensitive(list(sample_audit.current.columns)) == ["race", "sex"]
    assert suggest_task(sample_audit.current["income"], True) == "binary"


def test_score_is_found_by_content_when_the_name_is_unusual():
    df = pd.DataFrame({"risk": [0.1, 0.5, 0.93], "when": ["2024-01-01", "2024-01-02", "2024-01-03"], "n": [1, 2, 3]})
    roles = suggest_roles(df)
    assert roles["score"] == "risk" and roles["timestamp"] == "when"


def test_parquet_log_is_read_column_selectively(tmp_path):
    """A Parquet log is read with the columns the audit uses (roles, features, sensitive,
    shap_* values, columns the reference also has) and nothing else; the input's column count
    is still the file's, and its fingerprint the file's SHA-256."""
    import numpy as np

    from sightline.data.audit import load_audit
    from sightline.data.io import parquet_columns
    from sightline.data.spec import spec_from_dict

    rng = np.random.default_rng(0)
    n = 200
    log = pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n), "sex": rng.choice(["f", "m"], n),
                        "y": rng.integers(0, 2, n), "p": rng.random(n), "shap_x": rng.normal(size=n),
                        "debug_blob": ["unused"] * n, "ref_only_here": rng.random(n)})
    log.to_parquet(tmp_path / "log.parquet")
    log[["x", "sex", "y", "ref_only_here"]].to_parquet(tmp_path / "ref.parquet")
    columns = {"target": "y", "score": "p", "id": "id", "features": ["x"], "sensitive": ["sex"]}
    base = {"name": "t", "task": "binary", "positive_label": 1, "current": "log.parquet", "columns": columns}
    audit = load_audit(spec_from_dict({**base, "reference": "ref.parquet"}, base_dir=tmp_path))
    assert list(audit.current.columns) == ["id", "x", "sex", "y", "p", "shap_x", "ref_only_here"]
    info = audit.input_file("current")
    assert info.columns == 8 == len(parquet_columns(tmp_path / "log.parquet"))
    assert info.sha256 == file_sha256(tmp_path / "log.parquet")
    pd.testing.assert_frame_equal(audit.current, log.drop(columns="debug_blob"))
    # Without a feature list every unnamed column is a feature: the whole file is read.
    everything = load_audit(spec_from_dict({**base, "columns": {k: v for k, v in columns.items() if k != "features"}},
                                           base_dir=tmp_path))
    assert list(everything.current.columns) == list(log.columns)
    # A mapped column missing from the file: read everything, so the error lists every column.
    with pytest.raises(DataError, match="debug_blob"):
        load_audit(spec_from_dict({**base, "columns": {**columns, "prediction": "nope"}}, base_dir=tmp_path))
    assert parquet_columns(tmp_path / "missing.parquet") is None
