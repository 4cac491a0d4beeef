"""ROC AUCs from one sort of the scores (sightline.stats.ranking) equal scikit-learn's
``roc_auc_score`` (0/1 labels) and the straightforward ``expected_roc_auc`` (probabilities), on
random data with and without ties, NaN scores, subsets and windows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sightline.drift.estimation import estimate_performance, expected_roc_auc, performance_by_window, realised_performance
from sightline.stats.ranking import roc_auc_ordered, score_order, subset_order, window_orders


def _scores(rng, n: int, kind: int) -> np.ndarray:
    """Distinct scores, a few ties, or mostly ties (the stable-sort fallback), some NaN."""
    s = [rng.random(n), np.where(rng.random(n) < 0.02, 0.5, rng.random(n)), rng.random(n).round(1)][kind % 3]
    s[rng.random(n) < 0.03] = np.nan
    return s


def test_score_order_is_the_stable_argsort():
    rng = np.random.default_rng(0)
    for trial in range(30):
        s = _scores(rng, int(rng.integers(1, 3000)), trial)
        want = np.argsort(s, kind="stable")
        got = score_order(s)
        scored = ~np.isnan(s[want])
        np.testing.assert_array_equal(got[scored], want[scored])  # NaN rows: last, in any order
        assert np.isnan(s[got[~scored]]).all()


def test_subset_order_is_the_order_of_the_subset():
    rng = np.random.default_rng(1)
    s = _scores(rng, 2000, 1)
    mask = rng.random(len(s)) < 0.6
    got = subset_order(score_order(s), mask)
    scored = ~np.isnan(s[mask][got])
    np.testing.assert_array_equal(got[scored], np.argsort(s[mask], kind="stable")[scored])


def test_roc_auc_from_the_score_order_equals_scikit_learn_and_expected_roc_auc():
    rng = np.random.default_rng(2)
    for trial in range(60):
        n = int(rng.integers(2, 3000))
        s = _scores(rng, n, trial)
        p = rng.random(n)
        y = (rng.random(n) < p).astype(float)
        ok = ~np.isnan(s)
        order = score_order(s)
        if 0 < y[ok].sum() < ok.sum():
            assert roc_auc_ordered(y, 1 - y, s, order, ok) == pytest.approx(roc_auc_score(y[ok], s[ok]), rel=1e-12, abs=0)
        assert roc_auc_ordered(p, 1 - p, s, order, ok) == pytest.approx(expected_roc_auc(p, s), rel=1e-12, abs=0)


def test_window_orders_give_each_windows_rows_in_score_order():
    rng = np.random.default_rng(3)
    s = _scores(rng, 3000, 2)
    w = rng.integers(-1, 7, len(s))
    for k, rows in enumerate(window_orders(score_order(s), w, 7)):
        assert sorted(rows.tolist()) == np.flatnonzero(w == k).tolist()
        assert (np.diff(s[rows][~np.isnan(s[rows])]) >= 0).all()


@pytest.mark.parametrize("kind", [0, 1, 2], ids=["distinct", "few ties", "many ties"])
def test_performance_by_window_aucs_equal_scikit_learn_and_expected_roc_auc(kind):
    rng = np.random.default_rng(10 + kind)
    n, n_w = 8000, 6
    s = _scores(rng, n, kind)
    p = np.clip(np.nan_to_num(s, nan=0.5) + rng.normal(0, 0.05, n), 0.001, 0.999)
    y = (rng.random(n) < p).astype(float)
    y[rng.random(n) < 0.3] = np.nan               # labels not arrived
    w = rng.integers(-1, n_w, n)
    y[w == 4] = np.nan                            # a window without labels
    y[(w == 5) & ~np.isnan(y)] = 1.0              # a window with one class only
    pred = (p >= 0.5).astype(float)
    table = performance_by_window(y, pred, s, p, w, n_w)
    for k in range(n_w):
        good = (w == k) & ~np.isnan(s)
        li = good & ~np.isnan(y)
        if k in (4, 5):
            assert np.isnan(table.loc[k, "roc_auc"])
        else:
            assert table.loc[k, "roc_auc"] == pytest.approx(roc_auc_score(y[li], s[li]), rel=1e-12, abs=0)
        assert table.loc[k, "est_roc_auc"] == pytest.approx(expected_roc_auc(p[good], s[good]), rel=1e-12, abs=0)


def test_performance_given_the_score_order_equals_performance_without_it():
    rng = np.random.default_rng(20)
    s = _scores(rng, 5000, 1)
    p = np.clip(np.nan_to_num(s, nan=0.5), 0.001, 0.999)
    y = (rng.random(len(s)) < p).astype(int)
    pred = (p >= 0.5).astype(int)
    mask = rng.random(len(s)) < 0.7
    by_score = subset_order(score_order(s), mask)
    assert realised_performance(y[mask], pred[mask], s[mask], order=by_score) == realised_performance(y[mask], pred[mask], s[mask])
    with_order = estimate_performance(p[mask], pred[mask], s[mask], order=by_score)
    alone = estimate_performance(p[mask], pred[mask], s[mask])
    assert with_order.pop("roc_auc") == pytest.approx(alone.pop("roc_auc"), rel=1e-12, abs=0)
    assert with_order == alone
    ok = ~np.isnan(s[mask])
    assert realised_performance(y[mask], pred[mask], s[mask])["roc_auc"] == pytest.approx(
        roc_auc_score(y[mask][ok], s[mask][ok]), rel=1e-12, abs=0)


def test_performance_by_window_counts_equal_a_window_by_window_loop():
    rng = np.random.default_rng(30)
    n, n_w = 5000, 5
    s = _scores(rng, n, 0)
    p = np.where(rng.random(n) < 0.02, np.nan, rng.random(n))
    y = np.where(rng.random(n) < 0.3, np.nan, (rng.random(n) < 0.4).astype(float))
    pred = np.where(rng.random(n) < 0.01, np.nan, (rng.random(n) < 0.5).astype(float))
    w = rng.integers(-1, n_w, n)
    table = performance_by_window(y, pred, s, p, w, n_w)
    for k in range(n_w):
        m = w == k
        lab = m & ~np.isnan(y)
        tp, fp = (lab & (y == 1) & (pred == 1)).sum(), (lab & (y == 0) & (pred == 1)).sum()
        fn = (lab & (y == 1) & (pred == 0)).sum()
        ok = m & ~np.isnan(p) & ~np.isnan(pred)
        assert table.loc[k, "rows"] == m.sum() and table.loc[k, "labelled"] == lab.sum()
        assert table.loc[k, "accuracy"] == (lab.sum() - fp - fn) / lab.sum()
        assert (table.loc[k, "precision"], table.loc[k, "recall"]) == (tp / (tp + fp), tp / (tp + fn))
        assert table.loc[k, "est_accuracy"] == pytest.approx(np.where(pred == 1, p, 1 - p)[ok].sum() / ok.sum(), rel=1e-12)
        assert table.loc[k, "expected_positive_rate_labelled"] == pytest.approx(p[ok & lab].mean(), rel=1e-12)
        assert table.loc[k, "mean_score"] == pytest.approx(np.nanmean(s[m]), rel=1e-12)
