"""Chance variation of the calibration error.

:func:`calibration_noise` simulates the ECE a perfectly calibrated model would show on given
predictions; :func:`consistency_p_value` compares an observed ECE with it. Predictions are
binned by bin id (:func:`sightline.stats.reliability.bin_ids`), which callers compute once and
pass along; the ECE itself is :func:`sightline.stats.reliability.calibration_errors`.
"""

from __future__ import annotations

import numpy as np

from sightline.stats.bootstrap import BOOTSTRAP_MAX_ROWS
from sightline.stats.reliability import bin_ids, calibration_errors

SIM_CHUNK = 25  # simulated outcome draws per block (memory: SIM_CHUNK × rows)


def calibration_noise(y_prob, edges: np.ndarray, *, n_sim: int = 200, max_rows: int = BOOTSTRAP_MAX_ROWS,
                      seed: int = 0, ids: np.ndarray | None = None) -> np.ndarray:
    """ECE values a perfectly calibrated model would show on these predictions by chance.

    Outcomes are drawn as Bernoulli(p) for every prediction p (so the model is calibrated by
    construction) ``n_sim`` times, and each draw's ECE is computed with the same bins. ECE is
    biased upward on few rows (a perfectly calibrated model on 100 rows shows ECE ≈ 0.05), so an
    observed ECE means little until compared with this floor. On more than ``max_rows`` rows a
    random sample is simulated and the values are scaled by sqrt(sample / rows), as the chance
    ECE shrinks with the square root of the row count. ``ids``: the predictions' bin ids when
    already known (else computed from ``edges``).
    Output: the ``n_sim`` simulated ECE values.
    """
    y_prob = np.asarray(y_prob, dtype=float)
    n = len(y_prob)
    if n == 0:
        return np.array([])
    rng = np.random.default_rng(seed)
    sample = None if n <= max_rows else rng.choice(n, max_rows, replace=False)
    p = y_prob if sample is None else y_prob[sample]
    if ids is None:
        ids = bin_ids(p, edges)
    elif sample is not None:
        ids = np.asarray(ids)[sample]
    k = len(edges) - 1
    count = np.bincount(ids, minlength=k)
    prob = np.bincount(ids, weights=p, minlength=k)
    # Positives per bin as a float32 product with the bins' one-hot matrix: the sums are whole
    # numbers below 2**24, exact in any order, so they equal a bincount of the draws bit for bit.
    one_hot = np.zeros((len(p), k), dtype=np.float32 if len(p) < 2**24 else np.float64)
    one_hot[np.arange(len(p)), ids] = 1.0
    out = []
    for start in range(0, n_sim, SIM_CHUNK):
        draws = rng.random((min(SIM_CHUNK, n_sim - start), len(p))) < p
        positives = (draws.astype(one_hot.dtype) @ one_hot).astype(np.float64)
        out.append(calibration_errors(count, positives, prob)[0])
    return np.concatenate(out) * np.sqrt(len(p) / n)


def consistency_p_value(ece: float, noise: np.ndarray) -> float:
    """Share of chance ECE values at least as large as the observed one ((1 + count) / (1 + n_sim)):
    small means the miscalibration is more than noise."""
    if len(noise) == 0 or not np.isfinite(ece):
        return float("nan")
    return float((1 + np.sum(noise >= ece)) / (1 + len(noise)))
