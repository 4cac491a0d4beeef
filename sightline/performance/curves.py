"""Curves and confusion matrices for the performance metrics.

Holds the ROC, precision-recall and threshold curves (computed on every row after one sort,
:class:`RankedScores`, and thinned to at most :data:`CURVE_POINTS` points for drawing), the
rank metrics from cumulative counts (ROC AUC, average precision), and confusion matrices:
counts, tables, long form for charts, and per-class/averaged metrics from a confusion matrix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CURVE_POINTS = 400             # points kept per ROC / PR curve for drawing
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)  # the threshold grid (step 0.01)


# ------------------------------------------------------------------ curves (one sort)
class RankedScores:
    """Scores sorted once in descending order, with the labels in that order and the last
    index of each run of equal scores. Every curve and rank metric (ROC, PR, AUC, average
    precision), weighted or not, is a cumulative sum over this order."""

    def __init__(self, y_true: np.ndarray, y_score: np.ndarray):
        y_true = np.asarray(y_true, dtype=float)
        y_score = np.asarray(y_score, dtype=float)
        self.order = np.argsort(-y_score)
        self.scores = y_score[self.order]
        self.y = y_true[self.order]
        self.ends = np.r_[np.flatnonzero(np.diff(self.scores)), len(self.scores) - 1]
        self._counts: tuple[np.ndarray, np.ndarray] | None = None

    def counts(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(true positives, false positives) selected at each distinct threshold, highest first.
        ``weights``: None, or a (b, n) count matrix in the original row order (gives (b, k) arrays).
        The unweighted counts are computed once and shared (metrics and both curves read them)."""
        if weights is None:
            if self._counts is None:
                tps = np.cumsum(self.y)[self.ends]
                self._counts = (tps, (self.ends + 1) - tps)
            return self._counts
        w = weights[:, self.order]
        tps = np.cumsum(w * self.y, axis=1)[:, self.ends]
        return tps, np.cumsum(w, axis=1)[:, self.ends] - tps

    @property
    def thresholds(self) -> np.ndarray:
        return self.scores[self.ends]


def _auc_ap(tps: np.ndarray, fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC (trapezoids, ties counted half) and average precision (sum of precision times
    recall increments) from cumulative counts along the last axis; NaN with one class only."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p, n = tps[..., -1:], fps[..., -1:]
        tpr = np.concatenate([np.zeros_like(p), tps / p], axis=-1)
        fpr = np.concatenate([np.zeros_like(n), fps / n], axis=-1)
        auc = np.trapezoid(tpr, fpr, axis=-1)
        # Under bootstrap weights the top thresholds can select no weight at all (0/0); the
        # recall increment there is 0, so precision 0 keeps the sum exact.
        selected = tps + fps
        precision = np.where(selected > 0, tps / np.where(selected > 0, selected, 1), 0.0)
        ap = np.sum(np.diff(tpr, axis=-1) * precision, axis=-1)
    auc = np.where((p[..., 0] > 0) & (n[..., 0] > 0), auc, np.nan)
    ap = np.where(p[..., 0] > 0, ap, np.nan)
    return auc, ap


def _thin(n: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spread points of a curve with ``n`` points,
    always keeping the first and the last."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(int))


def roc_curve_points(y_true, y_score, *, max_points: int = CURVE_POINTS,
                     ranked: RankedScores | None = None) -> pd.DataFrame:
    """The ROC curve on every row, thinned for drawing.

    Output columns: ``threshold`` (score ≥ threshold counts as positive; NaN at the origin),
    ``false_positive_rate``, ``true_positive_rate``. Starts at (0, 0), ends at (1, 1).
    ``ranked``: the :class:`RankedScores` of these rows if already made (saves the sort).
    """
    ranked = RankedScores(y_true, y_score) if ranked is None else ranked
    tps, fps = ranked.counts()
    if len(tps) == 0 or tps[-1] == 0 or fps[-1] == 0:
        return pd.DataFrame(columns=["threshold", "false_positive_rate", "true_positive_rate"])
    keep = _thin(len(tps), max_points)
    return pd.DataFrame({
        "threshold": np.r_[np.nan, ranked.thresholds[keep]],
        "false_positive_rate": np.r_[0.0, fps[keep] / fps[-1]],
        "true_positive_rate": np.r_[0.0, tps[keep] / tps[-1]],
    })


def pr_curve_points(y_true, y_score, *, max_points: int = CURVE_POINTS,
                    ranked: RankedScores | None = None) -> pd.DataFrame:
    """The precision-recall curve on every row, thinned for drawing.

    Output columns: ``threshold``, ``recall``, ``precision`` (highest threshold first).
    ``ranked``: the :class:`RankedScores` of these rows if already made (saves the sort).
    """
    ranked = RankedScores(y_true, y_score) if ranked is None else ranked
    tps, fps = ranked.counts()
    if len(tps) == 0 or tps[-1] == 0:
        return pd.DataFrame(columns=["threshold", "recall", "precision"])
    keep = _thin(len(tps), max_points)
    return pd.DataFrame({
        "threshold": ranked.thresholds[keep],
        "recall": tps[keep] / tps[-1],
        "precision": tps[keep] / (tps[keep] + fps[keep]),
    })


def threshold_curve(y_true, y_score, thresholds=THRESHOLDS, *, ranked: RankedScores | None = None) -> pd.DataFrame:
    """Counts and rates at each threshold (score ≥ threshold means positive).

    Inputs: 0/1 labels, scores, the thresholds (default 0.00, 0.01, …, 1.00); optionally the
    :class:`RankedScores` of these rows (scores without NaN), whose descending order read
    backwards serves instead of a new sort.
    Output, one row per threshold: ``threshold``, ``tp``, ``fp``, ``fn``, ``tn``, ``precision``
    (NaN when nothing is selected), ``recall``, ``selection_rate`` (share flagged positive),
    ``false_positive_rate``, ``f1``, ``accuracy``.
    """
    if ranked is None:
        y_true = np.asarray(y_true, dtype=int)
        y_score = np.asarray(y_score, dtype=float)
        order = np.argsort(y_score)
        s, y = y_score[order], y_true[order]
    else:
        # Ascending order up to the order within ties; each threshold splits the rows between
        # two runs of ties, so the positives below it are the same count either way.
        s, y = ranked.scores[::-1], ranked.y[::-1].astype(int)
    pos_before = np.r_[0, np.cumsum(y)]  # positives among the k lowest scores
    thresholds = np.asarray(thresholds, dtype=float)
    k = np.searchsorted(s, thresholds, side="left")  # rows below each threshold
    n, p = len(y), int(y.sum())
    tp = p - pos_before[k]
    selected = n - k
    fp = selected - tp
    fn = p - tp
    tn = (n - p) - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "threshold": thresholds, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": np.where(selected > 0, tp / np.maximum(selected, 1), np.nan),
            "recall": tp / p if p else np.nan,
            "selection_rate": selected / n if n else np.nan,
            "false_positive_rate": fp / (n - p) if n - p else np.nan,
            "f1": 2 * tp / (2 * tp + fp + fn),
            "accuracy": (tp + tn) / n if n else np.nan,
        })
    return out


# ------------------------------------------------------------------ confusion matrices
def confusion_table(y_true, y_pred, *, labels=None) -> pd.DataFrame:
    """Confusion matrix as a DataFrame: rows = actual class, columns = predicted class, counts.

    ``labels`` fixes the order (default: classes sorted); classes only predicted or only seen
    are included. Vectorised with pandas factorize + bincount (fast on string labels).
    """
    y_true = pd.Series(np.asarray(y_true, dtype=object)).astype(str)
    y_pred = pd.Series(np.asarray(y_pred, dtype=object)).astype(str)
    if labels is None:
        labels = sorted(set(y_true.unique()) | set(y_pred.unique()))
    labels = [str(c) for c in labels]
    index = pd.Index(labels)
    t, p = index.get_indexer(y_true), index.get_indexer(y_pred)
    ok = (t >= 0) & (p >= 0)
    k = len(labels)
    counts = np.bincount(t[ok] * k + p[ok], minlength=k * k).reshape(k, k)
    return pd.DataFrame(counts, index=pd.Index(labels, name="actual"), columns=pd.Index(labels, name="predicted"))


def confusion_from_counts(counts, *, labels) -> pd.DataFrame:
    """A binary confusion matrix (as :func:`confusion_table`) from ``tn``, ``fp``, ``fn``, ``tp``
    counts (a dict or a row of :func:`threshold_curve`); ``labels`` = [negative, positive]."""
    cm = np.array([[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]], dtype=int)
    labels = [str(x) for x in labels]
    return pd.DataFrame(cm, index=pd.Index(labels, name="actual"), columns=pd.Index(labels, name="predicted"))


def confusion_long(table: pd.DataFrame) -> pd.DataFrame:
    """A confusion matrix in long form for charts: ``actual``, ``predicted``, ``count``,
    ``share_of_actual`` (count / actual class size)."""
    long = table.stack().rename("count").reset_index()
    long.columns = ["actual", "predicted", "count"]
    sizes = long.groupby("actual")["count"].transform("sum")
    long["share_of_actual"] = np.where(sizes > 0, long["count"] / sizes.where(sizes > 0, 1), np.nan)
    long["correct"] = long["actual"] == long["predicted"]
    return long


def metrics_from_confusion(table: pd.DataFrame | np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-class and averaged metrics of a (possibly expected, non-integer) confusion matrix.

    Output: (per-class DataFrame with ``precision``, ``recall``, ``f1``, ``support``,
    ``predicted``; dict with ``accuracy`` and macro/weighted precision, recall, F1). Undefined
    ratios (a class never predicted) count as 0, as scikit-learn's ``zero_division=0``.
    """
    cm = np.asarray(table, dtype=float)
    labels = list(table.index) if isinstance(table, pd.DataFrame) else list(range(len(cm)))
    tp = np.diag(cm)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    per_class = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support,
                              "predicted": predicted}, index=pd.Index(labels, name="class"))
    total = cm.sum()
    w = support / total if total else support
    summary = {"accuracy": float(tp.sum() / total) if total else float("nan")}
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        summary[f"macro_{name}"] = float(values.mean()) if len(values) else float("nan")
        summary[f"weighted_{name}"] = float((values * w).sum())
    return per_class, summary
