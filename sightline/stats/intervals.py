"""Confidence intervals shared by every area.

Wilson intervals for proportions (accuracy, rates, precision…: a count of successes out of
n), percentile bootstrap for statistics without a closed form (ROC AUC, PR AUC, ECE…).
Intervals are 95% unless ``confidence`` says otherwise.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.stats import norm

# The two-sided 95% normal quantile, norm.ppf(0.975), shared by every normal-approximation interval.
Z95 = 1.959963984540054


def wilson_interval(successes, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion, vectorised.

    Inputs: success counts and trial counts (scalars or arrays), the confidence level.
    Output: (lower, upper) arrays in [0, 1]; NaN where n == 0.
    """
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        lower, upper = centre - half, centre + half
    bad = n <= 0
    lower = np.where(bad, np.nan, np.clip(lower, 0, 1))
    upper = np.where(bad, np.nan, np.clip(upper, 0, 1))
    return lower, upper


def bootstrap_interval(
    statistic: Callable[..., float],
    *arrays: np.ndarray,
    n_resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(*arrays)`` resampling rows with replacement.

    Inputs: the statistic, aligned arrays, the number of resamples (bounded: cost grows
    linearly), confidence, seed (results are reproducible). Output: (lower, upper); NaN when
    fewer than half the resamples give a finite value (e.g. one class only).
    """
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    if n == 0:
        return float("nan"), float("nan")
    values = []
    for _ in range(n_resamples):
        idx = rng.integers(0, n, n)
        try:
            v = statistic(*(a[idx] for a in arrays))
        except ValueError:  # e.g. a resample with one class for ROC AUC
            continue
        if np.isfinite(v):
            values.append(v)
    if len(values) < n_resamples / 2:
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha))
