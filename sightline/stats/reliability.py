"""Reliability bins and calibration errors: the one implementation every area uses.

A probability is binned as scikit-learn's ``calibration_curve`` bins it (:func:`bin_edges`,
:func:`bin_ids`: right-closed bins ``(lower, upper]``, the first one also holding its lower
edge, so a score of exactly 0.1 is in bin 0–0.1 and a score of 1 in the last bin). Per bin
(and per group, e.g. a sensitive group or a time window) the sufficient statistics are the
row count, the positives and the sum of probabilities (:func:`bin_sums`; under bootstrap count
weights :func:`resampled_bin_sums`); the reliability rows (:func:`reliability_rows`,
:func:`reliability_table`) and the expected / maximum calibration error
(:func:`calibration_errors`) follow from them alone, so an SQL aggregate of the same sums
(:func:`sightline.data.aggregates.calibration_bins`) gives the same numbers. Also the audit's
``calibration:`` settings that choose the bins.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sightline.stats.intervals import wilson_interval

DEFAULT_N_BINS = 10


DEFAULT_STRATEGY = "uniform"


STRATEGIES = ("uniform", "quantile")


# ------------------------------------------------------------------ settings
def calibration_settings(settings: Mapping | None) -> tuple[int, str, list[str]]:
    """``n_bins`` and ``strategy`` from the audit's ``calibration:`` section, with defaults.

    Output: (n_bins, strategy, notes); a bad value is replaced by the default and a note says
    which key was wrong and what is allowed (the page shows the notes).
    """
    settings = dict(settings or {})
    notes = []
    n_bins = settings.get("n_bins", DEFAULT_N_BINS)
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or not 2 <= n_bins <= 100:
        notes.append(f"calibration.n_bins must be a whole number from 2 to 100, got {n_bins!r} — using {DEFAULT_N_BINS}")
        n_bins = DEFAULT_N_BINS
    strategy = settings.get("strategy", DEFAULT_STRATEGY)
    if strategy not in STRATEGIES:
        notes.append(f"calibration.strategy must be 'uniform' or 'quantile', got {strategy!r} — using '{DEFAULT_STRATEGY}'")
        strategy = DEFAULT_STRATEGY
    return n_bins, strategy, notes


def describe_bins(n_bins: int, strategy: str) -> str:
    """The bin scheme in words, as the page and the card state it."""
    if strategy == "uniform":
        return f"{n_bins} equal-width bins of the predicted probability (0–{1 / n_bins:g}, …, {1 - 1 / n_bins:g}–1)"
    return f"{n_bins} quantile bins (each holds about the same number of predictions)"


# ------------------------------------------------------------------ bins and errors
def bin_edges(y_prob, *, n_bins: int = DEFAULT_N_BINS, strategy: str = DEFAULT_STRATEGY) -> np.ndarray:
    """Bin edges as scikit-learn's ``calibration_curve`` draws them: ``n_bins + 1`` values."""
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        return np.percentile(np.asarray(y_prob, dtype=float), np.linspace(0, 1, n_bins + 1) * 100)
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")


def bin_ids(y_prob, edges: np.ndarray) -> np.ndarray:
    """The bin of each prediction (0 … len(edges) − 2); an edge value belongs to the bin below."""
    return np.searchsorted(edges[1:-1], np.asarray(y_prob, dtype=float))


def bin_sums(y_true, y_prob, ids: np.ndarray, k: int, codes: np.ndarray | None = None,
             n_groups: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, positives and probability sums per (group, bin) cell, one ``bincount`` each.

    Inputs: outcomes (0/1, or any weights of "came true"), probabilities, each row's bin
    (:func:`bin_ids`), the number of bins ``k``; optionally each row's group code (0 …
    n_groups − 1). Output: (count (int), positives, prob_sum), each of shape (n_groups, k).
    Sums run in row order, so a group's sums equal those of its own rows alone, bit for bit.
    """
    ids = np.asarray(ids, dtype=np.int64)
    cell = ids if codes is None else np.asarray(codes, dtype=np.int64) * k + ids
    size = n_groups * k
    count = np.bincount(cell, minlength=size).reshape(n_groups, k)
    positives = np.bincount(cell, weights=np.asarray(y_true, dtype=float), minlength=size).reshape(n_groups, k)
    prob_sum = np.bincount(cell, weights=np.asarray(y_prob, dtype=float), minlength=size).reshape(n_groups, k)
    return count, positives, prob_sum


def resampled_bin_sums(weights: np.ndarray, ids: np.ndarray, k: int, values: np.ndarray | None = None) -> np.ndarray:
    """Per-resample, per-bin sums of ``weights`` (b × n bootstrap counts) times ``values`` (n,):
    a (b, k) array. One bincount over resample-offset bin ids (single-threaded and linear; a
    dense one-hot matrix product was slower on a busy machine)."""
    b = weights.shape[0]
    offsets = (np.arange(b)[:, None] * k + np.asarray(ids)[None, :]).ravel()
    w = weights if values is None else weights * values
    return np.bincount(offsets, weights=w.ravel(), minlength=b * k).reshape(b, k)


def _errors(count: np.ndarray, gap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ECE and MCE along the last axis from bin counts and gaps (gaps of empty bins ignored)."""
    count = np.asarray(count, dtype=float)
    gap = np.where(count > 0, np.abs(np.nan_to_num(gap)), 0.0)
    total = count.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ece = np.where(total > 0, (count * gap).sum(axis=-1) / np.where(total > 0, total, 1), np.nan)
    mce = np.where(total > 0, gap.max(axis=-1, initial=0.0), np.nan)
    return ece, mce


def calibration_errors(count, positives, prob_sum) -> tuple[np.ndarray, np.ndarray]:
    """Expected and maximum calibration error from per-bin sums (bins along the last axis).

    ECE = Σ_b (n_b / n) · |positives_b / n_b − prob_sum_b / n_b| over non-empty bins (0 is
    perfect; 0.05: predictions miss by 5 points on average); MCE = the largest of those gaps.
    Works on one group (k,), groups or bootstrap resamples (…, k); counts may be weights.
    Output: (ece, mce) arrays of the leading shape; NaN where there are no rows.
    """
    count = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.asarray(positives, dtype=float) / count - np.asarray(prob_sum, dtype=float) / count
    return _errors(count, gap)


def errors_from_table(table: pd.DataFrame) -> tuple[float, float]:
    """(ECE, MCE) of a :func:`reliability_table`: count-weighted mean and maximum of |gap|."""
    if len(table) == 0:
        return float("nan"), float("nan")
    ece, mce = _errors(table["count"].to_numpy(dtype=float), table["gap"].to_numpy(dtype=float))
    return float(ece), float(mce)


RELIABILITY_COLUMNS = ("bin", "bin_lower", "bin_upper", "count", "mean_predicted", "fraction_positive",
                       "lower", "upper", "gap")


def reliability_rows(count: np.ndarray, positives: np.ndarray, prob_sum: np.ndarray, edges: np.ndarray) -> pd.DataFrame:
    """The reliability rows of every non-empty (group, bin) cell of :func:`bin_sums` output.

    Output, group by group, bins ascending: ``group`` (code), ``bin`` (index), ``bin_lower``,
    ``bin_upper``, ``count``, ``mean_predicted``, ``fraction_positive`` (observed share of 1s),
    ``lower`` and ``upper`` (its 95% Wilson interval), ``gap`` (fraction_positive −
    mean_predicted: positive when the model under-predicts). ``fraction_positive`` and
    ``mean_predicted`` are scikit-learn's ``calibration_curve`` ``prob_true`` and ``prob_pred``.
    """
    edges = np.asarray(edges, dtype=float)
    count = np.atleast_2d(count)
    group, b = np.nonzero(count > 0)
    n = count[group, b]
    pos, prob = np.atleast_2d(positives)[group, b], np.atleast_2d(prob_sum)[group, b]
    lo, hi = wilson_interval(pos, n)
    frac, mean = pos / n, prob / n
    return pd.DataFrame({"group": group, "bin": b, "bin_lower": edges[:-1][b], "bin_upper": edges[1:][b], "count": n,
                         "mean_predicted": mean, "fraction_positive": frac, "lower": lo, "upper": hi, "gap": frac - mean})


def check_probabilities(y_true, y_prob) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes and probabilities as float arrays; ValueError for unequal lengths or a
    probability outside [0, 1] (missing values pass)."""
    y_true = np.asarray(y_true, dtype=float)
    y_prob = np.asarray(y_prob, dtype=float)
    if y_true.shape != y_prob.shape:
        raise ValueError(f"y_true and y_prob differ in length ({len(y_true)} vs {len(y_prob)})")
    if len(y_prob) and (np.nanmin(y_prob, initial=0.0) < 0 or np.nanmax(y_prob, initial=1.0) > 1):
        raise ValueError("y_prob has values outside [0, 1] — probabilities are expected")
    return y_true, y_prob


def reliability_table(y_true, y_prob, *, n_bins: int = DEFAULT_N_BINS, strategy: str = DEFAULT_STRATEGY,
                      edges: np.ndarray | None = None, ids: np.ndarray | None = None) -> pd.DataFrame:
    """The reliability diagram's numbers.

    Inputs: 0/1 outcomes, predicted probabilities of outcome 1 in [0, 1] (rows where either is
    missing are left out), the bin scheme (or explicit ``edges``, e.g. to bin a group like the
    whole data; with ``edges``, ``ids`` may give each prediction's bin from :func:`bin_ids`).
    Output: one row per non-empty bin with the columns of :func:`reliability_rows` (without
    ``group``); ``fraction_positive`` and ``mean_predicted`` equal scikit-learn's
    ``calibration_curve`` output.
    """
    y_true, y_prob = check_probabilities(y_true, y_prob)
    ok = ~(np.isnan(y_true) | np.isnan(y_prob))
    if not ok.all():
        y_true, y_prob = y_true[ok], y_prob[ok]
        ids = None if ids is None else np.asarray(ids)[ok]
    edges = bin_edges(y_prob, n_bins=n_bins, strategy=strategy) if edges is None else np.asarray(edges, dtype=float)
    ids = bin_ids(y_prob, edges) if ids is None else ids
    return reliability_rows(*bin_sums(y_true, y_prob, ids, len(edges) - 1), edges).drop(columns="group")


def expected_calibration_error(y_true, y_prob, *, n_bins: int = DEFAULT_N_BINS, strategy: str = DEFAULT_STRATEGY) -> float:
    """Expected calibration error: Σ_b (n_b / n) · |observed share_b − mean prediction_b| over
    non-empty bins (:func:`calibration_errors`). 0 is perfect; 0.05 means predictions miss by
    5 points on average. NaN without rows."""
    return errors_from_table(reliability_table(y_true, y_prob, n_bins=n_bins, strategy=strategy))[0]


def maximum_calibration_error(y_true, y_prob, *, n_bins: int = DEFAULT_N_BINS, strategy: str = DEFAULT_STRATEGY) -> float:
    """Maximum calibration error: the largest |observed share − mean prediction| over non-empty
    bins (sensitive to small bins: read it with the bin counts)."""
    return errors_from_table(reliability_table(y_true, y_prob, n_bins=n_bins, strategy=strategy))[1]


def resampled_calibration_errors(y_true: np.ndarray, y_prob: np.ndarray, ids: np.ndarray, k: int, *, dense: bool = False):
    """ECE and MCE under bootstrap count weights (for :func:`sightline.stats.bootstrap.bootstrap_intervals`).

    Inputs: outcomes, probabilities, their bin ids (0 … k − 1), k; ``dense``: sum per bin by
    one-hot matrix products instead of bincounts (faster for a few hundred resamples of at most
    some 10,000 rows, as the fairness bootstrap draws; bincounts stay linear on more rows).
    Output: a function of a (b × n) count-weight matrix returning ``expected_calibration_error``
    and ``maximum_calibration_error``, each (b,), by :func:`calibration_errors` of the weighted sums."""
    y_true, y_prob, ids = np.asarray(y_true, dtype=float), np.asarray(y_prob, dtype=float), np.asarray(ids)
    # With 0/1 outcomes the counts split by outcome come from one sum over 2k cells: sums of
    # whole numbers, exact in any order. The probability sums are floats.
    binary = bool(np.all((y_true == 0) | (y_true == 1)))
    cells = ids + k * (y_true == 1) if binary else None
    if dense and binary:
        # whole-number counts below 2**24 are exact in float32 products
        outcome_cells = np.zeros((len(ids), 2 * k), dtype=np.float32 if len(ids) < 2**24 else np.float64)
        outcome_cells[np.arange(len(ids)), cells] = 1.0
        bin_cells = np.zeros((len(ids), k))
        bin_cells[np.arange(len(ids)), ids] = 1.0

    def stats(w: np.ndarray) -> dict[str, np.ndarray]:
        if dense and binary:
            counts = (w @ outcome_cells).astype(np.float64)
            pos = counts[:, k:]
            ece, mce = calibration_errors(counts[:, :k] + pos, pos, (w * y_prob) @ bin_cells)
            return {"expected_calibration_error": ece, "maximum_calibration_error": mce}
        if binary:
            by_outcome = resampled_bin_sums(w, cells, 2 * k)
            pos = by_outcome[:, k:]
            count = by_outcome[:, :k] + pos
        else:
            count, pos = resampled_bin_sums(w, ids, k), resampled_bin_sums(w, ids, k, y_true)
        ece, mce = calibration_errors(count, pos, resampled_bin_sums(w, ids, k, y_prob))
        return {"expected_calibration_error": ece, "maximum_calibration_error": mce}
    return stats
