"""Calibration against independent references: scikit-learn's calibration_curve, hand counts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from sightline.calibration import bootstrap as CB
from sightline.calibration import errors as E
from sightline.calibration import section as C
from sightline.core.errors import MissingInputError
from sightline.stats import reliability as R
from sightline.stats.reliability import calibration_settings
from tests.performance.test_metrics import make_audit


@pytest.fixture
def probs():
    rng = np.random.default_rng(0)
    p = rng.beta(1.5, 3, 4000)
    p[:5] = [0.0, 0.1, 0.5, 0.9, 1.0]  # values on bin edges go where scikit-learn puts them
    y = (rng.random(4000) < p**1.3).astype(int)  # a little over-confident
    return y, p


def test_brier_score_equals_sklearn():
    y = [0, 1, 0, 1, 1]
    p = [0.1, 0.1, 0.3, 0.8, 0.9]
    assert E.brier_score(y, p) == pytest.approx(brier_score_loss(y, p))


def test_calibration_metrics_intervals_and_brier(probs):
    y, p = probs
    m = E.calibration_metrics(y, p)
    assert m.loc["brier_score", "value"] == pytest.approx(brier_score_loss(y, p))
    for name in m.index:
        assert m.loc[name, "lower"] <= m.loc[name, "value"] <= m.loc[name, "upper"], name


def test_groups_are_binned_like_all_rows(probs):
    y, p = probs
    groups = np.where(np.arange(len(y)) % 3 == 0, "g1", "g2")
    summary, long = E.calibration_by_group(y, p, sensitive_features=groups, n_bins=10, min_group_size=30)
    for g in ("g1", "g2"):
        mask = groups == g
        prob_true, prob_pred = calibration_curve(y[mask], p[mask], n_bins=10)  # uniform edges: the same for any rows
        rows = long[long["group"] == g]
        np.testing.assert_allclose(rows["fraction_positive"], prob_true)
        np.testing.assert_allclose(rows["mean_predicted"], prob_pred)
        assert summary.loc[g, "n"] == mask.sum()
        assert summary.loc[g, "brier_score"] == pytest.approx(brier_score_loss(y[mask], p[mask]))
    tiny, _ = E.calibration_by_group(y[:40], p[:40], sensitive_features=["a"] * 35 + ["b"] * 5, min_group_size=30)
    assert tiny["reliable"].to_dict() == {"a": True, "b": False}
    assert np.isnan(tiny.loc["b", "ece_lower"])


def test_chance_ece_separates_noise_from_miscalibration():
    rng = np.random.default_rng(11)
    edges = R.bin_edges(None, n_bins=10)
    calibrated_p, skewed_p = [], []
    for i in range(40):
        p = rng.random(300)
        y_ok = (rng.random(300) < p).astype(int)
        y_bad = (rng.random(300) < p**2).astype(int)
        noise = CB.calibration_noise(p, edges, n_sim=100, seed=i)
        calibrated_p.append(CB.consistency_p_value(R.expected_calibration_error(y_ok, p), noise))
        skewed_p.append(CB.consistency_p_value(R.expected_calibration_error(y_bad, p), noise))
    assert np.mean(np.array(calibrated_p) < 0.05) <= 0.15   # about 5% false alarms
    assert np.mean(np.array(skewed_p) < 0.05) >= 0.9        # real miscalibration found


def test_reliability_chart_holds_exactly_the_table(probs):
    from sightline.charts.calibration import reliability_chart

    y, p = probs
    table = R.reliability_table(y, p, n_bins=10)
    spec = reliability_chart(table).to_dict()
    datasets = list(spec["datasets"].values())
    expected = [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in table.to_dict(orient="records")]
    assert any(d == expected for d in datasets)
    diagram = spec["vconcat"][0]["layer"]
    points = [layer for layer in diagram if layer["mark"]["type"] == "circle"][0]
    assert points["encoding"]["x"]["field"] == "mean_predicted"
    assert points["encoding"]["y"]["field"] == "fraction_positive"
    assert points["encoding"]["size"]["field"] == "count"
    assert spec["datasets"][points["data"]["name"]] == expected


def test_settings_fall_back_with_a_note():
    assert calibration_settings({}) == (10, "uniform", [])
    n_bins, strategy, notes = calibration_settings({"n_bins": "ten", "strategy": "kmeans"})
    assert (n_bins, strategy) == (10, "uniform")
    assert any("n_bins" in n for n in notes) and any("'uniform' or 'quantile'" in n for n in notes)


# ------------------------------------------------------------------ sections
def test_calibration_section_on_the_sample(sample_audit):
    from sightline.report.registry import to_jsonable

    section = C.calibration_section(sample_audit)
    labelled = sample_audit.labelled()
    y, s = sample_audit.y_true(labelled), sample_audit.y_score(labelled)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=10)
    rel = pd.DataFrame(section.report["reliability"])
    np.testing.assert_allclose(rel["fraction_positive"], prob_true)
    np.testing.assert_allclose(rel["mean_predicted"], prob_pred)
    overall = {m.type: m for m in section.metrics if m.slice == ""}
    assert set(overall) == {"brier_score", "expected_calibration_error", "maximum_calibration_error"}
    assert overall["brier_score"].value == pytest.approx(brier_score_loss(y, s))
    ece = np.sum(rel["count"] / rel["count"].sum() * np.abs(prob_true - prob_pred))
    assert overall["expected_calibration_error"].value == pytest.approx(ece)
    female = labelled["sex"] == "Female"
    by_sex = {m.slice: m for m in section.metrics if m.type == "expected_calibration_error" and m.slice.startswith("sex=")}
    t, pr = calibration_curve(y[female], s[female], n_bins=10)
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], s[female]), minlength=10)
    assert by_sex["sex=Female"].value == pytest.approx(np.sum(counts[counts > 0] / female.sum() * np.abs(t - pr)))
    assert section.report["n_bins"] == 10 and section.report["strategy"] == "uniform"
    json.dumps(to_jsonable(section.report))
    assert {c.name for c in section.charts} >= {"reliability_diagram", "reliability_by_sex"}


def test_top_label_calibration_for_multiclass(tmp_path):
    audit = make_audit(tmp_path, "multiclass")
    section = C.calibration_section(audit)
    lab = audit.labelled()
    correct = (lab["y"] == lab["pred"]).astype(int).to_numpy()
    prob_true, prob_pred = calibration_curve(correct, lab["s"], n_bins=10)
    rel = pd.DataFrame(section.report["reliability"])
    np.testing.assert_allclose(rel["fraction_positive"], prob_true)
    np.testing.assert_allclose(rel["mean_predicted"], prob_pred)
    assert section.report["kind"] == "top_label"
    assert "brier_score" not in {m.type for m in section.metrics if m.slice == ""}


def test_regression_and_missing_inputs_explain_themselves(tmp_path):
    from sightline.report.registry import compute_section

    (tmp_path / "r").mkdir()
    section = C.calibration_section(make_audit(tmp_path / "r", "regression"))
    assert section.verdict.status == "unavailable"
    assert "probabilistic classifiers" in section.verdict.headline
    (tmp_path / "b").mkdir()
    audit = make_audit(tmp_path / "b", "binary", score=False)
    with pytest.raises(MissingInputError, match="columns.score"):
        C.calibration_section(audit)
    assert "columns.score" in compute_section("calibration", audit).verdict.headline


def test_quantile_setting_from_the_audit_file(tmp_path):
    audit = make_audit(tmp_path, "binary", extra={"calibration": {"n_bins": 5, "strategy": "quantile"}})
    section = C.calibration_section(audit)
    lab = audit.labelled()
    y = (lab["y"] == "yes").astype(int)
    prob_true, _ = calibration_curve(y, lab["s"], n_bins=5, strategy="quantile")
    np.testing.assert_allclose(pd.DataFrame(section.report["reliability"])["fraction_positive"], prob_true)
    assert "5 quantile bins" in section.report["bins"]


def test_group_chart_spec_equals_the_condition_dict_form(probs):
    import altair as alt

    from sightline.charts.calibration import group_reliability_chart

    y, p = probs
    long = R.reliability_table(y, p).assign(group="all rows")
    spec = group_reliability_chart(long, column="g").to_dict()
    want = alt.condition("datum.group == 'all rows'", alt.value(3), alt.value(1.5))
    assert [layer["encoding"].get("strokeWidth") for layer in spec["layer"]] == [None, want, None]
