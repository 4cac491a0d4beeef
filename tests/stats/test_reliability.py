"""The one reliability binning and calibration error, against scikit-learn's calibration_curve
and hand counts."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from sightline.stats import reliability as R
from sightline.stats.bootstrap import resample_weights


@pytest.fixture
def probs():
    rng = np.random.default_rng(0)
    p = rng.beta(1.5, 3, 4000)
    p[:8] = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]  # values on bin edges go where scikit-learn puts them
    y = (rng.random(4000) < p**1.3).astype(int)  # a little over-confident
    return y, p


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [2, 5, 10, 15])
def test_reliability_table_matches_calibration_curve(probs, strategy, n_bins):
    y, p = probs
    table = R.reliability_table(y, p, n_bins=n_bins, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    np.testing.assert_allclose(table["fraction_positive"], prob_true, rtol=1e-12)
    np.testing.assert_allclose(table["mean_predicted"], prob_pred, rtol=1e-12)
    assert table["count"].sum() == len(y)
    assert list(table.columns) == list(R.RELIABILITY_COLUMNS)
    # counts per bin, independently: np.digitize with right-closed bins (lower, upper]
    edges = np.linspace(0, 1, n_bins + 1) if strategy == "uniform" else np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    ids = np.digitize(p, edges[1:-1], right=True)
    counts = np.bincount(ids, minlength=n_bins)
    assert table["count"].tolist() == counts[counts > 0].tolist()


def test_edge_scores_fall_in_the_bin_below_and_one_in_the_last():
    p = np.array([0.0, 0.1, 0.5, 0.95, 1.0])
    np.testing.assert_array_equal(R.bin_ids(p, R.bin_edges(p, n_bins=10)), [0, 0, 4, 9, 9])


def test_ece_and_mce_hand_counted():
    y = [0, 1, 0, 1, 1]
    p = [0.1, 0.1, 0.3, 0.8, 0.9]
    # bins [0, .5] and (.5, 1]: the first holds .1 .1 .3 (mean 1/6, 1 of 3 came true), the second .8 .9 (mean .85, 2 of 2)
    gap0, gap1 = abs(1 / 3 - 1 / 6), abs(1.0 - 0.85)
    assert R.expected_calibration_error(y, p, n_bins=2) == pytest.approx(3 / 5 * gap0 + 2 / 5 * gap1, abs=1e-15)
    assert R.maximum_calibration_error(y, p, n_bins=2) == pytest.approx(max(gap0, gap1), abs=1e-15)
    # ten bins: .1 .1 in bin 0 (right-closed), .3 in bin 2, .8 in bin 7, .9 in bin 8
    want = (2 * abs(0.5 - 0.1) + abs(0 - 0.3) + abs(1 - 0.8) + abs(1 - 0.9)) / 5
    assert R.expected_calibration_error(y, p, n_bins=10) == pytest.approx(want, abs=1e-15)


def test_ece_from_sums_equals_the_table_and_handles_empty():
    rng = np.random.default_rng(3)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(float)
    edges = R.bin_edges(p, n_bins=12)
    count, pos, prob = R.bin_sums(y, p, R.bin_ids(p, edges), 12)
    ece, mce = R.calibration_errors(count, pos, prob)
    assert (float(ece[0]), float(mce[0])) == pytest.approx(R.errors_from_table(R.reliability_table(y, p, n_bins=12)), abs=1e-15)
    assert all(np.isnan(v) for v in R.calibration_errors(np.zeros(3), np.zeros(3), np.zeros(3)))
    assert np.isnan(R.expected_calibration_error([], []))
    # missing outcomes or scores are left out
    y_nan, p_nan = np.r_[y, np.nan, 1.0], np.r_[p, 0.4, np.nan]
    assert R.expected_calibration_error(y_nan, p_nan, n_bins=12) == R.expected_calibration_error(y, p, n_bins=12)
    with pytest.raises(ValueError, match="outside"):
        R.reliability_table([0, 1], [0.5, 1.2])


def test_grouped_sums_equal_each_group_alone():
    rng = np.random.default_rng(5)
    p = np.round(rng.random(2000), 2)
    y = (rng.random(2000) < p).astype(float)
    codes = rng.integers(0, 4, 2000)
    edges = R.bin_edges(p, n_bins=10)
    ids = R.bin_ids(p, edges)
    rows = R.reliability_rows(*R.bin_sums(y, p, ids, 10, codes, 4), edges)
    for g in range(4):
        mine = rows[rows["group"] == g].drop(columns="group").reset_index(drop=True)
        alone = R.reliability_table(y[codes == g], p[codes == g], edges=edges)
        assert mine.equals(alone)  # bit for bit: sums run in row order


@pytest.mark.parametrize("seed", range(3))
def test_resampled_errors_equal_weighted_sums_and_repeated_rows(seed):
    """ECE/MCE under bootstrap weights count positives and rows in one bincount: bit for bit
    the three separate weighted bincounts, and the plain ECE of the rows repeated by weight."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(20, 800)), int(rng.integers(2, 15))
    p = np.round(rng.random(n), 2)
    y = (rng.random(n) < p).astype(float)
    edges = R.bin_edges(p, n_bins=k)
    ids = R.bin_ids(p, edges)
    stats = R.resampled_calibration_errors(y, p, ids, k)
    for w in resample_weights(n, 30, seed, chunk=13):
        got = stats(w)
        count, pos, prob = (R.resampled_bin_sums(w, ids, k), R.resampled_bin_sums(w, ids, k, y),
                            R.resampled_bin_sums(w, ids, k, p))
        ece, mce = R.calibration_errors(count, pos, prob)
        np.testing.assert_array_equal(got["expected_calibration_error"], ece)
        np.testing.assert_array_equal(got["maximum_calibration_error"], mce)
        dense = R.resampled_calibration_errors(y, p, ids, k, dense=True)(w.astype(np.float32))
        np.testing.assert_allclose(dense["expected_calibration_error"], ece, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(dense["maximum_calibration_error"], mce, rtol=1e-12, atol=1e-15)
        rows = np.repeat(np.arange(n), w[0].astype(int))
        ece, mce = R.errors_from_table(R.reliability_table(y[rows], p[rows], edges=edges))
        assert got["expected_calibration_error"][0] == pytest.approx(ece, abs=1e-12)
        assert got["maximum_calibration_error"][0] == pytest.approx(mce, abs=1e-12)
