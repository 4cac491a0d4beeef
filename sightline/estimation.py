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

from sightline.score_ranking import roc_auc_ordered, roc_auc_sorted, score_order, window_orders

log = logging.getLogger(__name__)

ECE_BINS = 10                # equal-width score bins for ECE and the reliability table
CALIBRATION_MAX_ROWS = 200_000  # reference rows the isotonic calibrator is fitted on (seeded sample above)
MIN_CALIBRATION_ROWS = 100   # fewer labelled reference rows: use the raw scores
Z95 = 1.959964
PROBABILITY_FLOOR = 1e-3     # calibrated probabilities are kept within [0.001, 0.999]
MIN_VARIANCE = 1.0           # a segment's excess must be worth at least ~one row's sd to count
MEDIAN_MIN_ROWS = 100        # segments that vote on a window's uniform label shift need this many rows
LOGIT_STEP = 0.05            # log-odds grid the concept-drift search aggregates rows on
MIN_EXCESS = 0.02            # a segment must also be 2 points of outcome rate off to count (size, not only z)


def reliability_table(y_true, y_score, *, n_bins: int = ECE_BINS) -> pd.DataFrame:
    """Observed positive rate per equal-width score bin.

    Inputs: 0/1 labels, scores in [0, 1]. Output: one row per non-empty bin with ``bin_lower``,
    ``bin_upper``, ``n``, ``mean_score``, ``observed_rate``. A score of exactly 1 falls in the
    last bin.
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(y_score, dtype=float)
    ok = ~(np.isnan(y) | np.isnan(s))
    y, s = y[ok], s[ok]
    idx = np.clip((s * n_bins).astype(int), 0, n_bins - 1)
    n = np.bincount(idx, minlength=n_bins)
    score_sum = np.bincount(idx, weights=s, minlength=n_bins)
    pos = np.bincount(idx, weights=y, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({
            "bin_lower": np.arange(n_bins) / n_bins, "bin_upper": np.arange(1, n_bins + 1) / n_bins,
            "n": n, "mean_score": score_sum / n, "observed_rate": pos / n,
        })
    return table[table["n"] > 0].reset_index(drop=True)


def expected_calibration_error(y_true, y_score, *, n_bins: int = ECE_BINS) -> float:
    """ECE: the row-weighted mean of |observed rate - mean score| over equal-width score bins."""
    table = reliability_table(y_true, y_score, n_bins=n_bins)
    if table.empty:
        return float("nan")
    return float((table["n"] * (table["observed_rate"] - table["mean_score"]).abs()).sum() / table["n"].sum())


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
    ``order``: :func:`sightline.score_ranking.score_order` of the scores, if the caller has it
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
    scores (:mod:`sightline.score_ranking`; ``order`` is that sort if the caller has it).
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
    ``predicted_positive_rate``. ``order``: :func:`sightline.score_ranking.score_order` of
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
    """Observed positive rate per equal-width score bin and window, over labelled rows.

    Output columns: ``window`` (index), ``bin_lower``, ``bin_upper``, ``n``, ``mean_score``,
    ``observed_rate``; cells without labelled rows are left out. A calibrated, stable model has
    observed rate ≈ mean score in every window; a bin whose rate moves says P(Y | score) changed.
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(y_score, dtype=float)
    windows = np.asarray(windows, dtype=np.int64)
    keep = (windows >= 0) & ~np.isnan(y) & ~np.isnan(s)
    b = np.clip((s[keep] * n_bins).astype(int), 0, n_bins - 1)
    flat = windows[keep] * n_bins + b
    size = n_windows * n_bins
    n = np.bincount(flat, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({
            "window": np.repeat(np.arange(n_windows), n_bins),
            "bin_lower": np.tile(np.arange(n_bins) / n_bins, n_windows),
            "bin_upper": np.tile(np.arange(1, n_bins + 1) / n_bins, n_windows),
            "n": n,
            "mean_score": np.bincount(flat, weights=s[keep], minlength=size) / n,
            "observed_rate": np.bincount(flat, weights=y[keep], minlength=size) / n,
        })
    return table[table["n"] > 0].reset_index(drop=True)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def base_rate_shift(y_true, p, windows, n_windows: int, *, iterations: int = 40) -> np.ndarray:
    """Per window, the log-odds shift ``t`` that makes the scores' expected positives match the
    observed ones: sum sigmoid(logit(p) + t) = sum y over the window's labelled rows.

    Under pure label shift (P(Y) changes, P(X | Y) does not) every row's odds scale by the same
    factor exp(t), so this is the label-shift correction; what it cannot explain in a segment is
    evidence of concept drift. Newton iterations on all windows at once; NaN without labels,
    clipped to ±10 when a window's labels are all one class.
    """
    y = np.asarray(y_true, dtype=float)
    windows = np.asarray(windows, dtype=np.int64)
    keep = (windows >= 0) & ~np.isnan(y) & ~np.isnan(p)
    w, z, yy = windows[keep], _logit(np.asarray(p, dtype=float)[keep]), y[keep]
    observed = np.bincount(w, weights=yy, minlength=n_windows)
    n = np.bincount(w, minlength=n_windows)
    t = np.zeros(n_windows)
    for _ in range(iterations):
        q = _sigmoid(z + t[w])
        f = np.bincount(w, weights=q, minlength=n_windows) - observed
        slope = np.bincount(w, weights=q * (1 - q), minlength=n_windows)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(slope > 0, f / slope, 0.0)
        new = np.clip(t - np.clip(step, -2, 2), -10, 10)
        done = np.max(np.abs(new - t), initial=0.0) < 1e-7  # Newton: a handful of steps usually
        t = new
        if done:
            break
    t[n == 0] = np.nan
    return t


def _grid_shift(counts: np.ndarray, base: np.ndarray, observed: np.ndarray, iterations: int = 40) -> np.ndarray:
    """Per row of ``counts`` (rows aggregated on log-odds ``base``), the shift t with
    sum counts * sigmoid(base + t) = observed: :func:`base_rate_shift` on aggregated rows."""
    t = np.zeros(len(counts))
    for _ in range(iterations):
        q = _sigmoid(base + t[:, None])
        f = (counts * q).sum(axis=1) - observed
        slope = (counts * q * (1 - q)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(slope > 0, f / slope, 0.0)
        new = np.clip(t - np.clip(step, -2, 2), -10, 10)
        done = np.max(np.abs(new - t), initial=0.0) < 1e-7
        t = new
        if done:
            break
    t[counts.sum(axis=1) == 0] = np.nan
    return t


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, cum[-1] / 2)])


def concept_drift_segments(y_true, p, windows, n_windows: int, segments: dict, reference_y, reference_p,
                           reference_segments: dict, *, min_rows: int = 30, alpha: float = 0.05) -> pd.DataFrame:
    """Segments whose outcomes departed from what the scores imply, beyond a uniform label shift.

    Inputs: current labels (NaN = not arrived), calibrated ``p``, window index per row;
    ``segments``: name -> (bin codes per current row, bin labels) — e.g. each feature's
    reference-fitted bins; the reference's labels, calibrated scores and codes per segment
    (``reference_segments``: name -> codes). Everything happens in log-odds:

    * ``t_ref`` per segment: the shift the reference itself needs in that segment (a segment
      already mis-scored on the reference is not news), from :func:`base_rate_shift`;
    * ``t`` per (window, segment): the shift that would explain the window's outcomes there;
    * the window's *uniform* shift (label shift) is the row-weighted median of its segments'
      ``t`` — a median, so one drifting segment does not drag the others' expectation with it
      (segments of at least :data:`MEDIAN_MIN_ROWS` rows vote; with fewer than two of them, the
      window-wide shift of :func:`base_rate_shift` is used);
    * expected positives of a cell = sum of sigmoid(logit(p) + t_ref + uniform shift), and
      ``z`` = (observed − expected) / sqrt(max(sum q(1 − q), 1)) — the floor keeps a cell of
      near-certain scores from turning one surprising row into a "significant" segment.

    Cells with at least ``min_rows`` labelled rows are tested; a cell is ``significant`` when |z|
    exceeds the Bonferroni bound for ``alpha`` over all cells tested *and* its outcome rate is at
    least :data:`MIN_EXCESS` off (on a million rows, tiny departures are "significant" too). Output columns: ``window``
    (index), ``feature``, ``segment``, ``n``, ``observed_rate``, ``score_rate`` (mean calibrated
    score), ``expected_rate``, ``excess`` (observed − expected rate), ``z``, ``significant``;
    largest |z| first.
    """
    from scipy.stats import norm

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p, dtype=float)
    windows = np.asarray(windows, dtype=np.int64)
    keep = (windows >= 0) & ~np.isnan(y) & ~np.isnan(p)
    w, yk, pk = windows[keep], y[keep], p[keep]
    # Rows are aggregated once onto a grid of log-odds (step LOGIT_STEP): every Newton step then
    # costs cells x grid points, not rows, and the rounding moves a probability by < 0.7 points.
    grid = np.arange(_logit(np.array([PROBABILITY_FLOOR]))[0], -_logit(np.array([PROBABILITY_FLOOR]))[0] + LOGIT_STEP, LOGIT_STEP)
    g = np.clip(np.rint((_logit(pk) - grid[0]) / LOGIT_STEP).astype(np.int64), 0, len(grid) - 1)
    ry, rp = np.asarray(reference_y, dtype=float), np.asarray(reference_p, dtype=float)
    rok = ~np.isnan(ry) & ~np.isnan(rp)
    window_t = base_rate_shift(y, p, windows, n_windows)
    frames = []
    for name, (codes, labels) in segments.items():
        nb = len(labels)
        c = np.asarray(codes)[keep]
        rc = np.asarray(reference_segments[name])[rok]
        t_ref = base_rate_shift(ry[rok], rp[rok], rc, nb)
        t_ref = np.where(np.isfinite(t_ref) & (np.bincount(rc, minlength=nb) >= min_rows), t_ref, 0.0)
        size = n_windows * nb
        flat = w * nb + c
        counts = np.bincount(flat * len(grid) + g, minlength=size * len(grid)).reshape(size, len(grid)).astype(float)
        n = counts.sum(axis=1)
        obs = np.bincount(flat, weights=yk, minlength=size)
        score = np.bincount(flat, weights=pk, minlength=size)
        base = grid[None, :] + np.tile(t_ref, n_windows)[:, None]        # each cell's log-odds, reference gap removed
        t_cell = _grid_shift(counts, base, obs)
        uniform = np.nan_to_num(window_t)
        for win in range(n_windows):
            cells = slice(win * nb, (win + 1) * nb)
            ok = (n[cells] >= MEDIAN_MIN_ROWS) & (np.abs(t_cell[cells]) < 9.9)
            if ok.sum() >= 2:  # else the window-wide shift (small windows: too few segments to take a median)
                uniform[win] = _weighted_median(t_cell[cells][ok], n[cells][ok])
        q = _sigmoid(base + np.repeat(uniform, nb)[:, None])
        exp = (counts * q).sum(axis=1)
        var = (counts * q * (1 - q)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame = pd.DataFrame({
                "window": np.repeat(np.arange(n_windows), nb), "feature": name,
                "segment": np.tile(np.asarray(labels, dtype=object), n_windows), "n": n.astype(int),
                "observed_rate": obs / n, "score_rate": score / n, "expected_rate": exp / n,
                "excess": (obs - exp) / n, "z": (obs - exp) / np.sqrt(np.maximum(var, MIN_VARIANCE)),
            })
        frames.append(frame[(frame["n"] >= min_rows) & (var > 0)])
    cols = ["window", "feature", "segment", "n", "observed_rate", "score_rate", "expected_rate", "excess", "z", "significant"]
    if not frames:
        return pd.DataFrame(columns=cols)
    table = pd.concat(frames, ignore_index=True)
    bound = norm.isf(alpha / (2 * max(len(table), 1)))
    table["significant"] = (table["z"].abs() >= bound) & (table["excess"].abs() >= MIN_EXCESS)
    order = table["z"].abs().sort_values(ascending=False).index
    out = table.loc[order, cols].reset_index(drop=True)
    out.attrs["z_bound"] = float(bound)  # the |z| a cell needs to count, for captions
    return out
