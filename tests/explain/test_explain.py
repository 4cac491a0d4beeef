"""Explainability engine (sightline/explain.py, sightline/surrogate.py, sightline/charts/explain.py).

Numbers are checked against independent references: shap's own explainers called directly on
the final estimator, the closed form of linear SHAP (coef × (x − background mean)), hand-built
SHAP columns, hand counts, scikit-learn's r2_score.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from sightline.core.errors import DataError, ModelError, SpecError
from sightline.data.audit import Audit
from sightline.data.spec import AuditSpec, Columns, Source

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(autouse=True)
def _one_thread():
    """Fit the small test models on one thread: OpenMP threads only add waiting on a shared machine."""
    import sklearn.ensemble  # noqa: F401  (load OpenMP before limiting it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


# ---------------------------------------------------------------------------- helpers
def _frame(n=600, seed=0):
    """Features: x1 (strong), x2 (medium), noise, colour (categorical with an effect), group."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "x1": rng.normal(size=n), "x2": rng.normal(size=n), "noise": rng.normal(size=n),
        "colour": rng.choice(["red", "green", "blue"], size=n, p=[0.5, 0.3, 0.2]),
        "group": rng.choice(["A", "B"], size=n, p=[0.7, 0.3]),
    })
    logit = 2.0 * df["x1"] - 1.0 * df["x2"] + np.where(df["colour"] == "red", 1.0, -0.5)
    df["y"] = np.where(rng.uniform(size=n) < expit(logit), "yes", "no")
    return df


def _audit(df, *, model=None, reference=None, features=("x1", "x2", "noise", "colour"), task="binary",
           positive_label="yes", explain=None, **columns) -> Audit:
    cols = {"target": "y", "prediction": "pred", "score": "score", "sensitive": ("group",), **columns}
    cols = {k: v for k, v in cols.items() if v is not None}
    spec = AuditSpec(name="t", task=task, current=Source(path="log.csv"), columns=Columns(**cols),
                     positive_label=positive_label if task == "binary" else None, explain=explain or {})
    return Audit(spec=spec, current=df, reference=reference, model=model, fingerprint="test", features=tuple(features))


def _one_hot_pipeline(estimator, cats=("colour",), nums=("x1", "x2", "noise")):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(cats)),
                              ("num", "passthrough", list(nums))])
    return Pipeline([("prep", prep), ("clf", estimator)])


def _scored(df, model, features=("x1", "x2", "noise", "colour")):
    """The log as the model wrote it: P(yes) and the predicted label."""
    out = df.copy()
    pos = list(model.classes_).index("yes")
    out["score"] = model.predict_proba(df[list(features)])[:, pos]
    out["pred"] = np.where(out["score"] >= 0.5, "yes", "no")
    return out


FEATURES = ["x1", "x2", "noise", "colour"]


# ---------------------------------------------------------------------------- with the model
def test_global_ranking_equals_shaps_own_tree_explainer():
    import shap
    from sklearn.ensemble import HistGradientBoostingClassifier

    from sightline.explain import explain_audit, global_importance
    from sightline.explain.results import ExplainSettings

    df = _frame()
    num = ["x1", "x2", "noise"]
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(df[num], df["y"])
    log = _scored(df, model, num)
    result = explain_audit(_audit(log, model=model, features=num), ExplainSettings(sample_size=len(df)))
    ours = global_importance(result.current.values).set_index("feature")["mean_abs_shap"]

    reference = np.abs(shap.TreeExplainer(model).shap_values(df[num].to_numpy())).mean(axis=0)
    expected = pd.Series(reference, index=num).sort_values(ascending=False)
    assert ours.index.tolist() == expected.index.tolist() == ["x1", "x2", "noise"]
    np.testing.assert_allclose(ours.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert result.method == "TreeExplainer" and result.source == "model" and result.output_space == "log-odds"


def test_folded_one_hot_importance_is_the_sum_of_its_columns():
    import shap
    from sklearn.ensemble import HistGradientBoostingClassifier

    from sightline.explain import explain_audit
    from sightline.explain.results import ExplainSettings

    df = _frame()
    model = _one_hot_pipeline(HistGradientBoostingClassifier(max_iter=40, random_state=0)).fit(df[FEATURES], df["y"])
    result = explain_audit(_audit(_scored(df, model), model=model), ExplainSettings(sample_size=len(df)))

    rows = result.current.rows
    Xt = model[:-1].transform(rows[FEATURES])
    raw = shap.TreeExplainer(model[-1]).shap_values(Xt)
    names = list(model[:-1].get_feature_names_out())
    colour_cols = [i for i, n in enumerate(names) if n.startswith("cat__colour_")]
    assert len(colour_cols) == 3
    np.testing.assert_allclose(result.current.values["colour"].to_numpy(), raw[:, colour_cols].sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(result.current.values["x1"].to_numpy(), raw[:, names.index("num__x1")], atol=1e-12)
    assert list(result.current.values.columns) == FEATURES


def test_tracing_encoded_columns_through_nested_preprocessing():
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from sightline.explain.attribution import _Untraceable, transformed_sources

    df = _frame(80)
    prep = ColumnTransformer([
        ("cat", Pipeline([("imp", SimpleImputer(strategy="constant", fill_value="missing")),
                          ("oh", OneHotEncoder(sparse_output=False))]), ["colour"]),
        ("num", StandardScaler(), ["x1", "x2"]),
    ], remainder="passthrough").fit(df[FEATURES])
    sources = transformed_sources(prep, FEATURES)
    assert sources == ["colour"] * 3 + ["x1", "x2", "noise"]

    from sklearn.decomposition import PCA

    mixed = ColumnTransformer([("pca", PCA(n_components=2), ["x1", "x2", "noise"])]).fit(df[FEATURES])
    with pytest.raises(_Untraceable):
        transformed_sources(mixed, FEATURES)


def test_additivity_holds_in_the_space_shap_explains():
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    from sightline.explain import explain_audit
    from sightline.explain.results import ExplainSettings
    from sightline.explain.surrogate import logit

    df = _frame(400)
    # HGB: SHAP explains log-odds; the check compares with the model's own decision_function
    hgb = _one_hot_pipeline(HistGradientBoostingClassifier(max_iter=30, random_state=0)).fit(df[FEATURES], df["y"])
    res = explain_audit(_audit(_scored(df, hgb), model=hgb), ExplainSettings(sample_size=200))
    recon = res.current.base_values + res.current.values.sum(axis=1).to_numpy()
    np.testing.assert_allclose(recon, logit(hgb.predict_proba(res.current.rows[FEATURES])[:, 1]), atol=1e-6)
    assert res.additivity.holds and res.additivity.rows == 200 and res.output_space == "log-odds"
    # Random forest: SHAP explains the probability of the positive class
    rf = _one_hot_pipeline(RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)).fit(df[FEATURES], df["y"])
    res = explain_audit(_audit(_scored(df, rf), model=rf), ExplainSettings(sample_size=200))
    recon = res.current.base_values + res.current.values.sum(axis=1).to_numpy()
    np.testing.assert_allclose(recon, rf.predict_proba(res.current.rows[FEATURES])[:, 1], atol=1e-6)
    assert res.additivity.holds and res.output_space == "probability"


def test_additivity_check_reports_a_failure():
    from sightline.explain.results import additivity_check

    values = np.array([[0.5, 0.25], [1.0, -1.0]])
    ok = additivity_check(values, np.array([0.0, 1.0]), np.array([0.75, 1.0]))
    assert ok.holds and ok.max_error == 0.0
    bad = additivity_check(values, np.array([0.0, 1.0]), np.array([0.75, 1.5]))
    assert not bad.holds and bad.max_error == pytest.approx(0.5) and "FAILS" in bad.sentence()
    assert additivity_check(values, np.array([np.nan, np.nan]), np.array([1.0, 1.0])) is None


def test_positive_label_that_is_the_first_class_flips_the_sign():
    import shap
    from sklearn.ensemble import GradientBoostingClassifier

    from sightline.explain import explain_audit
    from sightline.explain.results import ExplainSettings

    df = _frame(300)
    num = ["x1", "x2", "noise"]
    model = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(df[num], df["y"])  # classes: no, yes
    log = df.copy()
    log["score"] = model.predict_proba(df[num])[:, 0]  # P("no")
    log["pred"] = np.where(log["score"] >= 0.5, "no", "yes")
    res = explain_audit(_audit(log, model=model, features=num, positive_label="no"), ExplainSettings(sample_size=300))
    direct = shap.TreeExplainer(model).shap_values(res.current.rows[num].to_numpy())  # towards "yes"
    np.testing.assert_allclose(res.current.values.to_numpy(), -direct, atol=1e-12)
    assert res.additivity.holds


def test_linear_model_matches_the_closed_form():
    """For a linear model with independent features, SHAP_j = coef_j × (x_j − mean of x_j over the background)."""
    from sklearn.linear_model import LogisticRegression

    from sightline.explain import explain_audit
    from sightline.explain.results import ExplainSettings

    df = _frame(500)
    model = _one_hot_pipeline(LogisticRegression(max_iter=500)).fit(df[FEATURES], df["y"])
    reference = _scored(_frame(300, seed=1), model)
    settings = ExplainSettings(sample_size=500, background_size=300)
    res = explain_audit(_audit(_scored(df, model), model=model, reference=reference), settings)
    assert res.method == "LinearExplainer" and res.additivity.holds and res.output_space == "log-odds"

    Xt, bg = model[:-1].transform(res.current.rows[FEATURES]), model[:-1].transform(reference[FEATURES])
    contrib = (Xt - bg.mean(axis=0)) * model[-1].coef_[0]
    names = list(model[:-1].get_feature_names_out())
    expected_colour = contrib[:, [i for i, n in enumerate(names) if "colour" in n]].sum(axis=1)
    np.testing.assert_allclose(res.current.values["colour"].to_numpy(), expected_colour, atol=1e-9)
    np.testing.assert_allclose(res.current.values["x2"].to_numpy(), contrib[:, names.index("num__x2")], atol=1e-9)


def test_other_models_get_a_model_agnostic_explainer_that_adds_up():
    from sklearn.neighbors import KNeighborsClassifier

    from sightline.explain import explain_audit, global_importance
    from sightline.explain.results import ExplainSettings

    df = _frame(300)
    model = _one_hot_pipeline(KNeighborsClassifier(n_neighbors=15)).fit(df[FEATURES], df["y"])
    res = explain_audit(_audit(_scored(df, model), model=model, reference=_scored(_frame(100, 2), model)),
                        ExplainSettings(sample_size=40, background_size=20))
    assert res.method == "permutation SHAP" and res.output_space == "probability"
    assert res.current.n == 40 and res.additivity.holds  # permutation SHAP is exactly additive
    assert global_importance(res.current.values)["feature"].iloc[0] == "x1"


def test_preprocessing_that_mixes_features_is_explained_as_a_whole():
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sightline.explain import explain_audit
    from sightline.explain.results import ExplainSettings

    df = _frame(200)
    num = ["x1", "x2", "noise"]
    model = Pipeline([("pca", PCA(n_components=2)), ("clf", LogisticRegression())]).fit(df[num], df["y"])
    res = explain_audit(_audit(_scored(df, model, num), model=model, features=num), ExplainSettings(sample_size=30, background_size=10))
    assert res.method == "permutation SHAP" and list(res.current.values.columns) == num
    assert res.additivity.holds and any("mixes features" in n for n in res.notes)


def test_permutation_shap_equals_exact_shapley_values_by_enumeration():
    """With every feature order walked, permutation SHAP must equal the Shapley formula
    phi_j = sum over S of |S|! (F-|S|-1)! / F! (v(S + j) - v(S)), v(S) = mean_b f(x_S, b_rest)."""
    from itertools import combinations
    from math import factorial

    from sklearn.neighbors import KNeighborsClassifier

    from sightline.explain.attribution import permutation_shap

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    model = KNeighborsClassifier(n_neighbors=7).fit(X, X[:, 0] * X[:, 1] + X[:, 2] > 0)
    def f(a):
        return model.predict_proba(a)[:, 1]
    rows, background = X[:4], X[100:130]
    values, base, output = permutation_shap(f, rows, background, n_permutations=3)

    def v(x, S):
        mixed = background.copy()
        mixed[:, list(S)] = x[list(S)]
        return f(mixed).mean()

    F = 3
    for r, x in enumerate(rows):
        for j in range(F):
            others = [k for k in range(F) if k != j]
            exact = sum(factorial(len(S)) * factorial(F - len(S) - 1) / factorial(F) * (v(x, S + (j,)) - v(x, S))
                        for size in range(F) for S in combinations(others, size))
            assert values[r, j] == pytest.approx(exact, abs=1e-12)
    np.testing.assert_allclose(base + values.sum(axis=1), output, atol=1e-12)
    np.testing.assert_allclose(base, f(background).mean())


def test_multiclass_and_regression_models_add_up():
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from sightline.explain import explain_audit
    from sightline.explain.results import ExplainSettings

    df = _frame(400)
    num = ["x1", "x2", "noise"]
    df["cls"] = np.select([df["x1"] < -0.5, df["x1"] > 0.5], ["low", "high"], "mid")
    clf = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(df[num], df["cls"])
    log = df.assign(pred=clf.predict(df[num]), y=df["cls"])
    res = explain_audit(_audit(log, model=clf, features=num, task="multiclass", score=None), ExplainSettings(sample_size=400))
    assert res.additivity.holds and res.output_space == "margin"
    k = np.argmax(clf.predict_proba(res.current.rows[num]), axis=1)
    np.testing.assert_allclose(res.current.output, clf.decision_function(res.current.rows[num])[np.arange(len(k)), k])

    df["target"] = 3 * df["x1"] + df["x2"]
    reg = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(df[num], df["target"])
    log = df.assign(pred=reg.predict(df[num]), y=df["target"])
    res = explain_audit(_audit(log, model=reg, features=num, task="regression", score=None), ExplainSettings(sample_size=400))
    assert res.additivity.holds and res.output_space == "prediction"
    np.testing.assert_allclose(res.current.output, reg.predict(res.current.rows[num]))


# ---------------------------------------------------------------------------- bad models
def test_a_model_file_that_is_not_a_model(tmp_path):
    import skops.io as sio

    from sightline.data.model import load_model

    sio.dump({"weights": [1, 2, 3]}, tmp_path / "dict.skops")
    (tmp_path / "text.skops").write_text("this is not a model")
    with pytest.raises(ModelError, match="not a model"):
        load_model(tmp_path / "dict.skops")
    with pytest.raises(ModelError, match="not a skops model file"):
        load_model(tmp_path / "text.skops")


def test_a_model_that_does_not_accept_the_features_gives_a_clear_message():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from sightline.explain import explain_audit

    df = _frame(200)
    other = df.rename(columns={"x1": "income_2019"})
    named = HistGradientBoostingClassifier(max_iter=5).fit(other[["income_2019", "x2"]], other["y"])
    log = df.assign(score=0.5, pred="no")
    with pytest.raises(ModelError, match="income_2019"):
        explain_audit(_audit(log, model=named))
    # a model fitted on numbers only, given a text column: the error names the failure, no traceback
    positional = _one_hot_pipeline(HistGradientBoostingClassifier(max_iter=5), cats=(), nums=("x1", "colour"))
    positional.fit(df[["x1", "x2"]].rename(columns={"x2": "colour"}), df["y"])
    with pytest.raises(ModelError, match="the model failed while"):
        explain_audit(_audit(log, model=positional))


# ---------------------------------------------------------------------------- without the model
def test_precomputed_shap_columns_are_read_and_checked():
    from sightline.explain import explain_audit, global_importance

    rng = np.random.default_rng(3)
    df = _frame(300)
    shap_cols = pd.DataFrame({"shap_x1": rng.normal(0, 2, 300), "shap_x2": rng.normal(0, 1, 300),
                              "shap_noise": rng.normal(0, 0.1, 300), "shap_colour": rng.normal(0, 0.5, 300)})
    log = pd.concat([df, shap_cols], axis=1)
    log["shap_base_value"] = -0.4
    log["score"] = expit(-0.4 + shap_cols.sum(axis=1))
    log["pred"] = np.where(log["score"] >= 0.5, "yes", "no")
    res = explain_audit(_audit(log))
    assert res.source == "precomputed" and res.output_space == "log-odds" and res.additivity.holds
    got = global_importance(res.current.values).set_index("feature")["mean_abs_shap"]
    sampled = shap_cols.loc[res.current.rows.index]
    for f in FEATURES:
        assert got[f] == pytest.approx(sampled[f"shap_{f}"].abs().mean())
    # without a base value column nothing can be checked, and the result says so
    res = explain_audit(_audit(log.drop(columns="shap_base_value")))
    assert res.additivity is None and any("shap_base_value" in n for n in res.notes)


def test_surrogate_mimics_scores_that_are_a_simple_function_of_the_features():
    from sklearn.metrics import r2_score

    from sightline.explain import explain_audit, global_importance
    from sightline.explain.results import ExplainSettings
    from sightline.explain.surrogate import logit

    df = _frame(3000)
    df["score"] = expit(2.0 * df["x1"] - 1.0 * df["x2"] + np.where(df["colour"] == "red", 1.0, -0.5))
    df["pred"] = np.where(df["score"] >= 0.5, "yes", "no")
    res = explain_audit(_audit(df), ExplainSettings(sample_size=500))
    assert res.source == "surrogate" and res.fidelity.metric == "r2"
    assert res.fidelity.value > 0.95 and not res.fidelity.low and res.fidelity.agreement > 0.9
    assert global_importance(res.current.values)["feature"].tolist()[:3] == ["x1", "x2", "colour"]
    assert res.additivity.holds
    # the fidelity is what r2_score says on rows the surrogate never saw
    sur = res.backend.surrogate
    assert sur.fidelity.held_out_rows == 750 and sur.fidelity.train_rows == 2250
    target = logit(df["score"].to_numpy())
    full_r2 = r2_score(target, sur.output(df))
    assert full_r2 > 0.95


def test_a_surrogate_that_cannot_mimic_the_scores_is_flagged():
    from sightline.explain import explain_audit, section_from_result
    from sightline.explain.results import ExplainSettings

    df = _frame(1500)
    df["score"] = np.random.default_rng(9).uniform(0.01, 0.99, len(df))  # unrelated to the features
    df["pred"] = np.where(df["score"] >= 0.5, "yes", "no")
    audit = _audit(df)
    res = explain_audit(audit, ExplainSettings(sample_size=300))
    assert res.fidelity.low and res.fidelity.value < 0.8
    section = section_from_result(audit, res)
    assert section.verdict.status == "amber" and "surrogate" in section.verdict.headline
    assert section.report["surrogate_fidelity"]["low"] is True


def test_surrogate_of_predicted_classes_reports_agreement_and_its_baseline():
    from sightline.explain import explain_audit
    from sightline.explain.results import ExplainSettings

    df = _frame(1200)
    df["pred"] = np.where(df["x1"] > 0.3, "yes", "no")
    res = explain_audit(_audit(df, score=None), ExplainSettings(sample_size=200))
    fid = res.fidelity
    assert fid.metric == "agreement" and fid.value > 0.95
    assert fid.baseline == pytest.approx(1 - (df["x1"] > 0.3).mean(), abs=0.05)


# ---------------------------------------------------------------------------- pure pieces
def test_stratified_sample_is_proportional_and_seeded():
    from sightline.explain.results import stratified_sample

    strata = np.array([0] * 900 + [1] * 100)
    pos = stratified_sample(strata, 100, seed=1)
    assert len(pos) == len(set(pos)) == 100
    assert (strata[pos] == 1).sum() == 10
    assert np.array_equal(pos, stratified_sample(strata, 100, seed=1))
    assert not np.array_equal(pos, stratified_sample(strata, 100, seed=2))
    # a rare stratum keeps at least one row
    rare = np.array([0] * 999 + [1])
    assert 999 in stratified_sample(rare, 10, seed=0)
    assert len(stratified_sample(None, 5, size=3)) == 3


def test_importance_tables_against_hand_counts():
    from sightline.explain import global_importance, group_importance_table, largest_group_difference
    from sightline.explain.results import Explanation, importance_by_group, importance_shift

    values = pd.DataFrame({"a": [1.0, -3.0, 2.0, 0.0], "b": [1.0, 1.0, -2.0, 4.0], "c": [1.0, -1.0, 1.0, 1.0]})
    imp = global_importance(values)  # mean |SHAP|: a 1.5, b 2, c 1 (total 4.5)
    assert imp["feature"].tolist() == ["b", "a", "c"]
    assert imp["mean_abs_shap"].tolist() == pytest.approx([2.0, 1.5, 1.0])
    assert imp["share"].tolist() == pytest.approx([2 / 4.5, 1.5 / 4.5, 1 / 4.5])
    groups = pd.Series(["g", "g", "h", "h"])
    by = importance_by_group(values, sensitive_features=groups)  # g: a 2, b 1, c 1; h: a 1, b 3, c 1
    assert by.loc["g"].tolist() == [2.0, 1.0, 1.0] and by.loc["h"].tolist() == [1.0, 3.0, 1.0]
    ex = Explanation(values=values, rows=pd.DataFrame({"grp": groups}), base_values=np.zeros(4), output=np.zeros(4), population=4)
    table = group_importance_table(ex, "grp", min_group_size=1)
    share = table.set_index(["group", "feature"])["share"]
    assert share[("g", "a")] == pytest.approx(0.5) and share[("h", "b")] == pytest.approx(0.6)
    diff = largest_group_difference(table)  # b: 25 % for g vs 60 % for h
    assert (diff["feature"], diff["high_group"], diff["low_group"]) == ("b", "h", "g")
    assert diff["gap"] == pytest.approx(0.35)
    assert largest_group_difference(group_importance_table(ex, "grp", min_group_size=3)) is None  # both groups too small
    shift = importance_shift(values * pd.Series({"a": 1.0, "b": 3.0, "c": 1.0}), values).set_index("feature")
    assert shift.loc["b", "reference_share"] == pytest.approx(6 / 8.5)
    assert shift.loc["b", "change"] == pytest.approx(2 / 4.5 - 6 / 8.5)


def test_confident_errors_and_row_lookup():
    from sightline.explain import confident_errors, find_row

    df = pd.DataFrame({"id": ["r1", "r2", "r3", "r4", "r5"], "x1": [1, 2, 3, 4, 5], "x2": 0.0, "noise": 0.0, "colour": "red",
                       "group": "A", "y": ["no", "no", "yes", "yes", None], "score": [0.9, 0.6, 0.1, 0.8, 0.99]})
    df["pred"] = np.where(df["score"] >= 0.5, "yes", "no")
    audit = _audit(df, id="id")
    errors = confident_errors(audit)
    assert errors["id"].tolist() == ["r1", "r2", "r3"]  # FPs by score descending, then the FN; r5 has no label
    assert errors["kind"].str.startswith("false positive").tolist() == [True, True, False]
    assert find_row(audit, " r4 ")["x1"].iloc[0] == 4
    with pytest.raises(DataError, match="no logged prediction has id 'zzz'"):
        find_row(audit, "zzz")


def test_bad_settings_name_the_key():
    from sightline.explain import explain_settings

    spec = AuditSpec(name="t", task="binary", current=Source(path="x"), columns=Columns(), positive_label=1,
                     explain={"sample_size": "lots"})
    with pytest.raises(SpecError, match="explain.sample_size"):
        explain_settings(spec)


def test_charts_hold_the_results_numbers():
    from sightline.charts.explain import beeswarm_frame, importance_bar, waterfall_frame
    from sightline.explain import LocalExplanation, global_importance

    values = pd.DataFrame({"a": [1.0, -3.0], "b": [0.5, 0.5]})
    spec = importance_bar(global_importance(values)).to_dict()
    data = spec["datasets"][next(iter(spec["datasets"]))]
    assert [(r["feature"], r["mean_abs_shap"]) for r in data] == [("a", 2.0), ("b", 0.5)]
    local = LocalExplanation("r1", pd.Series({"a": 3, "b": "x"}), pd.Series({"a": -1.0, "b": 0.25}), 0.5, -0.25, "log-odds", "T")
    steps = waterfall_frame(local)
    assert steps["end"].iloc[-1] == pytest.approx(local.output) and steps["start"].iloc[0] == 0.5
    bee = beeswarm_frame(values, pd.DataFrame({"a": [1, 2], "b": ["u", "v"]}), ["a", "b"])
    assert bee["jitter"].abs().max() <= 0.45 and bee.loc[bee["feature"] == "b", "value_rank"].isna().all()


# ---------------------------------------------------------------------------- the bundled sample
def test_sample_audit_section(sample_audit):
    from sightline.explain import explain_audit, section_from_result
    from sightline.explain.results import ExplainSettings
    from sightline.report.registry import to_jsonable

    result = explain_audit(sample_audit, ExplainSettings(sample_size=300))
    section = section_from_result(sample_audit, result)
    report = json.loads(json.dumps(to_jsonable(section.report)))
    rows = report["global_importance"]
    assert [set(r) for r in rows] == [{"feature", "mean_abs_shap"}] * len(sample_audit.features)
    assert [r["mean_abs_shap"] for r in rows] == sorted((r["mean_abs_shap"] for r in rows), reverse=True)
    assert report["explainer"] == "TreeExplainer" and report["output_space"] == "log-odds" and report["additivity"]["holds"]
    assert report["sample_size"] == 300 and set(report["importance_by_group"]) == {"sex", "race"}
    assert section.charts[0].name == "feature_importance" and section.verdict.status in ("green", "amber")
    # the sample's serving incident: the file does not reproduce the stale scores of the weak slice
    assert 0.8 < report["model_reproduces_logged_scores"] < 1.0
