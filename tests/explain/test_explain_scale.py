"""Explainability's fast paths equal the straightforward computations they replace.

- stratified_sample: the per-stratum partial selection equals the full lexsort it replaced, on
  integer, boolean, text and missing strata, with many strata, and with tied draws;
- FeatureEncoder.transform: the once-per-category lookup equals converting every row to text;
- the surrogate backend: SHAP values equal shap.TreeExplainer's on the same matrix, and the
  output (encoded once) equals Surrogate.output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sightline.explain.results import _smallest_draws_by_sorting, _smallest_draws_per_stratum, _stratum_codes, stratified_sample
from sightline.explain.surrogate import FeatureEncoder, fit_surrogate


def _lexsort_sample(strata, n: int, seed: int) -> np.ndarray:
    """stratified_sample as it was written before the fast path: every label to text, a full lexsort."""
    size = len(strata)
    rng = np.random.default_rng(seed)
    if n >= size:
        return np.arange(size)
    codes, _ = pd.factorize(pd.Series(np.asarray(strata)).astype("string").fillna("<missing>"))
    counts = np.bincount(codes)
    exact = counts * n / size
    alloc = np.floor(exact).astype(int)
    alloc = np.maximum(alloc, (counts > 0).astype(int)) if n >= len(counts) else alloc
    short = n - alloc.sum()
    if short > 0:
        alloc[np.argsort(-(exact - alloc), kind="stable")[:short]] += 1
    elif short < 0:
        alloc[np.argsort(-alloc, kind="stable")[:-short]] -= 1
    alloc = np.minimum(alloc, counts)
    order = np.lexsort((rng.random(size), codes))
    sorted_codes = codes[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(size) - starts[sorted_codes]
    return np.sort(order[rank < alloc[sorted_codes]])


def _random_strata(rng, kind: str, size: int):
    if kind == "int":
        return rng.choice([0, 1], size=size, p=[0.8, 0.2])
    if kind == "bool":
        return rng.random(size) < 0.3
    if kind == "text":
        return rng.choice(np.array(["<=50K", ">50K", "maybe"], dtype=object), size=size)
    if kind == "missing":
        return pd.Series(rng.choice([1.0, 2.0, np.nan], size=size)).to_numpy()
    if kind == "many":  # more strata than the per-stratum path takes: the sorting path
        return rng.integers(0, 60, size=size)
    if kind == "rare":
        out = np.zeros(size, dtype=np.int64)
        out[rng.choice(size, 3, replace=False)] = 7
        return out
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["int", "bool", "text", "missing", "many", "rare"])
def test_stratified_sample_equals_the_full_sort(kind):
    rng = np.random.default_rng(11)
    for trial in range(6):
        size = int(rng.integers(50, 5000))
        strata = _random_strata(rng, kind, size)
        for n in (1, 7, 50, size // 3, size - 1, size):
            seed = int(rng.integers(0, 1000))
            assert np.array_equal(stratified_sample(strata, n, seed=seed), _lexsort_sample(strata, n, seed)), (kind, size, n)


def test_stratum_codes_of_numbers_equal_those_of_their_text():
    rng = np.random.default_rng(3)
    for strata in (rng.integers(-5, 5, 1000), rng.random(1000) < 0.5, np.array([3, 1, 3, 2], dtype=np.uint8)):
        text_codes = pd.factorize(pd.Series(strata).astype("string").fillna("<missing>"))[0]
        assert np.array_equal(_stratum_codes(strata), text_codes)


def test_per_stratum_selection_breaks_tied_draws_like_the_stable_sort():
    rng = np.random.default_rng(5)
    for _ in range(50):
        size = int(rng.integers(10, 400))
        codes = rng.integers(0, 4, size)
        draws = rng.integers(0, 6, size).astype(float) / 6  # many ties
        counts = np.bincount(codes, minlength=4)
        alloc = np.array([int(rng.integers(0, c + 1)) for c in counts])
        assert np.array_equal(_smallest_draws_per_stratum(codes, draws, alloc),
                              _smallest_draws_by_sorting(codes, draws, counts, alloc))


def _text_transform(encoder: FeatureEncoder, frame: pd.DataFrame) -> np.ndarray:
    """FeatureEncoder.transform as it was written before the fast path: every row to text."""
    out = np.empty((len(frame), len(encoder.features)))
    for j, col in enumerate(encoder.features):
        if col in encoder.codes:
            out[:, j] = frame[col].astype("string").map(encoder.codes[col]).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        else:
            out[:, j] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    return out


def _mixed_frame(rng, n: int) -> pd.DataFrame:
    words = np.array(["red", "green", "blue", "grey", None], dtype=object)
    return pd.DataFrame({
        "num": rng.normal(size=n),
        "cat_text": pd.Categorical(rng.choice(words[:4], n), categories=["red", "green", "blue", "grey", "pink"]),
        "cat_missing": pd.Categorical(rng.choice(words, n)),
        "cat_int": pd.Categorical(rng.integers(0, 4, n)),
        "obj_text": rng.choice(words, n),
        "obj_mixed": pd.Series(rng.choice(np.array([1, 1.0, True, "1", "x", None], dtype=object), n), dtype=object),
        "flag": rng.random(n) < 0.4,
    })


def test_feature_encoder_lookup_equals_converting_every_row():
    rng = np.random.default_rng(8)
    fit_rows, new_rows = _mixed_frame(rng, 3000), _mixed_frame(rng, 2000)
    new_rows.loc[:5, "obj_text"] = "unseen"  # categories not seen when fitting → NaN
    new_rows["cat_text"] = new_rows["cat_text"].cat.add_categories(["violet"])
    new_rows.loc[6:9, "cat_text"] = "violet"
    encoder = FeatureEncoder(list(fit_rows.columns)).fit(fit_rows, rng.normal(size=len(fit_rows)))
    for frame in (fit_rows, new_rows, new_rows.iloc[::7], new_rows.iloc[:0]):
        np.testing.assert_array_equal(encoder.transform(frame), _text_transform(encoder, frame))


def test_surrogate_backend_equals_tree_explainer_and_surrogate_output():
    import shap
    from threadpoolctl import threadpool_limits

    from sightline.explain.backends import _SurrogateBackend

    rng = np.random.default_rng(2)
    frame = _mixed_frame(rng, 1500).drop(columns=["obj_mixed"])
    target = frame["num"] * 2 + (frame["obj_text"] == "red") + rng.normal(scale=0.1, size=len(frame))
    features = list(frame.columns)
    with threadpool_limits(limits=1):  # as explain_audit fits it: OpenMP threads crawl on a shared 2-core machine
        surrogate = fit_surrogate(frame, features, target.to_numpy(), kind="regressor", target_name="t", seed=0)
    backend = _SurrogateBackend(surrogate, features, "binary")
    rows = frame.iloc[100:400]
    values, base, output = backend.explain(rows)
    X = _text_transform(surrogate.encoder, rows)
    explainer = shap.TreeExplainer(surrogate.model)
    np.testing.assert_array_equal(values.to_numpy(), np.asarray(explainer.shap_values(X, check_additivity=False)))
    np.testing.assert_array_equal(output, surrogate.model.predict(X))
    np.testing.assert_array_equal(output, surrogate.output(rows))
    assert np.all(base == float(np.atleast_1d(explainer.expected_value)[0]))


def test_drawn_rows_is_a_bounded_seeded_aligned_subset():
    from sightline.charts.explain import drawn_rows

    rng = np.random.default_rng(4)
    values = pd.DataFrame(rng.normal(size=(1200, 3)), columns=list("abc"), index=rng.permutation(5000)[:1200])
    data = pd.DataFrame({"a": rng.random(1200), "b": rng.random(1200), "c": rng.random(1200)}, index=values.index)
    shown, shown_data = drawn_rows(values, data, max_rows=300)
    assert len(shown) == 300 and shown.index.equals(shown_data.index) and shown.index.isin(values.index).all()
    assert shown.equals(values.loc[shown.index]) and shown.index.is_unique
    assert drawn_rows(values, data, max_rows=300)[0].index.equals(shown.index)  # same seed, same rows
    assert drawn_rows(values, data, max_rows=5000)[0] is values  # small samples are drawn whole


def _confident_errors_converting_every_row(audit, n: int = 10) -> pd.DataFrame:
    """confident_errors as it was written before: ids and labels of every labelled row as text."""
    from sightline.explain.local import row_ids

    labelled = audit.labelled()
    y, pred = audit.y_true(labelled), audit.y_pred(labelled)
    ids = row_ids(audit, labelled).to_numpy()
    target, pcol = audit.spec.columns.target, audit.spec.columns.prediction
    actual = labelled[target].astype("string").to_numpy()
    shown = labelled[pcol].astype("string").to_numpy() if pcol and pcol in labelled.columns else pred.astype(str)
    if audit.spec.task == "binary":
        score = audit.y_score(labelled)
        fp, fn = np.flatnonzero((pred == 1) & (y == 0)), np.flatnonzero((pred == 0) & (y == 1))
        parts = [(fp[np.argsort(-score[fp], kind="stable")[:n]], "false positive (confident yes, actually no)"),
                 (fn[np.argsort(score[fn], kind="stable")[:n]], "false negative (confident no, actually yes)")]
    else:  # regression
        score = pred
        parts = [(np.argsort(-np.nan_to_num(np.abs(pred - y), nan=-1), kind="stable")[:n], "largest error")]
    frames = [pd.DataFrame({"id": ids[p], "kind": kind, "score": score[p], "predicted": shown[p], "actual": actual[p]})
              for p, kind in parts if len(p)]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("id_column", ["id", None])
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_confident_errors_equal_converting_every_row(id_column, task):
    from sightline.explain import confident_errors
    from tests.explain.test_explain import _audit

    rng = np.random.default_rng(9)
    n = 3000
    df = pd.DataFrame({"id": pd.Categorical([f"r{i}" for i in rng.permutation(n)]), "x1": rng.normal(size=n),
                       "group": rng.choice(["A", "B"], n)}, index=rng.permutation(10 * n)[:n])
    if task == "binary":
        df["score"] = rng.random(n).round(2)  # ties in the score: the stable order decides
        df["pred"] = np.where(df["score"] >= 0.5, "yes", "no")
        df["y"] = pd.Series(rng.choice(["yes", "no", None], n, p=[0.45, 0.45, 0.1]), index=df.index)
        audit = _audit(df, features=("x1",), id=id_column)
    else:
        df["pred"] = rng.normal(size=n)
        df["y"] = df["pred"] + rng.normal(size=n)
        audit = _audit(df, features=("x1",), task="regression", score=None, id=id_column)
    pd.testing.assert_frame_equal(confident_errors(audit, 10), _confident_errors_converting_every_row(audit, 10))
