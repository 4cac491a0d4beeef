"""Performance metrics against independent references: scikit-learn, scipy and hand counts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, norm
from sklearn import metrics as skm

from sightline.core.errors import MissingInputError
from sightline.performance import estimates as E
from sightline.performance import section as M
from sightline.stats.bootstrap import resample_weights
from sightline.stats.confusion import CELLS, confusion_counts
from sightline.stats.intervals import wilson_interval


# ------------------------------------------------------------------ synthetic audits
def make_audit(tmp_path, task: str, *, n: int = 600, seed: int = 0, versions: bool = False,
               labelled_share: float = 1.0, score: bool = True, extra: dict | None = None):
    """A small audit on disk (CSV + audit.yaml) for binary, multiclass or regression, loaded."""
    from sightline.data.audit import load_audit
    from sightline.data.spec import spec_from_dict

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"rid": [f"r{i}" for i in range(n)], "x": rng.normal(size=n),
                       "grp": rng.choice(["A", "B", "C"], n, p=[0.5, 0.4, 0.1])})
    if task == "binary":
        p = 1 / (1 + np.exp(-2 * df["x"]))
        df["y"] = np.where(rng.random(n) < p, "yes", "no")
        df["s"] = np.round(p, 2)  # rounded: ties, as real scores have
        df["pred"] = np.where(df["s"] >= 0.5, "yes", "no")
    elif task == "multiclass":
        y = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
        right = rng.random(n) < 0.7
        df["y"] = y
        df["pred"] = np.where(right, y, rng.choice(["a", "b", "c"], n))
        df["s"] = np.clip(np.where(right, 0.75, 0.55) + rng.normal(0, 0.1, n), 0, 1)
    else:
        df["y"] = 3 * df["x"] + rng.normal(0, 1, n)
        df["pred"] = 3 * df["x"] + 0.2
    if labelled_share < 1:
        df.loc[rng.random(n) >= labelled_share, "y"] = None
    df["ver"] = "v1"
    if versions:
        other = df.copy()
        other["ver"] = "v2"
        if task == "binary":
            other["s"] = np.round(np.clip(other["s"] + rng.normal(0, 0.2, n), 0, 1), 2)
            other["pred"] = np.where(other["s"] >= 0.5, "yes", "no")
        elif task == "regression":
            other["pred"] = other["pred"] + rng.normal(0, 1, n)
        df = pd.concat([df, other.iloc[: n // 2]], ignore_index=True)
    df.to_csv(tmp_path / "log.csv", index=False)
    cols = {"target": "y", "prediction": "pred", "id": "rid", "model_version": "ver", "features": ["x", "grp"],
            "sensitive": ["grp"]}
    if task != "regression" and score:
        cols["score"] = "s"
    spec = {"name": f"synthetic {task}", "task": task, "current": "log.csv", "columns": cols,
            "primary_version": "v1", **(extra or {})}
    if task == "binary":
        spec["positive_label"] = "yes"
    return load_audit(spec_from_dict(spec, base_dir=tmp_path))


@pytest.fixture
def binary_data():
    rng = np.random.default_rng(1)
    n = 3000
    s = np.round(rng.beta(2, 3, n), 2)
    y = (rng.random(n) < s).astype(int)
    pred = (s >= 0.4).astype(int)
    return y, pred, s


# ------------------------------------------------------------------ binary metrics
def test_binary_metrics_match_scikit_learn(binary_data):
    y, pred, s = binary_data
    table = M.binary_metrics(y, pred, y_score=s)
    ref = {"accuracy": skm.accuracy_score(y, pred), "precision": skm.precision_score(y, pred),
           "recall": skm.recall_score(y, pred), "f1": skm.f1_score(y, pred), "roc_auc": skm.roc_auc_score(y, s),
           "average_precision": skm.average_precision_score(y, s), "log_loss": skm.log_loss(y, s),
           "brier_score": skm.brier_score_loss(y, s)}
    for name, value in ref.items():
        assert table.loc[name, "value"] == pytest.approx(value, rel=1e-9, abs=1e-12), name
        assert table.loc[name, "lower"] <= value <= table.loc[name, "upper"], name
    assert table.loc["precision", "n"] == int(pred.sum())
    assert table.loc["recall", "n"] == int(y.sum())


def test_proportion_intervals_are_wilson_as_scipy_computes_them(binary_data):
    y, pred, _ = binary_data
    table = M.binary_metrics(y, pred)
    tp = int(((y == 1) & (pred == 1)).sum())
    for name, k, n in (("accuracy", int((y == pred).sum()), len(y)), ("precision", tp, int(pred.sum())),
                       ("recall", tp, int(y.sum()))):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert table.loc[name, "lower"] == pytest.approx(ci.low, abs=1e-9)
        assert table.loc[name, "upper"] == pytest.approx(ci.high, abs=1e-9)


def test_wilson_interval_covers_95_percent_of_simulations():
    rng = np.random.default_rng(7)
    hits = []
    for p, n in ((0.3, 200), (0.05, 400), (0.8, 60)):
        k = rng.binomial(n, p, size=2000)
        lo, hi = wilson_interval(k, np.full(2000, n))
        hits.append(np.mean((lo <= p) & (p <= hi)))
    assert all(0.93 <= h <= 0.97 for h in hits), hits


@pytest.mark.parametrize("n, max_rows", [(300, 50_000), (4000, 1000)])
def test_bootstrap_auc_interval_covers_the_true_auc(n, max_rows):
    # Binormal scores: positives ~ N(d, 1), negatives ~ N(0, 1), so the true AUC is Φ(d / √2).
    # The second case bootstraps a 1,000-row sample and rescales (the m-out-of-n bootstrap).
    d = 1.0
    true_auc = norm.cdf(d / np.sqrt(2))
    settings = M.BootstrapSettings(n_resamples=200, max_rows=max_rows)
    rng = np.random.default_rng(3)
    hits = []
    for i in range(150):
        y = (rng.random(n) < 0.3).astype(int)
        s = norm.cdf(rng.normal(d * y, 1.0))
        row = M.binary_metrics(y, (s > 0.5).astype(int), y_score=s,
                               settings=M.BootstrapSettings(200, max_rows, seed=i)).loc["roc_auc"]
        hits.append(row["lower"] <= true_auc <= row["upper"])
    assert settings.rows(n) == min(n, max_rows)
    assert 0.88 <= np.mean(hits) <= 0.99, np.mean(hits)


def test_weighted_statistics_equal_scikit_learn_with_sample_weight(binary_data):
    # The bootstrap scores every resample through count weights; each must equal scikit-learn
    # given the same counts as sample_weight.
    y, pred, s = binary_data
    w = np.vstack(list(resample_weights(len(y), 3, seed=5)))
    stats = E._WeightedBinary(y, pred, s).stats(w)
    for i in range(3):
        assert stats["roc_auc"][i] == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w[i]), abs=1e-12)
        assert stats["average_precision"][i] == pytest.approx(skm.average_precision_score(y, s, sample_weight=w[i]), abs=1e-12)
        assert stats["f1"][i] == pytest.approx(skm.f1_score(y, pred, sample_weight=w[i]), abs=1e-12)
        assert stats["brier_score"][i] == pytest.approx(skm.brier_score_loss(y, s, sample_weight=w[i]), abs=1e-12)
        assert stats["log_loss"][i] == pytest.approx(skm.log_loss(y, s, sample_weight=w[i]), abs=1e-9)
    assert (w.sum(axis=1) == len(y)).all()


def test_curves_match_scikit_learn_when_not_thinned(binary_data):
    y, _, s = binary_data
    roc = M.roc_curve_points(y, s, max_points=10**6)
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(roc["false_positive_rate"], fpr)
    np.testing.assert_allclose(roc["true_positive_rate"], tpr)
    np.testing.assert_allclose(roc["threshold"][1:], thr[1:])
    pr = M.pr_curve_points(y, s, max_points=10**6)
    precision, recall, thr = skm.precision_recall_curve(y, s, drop_intermediate=False)
    # scikit-learn lists lowest threshold first and appends (recall 0, precision 1)
    np.testing.assert_allclose(pr["precision"], precision[:-1][::-1])
    np.testing.assert_allclose(pr["recall"], recall[:-1][::-1])
    np.testing.assert_allclose(pr["threshold"], thr[::-1])


def test_thinned_curves_keep_the_ends_and_the_bound(binary_data):
    y, _, s = binary_data
    s = s + np.random.default_rng(0).normal(0, 1e-3, len(s))  # many distinct thresholds
    roc = M.roc_curve_points(y, s, max_points=50)
    assert len(roc) <= 51
    assert roc.iloc[0][["false_positive_rate", "true_positive_rate"]].tolist() == [0, 0]
    assert roc.iloc[-1][["false_positive_rate", "true_positive_rate"]].tolist() == [1, 1]
    assert np.all(np.diff(roc["false_positive_rate"]) >= 0)


def test_threshold_curve_matches_confusion_matrices(binary_data):
    y, _, s = binary_data
    curve = M.threshold_curve(y, s)
    assert len(curve) == 101
    for t in (0.0, 0.13, 0.4, 0.5, 0.77, 1.0):
        row = curve[np.isclose(curve["threshold"], t)].iloc[0]
        pred = (s >= t).astype(int)
        tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
        assert (row["tn"], row["fp"], row["fn"], row["tp"]) == (tn, fp, fn, tp)
        assert row["recall"] == pytest.approx(skm.recall_score(y, pred))
        assert row["selection_rate"] == pytest.approx(pred.mean())
        if pred.sum():
            assert row["precision"] == pytest.approx(skm.precision_score(y, pred))
        else:
            assert np.isnan(row["precision"])


def test_confusion_counts_hand_counted():
    y = [1, 1, 0, 0, 0, 1]
    p = [1, 0, 0, 1, 0, 1]
    assert dict(zip(CELLS, confusion_counts(y, p)[0])) == {"tn": 2, "fp": 1, "fn": 1, "tp": 2}


# ------------------------------------------------------------------ multiclass
def test_multiclass_metrics_match_scikit_learn():
    rng = np.random.default_rng(2)
    y = rng.choice(["cat", "dog", "eel", "fox"], 2000, p=[0.4, 0.3, 0.2, 0.1])
    pred = np.where(rng.random(2000) < 0.6, y, rng.choice(["cat", "dog", "eel", "fox"], 2000))
    summary, per_class = M.multiclass_metrics(y, pred)
    labels = sorted(set(y))
    p, r, f, sup = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    np.testing.assert_allclose(per_class.loc[labels, "precision"], p)
    np.testing.assert_allclose(per_class.loc[labels, "recall"], r)
    np.testing.assert_allclose(per_class.loc[labels, "f1"], f)
    np.testing.assert_array_equal(per_class.loc[labels, "support"], sup)
    assert summary.loc["accuracy", "value"] == pytest.approx(skm.accuracy_score(y, pred))
    for avg in ("macro", "weighted"):
        assert summary.loc[f"{avg}_f1", "value"] == pytest.approx(skm.f1_score(y, pred, average=avg))
        assert summary.loc[f"{avg}_precision", "value"] == pytest.approx(skm.precision_score(y, pred, average=avg))
        assert summary.loc[f"{avg}_recall", "value"] == pytest.approx(skm.recall_score(y, pred, average=avg))
        assert summary.loc[f"{avg}_f1", "lower"] < summary.loc[f"{avg}_f1", "value"] < summary.loc[f"{avg}_f1", "upper"]
    cm = M.confusion_table(y, pred)
    np.testing.assert_array_equal(cm.to_numpy(), skm.confusion_matrix(y, pred, labels=labels))


def test_confusion_table_counts_classes_only_predicted():
    cm = M.confusion_table(["a", "a", "b"], ["a", "c", "b"])
    assert list(cm.index) == ["a", "b", "c"]
    assert cm.loc["a", "c"] == 1 and cm.loc["c"].sum() == 0


# ------------------------------------------------------------------ regression
def test_regression_metrics_match_scikit_learn():
    rng = np.random.default_rng(4)
    y = rng.normal(10, 3, 1500)
    pred = y + rng.normal(0.5, 2, 1500)
    table = M.regression_metrics(y, pred)
    assert table.loc["mean_absolute_error", "value"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert table.loc["root_mean_squared_error", "value"] == pytest.approx(skm.root_mean_squared_error(y, pred))
    assert table.loc["r2_score", "value"] == pytest.approx(skm.r2_score(y, pred))
    assert table.loc["mean_error", "value"] == pytest.approx(np.mean(pred - y))
    for name in table.index:
        assert table.loc[name, "lower"] <= table.loc[name, "value"] <= table.loc[name, "upper"]


def test_error_by_bin_hand_counted():
    y = np.array([1.0, 2.0, 3.0, 10.0])
    pred = np.array([1.0, 1.0, 5.0, 6.0])
    bins = M.error_by_bin(y, pred, n_bins=2)  # edges at the quantiles 1, 3, 6 of the predictions
    assert bins["n"].tolist() == [2, 2]
    assert bins["mean_absolute_error"].tolist() == pytest.approx([0.5, 3.0])   # |0|,|−1| ; |2|,|−4|
    assert bins["mean_error"].tolist() == pytest.approx([-0.5, -1.0])


# ------------------------------------------------------------------ baselines
def test_binary_baselines_hand_computed():
    y = np.array([1] * 25 + [0] * 75)           # 25% positive in the evaluated labels
    prior = pd.Series({1: 0.4, 0: 0.6})          # the reference believed 40%
    b = M.classification_baselines(y, prior=prior)
    zero, rand = b["majority_class"], b["class_prior_random"]
    assert zero["accuracy"] == pytest.approx(0.75) and zero["recall"] == 0 and np.isnan(zero["precision"])
    assert rand["accuracy"] == pytest.approx(0.4 * 0.25 + 0.6 * 0.75)
    assert rand["precision"] == pytest.approx(0.25) and rand["recall"] == pytest.approx(0.4)
    assert rand["f1"] == pytest.approx(2 * 0.25 * 0.4 / 0.65)
    const = np.full(100, 0.4)
    assert rand["log_loss"] == pytest.approx(skm.log_loss(y, const))
    assert rand["brier_score"] == pytest.approx(skm.brier_score_loss(y, const))
    assert zero["roc_auc"] == 0.5 and zero["average_precision"] == pytest.approx(skm.average_precision_score(y, const))


def test_multiclass_zero_rule_matches_dummy_classifier():
    from sklearn.dummy import DummyClassifier

    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 500, p=[0.5, 0.3, 0.2])
    b = M.classification_baselines(y, prior=pd.Series(y).value_counts(normalize=True))
    dummy = DummyClassifier(strategy="most_frequent").fit(np.zeros((500, 1)), y).predict(np.zeros((500, 1)))
    assert b.loc["accuracy", "majority_class"] == pytest.approx(skm.accuracy_score(y, dummy))
    assert b.loc["macro_f1", "majority_class"] == pytest.approx(skm.f1_score(y, dummy, average="macro"))
    # Random guessing with the class shares: averaged over many DummyClassifier(stratified) draws.
    draws = [skm.accuracy_score(y, DummyClassifier(strategy="stratified", random_state=i)
                                .fit(np.zeros((500, 1)), y).predict(np.zeros((500, 1)))) for i in range(200)]
    assert b.loc["accuracy", "class_prior_random"] == pytest.approx(np.mean(draws), abs=0.01)


def test_regression_baselines_hand_computed():
    b = M.regression_baselines([1.0, 2.0, 6.0], center=3.0, median=2.0)
    assert b.loc["mean_absolute_error", "predict_mean"] == pytest.approx((2 + 1 + 3) / 3)
    assert b.loc["mean_absolute_error", "predict_median"] == pytest.approx((1 + 0 + 4) / 3)
    assert b.loc["r2_score", "predict_mean"] == pytest.approx(0.0)


# ------------------------------------------------------------------ sections
def test_performance_section_on_the_sample(sample_audit):
    from sightline.report.registry import to_jsonable

    section = M.performance_section(sample_audit)
    labelled = sample_audit.labelled()
    y = sample_audit.y_true(labelled)
    s = sample_audit.y_score(labelled)
    pred = sample_audit.y_pred(labelled)
    overall = section.report["overall"]
    assert overall["roc_auc"]["value"] == pytest.approx(skm.roc_auc_score(y, s))
    assert overall["accuracy"]["value"] == pytest.approx(skm.accuracy_score(y, pred))
    assert section.report["labelled_rows"] == len(labelled) < section.report["rows"] == len(sample_audit.primary)
    cm = skm.confusion_matrix(y, pred, labels=[0, 1])
    assert section.report["confusion_matrix"]["counts"] == cm.tolist()
    types = {m.type for m in section.metrics}
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "average_precision", "log_loss", "brier_score"} <= types
    assert all(m.slice == "" and m.lower <= m.value <= m.upper for m in section.metrics)
    assert {c.name for c in section.charts} >= {"roc_curve", "precision_recall_curve", "confusion_matrix"}
    json.dumps(to_jsonable(section.report))
    # The challenger, scored on the same requests: an independent join and scikit-learn.
    current = sample_audit.current
    champ = labelled[["request_id", "income", "score"]]
    chall = current[current["model_version"] == "challenger-2.0"][["request_id", "score"]]
    pairs = champ.merge(chall, on="request_id", suffixes=("_a", "_b"))
    yp = (pairs["income"] == ">50K").astype(int)
    version = section.report["versions"][0]
    assert version["version"] == "challenger-2.0" and version["n"] == len(pairs)
    assert version["metrics"]["roc_auc"]["baseline"] == pytest.approx(skm.roc_auc_score(yp, pairs["score_a"]))
    assert version["metrics"]["roc_auc"]["candidate"] == pytest.approx(skm.roc_auc_score(yp, pairs["score_b"]))
    assert section.verdict.status in ("green", "amber")


def test_multiclass_and_regression_sections(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "r").mkdir()
    audit = make_audit(tmp_path / "m", "multiclass", versions=True)
    section = M.performance_section(audit)
    lab = audit.labelled()
    assert section.report["overall"]["macro_f1"]["value"] == pytest.approx(
        skm.f1_score(lab["y"], lab["pred"], average="macro"))
    assert {m.type for m in section.metrics} >= {"accuracy", "macro_f1", "weighted_f1"}
    assert section.report["versions"][0]["n"] == 300

    audit = make_audit(tmp_path / "r", "regression", versions=True)
    section = M.performance_section(audit)
    lab = audit.labelled()
    assert section.report["overall"]["mean_absolute_error"]["value"] == pytest.approx(
        skm.mean_absolute_error(lab["y"], lab["pred"]))
    assert section.report["overall"]["r2_score"]["value"] == pytest.approx(skm.r2_score(lab["y"], lab["pred"]))
    assert sum(b["n"] for b in section.report["error_by_bin"]) == len(lab)
    assert section.verdict.status == "green"  # R² ≈ 0.9 on this data


def test_only_labelled_rows_count_and_missing_labels_explain(tmp_path):
    audit = make_audit(tmp_path, "binary", labelled_share=0.6)
    section = M.performance_section(audit)
    assert section.report["labelled_rows"] == int(audit.primary["y"].notna().sum())
    assert section.report["rows"] == len(audit.primary)

    (tmp_path / "none").mkdir()
    audit = make_audit(tmp_path / "none", "binary", labelled_share=0.0)
    with pytest.raises(MissingInputError, match="none of the 600 predictions"):
        M.performance_section(audit)


def test_binary_without_score_column(tmp_path):
    audit = make_audit(tmp_path, "binary", score=False)
    section = M.performance_section(audit)
    assert "roc_auc" not in section.report["overall"]
    assert section.report["overall"]["accuracy"]["value"] == pytest.approx(
        (audit.labelled()["y"] == audit.labelled()["pred"]).mean())


def test_charts_hold_exactly_the_curves(binary_data):
    from sightline.charts.performance import pr_chart, roc_chart

    y, _, s = binary_data
    for points, chart in ((M.roc_curve_points(y, s), roc_chart(M.roc_curve_points(y, s), auc=0.7)),
                          (M.pr_curve_points(y, s), pr_chart(M.pr_curve_points(y, s), average_precision=0.6, prevalence=0.4))):
        spec = chart.to_dict()
        line = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line" and "tooltip" in layer["encoding"]][0]
        drawn = pd.DataFrame(spec["datasets"][line["data"]["name"]])
        pd.testing.assert_frame_equal(drawn[points.columns], points, check_dtype=False)


@pytest.mark.parametrize("seed", range(3))
def test_one_shared_sort_gives_the_same_curves_and_metrics(seed):
    """The section sorts the scores once (RankedScores) for the metrics and all three curves:
    each equals its own-sort computation exactly (ties included), and scikit-learn's AUC."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 2_000))
    s = np.round(rng.random(n), int(rng.integers(1, 4)))  # many ties
    y = (rng.random(n) < s).astype(int)
    p = (s >= 0.5).astype(int)
    ranked = M.RankedScores(y, s)
    pd.testing.assert_frame_equal(M.threshold_curve(y, s, ranked=ranked), M.threshold_curve(y, s), check_exact=True)
    pd.testing.assert_frame_equal(M.roc_curve_points(y, s, ranked=ranked), M.roc_curve_points(y, s), check_exact=True)
    pd.testing.assert_frame_equal(M.pr_curve_points(y, s, ranked=ranked), M.pr_curve_points(y, s), check_exact=True)
    settings = M.BootstrapSettings(n_resamples=40, max_rows=n // 2)
    shared = M.binary_metrics(y, p, y_score=s, settings=settings, ranked=ranked)
    pd.testing.assert_frame_equal(shared, M.binary_metrics(y, p, y_score=s, settings=settings), check_exact=True)
    assert shared.loc["roc_auc", "value"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_confusion_chart_spec_equals_the_condition_dict_form():
    import altair as alt

    from sightline.charts.performance import confusion_chart

    long = M.confusion_long(M.confusion_from_counts({"tn": 5, "fp": 3, "fn": 2, "tp": 9}, labels=["no", "yes"]))
    spec = confusion_chart(long).to_dict()
    ink = alt.condition("datum.share_of_actual > 0.5", alt.value("white"), alt.value("black"))
    assert [layer["encoding"]["color"] for layer in spec["layer"][1:]] == [ink, ink]


def test_a_better_version_on_the_same_requests_makes_the_verdict_amber(tmp_path):
    # v1 predicts 3x + 0.2; v2 adds noise to it. With v2 as the primary, v1 has a significantly
    # lower MAE on the 300 shared requests (paired t test by hand below), so the verdict says so.
    from scipy.stats import ttest_rel

    audit = make_audit(tmp_path, "regression", versions=True, extra={"primary_version": "v2"})
    section = M.performance_section(audit)
    lab = audit.labelled(audit.current)
    v1, v2 = lab[lab["ver"] == "v1"].set_index("rid"), lab[lab["ver"] == "v2"].set_index("rid")
    e1, e2 = (v1["pred"] - v1["y"]).abs().loc[v2.index], (v2["pred"] - v2["y"]).abs()
    assert ttest_rel(e1, e2).pvalue < 0.05 and e1.mean() < e2.mean()
    row = section.report["versions"][0]["metrics"]["mean_absolute_error"]
    assert row["difference"] == pytest.approx(e1.mean() - e2.mean()) and row["upper"] < 0
    assert row["p_value"] == pytest.approx(ttest_rel(e1, e2).pvalue)
    assert section.verdict.status == "amber" and "v1 has a lower MAE on the same 300 requests" in section.verdict.headline
