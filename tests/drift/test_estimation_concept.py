"""The concept-drift search grouped by distinct score equals the row-by-row one (and the label-shift
solve equals scipy's root finder): grouping only changes the order of the sums."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit, logit

from sightline.drift.concept import base_rate_shift, concept_drift_segments, grouped_shift


def _few_scores(n: int, seed: int, distinct: int = 300):
    """Calibrated scores with few distinct values (as isotonic calibration leaves them), labels ~ Bernoulli."""
    rng = np.random.default_rng(seed)
    levels = np.clip(rng.beta(0.8, 2.0, distinct), 1e-3, 1 - 1e-3)
    p = levels[rng.integers(0, distinct, n)]
    return p, (rng.random(n) < p).astype(float), rng


def test_grouped_shift_equals_the_row_by_row_solve_and_scipys_root():
    p, y, rng = _few_scores(60_000, 1)
    windows = rng.integers(-1, 6, len(p))      # -1: outside every window
    y[rng.random(len(p)) < 0.2] = np.nan       # labels not arrived
    y[windows == 4] = 1.0                      # a window of one class: clipped at +10
    windows[windows == 5] = 3                  # window 5 left empty: NaN
    rows = base_rate_shift(y, p, windows, 6)
    keep = (windows >= 0) & ~np.isnan(y)
    values, code = np.unique(p[keep], return_inverse=True)
    counts = np.zeros((6, len(values)))
    np.add.at(counts, (windows[keep], code), 1)
    grouped = grouped_shift(counts, logit(np.clip(values, 1e-6, 1 - 1e-6))[None, :],
                            np.bincount(windows[keep], weights=y[keep], minlength=6))
    np.testing.assert_allclose(grouped, rows, rtol=1e-12, atol=1e-12)
    assert np.isnan(rows[5]) and rows[4] == 10.0
    for w in (0, 1, 2, 3):
        m = keep & (windows == w)
        root = brentq(lambda t: expit(logit(p[m]) + t).sum() - y[m].sum(), -10, 10, xtol=1e-14)
        assert rows[w] == pytest.approx(root, abs=1e-10)


@pytest.mark.parametrize("seed", [3, 4])
def test_concept_drift_segments_grouped_equals_row_by_row(seed):
    n = 50_000
    p, y, rng = _few_scores(n, seed)
    windows = rng.integers(-1, 4, n)
    seg = rng.integers(0, 5, n)
    hit = (seg == 1) & (windows == 2) & (y == 0) & (rng.random(n) < 0.4)   # a planted concept drift
    y = np.where(hit, 1.0, y)
    y[rng.random(n) < 0.15] = np.nan
    p[rng.random(n) < 0.01] = np.nan
    p_ref, y_ref, _ = _few_scores(20_000, seed + 10, distinct=80)
    seg_ref = rng.integers(0, 5, 20_000)
    seg2, seg2_ref = rng.integers(0, 3, n), rng.integers(0, 3, 20_000)
    args = (y, p, windows, 4, {"f": (seg, list("abcde")), "g": (seg2, list("xyz"))}, y_ref, p_ref,
            {"f": seg_ref, "g": seg2_ref})
    grouped = concept_drift_segments(*args, grouped=True)
    rows = concept_drift_segments(*args, grouped=False)
    key = ["window", "feature", "segment"]
    a, b = grouped.sort_values(key).reset_index(drop=True), rows.sort_values(key).reset_index(drop=True)
    assert a[key + ["n", "significant"]].equals(b[key + ["n", "significant"]])
    assert a["significant"].any()
    for col in ("observed_rate", "score_rate", "expected_rate", "excess", "z"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-11, atol=1e-12, err_msg=col)
    assert grouped.attrs["z_bound"] == rows.attrs["z_bound"]
    # the default picks the grouped path on this data
    auto = concept_drift_segments(*args)
    np.testing.assert_array_equal(auto.sort_values(key)["z"].to_numpy(), a["z"].to_numpy())
