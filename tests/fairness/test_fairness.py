"""Fairness engine: numbers against fairlearn, scikit-learn, scipy and hand counts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, mean_absolute_error, roc_auc_score

from sightline.fairness import fairness_result, fairness_section
from sightline.fairness.groups import NOTE_ONE_ROW, group_codes, group_counts, group_metrics, multiclass_group_metrics, regression_group_metrics
from sightline.fairness.over_time import fairness_over_time
from sightline.fairness.summaries import disparities, fairness_summaries, four_fifths_rule, katz_ratio, newcombe_difference


# ---------------------------------------------------------------------------- helpers
def synthetic(n=6000, seed=0, gap=0.0):
    """Labels, scores, predictions and two sensitive columns with a planted selection gap."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], n, p=[0.4, 0.6])
    race = rng.choice(["A", "B", "C"], n, p=[0.7, 0.2, 0.1])
    y = (rng.random(n) < 0.3).astype(int)
    score = np.clip(0.25 + 0.35 * y + rng.normal(0, 0.2, n) - gap * (sex == "Female"), 0, 1).round(3)
    pred = (score >= 0.5).astype(int)
    return y, pred, score, pd.DataFrame({"sex": sex, "race": race})


def audit_from_frame(tmp_path, frame: pd.DataFrame, **fairness):
    """A loaded audit over ``frame`` (written to parquet), binary with positive label 'yes'."""
    from sightline.data.audit import load_audit
    from sightline.data.spec import spec_from_dict

    frame.to_parquet(tmp_path / "log.parquet")
    spec = spec_from_dict({
        "name": "t", "task": "binary", "positive_label": "yes", "current": "log.parquet",
        "columns": {"target": "label", "prediction": "pred", "score": "score", "timestamp": "ts",
                    "sensitive": [c for c in ("sex", "race") if c in frame.columns]},
        "fairness": fairness or None,
    }, base_dir=tmp_path)
    return load_audit(spec)


def log_frame(y, pred, score, sf, start="2026-06-01"):
    n = len(y)
    ts = pd.Timestamp(start) + pd.to_timedelta(np.linspace(0, 20 * 86400, n), unit="s")
    return pd.DataFrame({"ts": ts, "label": np.where(y == 1, "yes", "no"), "pred": np.where(pred == 1, "yes", "no"),
                         "score": score, **{c: sf[c].to_numpy() for c in sf.columns}})


# ---------------------------------------------------------------------------- hand counts
def test_hand_counted_example():
    # group a: y = 1 1 0 0 0, pred = 1 0 1 0 0 -> tp 1, fn 1, fp 1, tn 2
    # group b: y = 1 1 1 0,   pred = 1 1 0 0   -> tp 2, fn 1, fp 0, tn 1
    y = np.array([1, 1, 0, 0, 0, 1, 1, 1, 0])
    p = np.array([1, 0, 1, 0, 0, 1, 1, 0, 0])
    g = pd.Series(list("aaaaabbbb"), name="grp")
    out = group_metrics(y, p, sensitive_features=g, min_group_size=1)
    assert list(out.index) == ["a", "b"] and out.index.name == "grp"
    a, b = out.loc["a"], out.loc["b"]
    assert (a["n"], a["tp"], a["fn"], a["fp"], a["tn"]) == (5, 1, 1, 1, 2)
    assert (b["n"], b["tp"], b["fn"], b["fp"], b["tn"]) == (4, 2, 1, 0, 1)
    assert a["selection_rate"] == pytest.approx(2 / 5) and b["selection_rate"] == pytest.approx(2 / 4)
    assert a["true_positive_rate"] == pytest.approx(1 / 2) and b["true_positive_rate"] == pytest.approx(2 / 3)
    assert a["false_positive_rate"] == pytest.approx(1 / 3) and b["false_positive_rate"] == 0
    assert a["precision"] == pytest.approx(1 / 2) and b["precision"] == 1
    assert a["accuracy"] == pytest.approx(3 / 5) and b["accuracy"] == pytest.approx(3 / 4)
    assert a["base_rate"] == pytest.approx(2 / 5) and b["base_rate"] == pytest.approx(3 / 4)
    # every interval holds its value
    for m in ("selection_rate", "true_positive_rate", "precision", "accuracy"):
        assert (out[f"{m}_lower"] <= out[m] + 1e-12).all() and (out[m] <= out[f"{m}_upper"] + 1e-12).all()
    s = fairness_summaries(out)
    assert s.loc["demographic_parity_difference", "value"] == pytest.approx(0.5 - 0.4)
    assert s.loc["equal_opportunity_difference", "value"] == pytest.approx(2 / 3 - 1 / 2)
    assert s.loc["equalized_odds_difference", "value"] == pytest.approx(1 / 3)  # FPR gap beats TPR gap
    assert s.loc["equalized_odds_difference", "component"] == "false_positive_rate"


# ---------------------------------------------------------------------------- fairlearn oracle
@pytest.mark.parametrize("columns", [["race"], ["race", "sex"]])
def test_group_rates_equal_fairlearn_metricframe(columns):
    from fairlearn.metrics import MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import precision_score

    y, p, s, sf = synthetic(n=4000, seed=1)
    feats = sf[columns] if len(columns) > 1 else sf[columns[0]]
    ours = group_metrics(y, p, sensitive_features=feats, y_score=s, min_group_size=1, n_resamples=20)
    metrics = {"n": count, "selection_rate": selection_rate, "true_positive_rate": true_positive_rate,
               "false_positive_rate": false_positive_rate, "false_negative_rate": false_negative_rate,
               "precision": lambda a, b: precision_score(a, b, zero_division=np.nan), "accuracy": accuracy_score}
    mf = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=feats)
    auc = MetricFrame(metrics=roc_auc_score, y_true=y, y_pred=s, sensitive_features=feats).by_group
    by_group = mf.by_group
    if len(columns) > 1:  # fairlearn: MultiIndex; ours: a flat "A & Female" label
        by_group.index = [" & ".join(map(str, i)) for i in by_group.index]
        auc.index = [" & ".join(map(str, i)) for i in auc.index]
    assert ours.index.name == " & ".join(columns)
    assert sorted(ours.index) == sorted(by_group.index)
    for metric in metrics:
        np.testing.assert_allclose(ours.loc[by_group.index, metric].astype(float), by_group[metric].astype(float), rtol=1e-12)
    np.testing.assert_allclose(ours.loc[auc.index, "roc_auc"], auc.astype(float), rtol=1e-12)


def test_summaries_equal_fairlearn_functions():
    from fairlearn.metrics import (
        demographic_parity_difference,
        demographic_parity_ratio,
        equal_opportunity_difference,
        equalized_odds_difference,
        equalized_odds_ratio,
    )

    y, p, s, sf = synthetic(n=5000, seed=2, gap=0.1)
    for feats in (sf["race"], sf[["race", "sex"]]):
        groups = group_metrics(y, p, sensitive_features=feats, min_group_size=1)
        ours = fairness_summaries(groups)["value"]
        kw = {"sensitive_features": feats}
        assert ours["demographic_parity_difference"] == pytest.approx(demographic_parity_difference(y, p, **kw))
        assert ours["demographic_parity_ratio"] == pytest.approx(demographic_parity_ratio(y, p, **kw))
        assert ours["equalized_odds_difference"] == pytest.approx(equalized_odds_difference(y, p, **kw))
        assert ours["equalized_odds_ratio"] == pytest.approx(equalized_odds_ratio(y, p, **kw))
        assert ours["equal_opportunity_difference"] == pytest.approx(equal_opportunity_difference(y, p, **kw))
        prec = groups["precision"]
        assert ours["predictive_parity_difference"] == pytest.approx(prec.max() - prec.min())


def test_small_groups_are_left_out_of_summaries():
    """Summaries over the big groups equal fairlearn's on the rows of the big groups only."""
    from fairlearn.metrics import demographic_parity_difference

    y, p, s, sf = synthetic(n=3000, seed=3)
    race = sf["race"].copy()
    race.iloc[:7] = "Tiny"  # a 7-row group, planted with every row selected
    p = p.copy()
    p[:7] = 1
    groups = group_metrics(y, p, sensitive_features=race, min_group_size=30)
    assert groups.loc["Tiny", "small"] and "fewer than 30 rows" in groups.loc["Tiny", "note"]
    assert not groups.drop("Tiny")["small"].any()
    big = (race != "Tiny").to_numpy()
    expected = demographic_parity_difference(y[big], p[big], sensitive_features=race[big])
    assert fairness_summaries(groups).loc["demographic_parity_difference", "value"] == pytest.approx(expected)
    assert "Tiny" not in set(disparities(groups, "A")["group"])
    assert "Tiny" not in four_fifths_rule(groups).index


# ---------------------------------------------------------------------------- intervals
@pytest.mark.parametrize("x1,n1,x2,n2,lo,hi", [
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, method 10 (hybrid score)
    (56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062), (5, 56, 0, 29, -0.0381, 0.1926),
])
def test_newcombe_matches_published_examples(x1, n1, x2, n2, lo, hi):
    d, low, high = newcombe_difference(x1, n1, x2, n2)
    assert float(d) == pytest.approx(x1 / n1 - x2 / n2)
    assert float(low) == pytest.approx(lo, abs=6e-5) and float(high) == pytest.approx(hi, abs=6e-5)


def test_katz_ratio_matches_scipy():
    from scipy.stats.contingency import relative_risk

    r, lo, hi = katz_ratio(30, 200, 45, 180)
    ref = relative_risk(30, 200, 45, 180)
    ci = ref.confidence_interval(0.95)
    assert float(r) == pytest.approx(ref.relative_risk)
    assert float(lo) == pytest.approx(ci.low) and float(hi) == pytest.approx(ci.high)


def test_auc_and_ece_match_sklearn_with_ties():
    rng = np.random.default_rng(4)
    n = 3000
    y = (rng.random(n) < 0.35).astype(int)
    s = np.clip(0.3 + 0.3 * y + rng.normal(0, 0.25, n), 0, 1).round(2)  # rounded: many ties
    g = pd.Series(rng.choice(["x", "y"], n), name="g")
    out = group_metrics(y, (s >= 0.5).astype(int), sensitive_features=g, y_score=s, n_bins=10, n_resamples=200)
    for grp in ("x", "y"):
        m = (g == grp).to_numpy()
        assert out.loc[grp, "roc_auc"] == pytest.approx(roc_auc_score(y[m], s[m]), abs=1e-12)
        # ECE from scikit-learn's calibration_curve and bin counts with the same edges
        prob_true, prob_pred = calibration_curve(y[m], s[m], n_bins=10, strategy="uniform")
        edges = np.linspace(0, 1, 11)
        counts = np.bincount(np.searchsorted(edges[1:-1], s[m]), minlength=10)
        counts = counts[counts > 0]
        expected = np.sum(counts / m.sum() * np.abs(prob_true - prob_pred))
        assert out.loc[grp, "expected_calibration_error"] == pytest.approx(expected, abs=1e-12)
        for metric in ("roc_auc", "expected_calibration_error"):
            lo, hi = out.loc[grp, f"{metric}_lower"], out.loc[grp, f"{metric}_upper"]
            assert lo < out.loc[grp, metric] < hi and hi - lo < 0.2


# ---------------------------------------------------------------------------- bad groups
def test_single_row_and_single_class_groups_give_notes_not_crashes():
    y = np.array([1, 0, 1, 0, 1, 1, 1, 0])
    p = np.array([1, 0, 0, 0, 1, 1, 0, 0])
    s = np.array([0.9, 0.1, 0.4, 0.2, 0.8, 0.7, 0.3, 0.2])
    g = pd.Series(["mixed", "mixed", "mixed", "mixed", "allpos", "allpos", "allpos", "single"], name="g")
    out = group_metrics(y, p, sensitive_features=g, y_score=s, min_group_size=1)
    assert NOTE_ONE_ROW in out.loc["single", "note"]
    assert np.isnan(out.loc["single", "true_positive_rate"]) and "true positive" in out.loc["single", "note"]
    assert np.isnan(out.loc["allpos", "false_positive_rate"]) and "false positive rate undefined" in out.loc["allpos", "note"]
    assert np.isnan(out.loc["allpos", "roc_auc"]) and "ROC AUC undefined" in out.loc["allpos", "note"]
    assert np.isnan(out.loc["single", "precision"]) and "precision undefined" in out.loc["single", "note"]
    assert out.loc["mixed", "note"] == ""
    summaries = fairness_summaries(out)  # NaN groups are skipped, nothing raises
    assert np.isfinite(summaries.loc["demographic_parity_difference", "value"])


def test_missing_sensitive_values_form_their_own_group():
    codes, labels, name = group_codes(pd.Series(["a", None, "b", np.nan], name="col"))
    assert name == "col" and "(missing)" in labels
    assert labels[codes[1]] == "(missing)" and labels[codes[3]] == "(missing)"


# ---------------------------------------------------------------------------- planted gap, verdicts
def test_planted_gap_is_red_and_named(tmp_path):
    y, p, s, sf = synthetic(n=6000, seed=5, gap=0.2)
    audit = audit_from_frame(tmp_path, log_frame(y, p, s, sf[["sex"]]), reference_groups={"sex": "Male"})
    section = fairness_section(audit)
    assert section.verdict.status == "red"
    assert "Women are selected" in section.verdict.headline and "less often than men" in section.verdict.headline
    summ = fairness_result(audit, n_resamples=20).columns["sex"].summaries
    assert summ.loc["demographic_parity_difference", "status"] == "red"
    assert summ.loc["demographic_parity_difference", "lower"] > 0.1


def test_no_gap_is_green_and_noisy_gap_is_amber(tmp_path):
    rng = np.random.default_rng(6)
    n = 20000
    y = (rng.random(n) < 0.3).astype(int)
    s = np.clip(0.25 + 0.4 * y + rng.normal(0, 0.15, n), 0, 1)
    sf = pd.DataFrame({"sex": rng.choice(["Female", "Male"], n)})
    result = fairness_result(audit_from_frame(tmp_path, log_frame(y, (s >= 0.5).astype(int), s, sf)), n_resamples=20)
    statuses = result.columns["sex"].summaries["status"]
    assert set(statuses) == {"green"}, statuses
    # the same gap of 0.15 with 40 rows per group: beyond the tolerance, but not with evidence
    groups = pd.DataFrame({"n": [40, 40], "pp": [12, 6], "small": [False, False]}, index=pd.Index(["a", "b"], name="g"))
    groups["selection_rate"] = groups["pp"] / groups["n"]
    noisy = fairness_summaries(groups.assign(pos=20, tp=5, neg=20, fp=1, correct=30)).loc["demographic_parity_difference"]
    assert noisy["value"] == pytest.approx(0.15) and noisy["status"] == "amber"


def test_tolerance_from_the_audit_file_is_used(tmp_path):
    y, p, s, sf = synthetic(n=6000, seed=5, gap=0.2)
    audit = audit_from_frame(tmp_path, log_frame(y, p, s, sf[["sex"]]),
                             tolerance={"demographic_parity_difference": 0.9, "demographic_parity_ratio": 0.01})
    summ = fairness_result(audit, n_resamples=10).columns["sex"].summaries
    assert summ.loc["demographic_parity_difference", "tolerance"] == 0.9
    assert summ.loc["demographic_parity_difference", "status"] == "green"
    assert summ.loc["demographic_parity_ratio", "status"] == "green"


def test_unknown_tolerance_key_is_reported(tmp_path):
    y, p, s, sf = synthetic(n=2000, seed=20)
    audit = audit_from_frame(tmp_path, log_frame(y, p, s, sf[["sex"]]), tolerance={"demographic_parity_diference": 0.2})
    result = fairness_result(audit, n_resamples=10)
    assert any("demographic_parity_diference" in n for n in result.notes)
    assert result.columns["sex"].summaries.loc["demographic_parity_difference", "tolerance"] == 0.1


def test_reference_group_default_and_fallback(tmp_path):
    y, p, s, sf = synthetic(n=3000, seed=7)
    audit = audit_from_frame(tmp_path, log_frame(y, p, s, sf), reference_groups={"race": "Nope"})
    result = fairness_result(audit, n_resamples=10)
    assert result.columns["sex"].reference == "Male"  # the largest group
    assert result.columns["race"].reference == "A" and "not in the data" in result.columns["race"].reference_note
    d = result.columns["race"].disparities
    row = d[(d.group == "B") & (d.metric == "selection_rate")].iloc[0]
    g = result.columns["race"].groups
    assert row["difference"] == pytest.approx(g.loc["B", "selection_rate"] - g.loc["A", "selection_rate"])
    assert row["ratio"] == pytest.approx(g.loc["B", "selection_rate"] / g.loc["A", "selection_rate"])
    assert row["difference_lower"] < row["difference"] < row["difference_upper"]


# ---------------------------------------------------------------------------- exports and privacy
def test_section_exports_leave_small_groups_out(tmp_path):
    y, p, s, sf = synthetic(n=3000, seed=8)
    sf = sf.copy()
    sf.loc[:4, "race"] = "Tiny"
    section = fairness_section(audit_from_frame(tmp_path, log_frame(y, p, s, sf)))
    slices = {m.slice for m in section.metrics}
    assert "race=B" in slices and "race=A & sex=Female" in slices
    assert not any("Tiny" in sl for sl in slices)
    assert {"race", "sex", "race & sex"} <= slices  # summaries use the column name as slice
    summary_types = {m.type for m in section.metrics if m.slice == "sex"}
    assert {"demographic_parity_difference", "equalized_odds_difference", "equal_opportunity_difference"} <= summary_types
    rows = section.report["columns"]["race"]["groups"]
    tiny = next(r for r in rows if r["group"] == "Tiny")
    assert tiny["suppressed"] and "selection_rate" not in tiny and "n" not in tiny
    assert section.report["columns"]["race"]["suppressed_groups"] == ["Tiny"]
    assert section.provenance["suppressed_groups"] >= 1 and section.provenance["min_group_size"] == 30
    for name, table in section.tables.items():
        if name.startswith("fairness_groups"):
            assert not table.iloc[:, 0].astype(str).str.contains("Tiny").any()
    for chart in section.charts:
        assert "Tiny" not in json.dumps(chart.chart.to_dict())
    from sightline.report.registry import to_jsonable

    json.dumps(to_jsonable(section.report))  # JSON-safe


def test_card_metrics_carry_intervals_and_counts(tmp_path):
    y, p, s, sf = synthetic(n=3000, seed=9)
    section = fairness_section(audit_from_frame(tmp_path, log_frame(y, p, s, sf)))
    m = next(m for m in section.metrics if m.type == "selection_rate" and m.slice == "sex=Female")
    female = (sf["sex"] == "Female").to_numpy()
    assert m.value == pytest.approx(p[female].mean()) and m.n == female.sum()
    assert m.lower < m.value < m.upper
    auc = next(m for m in section.metrics if m.type == "roc_auc" and m.slice == "sex=Female")
    assert auc.value == pytest.approx(roc_auc_score(y[female], s[female])) and auc.lower is not None


def test_missing_inputs_explain_themselves(tmp_path):
    from sightline.core.errors import MissingInputError

    y, p, s, sf = synthetic(n=200, seed=10)
    frame = log_frame(y, p, s, sf).drop(columns=["sex", "race"])
    audit = audit_from_frame(tmp_path, frame)
    with pytest.raises(MissingInputError, match="columns.*sensitive"):
        fairness_result(audit)
    frame = log_frame(y, p, s, sf).assign(label=None)
    with pytest.raises(MissingInputError, match="ground truth"):
        fairness_result(audit_from_frame(tmp_path, frame))


# ---------------------------------------------------------------------------- over time
def test_gaps_over_time_by_hand():
    windows = pd.Series(pd.to_datetime(["2026-06-01"] * 8 + ["2026-06-08"] * 8))
    g = np.array([0, 0, 0, 0, 1, 1, 1, 1] * 2)
    pred = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0])
    yt = np.array([1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0])
    table, gaps = fairness_over_time(windows, g, ["a", "b"], y_pred=pred, y_true=yt, labelled=np.ones(16, bool), min_group_size=1)
    dp = gaps[gaps.metric == "demographic_parity_difference"].set_index("window")["value"]
    assert dp.iloc[0] == pytest.approx(2 / 4 - 1 / 4) and dp.iloc[1] == pytest.approx(3 / 4 - 1 / 4)
    eo = gaps[gaps.metric == "equal_opportunity_difference"].set_index("window")["value"]
    assert eo.iloc[0] == pytest.approx(2 / 3 - 1 / 2) and eo.iloc[1] == pytest.approx(1 - 1 / 2)
    assert table["rows"].tolist() == [4, 4, 4, 4]
    # a window where a group is too small has no gap
    _, gaps = fairness_over_time(windows, g, ["a", "b"], y_pred=pred, y_true=yt, labelled=np.ones(16, bool), min_group_size=5)
    assert gaps["value"].isna().all() and (gaps["groups_compared"] == 0).all()


# ---------------------------------------------------------------------------- other tasks
def test_regression_and_multiclass_group_metrics():
    rng = np.random.default_rng(11)
    n = 2000
    g = pd.Series(rng.choice(["u", "v"], n), name="g")
    yt = rng.normal(10, 2, n)
    yp = yt + rng.normal(0, 1, n) + (g == "v") * 0.5
    out = regression_group_metrics(yt, yp, sensitive_features=g)
    for grp in ("u", "v"):
        m = (g == grp).to_numpy()
        assert out.loc[grp, "mean_absolute_error"] == pytest.approx(mean_absolute_error(yt[m], yp[m]))
        assert out.loc[grp, "mean_prediction"] == pytest.approx(yp[m].mean())
    summ = fairness_summaries(out, task="regression")
    mae = out["mean_absolute_error"]
    assert summ.loc["mean_absolute_error_ratio", "value"] == pytest.approx(mae.min() / mae.max())
    labels = np.array(["a", "b", "c"])
    ct, cp = labels[rng.integers(0, 3, n)], labels[rng.integers(0, 3, n)]
    mc = multiclass_group_metrics(ct, cp, sensitive_features=g)
    for grp in ("u", "v"):
        m = (g == grp).to_numpy()
        assert mc.loc[grp, "accuracy"] == pytest.approx(accuracy_score(ct[m], cp[m]))


def test_group_counts_equal_sklearn_confusion_matrix_per_group():
    from sklearn.metrics import confusion_matrix

    y, p, s, sf = synthetic(n=1000, seed=12)
    codes, labels, _ = group_codes(sf["race"])
    c = group_counts(y, p, codes, len(labels))
    assert c["n"].sum() == 1000 and (c["tp"] + c["fp"] + c["fn"] + c["tn"] == c["n"]).all()
    for code in range(len(labels)):
        m = codes == code
        tn, fp, fn, tp = confusion_matrix(np.asarray(y)[m], np.asarray(p)[m], labels=[0, 1]).ravel()
        row = c.loc[code]
        assert (row["tn"], row["fp"], row["fn"], row["tp"]) == (tn, fp, fn, tp)
        assert (row["pos"], row["neg"], row["pp"], row["correct"]) == (tp + fn, tn + fp, tp + fp, tp + tn)


# ---------------------------------------------------------------------------- the sample audit
def test_sample_audit_shows_the_adult_gaps(sample_audit):
    section = fairness_section(sample_audit)
    assert section.verdict.status == "red"
    assert "women" in section.verdict.headline.lower()
    sex = section.report["columns"]["sex"]
    female = next(r for r in sex["groups"] if r["group"] == "Female")
    male = next(r for r in sex["groups"] if r["group"] == "Male")
    assert female["selection_rate"] < male["selection_rate"]
    assert {"sex", "race", "race & sex"} == set(section.report["columns"])
    assert any(m.slice.startswith("race=Black & sex=") for m in section.metrics)


# ---------------------------------------------------------------------------- threshold what-if
def test_rates_at_per_group_thresholds():
    from sightline.fairness import rates_at_thresholds

    y, p, s, sf = synthetic(n=4000, seed=13, gap=0.1)
    groups, summ = rates_at_thresholds(y, s, sensitive_features=sf["sex"], thresholds={"Female": 0.3, "Male": 0.6})
    for grp, thr in (("Female", 0.3), ("Male", 0.6)):
        m = (sf["sex"] == grp).to_numpy()
        assert groups.loc[grp, "threshold"] == thr
        assert groups.loc[grp, "selection_rate"] == pytest.approx((s[m] >= thr).mean())
        assert groups.loc[grp, "true_positive_rate"] == pytest.approx((s[m][y[m] == 1] >= thr).mean())
    sr = groups["selection_rate"]
    assert summ.loc["demographic_parity_difference", "value"] == pytest.approx(sr.max() - sr.min())


@pytest.mark.parametrize("constraint,gap_col", [("demographic_parity", "selection_rate"),
                                                ("true_positive_rate_parity", "true_positive_rate")])
def test_tradeoff_curve_narrows_the_gap(constraint, gap_col):
    from sightline.fairness import tradeoff_curve

    y, p, s, sf = synthetic(n=5000, seed=14, gap=0.15)
    t = tradeoff_curve(y, s, sensitive_features=sf["sex"], constraint=constraint, sample_size=5000, n_points=4)
    assert t.sample_size == 5000 and t.rows_available == 5000
    pts = t.points
    deployed = pts[pts.kind == "deployed"].iloc[0]
    assert deployed["accuracy"] == pytest.approx(((s >= 0.5) == y).mean())
    assert deployed["gap"] == pytest.approx(fairness_summaries(group_metrics(y, (s >= 0.5).astype(int), sensitive_features=sf["sex"]))
                                            .loc[{"demographic_parity": "demographic_parity_difference",
                                                  "true_positive_rate_parity": "equal_opportunity_difference"}[constraint], "value"])
    opt = pts[pts.kind == "optimizer"]
    assert len(opt) == 4 and deployed["gap"] > 0.1
    strict = opt[opt.tolerance == 0].iloc[0]
    assert strict["gap"] < 0.05  # fairlearn equalises the rate (randomised rule: a little noise)
    for _, row in opt.iterrows():
        assert row["gap"] <= row["tolerance"] + 0.05
    # fairlearn maximises accuracy: allowing more gap never costs much accuracy
    assert opt.sort_values("tolerance")["accuracy"].iloc[-1] >= strict["accuracy"] - 0.01


def test_tradeoff_equalized_odds_mixes_to_the_strict_rule():
    from sightline.fairness import tradeoff_curve

    y, p, s, sf = synthetic(n=6000, seed=15, gap=0.15)
    t = tradeoff_curve(y, s, sensitive_features=sf["sex"], constraint="equalized_odds", sample_size=6000, n_points=5)
    pts = t.points
    strict = pts[pts.kind == "optimizer"].iloc[0]
    assert strict["gap"] < pts[pts.kind == "deployed"].iloc[0]["gap"]
    assert len(pts[pts.kind == "mix"]) == 3
    with pytest.raises(ValueError, match="unknown constraint"):
        tradeoff_curve(y, s, sensitive_features=sf["sex"], constraint="nonsense")


def test_tradeoff_samples_a_bounded_number_of_rows():
    from sightline.fairness import tradeoff_curve

    y, p, s, sf = synthetic(n=3000, seed=19, gap=0.15)
    t = tradeoff_curve(y, s, sensitive_features=sf["sex"], sample_size=1000, n_points=2)
    assert t.sample_size == 1000 and t.rows_available == 3000 and len(t.points) == 3


def test_tradeoff_needs_two_big_groups():
    from sightline.fairness import tradeoff_curve

    y, p, s, sf = synthetic(n=500, seed=16)
    t = tradeoff_curve(y, s, sensitive_features=pd.Series(["only"] * 500, name="g"))
    assert t.points.empty and "two groups" in t.note


def test_logged_score_estimator_returns_the_score():
    from sightline.fairness.whatif import LoggedScoreEstimator

    proba = LoggedScoreEstimator().predict_proba(np.array([[0.2], [0.9]]))
    np.testing.assert_allclose(proba, [[0.8, 0.2], [0.1, 0.9]])


# ---------------------------------------------------------------------------- charts
def test_rates_chart_holds_the_group_table():
    from sightline.charts.fairness import group_rates_chart
    from sightline.core.vocabulary import metric_label

    y, p, s, sf = synthetic(n=2000, seed=17)
    groups = group_metrics(y, p, sensitive_features=sf["race"], min_group_size=250)
    spec = group_rates_chart(groups, reference="A", include_small=True).to_dict()
    data = pd.DataFrame(next(iter(spec["datasets"].values())))
    sr = data[data.metric == metric_label("selection_rate")].set_index("group")
    for grp in groups.index:
        assert sr.loc[grp, "value"] == pytest.approx(groups.loc[grp, "selection_rate"])
        assert sr.loc[grp, "lower"] == pytest.approx(groups.loc[grp, "selection_rate_lower"])
    assert sr.loc["A", "kind"] == "reference group"
    assert sr.loc["C", "kind"] == ("small group (not compared)" if groups.loc["C", "small"] else "group")


def test_vectorised_bootstrap_agrees_with_a_plain_resampling_loop():
    """Our count-matrix bootstrap of ROC AUC against sightline.stats.intervals.bootstrap_interval
    (row resampling + scikit-learn) on the same data: the two 95% intervals agree closely."""
    from sightline.stats.intervals import bootstrap_interval

    rng = np.random.default_rng(18)
    n = 1500
    y = (rng.random(n) < 0.3).astype(int)
    s = np.clip(0.3 + 0.25 * y + rng.normal(0, 0.2, n), 0, 1)
    ours = group_metrics(y, (s >= 0.5).astype(int), sensitive_features=pd.Series(["g"] * n, name="c"), y_score=s,
                         n_resamples=300).loc["g"]
    lo, hi = bootstrap_interval(roc_auc_score, y, s, n_resamples=300, seed=1)
    assert ours["roc_auc_lower"] == pytest.approx(lo, abs=0.01)
    assert ours["roc_auc_upper"] == pytest.approx(hi, abs=0.01)


# -- fast paths equal the straightforward computation ------------------------------------------
def _auc_rows_reference(score, y, weights):
    """The weighted Mann–Whitney AUC as first written: sort, one column per tied score level
    (reduceat), negatives below + ½ negatives at each level."""
    order = np.argsort(score, kind="mergesort")
    score, y, weights = score[order], y[order], weights[:, order]
    yy = y.astype(bool)
    starts = np.flatnonzero(np.r_[True, score[1:] != score[:-1]])
    pos = np.add.reduceat(weights * yy, starts, axis=1)
    neg = np.add.reduceat(weights * ~yy, starts, axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    total = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (pos * (neg_below + 0.5 * neg)).sum(axis=1) / total, np.nan)


@pytest.mark.parametrize("ties", [False, True])
def test_auc_fast_paths_equal_the_reference_bit_for_bit(ties):
    """Bootstrap AUC without ties (no reduceat, cumulative negatives) and the unweighted AUC
    (unstable sort, counts) give exactly the reference's bits, and scikit-learn's value."""
    from sightline.fairness.groups import _auc_rows, bootstrap_counts, roc_auc_value

    rng = np.random.default_rng(7)
    for n in (1, 2, 57, 3000):
        y = (rng.random(n) < 0.3).astype(float)
        s = np.clip(0.3 + 0.3 * y + rng.normal(0, 0.25, n), 0, 1)
        s = s.round(2) if ties else s
        w = bootstrap_counts(np.random.default_rng(n), 50, n)
        assert np.array_equal(_auc_rows(s, y, w), _auc_rows_reference(s, y, w), equal_nan=True)
        order = np.argsort(s, kind="mergesort")
        assert np.array_equal(_auc_rows(s[order], y[order], w[:, order], presorted=True),
                              _auc_rows_reference(s[order], y[order], w[:, order]),
                              equal_nan=True)
        one = _auc_rows_reference(s, y, np.ones((1, n)))[0]
        got = roc_auc_value(s, y)
        assert (np.isnan(one) and np.isnan(got)) or got == one
        if 0 < y.sum() < n:
            assert got == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_bootstrap_counts_equal_one_bincount_over_all_resamples():
    """Counting each resample on its own gives the counts of the one bincount over B·m cells
    (same draws: one rng.integers call)."""
    from sightline.fairness.groups import bootstrap_counts

    for m in (1, 5, 1234):
        draws = np.random.default_rng(3).integers(0, m, size=(40, m)) + (np.arange(40) * m)[:, None]
        want = np.bincount(draws.ravel(), minlength=40 * m).reshape(40, m).astype(np.float32)
        got = bootstrap_counts(np.random.default_rng(3), 40, m)
        assert got.dtype == np.float32 and np.array_equal(got, want)
