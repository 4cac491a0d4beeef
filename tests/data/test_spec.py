"""The audit file: reading, validating, writing (sightline/spec.py)."""

from pathlib import Path

import pytest

from sightline.core.errors import SpecError
from sightline.data.spec import load_spec, spec_from_yaml, spec_to_yaml

MINIMAL = """
name: m
task: binary
positive_label: yes
current: log.csv
columns: {target: y, score: p}
"""


def test_sample_spec_reads_every_section(sample_spec):
    assert sample_spec.task == "binary"
    assert sample_spec.positive_label == ">50K"
    assert sample_spec.columns.sensitive == ("sex", "race")
    assert sample_spec.fairness.reference_groups == {"sex": "Male", "race": "White"}
    assert sample_spec.current.resolve(sample_spec.base_dir).exists()
    assert sample_spec.model_path().name == "model.skops"


def test_round_trip_gives_an_equal_spec(sample_spec):
    again = spec_from_yaml(spec_to_yaml(sample_spec), base_dir=sample_spec.base_dir, source_file=sample_spec.source_file)
    assert again == sample_spec


def test_sql_source_round_trips():
    spec = spec_from_yaml(MINIMAL.replace("current: log.csv", 'current: {url: "duckdb:///x.db", query: "select 1"}'))
    assert spec.current.is_sql and spec.current.query == "select 1"
    assert spec_from_yaml(spec_to_yaml(spec)).current == spec.current


@pytest.mark.parametrize("change, words", [
    (("task: binary", "task: ranking"), ["task: ranking", "binary", "multiclass", "regression"]),
    (("current: log.csv", "current: ''"), ["current", "missing"]),
    (("current: log.csv\n", ""), ["current", "missing"]),
    (("name: m", "name: m\ncolums: {}"), ["colums", "did you mean 'columns'"]),
    (("positive_label: yes\n", ""), ["positive_label", "missing"]),
    (("task: binary\npositive_label: yes", "task: regression\npositive_label: yes"), ["positive_label", "only applies"]),
    (("name: m", "name: m\nthreshold: 2"), ["threshold", "between 0 and 1"]),
    (("name: m", "name: m\nfairness: {min_group_size: 0}"), ["min_group_size"]),
    (("columns: {target: y, score: p}", "columns: {target: y, scores: p}"), ["scores", "did you mean 'score'"]),
    (("current: log.csv", "current: {url: 'duckdb:///x.db'}"), ["query", "missing"]),
    (("name: m", "name: m\ncard: {overveiw: x}"), ["overveiw", "overview"]),
    (("name: m", "name: m\ngates: {min_auc: 0.8}"), ["min_auc", "min_roc_auc"]),
])
def test_each_mistake_names_the_key_and_the_fix(change, words):
    text = MINIMAL.replace(*change)
    with pytest.raises(SpecError) as err:
        spec_from_yaml(text)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)


def test_invalid_yaml_names_the_line():
    with pytest.raises(SpecError, match=r"line 3"):
        spec_from_yaml("name: m\ntask: binary\ncurrent: a: b\n")


def test_unreadable_paths(tmp_path: Path):
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "missing.yaml")
    with pytest.raises(SpecError, match="folder"):
        load_spec(tmp_path)
    empty = tmp_path / "audit.yaml"
    empty.write_text("")
    with pytest.raises(SpecError, match="empty"):
        load_spec(empty)
    binary = tmp_path / "latin.yaml"
    binary.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="UTF-8"):
        load_spec(binary)


def test_relative_paths_start_at_the_audit_file(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    audit = tmp_path / "sub" / "audit.yaml"
    audit.write_text(MINIMAL)
    spec = load_spec(audit)
    assert spec.current.resolve(spec.base_dir) == (tmp_path / "sub" / "log.csv").resolve()
