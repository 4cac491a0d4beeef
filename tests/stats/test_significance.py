"""Many-group tests (sightline.stats.significance) against scipy."""

from __future__ import annotations

import numpy as np
from scipy.stats import binom, false_discovery_control, norm, ttest_ind

from sightline.stats.significance import bh_adjusted_below, p_worse_than_rest


def test_bh_below_threshold_equals_scipy():
    """Adjusting only the p-values at most the threshold gives scipy's Benjamini–Hochberg values
    for every p-value it adjusts to at most the threshold, and says 'above' for the others."""
    rng = np.random.default_rng(5)
    for trial in range(60):
        m = int(rng.integers(2, 3_000))
        p = rng.random(m) ** rng.uniform(0.2, 5)
        if trial % 3 == 0:
            p = np.round(p, 2)  # ties
        p[rng.random(m) < 0.2] = 1.0
        threshold = [0.01, 0.2, 0.5, 1.0][trial % 4]
        want, got = false_discovery_control(p, method="bh"), bh_adjusted_below(p, threshold)
        below = want <= threshold
        np.testing.assert_array_equal(got[below], want[below])
        assert (got[~below] > threshold).all()


def test_p_worse_than_rest_equals_scipy_tests():
    rng = np.random.default_rng(8)
    errors = (rng.random(5_000) < 0.2).astype(float)
    in_slice = rng.random(5_000) < 0.1
    errors[in_slice] = (rng.random(in_slice.sum()) < 0.3)
    n, err = in_slice.sum(), errors[in_slice].sum()
    p = p_worse_than_rest(n, err, err, len(errors), errors.sum(), errors.sum(), binary=True)[0]
    rest = errors[~in_slice]
    pooled = errors.mean()
    z = (errors[in_slice].mean() - rest.mean()) / np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / len(rest)))
    assert p == np.clip(norm.sf(z), 0, 1)
    # a slice expecting fewer than 10 errors: the exact binomial test against the rest's rate
    small = np.flatnonzero(in_slice)[:20]
    mask = np.zeros(len(errors), bool)
    mask[small] = True
    k = errors[mask].sum()
    got = p_worse_than_rest(20, k, k, len(errors), errors.sum(), errors.sum(), binary=True)[0]
    assert got == binom.sf(k - 1, 20, errors[~mask].mean())
    # continuous errors: Welch's z on the means (large samples: equal to Welch's t test's p to 1e-3)
    e = np.abs(rng.normal(size=5_000)) + in_slice * 0.05
    p = p_worse_than_rest(n, e[in_slice].sum(), (e[in_slice] ** 2).sum(), len(e), e.sum(), (e ** 2).sum(), binary=False)[0]
    assert abs(p - ttest_ind(e[in_slice], e[~in_slice], equal_var=False, alternative="greater").pvalue) < 1e-3
