"""Bad input in the data (sightline/validation.py, sightline/audit.py, sightline/model.py)."""

import shutil

import numpy as np
import pandas as pd
import pytest

from sightline.core.errors import DataError, ModelError
from sightline.data.audit import load_audit
from sightline.data.io import file_sha256
from sightline.data.model import load_model
from sightline.data.spec import spec_from_dict
from sightline.data.validation import ERROR, INFO, WARNING, labels_equal, validate_inputs


def _log(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(size=n), "g": rng.choice(["a", "b"], size=n), "y": rng.choice(["no", "yes"], size=n),
        "p": rng.uniform(size=n), "pred": rng.choice(["no", "yes"], size=n),
    })


def _spec(**columns):
    cols = {"target": "y", "score": "p", "prediction": "pred", "sensitive": ["g"], **columns}
    return spec_from_dict({"name": "t", "task": "binary", "positive_label": "yes", "current": "log.csv", "columns": cols})


def _levels(findings, level):
    return [f for f in findings if f.level == level]


def test_clean_data_has_no_errors():
    assert not _levels(validate_inputs(_spec(), _log(), _log(seed=1)), ERROR)


def test_a_mapped_column_that_does_not_exist_is_named():
    errors = _levels(validate_inputs(_spec(score="proba"), _log(), None), ERROR)
    assert any("'proba'" in f.message and f.subject == "columns.score" for f in errors)


def test_scores_outside_unit_interval_or_not_numbers():
    log = _log()
    log.loc[3, "p"] = 1.7
    (err,) = _levels(validate_inputs(_spec(), log, None), ERROR)
    assert "outside [0, 1]" in err.message and "1.7" in err.message
    log["p"] = log["p"].astype(object)
    log.loc[5, "p"] = "n/a"
    (err,) = _levels(validate_inputs(_spec(), log, None), ERROR)
    assert "non-numeric" in err.message and "'n/a'" in err.message


def test_labels_not_matching_positive_label():
    log = _log()
    log["y"] = log["y"].map({"no": 0, "yes": 1})
    errors = _levels(validate_inputs(_spec(), log, None), ERROR)
    assert any(f.subject == "positive_label" and "'yes'" in f.message for f in errors)


def test_numeric_labels_compare_as_numbers():
    assert labels_equal(pd.Series([1.0, 0.0, np.nan]), 1).tolist() == [True, False, False]
    assert labels_equal(pd.Series(["1", " yes", None]), "yes").tolist() == [False, True, False]


def test_all_nan_feature_is_a_warning_not_an_error():
    log = _log()
    log["x"] = np.nan
    findings = validate_inputs(_spec(), log, None)
    assert not _levels(findings, ERROR)
    assert any("'x'" in f.subject and "missing" in f.message for f in _levels(findings, WARNING))


def test_a_group_with_one_row_is_noted():
    log = _log()
    log.loc[0, "g"] = "lonely"
    assert any("lonely" in f.message for f in _levels(validate_inputs(_spec(), log, None), INFO))


def test_a_class_production_never_saw_in_reference():
    log, ref = _log(), _log(seed=1)
    log.loc[0, "y"] = "maybe"
    ref_findings = validate_inputs(spec_from_dict({"name": "t", "task": "multiclass", "current": "l.csv",
                                                   "columns": {"target": "y", "prediction": "pred"}}), log, ref)
    assert any("label-schema change" in f.message and "'maybe'" in f.message for f in ref_findings)


def test_mismatched_feature_sets_between_current_and_reference():
    findings = validate_inputs(_spec(), _log(), _log(seed=1).drop(columns=["x"]))
    assert any(f.subject == "reference" and "x" in f.message for f in _levels(findings, WARNING))


def test_neither_prediction_nor_score():
    spec = spec_from_dict({"name": "t", "task": "binary", "positive_label": "yes", "current": "l.csv", "columns": {"target": "y"}})
    assert _levels(validate_inputs(spec, _log()[["x", "y"]], None), ERROR)


def _copy_sample(tmp_path, sample_spec):
    for name in ("predictions.parquet", "reference.parquet", "model.skops", "audit.yaml"):
        shutil.copy(sample_spec.base_dir / name, tmp_path / name)
    return sample_spec.replace(base_dir=tmp_path)


def test_loading_never_modifies_the_inputs(tmp_path, sample_spec):
    spec = _copy_sample(tmp_path, sample_spec)
    before = {p.name: file_sha256(p) for p in tmp_path.iterdir()}
    audit = load_audit(spec)
    assert {p.name: file_sha256(p) for p in tmp_path.iterdir()} == before
    assert {i.role for i in audit.inputs} == {"current", "reference", "model"}
    assert audit.input_file("current").sha256 == before["predictions.parquet"]


def test_error_level_findings_stop_the_load_with_the_first_named(tmp_path, sample_spec):
    spec = _copy_sample(tmp_path, sample_spec)
    bad = spec.replace(columns=spec.columns.__class__(**{**spec.columns.__dict__, "score": "probability"}))
    with pytest.raises(DataError, match="'probability'"):
        load_audit(bad)


def test_a_model_file_that_is_not_a_model(tmp_path, sample_spec):
    import skops.io as sio

    spec = _copy_sample(tmp_path, sample_spec)
    sio.dump({"weights": [1, 2, 3]}, tmp_path / "dict.skops")
    (tmp_path / "text.skops").write_text("not a model")
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(ModelError, match="not a model"):
        load_model(tmp_path / "dict.skops")
    with pytest.raises(ModelError, match="not a skops model file"):
        load_model(tmp_path / "text.skops")
    with pytest.raises(ModelError, match="pickle"):
        load_model(tmp_path / "model.pkl")
    with pytest.raises(ModelError, match="not a model"):
        load_audit(spec.replace(model="dict.skops"))
    audit = load_audit(spec.replace(model="text.skops"), model_errors="warn")
    assert audit.model is None and any(f.subject == "model" for f in audit.findings)


def test_a_model_that_does_not_accept_the_features(tmp_path, sample_spec):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    spec = _copy_sample(tmp_path, sample_spec)
    other = LogisticRegression().fit(pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]}), ["<=50K", ">50K", "<=50K", ">50K"])
    sio.dump(other, tmp_path / "other.skops")
    with pytest.raises(ModelError, match="does not accept the audit's features"):
        load_audit(spec.replace(model="other.skops"))


def test_untrusted_types_are_refused(tmp_path):
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    # A "model" whose loading would hand os.system to the caller: skops flags it, we refuse it.
    sio.dump(FunctionTransformer(os.system), tmp_path / "evil.skops")
    with pytest.raises(ModelError, match="allow-list: posix.system|allow-list: nt.system"):
        load_model(tmp_path / "evil.skops")
