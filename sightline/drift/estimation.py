"""Label-free performance estimation from scores (confidence-based, in the spirit of NannyML's CBPE).

If a binary model's scores are calibrated — of the rows scored 0.7, about 70% are positive —
then each row's score is the probability that its prediction is right or wrong, and the
expected confusion matrix of any set of rows follows without a single label:

    expected TP = sum(p * pred)        expected FP = sum((1 - p) * pred)
    expected FN = sum(p * (1 - pred))  expected TN = sum((1 - p) * (1 - pred))

where ``p`` is the calibrated probability of the positive class and ``pred`` the model's 0/1
prediction. Accuracy, precision, recall and F1 follow from these; the expected ROC AUC weighs
every (positive, negative) pair by ``p_i * (1 - p_j)``. Because real scores are rarely calibrated
exactly, the scores are first mapped through an isotonic regression fitted on the labelled
reference (as CBPE does); the estimate then assumes that this score→outcome relationship still
holds in production. It cannot see concept drift or label shift (they change exactly that
relationship), which is why estimated and realised values are shown side by side where labels exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sightline.stats.intervals import Z95
from sightline.stats.ranking import roc_auc_ordered, roc_auc_sorted, score_order, window_orders
from sightline.stats.reliability import bin_edges, bin_ids, bin_sums, reliability_rows

log = logging.getLogger(__name__)

ECE_BINS = 10                # equal-width score bins of the reliability tables (sightline.stats.reliability)
CALIBRATION_MAX_ROWS = 200_000  # reference rows the isotonic calibrator is fitted on (seeded sample above)
MIN_CALIBRATION_ROWS = 100   # fewer labelled reference rows: use the raw scores
PROBABILITY_FLOOR = 1e-3     # calibrated probabilities are kept within [0.001, 0.999]


@dataclass(frozen=True)
class Calibrator:
    """Maps raw scores to calibrated probabilities (isotonic, fitted on the reference), or
    passes them through (``method == "none"``) when the reference cannot calibrate them."""

    method: str                 # "isotonic" | "none"
    n: int                      # labelled reference rows used
    reason: str                 # plain sentence: what was done and why
    model: object = None

    def __call__(self, scores) -> np.ndarray:
        s = np.asarray(scores, dtype=float)
        if self.model is None:
            return np.clip(s, 0.0, 1.0)
        out = np.full(len(s), np.nan)
        ok = ~np.isnan(s)
        # Isotonic steps at the ends are exactly 0 or 1 — "impossible" outcomes that then
        # dominate any test; a floor of 1 in 1,000 keeps them merely unlikely.
        out[ok] = np.clip(self.model.predict(s[ok]), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
        return out


def fit_calibrator(y_true, y_score, *, max_rows: int = CALIBRATION_MAX_ROWS, seed: int = 0) -> Calibrator:
    """Isotonic regression of labels on scores, fitted on (at most ``max_rows`` of) the reference.

    Falls back to the raw scores — with the reason — when there are fewer than
    :data:`MIN_CALIBRATION_ROWS` labelled rows or only one class.
    """
    from sklearn.isotonic import IsotonicRegression

    y = np.asarray(y_true, dtype=float)
    s = np.asarray(y_score, dtype=float)
    ok = ~(np.isnan(y) | np.isnan(s))
    y, s = y[ok], s[ok]
    if len(y) < MIN_CALIBRATION_ROWS or len(np.unique(y)) < 2:
        return Calibrator("none", int(len(y)), f"raw scores used: the reference has {len(y):,} labelled rows"
                          + (" of one class" if len(y) and len(np.unique(y)) < 2 else "")
                          + f" (at least {MIN_CALIBRATION_ROWS} of both classes are needed to calibrate)")
    if len(y) > max_rows:
        idx = np.random.default_rng(seed).choice(len(y), max_rows, replace=False)
        y, s = y[idx], s[idx]
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
    return Calibrator("isotonic", int(len(y)), f"scores recalibrated with isotonic regression fitted on {len(y):,} labelled reference rows", model)


def expected_roc_auc(p, y_score) -> float:
    """Expected ROC AUC when row i is positive with probability ``p[i]``, ranked by ``y_score``.

    Every (i, j) pair with i ranked above j counts ``p_i * (1 - p_j)``; ties count half
    (as scikit-learn's ``roc_auc_score``). With ``p`` equal to 0/1 labels this *is* the ROC AUC.
    Vectorised: one sort and cumulative sums. NaN when no positive or no negative mass.
    """
    p = np.asarray(p, dtype=float)
    s = np.asarray(y_score, dtype=float)
    ok = ~(np.isnan(p) | np.isnan(s))
    p, s = p[ok], s[ok]
    uniq, inv = np.unique(s, return_inverse=True)
    pos = np.bincount(inv, weights=p, minlength=len(uniq))
    neg = np.bincount(inv, weights=1.0 - p, minlength=len(uniq))
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    neg_below = np.cumsum(neg) - neg
    return float((pos * (neg_below + 0.5 * neg)).sum() / (total_pos * total_neg))


def expected_confusion(p, y_pred) -> dict[str, float]:
    """Expected TP, FP, FN, TN (sums of probabilities) for calibrated ``p`` and 0/1 ``y_pred``."""
    p = np.asarray(p, dtype=float)
    pred = np.asarray(y_pred, dtype=float)
    ok = ~(np.isnan(p) | np.isnan(pred))
    p, pred = p[ok], pred[ok]
    return {"tp": float((p * pred).sum()), "fp": float(((1 - p) * pred).sum()),
            "fn": float((p * (1 - pred)).sum()), "tn": float(((1 - p) * (1 - pred)).sum())}


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def estimate_performance(p, y_pred, y_score=None, *, order: np.ndarray | None = None) -> dict[str, float]:
    """Expected accuracy, precision, recall, F1, ROC AUC and positive rate without labels.

    Inputs: calibrated P(positive) ``p``, the model's 0/1 predictions ``y_pred``, and the raw
    ``y_score`` that ranks rows for ROC AUC (default ``p``). Output: a dict with those metrics,
    ``accuracy_lower``/``accuracy_upper`` (95% range of the realised accuracy if the scores are
    calibrated: each row is right with probability q, so the variance is sum q(1-q) / n²) and ``n``.
    ``order``: :func:`sightline.stats.ranking.score_order` of the scores, if the caller has it
    (ROC AUC then needs no sort of its own).
    """
    p = np.asarray(p, dtype=float)
    pred = np.asarray(y_pred, dtype=float)
    score = p if y_score is None else np.asarray(y_score, dtype=float)
    ok = ~(np.isnan(p) | np.isnan(pred) | np.isnan(score))
    all_p, all_score = p, score
    p, pred, score = p[ok], pred[ok], score[ok]
    n = len(p)
    if n == 0:
        return {k: float("nan") for k in ("accuracy", "accuracy_lower", "accuracy_upper", "precision", "recall",
                                           "f1", "roc_auc", "positive_rate")} | {"n": 0}
    cm = expected_confusion(p, pred)
    q = np.where(pred == 1, p, 1 - p)  # probability each prediction is right
    accuracy = float(q.mean())
    half = Z95 * float(np.sqrt((q * (1 - q)).sum())) / n
    precision = _ratio(cm["tp"], cm["tp"] + cm["fp"])
    recall = _ratio(cm["tp"], cm["tp"] + cm["fn"])
    f1 = _ratio(2 * cm["tp"], 2 * cm["tp"] + cm["fp"] + cm["fn"])
    return {
        "accuracy": accuracy, "accuracy_lower": max(0.0, accuracy - half), "accuracy_upper": min(1.0, accuracy + half),
        "precision": precision, "recall": recall, "f1": f1,
        "roc_auc": (expected_roc_auc(p, score) if order is None
                    else roc_auc_ordered(all_p, 1.0 - all_p, all_score, order, ok)),
        "positive_rate": float(p.mean()), "n": int(n),
    }


def realised_performance(y_true, y_pred, y_score, *, order: np.ndarray | None = None) -> dict[str, float]:
    """Accuracy, precision, recall, F1, ROC AUC and positive rate from 0/1 labels and predictions.

    The four threshold metrics come from the confusion counts (scikit-learn's definitions with
    ``zero_division=nan``; tests check them equal to scikit-learn's functions), which on a million
    rows is ~10× faster than four scikit-learn calls that each re-validate the labels; ROC AUC is
    scikit-learn's ``roc_auc_score`` over the rows with a score, computed from one sort of the
    scores (:mod:`sightline.stats.ranking`; ``order`` is that sort if the caller has it).
    """
    y = np.asarray(y_true, dtype=int)
    pred = np.asarray(y_pred, dtype=int)
    s = np.asarray(y_score, dtype=float)
    n = len(y)
    if n == 0:
        return {k: float("nan") for k in ("accuracy", "precision", "recall", "f1", "roc_auc", "positive_rate")} | {"n": 0}
    tn, fp, fn, tp = np.bincount(2 * (y == 1) + (pred == 1), minlength=4).astype(float)
    ok = ~np.isnan(s)
    labels_scored = y[ok]
    both_scored = labels_scored.size and 0 < labels_scored.sum() < labels_scored.size
    return {
        "accuracy": float((tp + tn) / n),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": (roc_auc_ordered(y, 1 - y, s, score_order(s) if order is None else order, ok)
                    if both_scored else float("nan")),
        "positive_rate": float(y.mean()), "n": int(n),
    }


# ------------------------------------------------------------------ per window
def _per_window(values, windows, n_windows) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if len(windows) and windows.min() >= 0:  # every row has a window: no masked copies of 1M-row arrays
        return np.bincount(windows, weights=values, minlength=n_windows)
    keep = windows >= 0
    return np.bincount(windows[keep], weights=values[keep], minlength=n_windows)


def performance_by_window(y_true, y_pred, y_score, p, windows, n_windows: int, *,
                          order: np.ndarray | None = None) -> pd.DataFrame:
    """Realised and label-free estimated performance per window (binary).

    Inputs, one per logged row: ``y_true`` 0/1 with NaN where the label has not arrived,
    ``y_pred`` 0/1, raw ``y_score``, calibrated ``p``, window index (-1 none).
    Output, one row per window: ``rows``, ``labelled``, ``coverage``; realised ``accuracy``,
    ``precision``, ``recall``, ``f1``, ``roc_auc`` and ``positive_rate`` over labelled rows
    (NaN without labels; ROC AUC needs both classes); the estimates over all rows
    ``est_accuracy`` (+ ``est_accuracy_lower``/``_upper``), ``est_precision``, ``est_recall``,
    ``est_f1``, ``est_roc_auc``, ``expected_positive_rate`` (mean calibrated score),
    ``expected_positive_rate_labelled`` (same, over the labelled rows), ``mean_score`` and
    ``predicted_positive_rate``. ``order``: :func:`sightline.stats.ranking.score_order` of
    ``y_score``, if the caller has it.
    """
    y = np.asarray(y_true, dtype=float)
    pred = np.asarray(y_pred, dtype=float)
    s = np.asarray(y_score, dtype=float)
    p = np.asarray(p, dtype=float)
    windows = np.asarray(windows, dtype=np.int64)
    lab = ~np.isnan(y)
    yl = np.where(lab, y, 0.0)
    ok = ~np.isnan(p) & ~np.isnan(pred)
    # Every count per window from one integer bincount of the rows' flags (what a float sum of
    # each 0/1 mask gives, exactly, in one pass instead of seven).
    flags = (lab.astype(np.int64) | (yl == 1) << 1 | (yl == 0) << 2 | (pred == 1) << 3 | (pred == 0) << 4
             | ok.astype(np.int64) << 5 | (~np.isnan(s)).astype(np.int64) << 6)
    has = windows >= 0
    cells = windows * 128 + flags if bool(has.all()) else windows[has] * 128 + flags[has]
    by_flags = np.bincount(cells, minlength=n_windows * 128).reshape(n_windows, 128)
    code = np.arange(128)

    def count(*bits: int) -> np.ndarray:
        """Rows per window with all of these flag bits set (float)."""
        want = np.bitwise_or.reduce(np.array([1 << b for b in bits]))
        return by_flags[:, (code & want) == want].sum(axis=1).astype(float)

    rows = by_flags.sum(axis=1).astype(float)
    labelled = count(0)
    tp, fp, fn = count(0, 1, 3), count(0, 2, 3), count(0, 1, 4)
    tn = labelled - tp - fp - fn
    q = np.where(ok, np.where(pred == 1, p, 1 - p), 0.0)
    pe, prede = np.where(ok, p, 0.0), np.where(ok, pred, 0.0)
    n_ok = count(5)
    etp = _per_window(pe * prede, windows, n_windows)
    efp = _per_window((1 - pe) * prede * ok, windows, n_windows)
    efn = _per_window(pe * (1 - prede), windows, n_windows)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "rows": rows.astype(int), "labelled": labelled.astype(int), "coverage": labelled / rows,
            "accuracy": (tp + tn) / labelled, "precision": tp / (tp + fp), "recall": tp / (tp + fn),
            "f1": 2 * tp / (2 * tp + fp + fn), "roc_auc": np.nan,
            "positive_rate": (tp + fn) / labelled,
            "est_accuracy": _per_window(q, windows, n_windows) / n_ok,
            "est_accuracy_lower": np.nan, "est_accuracy_upper": np.nan,
            "est_precision": etp / (etp + efp), "est_recall": etp / (etp + efn),
            "est_f1": 2 * etp / (2 * etp + efp + efn), "est_roc_auc": np.nan,
            "expected_positive_rate": _per_window(pe, windows, n_windows) / n_ok,
            "expected_positive_rate_labelled": _per_window(pe * lab, windows, n_windows) / count(0, 5),
            "mean_score": _per_window(np.nan_to_num(s), windows, n_windows) / count(6),
            "predicted_positive_rate": _per_window(prede, windows, n_windows) / n_ok,
        })
        half = Z95 * np.sqrt(_per_window(q * (1 - q), windows, n_windows)) / n_ok
    out["est_accuracy_lower"] = np.clip(out["est_accuracy"] - half, 0, 1)
    out["est_accuracy_upper"] = np.clip(out["est_accuracy"] + half, 0, 1)
    # Both AUCs of every window from one sort of the scores (equal to expected_roc_auc and to
    # scikit-learn's roc_auc_score per window; tests/test_estimation_auc.py checks it).
    scored = ok & ~np.isnan(s)
    neg_p = 1.0 - p
    est_auc, auc = np.full(n_windows, np.nan), np.full(n_windows, np.nan)
    for w, idx in enumerate(window_orders(score_order(s) if order is None else order, windows, n_windows)):
        good = idx[scored[idx]]
        est_auc[w] = roc_auc_sorted(p[good], neg_p[good], s[good])
        li = good[lab[good]]
        if len(li) and 0 < y[li].sum() < len(li):
            auc[w] = roc_auc_sorted(y[li], 1.0 - y[li], s[li])
    out["est_roc_auc"], out["roc_auc"] = est_auc, auc
    return out


def score_outcome_by_window(y_true, y_score, windows, n_windows: int, *, n_bins: int = ECE_BINS) -> pd.DataFrame:
    """The reliability table of every window, over its labelled rows with a score.

    Inputs, one per logged row: 0/1 label (NaN: not arrived), score (clipped to [0, 1]), window
    index (-1: none). Output: ``window`` (index) and the columns of
    :func:`sightline.stats.reliability.reliability_rows` (``bin``, ``bin_lower``, ``bin_upper``,
    ``count``, ``mean_predicted``, ``fraction_positive``, ``lower``, ``upper``, ``gap``) for
    ``n_bins`` equal-width score bins; cells without labelled rows are left out. A calibrated,
    stable model has fraction_positive ≈ mean_predicted in every window; a bin whose share moves
    says P(Y | score) changed.
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(y_score, dtype=float)
    windows = np.asarray(windows, dtype=np.int64)
    keep = (windows >= 0) & ~np.isnan(y) & ~np.isnan(s)
    p = np.clip(s[keep], 0.0, 1.0)
    edges = bin_edges(p, n_bins=n_bins, strategy="uniform")
    table = reliability_rows(*bin_sums(y[keep], p, bin_ids(p, edges), n_bins, windows[keep], n_windows), edges)
    return table.rename(columns={"group": "window"})
