"""Tests of many groups at once: is a group's mean error worse than the rest's, and
Benjamini–Hochberg adjustment over thousands of such tests (the slice finder runs both on every
slice it examines)."""

from __future__ import annotations

import numpy as np

EXACT_BELOW = 10               # expected errors under which the exact test replaces the z-test


def p_worse_than_rest(n, err, err_sq, n_total, err_total, sq_total, binary: bool, small: str = "binomial") -> np.ndarray:
    """One-sided p-values that each slice's mean error exceeds the rest's (the rest = total − slice).

    0/1 errors: pooled two-proportion z-test; where the slice expects fewer than
    :data:`EXACT_BELOW` errors (or non-errors) the normal approximation is poor and an exact
    test is used instead — ``small="binomial"``: exact binomial test of the slice's errors
    against the rest's error rate (vectorised; fine when the rest is much larger, as it is for
    small slices of the whole data), ``"fisher"``: Fisher's exact test (hypergeometric tail;
    a Python loop, for the few follow-up tests). Other errors: Welch z-test on the means.
    """
    from scipy.stats import binom, norm

    n, err, sq, n_total, err_total, sq_total = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(x, dtype=float)) for x in (n, err, err_sq, n_total, err_total, sq_total)))
    rest_n = n_total - n
    with np.errstate(invalid="ignore", divide="ignore"):
        m1, m2 = err / n, (err_total - err) / rest_n
        if binary:
            pooled = err_total / n_total
            z = (m1 - m2) / np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / rest_n))
        else:
            v1 = (sq - n * m1**2) / (n - 1)
            v2 = (sq_total - sq - rest_n * m2**2) / (rest_n - 1)
            z = (m1 - m2) / np.sqrt(np.clip(v1, 0, None) / n + np.clip(v2, 0, None) / rest_n)
        p = np.where(np.isfinite(z), norm.sf(z), np.where(m1 > m2, 0.0, 1.0))
        if binary:
            exact = (np.minimum(n * pooled, n * (1 - pooled)) < EXACT_BELOW) & (n > 0) & (rest_n > 0)
            if exact.any() and small == "fisher":
                from scipy.stats import hypergeom

                # P(X >= err): n rows drawn from n_total rows holding err_total errors.
                p[exact] = hypergeom.sf(err[exact] - 1, n_total[exact], err_total[exact], n[exact])
            elif exact.any():
                p[exact] = binom.sf(err[exact] - 1, n[exact], m2[exact])
    return np.clip(p, 0, 1)


def bh_adjusted_below(p: np.ndarray, threshold: float) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values, exact (as ``scipy.stats.false_discovery_control``
    computes them) wherever the adjusted value is at most ``threshold``; elsewhere ``inf``.

    Only p-values at most ``threshold`` can be adjusted to at most ``threshold`` (the adjustment
    never lowers a p-value), and they are the smallest, so only they are sorted: with hundreds
    of thousands of slices examined and a few percent below the threshold, that is most of the
    sorting saved. A larger p-value's term, p·m/j > threshold, never decides an adjusted value
    that is at most ``threshold``.
    """
    p = np.asarray(p, dtype=float)
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("`ps` must include only numbers between 0 and 1.")
    if len(p) <= 1:
        return p.copy()
    out = np.full(len(p), np.inf)
    small = np.flatnonzero(p <= threshold)
    if not len(small):
        return out
    order = small[np.argsort(p[small])]
    i = np.arange(1, len(order) + 1, dtype=float)
    adjusted = p[order] * (len(p) / i)  # the same operations as scipy, in the same order
    np.minimum.accumulate(adjusted[::-1], out=adjusted[::-1])
    out[order] = np.clip(adjusted, 0.0, 1.0)
    out[out > threshold] = np.inf
    return out
