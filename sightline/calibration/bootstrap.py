"""Chance and bootstrap variation of calibration errors (re-exported by :mod:`sightline.calibration.section`).

:func:`calibration_noise` simulates the ECE a perfectly calibrated model would show on given
predictions; :func:`consistency_p_value` compares an observed ECE with it;
:func:`weighted_errors` gives ECE and MCE under bootstrap count weights (for
:func:`sightline.performance.section.bootstrap_intervals`). Predictions are binned by bin id (see
:func:`sightline.calibration.section.bin_ids`), which callers compute once and pass along.
"""

from __future__ import annotations

import numpy as np

from sightline.stats.bootstrap import BOOTSTRAP_MAX_ROWS
from sightline.stats.reliability import bin_ids

SIM_CHUNK = 25  # simulated outcome draws per block (memory: SIM_CHUNK × rows)


def bin_sums(weights: np.ndarray, ids: np.ndarray, k: int, values: np.ndarray | None = None) -> np.ndarray:
    """Per-resample, per-bin sums of ``weights`` (b × n) times ``values`` (n,): a (b, k) array.
    One bincount over resample-offset bin ids (single-threaded and linear; a dense one-hot
    matrix product was slower on a busy machine)."""
    b = weights.shape[0]
    offsets = (np.arange(b)[:, None] * k + ids[None, :]).ravel()
    w = weights if values is None else weights * values
    return np.bincount(offsets, weights=w.ravel(), minlength=b * k).reshape(b, k)


def weighted_errors(y_true: np.ndarray, y_prob: np.ndarray, ids: np.ndarray, k: int):
    """ECE and MCE under bootstrap count weights (see :func:`sightline.performance.section.bootstrap_intervals`).

    Inputs: outcomes, probabilities, their bin ids (0 … k − 1), k. Output: a function of a
    (b × n) count-weight matrix returning ``expected_calibration_error`` and
    ``maximum_calibration_error``, each (b,)."""

    # With 0/1 outcomes the counts split by outcome come from one bincount over 2k cells: sums of
    # whole numbers, exact in any order. The probability sums are floats and keep bin_sums' order.
    binary = bool(np.all((y_true == 0) | (y_true == 1)))
    cells = ids + k * (y_true == 1) if binary else None

    def stats(w: np.ndarray) -> dict[str, np.ndarray]:
        if binary:
            by_outcome = bin_sums(w, cells, 2 * k)
            pos = by_outcome[:, k:]
            count = by_outcome[:, :k] + pos
        else:
            count, pos = bin_sums(w, ids, k), bin_sums(w, ids, k, y_true)
        prob = bin_sums(w, ids, k, y_prob)
        with np.errstate(invalid="ignore", divide="ignore"):
            gap = np.where(count > 0, np.abs(pos - prob) / np.where(count > 0, count, 1), 0.0)
        return {"expected_calibration_error": (count * gap).sum(axis=1) / count.sum(axis=1),
                "maximum_calibration_error": gap.max(axis=1)}
    return stats


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
    prob = np.bincount(ids, weights=p, minlength=k)
    # Positives per bin as a float32 product with the bins' one-hot matrix: the sums are whole
    # numbers below 2**24, exact in any order, so they equal a bincount of the draws bit for bit.
    one_hot = np.zeros((len(p), k), dtype=np.float32 if len(p) < 2**24 else np.float64)
    one_hot[np.arange(len(p)), ids] = 1.0
    out = []
    for start in range(0, n_sim, SIM_CHUNK):
        draws = rng.random((min(SIM_CHUNK, n_sim - start), len(p))) < p
        positives = (draws.astype(one_hot.dtype) @ one_hot).astype(np.float64)
        out.append(np.abs(positives - prob).sum(axis=1) / len(p))
    return np.concatenate(out) * np.sqrt(len(p) / n)


def consistency_p_value(ece: float, noise: np.ndarray) -> float:
    """Share of chance ECE values at least as large as the observed one ((1 + count) / (1 + n_sim)):
    small means the miscalibration is more than noise."""
    if len(noise) == 0 or not np.isfinite(ece):
        return float("nan")
    return float((1 + np.sum(noise >= ece)) / (1 + len(noise)))
