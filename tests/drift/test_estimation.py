"""Label-free estimation (CBPE-style) and the per-window outcome checks, against scikit-learn,
hand counts and simulated data whose truth is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from sightline.drift.concept import base_rate_shift, concept_drift_segments
from sightline.drift.estimation import (
    estimate_performance,
    expected_roc_auc,
    fit_calibrator,
    performance_by_window,
    realised_performance,
    score_outcome_by_window,
)
from sightline.stats.reliability import expected_calibration_error


def _calibrated(n: int, seed: int):
    """Scores drawn from a Beta, labels ~ Bernoulli(score): calibrated by construction."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.8, 2.0, n)
    y = (rng.random(n) < p).astype(int)
    return p, y


def test_label_free_estimate_matches_realised_performance_on_calibrated_data():
    p, y = _calibrated(200_000, 1)
    pred = (p >= 0.5).astype(int)
    est = estimate_performance(p, pred, p)
    assert est["accuracy"] == pytest.approx(accuracy_score(y, pred), abs=0.005)
    assert est["precision"] == pytest.approx(precision_score(y, pred), abs=0.01)
    assert est["recall"] == pytest.approx(recall_score(y, pred), abs=0.01)
    assert est["f1"] == pytest.approx(f1_score(y, pred), abs=0.01)
    assert est["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=0.005)
    assert est["positive_rate"] == pytest.approx(y.mean(), abs=0.005)
    assert est["accuracy_lower"] <= accuracy_score(y, pred) <= est["accuracy_upper"]


def test_accuracy_range_covers_realised_accuracy_about_95_percent_of_the_time():
    hits = 0
    for seed in range(200):
        p, y = _calibrated(2_000, 100 + seed)
        pred = (p >= 0.5).astype(int)
        est = estimate_performance(p, pred, p)
        hits += est["accuracy_lower"] <= accuracy_score(y, pred) <= est["accuracy_upper"]
    assert 0.90 <= hits / 200 <= 0.99


def test_estimate_recovers_performance_of_miscalibrated_scores_after_reference_calibration():
    # The model's raw score is p**2 (over-confident towards 0); labels follow p. Calibrating on a
    # reference sample from the same process fixes the estimate; the raw scores would not.
    p_ref, y_ref = _calibrated(50_000, 2)
    p_cur, y_cur = _calibrated(50_000, 3)
    raw_ref, raw_cur = p_ref**2, p_cur**2
    cal = fit_calibrator(y_ref, raw_ref)
    assert cal.method == "isotonic" and cal.n == 50_000
    assert expected_calibration_error(y_ref, raw_ref) > 0.1
    assert expected_calibration_error(y_ref, cal(raw_ref)) < 0.01
    pred = (raw_cur >= 0.5).astype(int)
    est = estimate_performance(cal(raw_cur), pred, raw_cur)
    assert est["accuracy"] == pytest.approx(accuracy_score(y_cur, pred), abs=0.01)
    assert est["roc_auc"] == pytest.approx(roc_auc_score(y_cur, raw_cur), abs=0.01)
    naive = estimate_performance(raw_cur, pred, raw_cur)
    assert abs(naive["accuracy"] - accuracy_score(y_cur, pred)) > 0.02


def test_calibrator_falls_back_to_raw_scores_without_enough_labels():
    cal = fit_calibrator([1, 0, 1], [0.9, 0.2, 0.7])
    assert cal.method == "none" and "3 labelled rows" in cal.reason
    assert np.allclose(cal([0.1, 0.5]), [0.1, 0.5])


def test_expected_roc_auc_with_certain_labels_is_the_roc_auc():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 500)
    score = np.round(rng.random(500), 1)  # many ties
    assert expected_roc_auc(y.astype(float), score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_realised_performance_matches_scikit_learn():
    p, y = _calibrated(3_000, 5)
    pred = (p >= 0.4).astype(int)
    got = realised_performance(y, pred, p)
    assert got["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert got["f1"] == pytest.approx(f1_score(y, pred))
    assert got["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert got["precision"] == pytest.approx(precision_score(y, pred))
    assert got["recall"] == pytest.approx(recall_score(y, pred))
    assert got["positive_rate"] == pytest.approx(y.mean())


@pytest.mark.parametrize("y, pred", [
    ([0, 0, 0, 0], [0, 0, 0, 0]),   # no positives at all: precision, recall, F1 undefined
    ([1, 1, 0, 0], [0, 0, 0, 0]),   # nothing predicted positive: precision undefined
    ([0, 0, 0, 0], [1, 0, 1, 0]),   # no true positives to recall
    ([1, 0, 1, 1], [1, 0, 0, 1]),
])
def test_realised_performance_matches_scikit_learn_at_the_edges(y, pred):
    y, pred = np.array(y), np.array(pred)
    got = realised_performance(y, pred, np.linspace(0.1, 0.9, len(y)))
    for name, func in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        expected = func(y, pred, zero_division=np.nan)
        assert (np.isnan(got[name]) and np.isnan(expected)) or got[name] == pytest.approx(expected), name
    assert got["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert np.isnan(got["roc_auc"]) == (len(np.unique(y)) < 2)


def test_performance_by_window_matches_scikit_learn_per_window():
    p, y = _calibrated(6_000, 6)
    windows = np.repeat(np.arange(3), 2_000)
    y_obs = y.astype(float)
    y_obs[windows == 2] = np.nan  # the last window has no labels yet
    pred = (p >= 0.5).astype(int)
    table = performance_by_window(y_obs, pred, p, p, windows, 3)
    for w in (0, 1):
        m = windows == w
        assert table.loc[w, "accuracy"] == pytest.approx(accuracy_score(y[m], pred[m]))
        assert table.loc[w, "precision"] == pytest.approx(precision_score(y[m], pred[m]))
        assert table.loc[w, "recall"] == pytest.approx(recall_score(y[m], pred[m]))
        assert table.loc[w, "roc_auc"] == pytest.approx(roc_auc_score(y[m], p[m]))
        assert table.loc[w, "coverage"] == 1.0
    assert table.loc[2, "coverage"] == 0 and np.isnan(table.loc[2, "accuracy"])
    m = windows == 2
    assert table.loc[2, "est_accuracy"] == pytest.approx(np.mean(np.where(pred[m] == 1, p[m], 1 - p[m])))
    assert table.loc[2, "est_accuracy"] == pytest.approx(accuracy_score(y[m], pred[m]), abs=0.03)


def test_score_outcome_by_window_by_hand():
    y = np.array([1, 0, 1, 1, np.nan])
    s = np.array([0.15, 0.12, 0.95, 0.91, 0.5])
    w = np.array([0, 0, 0, 1, 1])
    table = score_outcome_by_window(y, s, w, 2)
    rows = {(r.window, round(r.bin_lower, 1)): r for r in table.itertuples()}
    assert rows[(0, 0.1)].count == 2 and rows[(0, 0.1)].fraction_positive == pytest.approx(0.5)
    assert rows[(0, 0.9)].count == 1 and rows[(1, 0.9)].count == 1
    assert len(table) == 3  # the unlabelled row counts nowhere
    # a score on an edge belongs to the bin below, as in scikit-learn's calibration_curve
    edge = score_outcome_by_window(np.array([1.0, 0.0]), np.array([0.1, 1.0]), np.array([0, 0]), 1)
    assert edge["bin_lower"].tolist() == pytest.approx([0.0, 0.9])


def test_base_rate_shift_recovers_a_uniform_odds_change():
    p, _ = _calibrated(100_000, 7)
    rng = np.random.default_rng(8)
    windows = np.repeat([0, 1], 50_000)
    shift = np.where(windows == 1, 0.7, 0.0)
    y = (rng.random(100_000) < expit(logit(np.clip(p, 1e-6, 1 - 1e-6)) + shift)).astype(float)
    t = base_rate_shift(y, p, windows, 2)
    assert t[0] == pytest.approx(0.0, abs=0.05)
    assert t[1] == pytest.approx(0.7, abs=0.05)


def test_concept_drift_segments_finds_the_segment_whose_outcomes_changed_and_nothing_else():
    n = 40_000
    rng = np.random.default_rng(9)
    p, y = _calibrated(n, 10)
    seg = rng.integers(0, 4, n)                  # one feature with four segments
    windows = rng.integers(0, 4, n)
    hit = (seg == 2) & (windows == 3) & (y == 0)
    flip = hit & (rng.random(n) < 0.35)          # concept drift: 35% of the segment's negatives turn positive
    y_drift = np.where(flip, 1, y).astype(float)
    p_ref, y_ref = _calibrated(20_000, 11)
    seg_ref = rng.integers(0, 4, 20_000)
    labels = ["a", "b", "c", "d"]
    table = concept_drift_segments(y_drift, p, windows, 4, {"f": (seg, labels)}, y_ref.astype(float), p_ref, {"f": seg_ref})
    sig = table[table["significant"]]
    assert len(sig) >= 1
    assert set(zip(sig["window"], sig["segment"])) == {(3, "c")}
    stable = concept_drift_segments(y.astype(float), p, windows, 4, {"f": (seg, labels)}, y_ref.astype(float), p_ref, {"f": seg_ref})
    assert not stable["significant"].any()


def test_concept_drift_segments_discounts_a_uniform_label_shift():
    # Every segment's odds double in window 1 (pure label shift): no segment stands out.
    n = 40_000
    rng = np.random.default_rng(12)
    p, _ = _calibrated(n, 13)
    seg = rng.integers(0, 3, n)
    windows = rng.integers(0, 2, n)
    y = (rng.random(n) < expit(logit(np.clip(p, 1e-6, 1 - 1e-6)) + np.where(windows == 1, np.log(2), 0))).astype(float)
    p_ref, y_ref = _calibrated(20_000, 14)
    table = concept_drift_segments(y, p, windows, 2, {"f": (seg, ["a", "b", "c"])}, y_ref.astype(float), p_ref,
                                   {"f": rng.integers(0, 3, 20_000)})
    assert not table["significant"].any()
    # ... while the plain observed-minus-score gap of window 1 is large
    m = windows == 1
    assert y[m].mean() - p[m].mean() > 0.05


def test_estimate_of_nothing_is_nan_not_an_error():
    est = estimate_performance([], [], [])
    assert est["n"] == 0 and np.isnan(est["accuracy"])
    assert np.isnan(expected_roc_auc([1.0, 1.0], [0.2, 0.3]))  # no negative mass
    assert pd.isna(expected_calibration_error([], []))
