"""The command line contract: outputs and exit statuses (DESIGN.md, "The command line")."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "sightline", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    result = run_cli("report", ROOT / "sample_data" / "audit.yaml", "--out", out)
    return result, out


def test_report_on_the_sample_exits_0_and_writes_report_json(sample_report, sample_audit):
    result, out = sample_report
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["current_rows"] == len(sample_audit.current)
    assert report["data"]["labelled_rows"] == int(sample_audit.primary["income"].notna().sum())
    assert set(report["verdicts"]) >= {"performance", "calibration", "fairness", "drift", "operations", "explainability"}
    shas = {i["role"]: i["sha256"] for i in report["data"]["inputs"]}
    import hashlib

    assert shas["current"] == hashlib.sha256((ROOT / "sample_data" / "predictions.parquet").read_bytes()).hexdigest()


def test_validate_on_the_sample_exits_0():
    result = run_cli("validate", ROOT / "sample_data" / "audit.yaml")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


@pytest.fixture()
def small_audit(tmp_path, sample_spec):
    """A copy of the sample with a 400-row CSV log, so each bad-input run is quick."""
    log = pd.read_parquet(sample_spec.base_dir / "predictions.parquet").head(400)
    log.to_csv(tmp_path / "log.csv", index=False)
    shutil.copy(sample_spec.base_dir / "reference.parquet", tmp_path / "reference.parquet")
    shutil.copy(sample_spec.base_dir / "model.skops", tmp_path / "model.skops")
    data = yaml.safe_load((sample_spec.base_dir / "audit.yaml").read_text())
    data["current"] = "log.csv"
    return tmp_path, data, log


def _write(folder, data, name="audit.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _bad_input(result, *words):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_validate_small_copy_is_clean(small_audit):
    folder, data, _ = small_audit
    result = run_cli("validate", _write(folder, data))
    assert result.returncode == 0, result.stderr


def test_missing_audit_file(tmp_path):
    _bad_input(run_cli("report", tmp_path / "nope.yaml", "--out", tmp_path / "o"), "nope.yaml", "not found")


def test_unknown_task(small_audit):
    folder, data, _ = small_audit
    _bad_input(run_cli("report", _write(folder, {**data, "task": "ranking"}), "--out", folder / "o"), "ranking")


def test_a_mapped_column_that_does_not_exist(small_audit):
    folder, data, _ = small_audit
    data["columns"]["score"] = "proba"
    _bad_input(run_cli("report", _write(folder, data), "--out", folder / "o"), "'proba'", "columns.score")


def test_scores_outside_unit_interval(small_audit):
    folder, data, log = small_audit
    log.loc[7, "score"] = 3.5
    log.to_csv(folder / "log.csv", index=False)
    _bad_input(run_cli("report", _write(folder, data), "--out", folder / "o"), "score", "outside [0, 1]")


def test_labels_not_matching_positive_label(small_audit):
    folder, data, _ = small_audit
    _bad_input(run_cli("report", _write(folder, {**data, "positive_label": "rich"}), "--out", folder / "o"), "'rich'")


@pytest.mark.parametrize("content, source, words", [
    (b"", "log.csv", ["log.csv", "empty"]),
    # the audit says comma, the file uses semicolons (without the setting, the delimiter is sniffed)
    ("age;income\n1;2\n".encode(), {"path": "log.csv", "delimiter": ","}, ["log.csv", "delimiter", "';'"]),
    ("age,city\n1,Z\xfcrich\n".encode("latin-1"), "log.csv", ["log.csv", "encoding"]),
])
def test_bad_log_files(small_audit, content, source, words):
    folder, data, _ = small_audit
    data["current"] = source
    (folder / "log.csv").write_bytes(content)
    _bad_input(run_cli("report", _write(folder, data), "--out", folder / "o"), *words)


def test_truncated_parquet(small_audit):
    folder, data, _ = small_audit
    blob = (folder / "reference.parquet").read_bytes()
    (folder / "reference.parquet").write_bytes(blob[: len(blob) // 3])
    _bad_input(run_cli("validate", _write(folder, data)), "reference.parquet", "Parquet")


def test_a_model_file_that_is_not_a_model(small_audit):
    folder, data, _ = small_audit
    (folder / "model.skops").write_text("hello")
    _bad_input(run_cli("report", _write(folder, data), "--out", folder / "o"), "model.skops", "skops")


def test_bad_yaml(small_audit):
    folder, _, _ = small_audit
    path = folder / "broken.yaml"
    path.write_text("name: x\ncurrent: a: b\n")
    _bad_input(run_cli("validate", path), "broken.yaml", "line 2")


def test_the_user_files_are_never_modified(small_audit):
    from sightline.data.io import file_sha256

    folder, data, _ = small_audit
    path = _write(folder, data)
    before = {p.name: file_sha256(p) for p in folder.iterdir()}
    run_cli("validate", path)
    assert {p.name: file_sha256(p) for p in folder.iterdir() if p.name in before} == before


def _without_timings(doc):
    """The report minus what legitimately differs between two runs: clock readings, and the last
    bits of floats — evidently's Jensen–Shannon and chi-square sum over a Python set of category
    values, whose order (and so the rounding) follows each process's string-hash seed."""
    if isinstance(doc, dict):
        return {k: _without_timings(v) for k, v in doc.items()
                if k not in ("generated_at", "seconds", "rows_per_second") and not k.endswith("_seconds")}
    if isinstance(doc, list):
        return [_without_timings(v) for v in doc]
    if isinstance(doc, float):
        return pytest.approx(doc, rel=1e-9, abs=1e-12)
    return doc


def test_areas_computed_in_parallel_equal_areas_computed_one_by_one(sample_report, sample_audit):
    """The CLI computes areas in threads (one per core); the numbers are those of a sequential run."""
    from sightline.report.registry import build_report, report_json

    result, out = sample_report
    assert result.returncode == 0, result.stderr
    parallel = json.loads((out / "report.json").read_text())
    sequential = json.loads(report_json(build_report(sample_audit, workers=1)))
    assert _without_timings(parallel) == _without_timings(sequential)
