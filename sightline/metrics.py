"""Performance: overall metrics with confidence intervals, baselines, curves, versions.

Pure functions take arrays in scikit-learn's form (binary: ``y_true`` 0/1 with 1 = positive,
``y_score`` = P(positive); multiclass: label strings; regression: floats) and return
DataFrames; :func:`performance_section` assembles them for one audit into a
:class:`~sightline.sections.Section` that the page, ``report.json`` and the model card share.

Intervals are 95%: Wilson for proportions (accuracy, precision, recall), a normal
approximation for means of per-row losses (log loss, Brier score, MAE), and a percentile
bootstrap for the rest (F1, ROC AUC, average precision, R²). The bootstrap is vectorised
(resamples are count-weight matrices, so one sort serves every resample) and runs on at most
:data:`BOOTSTRAP_MAX_ROWS` rows; on a larger log the interval from that random sample is
rescaled to the full size by sqrt(m / n) (the m-out-of-n bootstrap), which holds for the
sqrt(n)-consistent statistics used here. Curves are computed on every labelled row and thinned
to at most :data:`CURVE_POINTS` points for drawing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from sightline.errors import MissingInputError
from sightline.sections import AMBER, GREEN, RED, CardMetric, Chart, Section, Verdict
from sightline.stats import wilson_interval

log = logging.getLogger(__name__)

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 200      # resamples per interval; cost grows linearly
BOOTSTRAP_MAX_ROWS = 20_000    # rows the bootstrap runs on (a random sample of larger logs, rescaled)
BOOTSTRAP_SEED = 0
CURVE_POINTS = 400             # points kept per ROC / PR curve for drawing
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)  # the threshold grid (step 0.01)
EPS = np.finfo(float).eps      # probability clipping for log loss, as scikit-learn does

METRIC_LABELS = {
    "accuracy": "Accuracy", "precision": "Precision", "recall": "Recall", "f1": "F1",
    "roc_auc": "ROC AUC", "average_precision": "PR AUC", "log_loss": "Log loss",
    "brier_score": "Brier score", "macro_precision": "Macro precision", "macro_recall": "Macro recall",
    "macro_f1": "Macro F1", "weighted_precision": "Weighted precision", "weighted_recall": "Weighted recall",
    "weighted_f1": "Weighted F1", "mean_absolute_error": "MAE", "root_mean_squared_error": "RMSE",
    "r2_score": "R²", "mean_error": "Mean error (bias)",
    "expected_calibration_error": "ECE", "maximum_calibration_error": "MCE",
}
# Metrics where a lower value is better (for comparisons and verdicts).
LOWER_IS_BETTER = {"log_loss", "brier_score", "mean_absolute_error", "root_mean_squared_error"}

NO_TARGET = "Performance needs ground truth: map the label column as columns.target in the audit file"
NO_LABELS = ("Performance needs labels, and none of the {rows:,} predictions of {version} has its label yet — "
             "the page fills in as outcomes arrive; Drift and Operations work meanwhile")


# ------------------------------------------------------------------ bootstrap machinery
def single_threaded_blas():
    """Context in which numpy's BLAS uses one thread. The bootstrap's matrix-vector products
    are small; OpenBLAS threads spinning for them cost 20× the CPU on a busy 2-core machine."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class BootstrapSettings:
    """How bootstrap intervals are computed: resamples, the row bound, seed, confidence."""

    n_resamples: int = BOOTSTRAP_RESAMPLES
    max_rows: int = BOOTSTRAP_MAX_ROWS
    seed: int = BOOTSTRAP_SEED
    confidence: float = CONFIDENCE

    def rows(self, n: int) -> int:
        """Rows the bootstrap uses for a data set of ``n`` rows."""
        return min(n, self.max_rows)

    def describe(self, n: int) -> str:
        m = self.rows(n)
        where = f"all {m:,} rows" if m == n else f"a random sample of {m:,} of {n:,} rows, rescaled to the full size"
        return f"bootstrap, {self.n_resamples} resamples of {where}"


DEFAULT_BOOTSTRAP = BootstrapSettings()


def bounded_sample(n: int, settings: BootstrapSettings) -> np.ndarray | None:
    """Indices of a random sample of ``settings.max_rows`` rows, or None when all rows are used."""
    if n <= settings.max_rows:
        return None
    rng = np.random.default_rng(settings.seed + 1)
    return np.sort(rng.choice(n, size=settings.max_rows, replace=False))


def resample_weights(n: int, n_resamples: int, seed: int = 0, chunk: int = 25) -> Iterator[np.ndarray]:
    """Bootstrap resamples as count matrices: each row of a yielded (b, n) float array says how
    often each of the ``n`` rows is drawn in one resample (rows sum to ``n``). Chunks of
    ``chunk`` resamples keep memory at chunk × n floats."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)
        done += b


def _percentile_interval(point: float, sample_point: float, values: np.ndarray, scale: float,
                         confidence: float) -> tuple[float, float]:
    """Percentile interval of bootstrap ``values`` moved to ``point`` and shrunk by ``scale``
    (scale 1 and sample_point == point: the plain percentile interval). NaN when fewer than
    half of the resamples gave a finite value (e.g. resamples with one class only)."""
    values = values[np.isfinite(values)]
    if len(values) == 0 or not np.isfinite(point) or not np.isfinite(sample_point):
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(point + scale * (lo - sample_point)), float(point + scale * (hi - sample_point))


def bootstrap_intervals(weighted: Callable[[np.ndarray], dict[str, np.ndarray]], n: int,
                        point: dict[str, float], settings: BootstrapSettings,
                        sample_point: dict[str, float] | None = None, scale: float = 1.0) -> dict[str, tuple[float, float]]:
    """Intervals for several statistics from one set of resamples.

    Inputs: ``weighted(W)`` returning, per statistic name, its value under each row of the
    count-weight matrix ``W`` (b × n); ``point`` the full-data estimates; ``sample_point`` the
    estimates on the bootstrapped rows when they are a sample (with ``scale`` = sqrt(m/n)).
    Output: name -> (lower, upper); NaN when fewer than half the resamples are finite.
    """
    sample_point = point if sample_point is None else sample_point
    collected: dict[str, list[np.ndarray]] = {k: [] for k in point}
    with np.errstate(invalid="ignore", divide="ignore"):
        for w in resample_weights(n, settings.n_resamples, settings.seed):
            for name, values in weighted(w).items():
                if name in collected:
                    collected[name].append(np.asarray(values, dtype=float))
    out = {}
    for name, parts in collected.items():
        values = np.concatenate(parts) if parts else np.array([])
        if np.isfinite(values).sum() < settings.n_resamples / 2:
            out[name] = (float("nan"), float("nan"))
        else:
            out[name] = _percentile_interval(point[name], sample_point[name], values, scale, settings.confidence)
    return out


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean of per-row values with a normal-approximation interval: (mean, lower, upper)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    half = norm.ppf(0.5 + confidence / 2) * values.std(ddof=1) / np.sqrt(n)
    return mean, float(mean - half), float(mean + half)


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

    def counts(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(true positives, false positives) selected at each distinct threshold, highest first.
        ``weights``: None, or a (b, n) count matrix in the original row order (gives (b, k) arrays)."""
        if weights is None:
            tps = np.cumsum(self.y)[self.ends]
            return tps, (self.ends + 1) - tps
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


def roc_curve_points(y_true, y_score, *, max_points: int = CURVE_POINTS) -> pd.DataFrame:
    """The ROC curve on every row, thinned for drawing.

    Output columns: ``threshold`` (score ≥ threshold counts as positive; NaN at the origin),
    ``false_positive_rate``, ``true_positive_rate``. Starts at (0, 0), ends at (1, 1).
    """
    ranked = RankedScores(y_true, y_score)
    tps, fps = ranked.counts()
    if len(tps) == 0 or tps[-1] == 0 or fps[-1] == 0:
        return pd.DataFrame(columns=["threshold", "false_positive_rate", "true_positive_rate"])
    keep = _thin(len(tps), max_points)
    return pd.DataFrame({
        "threshold": np.r_[np.nan, ranked.thresholds[keep]],
        "false_positive_rate": np.r_[0.0, fps[keep] / fps[-1]],
        "true_positive_rate": np.r_[0.0, tps[keep] / tps[-1]],
    })


def pr_curve_points(y_true, y_score, *, max_points: int = CURVE_POINTS) -> pd.DataFrame:
    """The precision-recall curve on every row, thinned for drawing.

    Output columns: ``threshold``, ``recall``, ``precision`` (highest threshold first).
    """
    ranked = RankedScores(y_true, y_score)
    tps, fps = ranked.counts()
    if len(tps) == 0 or tps[-1] == 0:
        return pd.DataFrame(columns=["threshold", "recall", "precision"])
    keep = _thin(len(tps), max_points)
    return pd.DataFrame({
        "threshold": ranked.thresholds[keep],
        "recall": tps[keep] / tps[-1],
        "precision": tps[keep] / (tps[keep] + fps[keep]),
    })


def threshold_curve(y_true, y_score, thresholds=THRESHOLDS) -> pd.DataFrame:
    """Counts and rates at each threshold (score ≥ threshold means positive).

    Inputs: 0/1 labels, scores, the thresholds (default 0.00, 0.01, …, 1.00).
    Output, one row per threshold: ``threshold``, ``tp``, ``fp``, ``fn``, ``tn``, ``precision``
    (NaN when nothing is selected), ``recall``, ``selection_rate`` (share flagged positive),
    ``false_positive_rate``, ``f1``, ``accuracy``.
    """
    y_true = np.asarray(y_true, dtype=int)
    y_score = np.asarray(y_score, dtype=float)
    order = np.argsort(y_score)
    s, y = y_score[order], y_true[order]
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
def confusion_counts(y_true, y_pred) -> dict[str, int]:
    """Binary confusion counts ``{"tn", "fp", "fn", "tp"}`` of 0/1 labels and predictions."""
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    tn, fp, fn, tp = np.bincount(2 * y_true + y_pred, minlength=4)[:4]
    return {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)}


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


# ------------------------------------------------------------------ binary metrics
class _WeightedBinary:
    """Every binary metric under bootstrap count weights, vectorised over resamples.

    Inputs: 0/1 labels, 0/1 predictions, scores (or None). ``stats(W)`` gives name -> (b,)
    values for a (b, n) weight matrix; ``stats(None)`` the unweighted values as floats.
    """

    def __init__(self, y_true, y_pred, y_score=None):
        self.y = np.asarray(y_true, dtype=float)
        self.pred = np.asarray(y_pred, dtype=float)
        self.score = None if y_score is None else np.asarray(y_score, dtype=float)
        self.ranked = None if self.score is None else RankedScores(self.y, self.score)
        if self.score is not None:
            p = np.clip(self.score, EPS, 1 - EPS)
            self.row_log_loss = -(self.y * np.log(p) + (1 - self.y) * np.log(1 - p))
            self.row_brier = (self.score - self.y) ** 2

    def stats(self, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
        w = np.ones((1, len(self.y))) if weights is None else weights
        total = w.sum(axis=1)
        tp = w @ (self.y * self.pred)
        fp = w @ ((1 - self.y) * self.pred)
        fn = w @ (self.y * (1 - self.pred))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = {
                "accuracy": (total - fp - fn) / total,
                "precision": tp / (tp + fp),
                "recall": tp / (tp + fn),
                "f1": 2 * tp / (2 * tp + fp + fn),
            }
            if self.ranked is not None:
                tps, fps = self.ranked.counts(None if weights is None else weights)
                auc, ap = _auc_ap(np.atleast_2d(tps), np.atleast_2d(fps))
                out.update(roc_auc=auc, average_precision=ap,
                           log_loss=(w @ self.row_log_loss) / total, brier_score=(w @ self.row_brier) / total)
        if weights is None:
            return {k: float(np.asarray(v).ravel()[0]) for k, v in out.items()}
        return out


def _row(value, lower, upper, n, method) -> dict:
    return {"value": float(value), "lower": float(lower), "upper": float(upper), "n": int(n), "method": method}


def binary_metrics(y_true, y_pred, *, y_score=None, settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> pd.DataFrame:
    """Binary metrics with 95% intervals.

    Inputs: ``y_true`` and ``y_pred`` 0/1 (1 = positive), optional ``y_score`` = P(positive)
    (rows with a missing score must be removed by the caller), bootstrap settings.
    Output: DataFrame indexed by metric (accuracy, precision, recall, f1, and with scores
    roc_auc, average_precision, log_loss, brier_score) with ``value``, ``lower``, ``upper``,
    ``n`` (rows behind the number: e.g. predicted positives for precision) and ``method``.
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    n = len(y_true)
    c = confusion_counts(y_true, y_pred)
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    rows = {}
    for name, k, m in (("accuracy", tp + tn, n), ("precision", tp, tp + fp), ("recall", tp, tp + fn)):
        lo, hi = wilson_interval(k, m)
        rows[name] = _row(k / m if m else np.nan, lo, hi, m, "Wilson score interval")

    full = _WeightedBinary(y_true, y_pred, y_score)
    point = full.stats()
    sample = bounded_sample(n, settings)
    boot = full if sample is None else _WeightedBinary(y_true[sample], y_pred[sample],
                                                      None if y_score is None else np.asarray(y_score)[sample])
    boot_point = point if sample is None else boot.stats()
    names = ["f1"] + (["roc_auc", "average_precision"] if y_score is not None else [])
    m = settings.rows(n)
    intervals = bootstrap_intervals(boot.stats, m, {k: point[k] for k in names}, settings,
                                    {k: boot_point[k] for k in names}, scale=float(np.sqrt(m / n)) if n else 1.0)
    method = settings.describe(n)
    rows["f1"] = _row(point["f1"], *intervals["f1"], n, method)
    if y_score is not None:
        rows["roc_auc"] = _row(point["roc_auc"], *intervals["roc_auc"], n, method)
        rows["average_precision"] = _row(point["average_precision"], *intervals["average_precision"], n, method)
        for name, values in (("log_loss", full.row_log_loss), ("brier_score", full.row_brier)):
            mean, lo, hi = mean_interval(values, settings.confidence)
            rows[name] = _row(mean, lo, hi, n, "normal approximation of the mean per-row loss")
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")


# ------------------------------------------------------------------ multiclass metrics
def multiclass_metrics(y_true, y_pred, *, labels=None, settings: BootstrapSettings = DEFAULT_BOOTSTRAP
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Multiclass metrics with 95% intervals.

    Inputs: label arrays (strings), optional class order, bootstrap settings.
    Output: (summary, per_class). ``summary`` is indexed by metric (accuracy — Wilson; macro
    and weighted precision, recall, F1 — bootstrap) with value/lower/upper/n/method;
    ``per_class`` is indexed by class with precision, recall, f1, support, predicted and
    Wilson intervals for precision and recall.
    """
    table = confusion_table(y_true, y_pred, labels=labels)
    per_class, summary = metrics_from_confusion(table)
    tp = np.diag(table.to_numpy())
    for name, denom in (("precision", per_class["predicted"]), ("recall", per_class["support"])):
        lo, hi = wilson_interval(tp, denom.to_numpy())
        per_class[f"{name}_lower"], per_class[f"{name}_upper"] = lo, hi
    n = int(table.to_numpy().sum())
    rows = {}
    lo, hi = wilson_interval(tp.sum(), n)
    rows["accuracy"] = _row(summary["accuracy"], lo, hi, n, "Wilson score interval")

    # Bootstrap the averaged metrics: each resample's confusion matrix is a weighted bincount
    # of the (actual, predicted) cell index of every row.
    index = pd.Index(table.index)
    k = len(index)
    t = index.get_indexer(pd.Series(np.asarray(y_true, dtype=object)).astype(str))
    p = index.get_indexer(pd.Series(np.asarray(y_pred, dtype=object)).astype(str))
    cell = (t * k + p)[(t >= 0) & (p >= 0)]
    sample = bounded_sample(len(cell), settings)
    cells = cell if sample is None else cell[sample]
    names = [f"{a}_{m}" for a in ("macro", "weighted") for m in ("precision", "recall", "f1")]
    boot_point = summary if sample is None else metrics_from_confusion(
        np.bincount(cells, minlength=k * k).reshape(k, k))[1]

    def weighted(w: np.ndarray) -> dict[str, np.ndarray]:
        stats = [metrics_from_confusion(np.bincount(cells, weights=row, minlength=k * k).reshape(k, k))[1] for row in w]
        return {name: np.array([s[name] for s in stats]) for name in names}

    m = settings.rows(len(cell))
    intervals = bootstrap_intervals(weighted, m, {x: summary[x] for x in names}, settings,
                                    {x: boot_point[x] for x in names}, scale=float(np.sqrt(m / max(n, 1))))
    for name in names:
        rows[name] = _row(summary[name], *intervals[name], n, settings.describe(n))
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric"), per_class


# ------------------------------------------------------------------ regression metrics
def regression_metrics(y_true, y_pred, *, settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> pd.DataFrame:
    """Regression metrics with 95% intervals.

    Inputs: true and predicted values (floats, rows with a missing value removed by the caller).
    Output: DataFrame indexed by metric — ``mean_absolute_error`` (normal interval of the mean
    absolute error), ``root_mean_squared_error`` (square root of the normal interval of the mean
    squared error), ``r2_score`` (bootstrap), ``mean_error`` (prediction minus truth: bias) —
    with value/lower/upper/n/method. Units are the target's units (R² has none).
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    n = len(y_true)
    err = y_pred - y_true
    rows = {}
    mae, lo, hi = mean_interval(np.abs(err), settings.confidence)
    rows["mean_absolute_error"] = _row(mae, lo, hi, n, "normal approximation of the mean absolute error")
    mse, lo, hi = mean_interval(err**2, settings.confidence)
    rows["root_mean_squared_error"] = _row(np.sqrt(mse), np.sqrt(max(lo, 0.0)), np.sqrt(hi), n,
                                           "square root of the normal interval of the mean squared error")

    def r2(w: np.ndarray | None, yt=y_true, e=err) -> np.ndarray:
        w = np.ones((1, len(yt))) if w is None else w
        total = w.sum(axis=1)
        sse = w @ (e**2)
        sst = w @ (yt**2) - (w @ yt) ** 2 / total
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(sst > 0, 1 - sse / sst, np.nan)

    point = float(r2(None)[0])
    sample = bounded_sample(n, settings)
    if sample is None:
        boot_point, fn = point, (lambda w: {"r2_score": r2(w)})
    else:
        yt, e = y_true[sample], err[sample]
        boot_point, fn = float(r2(None, yt, e)[0]), (lambda w: {"r2_score": r2(w, yt, e)})
    m = settings.rows(n)
    (lo, hi), = bootstrap_intervals(fn, m, {"r2_score": point}, settings, {"r2_score": boot_point},
                                    scale=float(np.sqrt(m / max(n, 1)))).values()
    rows["r2_score"] = _row(point, lo, hi, n, settings.describe(n))
    bias, lo, hi = mean_interval(err, settings.confidence)
    rows["mean_error"] = _row(bias, lo, hi, n, "normal approximation of the mean error")
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")


def error_by_bin(y_true, y_pred, *, n_bins: int = 10) -> pd.DataFrame:
    """Where regression errors live: predictions bucketed into quantile bins.

    Output, one row per bin (lowest predictions first): ``bin`` (label with the prediction
    range), ``lower``, ``upper``, ``n``, ``mean_predicted``, ``mean_actual``,
    ``mean_absolute_error``, ``root_mean_squared_error``, ``mean_error`` (prediction − truth).
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    edges = np.unique(np.quantile(y_pred, np.linspace(0, 1, n_bins + 1))) if len(y_pred) else np.array([0.0, 1.0])
    ids = np.clip(np.searchsorted(edges[1:-1], y_pred, side="right"), 0, max(len(edges) - 2, 0))
    k = max(len(edges) - 1, 1)
    err = y_pred - y_true
    n = np.bincount(ids, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame({
            "lower": edges[:-1] if len(edges) > 1 else edges[:1], "upper": edges[1:] if len(edges) > 1 else edges[:1],
            "n": n,
            "mean_predicted": np.bincount(ids, weights=y_pred, minlength=k) / n,
            "mean_actual": np.bincount(ids, weights=y_true, minlength=k) / n,
            "mean_absolute_error": np.bincount(ids, weights=np.abs(err), minlength=k) / n,
            "root_mean_squared_error": np.sqrt(np.bincount(ids, weights=err**2, minlength=k) / n),
            "mean_error": np.bincount(ids, weights=err, minlength=k) / n,
        })
    out.insert(0, "bin", [f"{lo:.4g} – {hi:.4g}" for lo, hi in zip(out["lower"], out["upper"])])
    return out[out["n"] > 0].reset_index(drop=True)


def residual_sample(y_true, y_pred, *, max_points: int = 5_000, seed: int = 0) -> pd.DataFrame:
    """At most ``max_points`` random rows of (``predicted``, ``actual``, ``error`` = predicted −
    actual, the sign convention of ``mean_error``) for an error plot (a scatter of a million
    points says no more than 5,000). ``attrs["rows"]`` holds the number of rows sampled from."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    idx = np.arange(len(y_true))
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(len(idx), max_points, replace=False))
    out = pd.DataFrame({"predicted": y_pred[idx], "actual": y_true[idx], "error": y_pred[idx] - y_true[idx]})
    out.attrs["rows"] = len(y_true)
    return out


# ------------------------------------------------------------------ baselines
def classification_baselines(y_true, *, prior: pd.Series) -> pd.DataFrame:
    """What naive classifiers would score on these labels, computed exactly (no simulation).

    Inputs: ``y_true`` labels (binary 0/1 or class strings), ``prior``: class -> share the
    naive models believe in (e.g. from the reference data; it need not match ``y_true``).
    - ``majority_class`` ("zero rule"): always predicts the class with the largest prior;
    - ``class_prior_random``: predicts each class at random with its prior share (expected values).
    Both forecast the prior as their probability, so their log loss and Brier score are those of
    the constant prior; their ROC AUC is 0.5 and their average precision the positive share.
    Output: DataFrame indexed by metric, one column per baseline (accuracy, precision, recall,
    f1 for binary; accuracy and macro/weighted averages for multiclass; plus the score metrics
    for binary).
    """
    labels = pd.Series(np.asarray(y_true, dtype=object))
    counts = labels.value_counts()
    classes = sorted(set(counts.index) | set(prior.index), key=str)
    actual = counts.reindex(classes, fill_value=0).to_numpy(dtype=float)
    q = prior.reindex(classes, fill_value=0).to_numpy(dtype=float)
    q = q / q.sum()
    majority = int(np.argmax(q))
    zero_rule = np.zeros((len(classes), len(classes)))
    zero_rule[:, majority] = actual  # every actual row predicted as the majority class
    random = np.outer(actual, q)     # expected counts: actual k predicted j with probability q_j
    binary = set(classes) <= {0, 1}
    out = {}
    for name, cm in (("majority_class", zero_rule), ("class_prior_random", random)):
        per_class, summary = metrics_from_confusion(pd.DataFrame(cm, index=classes, columns=classes))
        if binary:
            pos = per_class.loc[1] if 1 in per_class.index else None
            row = {"accuracy": summary["accuracy"],
                   "precision": float(pos["precision"]) if pos is not None and pos["predicted"] > 0 else float("nan"),
                   "recall": float(pos["recall"]) if pos is not None else float("nan"),
                   "f1": float(pos["f1"]) if pos is not None else float("nan")}
            p_share = actual[classes.index(1)] / actual.sum() if 1 in classes and actual.sum() else float("nan")
            q1 = float(np.clip(q[classes.index(1)] if 1 in classes else 0.0, EPS, 1 - EPS))
            row.update(roc_auc=0.5, average_precision=p_share,
                       log_loss=-(p_share * np.log(q1) + (1 - p_share) * np.log(1 - q1)),
                       brier_score=p_share * (1 - q1) ** 2 + (1 - p_share) * q1**2)
        else:
            row = summary
        out[name] = row
    return pd.DataFrame(out).rename_axis("metric")


def regression_baselines(y_true, *, center: float, median: float) -> pd.DataFrame:
    """Errors of constant predictions: ``predict_mean`` (``center``, e.g. the reference mean)
    and ``predict_median``. Output: DataFrame indexed by metric (MAE, RMSE, R²), one column each."""
    y_true = np.asarray(y_true, dtype=float)
    sst = float(((y_true - y_true.mean()) ** 2).sum())
    out = {}
    for name, c in (("predict_mean", center), ("predict_median", median)):
        err = c - y_true
        out[name] = {"mean_absolute_error": float(np.abs(err).mean()),
                     "root_mean_squared_error": float(np.sqrt((err**2).mean())),
                     "r2_score": float(1 - (err**2).sum() / sst) if sst > 0 else float("nan")}
    return pd.DataFrame(out).rename_axis("metric")


# ------------------------------------------------------------------ the audit's data
@dataclass(frozen=True)
class LabelledData:
    """The primary version's labelled rows as arrays, and how many rows they are out of."""

    frame: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray | None
    y_score: np.ndarray | None
    rows: int
    version: str | None
    negative_label: str | None = None


def labelled_data(audit, *, predictions: bool = True) -> LabelledData:
    """Labels, predictions and scores of the primary version's labelled rows.

    ``predictions=False`` skips reading the prediction column (``y_pred`` is then None): binary
    calibration needs only labels and scores, and matching label strings costs time on 1M rows.
    Raises :class:`MissingInputError` without a target column or when no label has arrived;
    regression rows whose label or prediction is not a number are left out.
    """
    spec = audit.spec
    if not spec.columns.target:
        raise MissingInputError(NO_TARGET)
    frame = audit.labelled()
    version = audit.primary_version
    if len(frame) == 0:
        raise MissingInputError(NO_LABELS.format(rows=len(audit.primary), version=version or "the model"))
    y_true = audit.y_true(frame)
    y_pred = audit.y_pred(frame) if predictions or spec.task != "binary" else None
    score = audit.y_score(frame)
    negative = None
    if spec.task == "binary":
        others = frame[spec.columns.target][y_true == 0]
        negative = str(others.mode().iloc[0]).strip() if len(others) else f"not {spec.positive_label}"
    if spec.task == "regression":
        ok = np.isfinite(y_true) & np.isfinite(y_pred)
        frame, y_true, y_pred = frame[ok], y_true[ok], y_pred[ok]
        score = None
        if len(frame) == 0:
            raise MissingInputError("Performance needs numeric labels and predictions; no labelled row has both")
    return LabelledData(frame, y_true, y_pred, score, len(audit.primary), version, negative)


def label_prior(audit, data: LabelledData) -> tuple[pd.Series, str]:
    """Class shares the naive baselines believe in, and where they come from: the reference
    data's labels when it has the target column (what a model trained there would know), else
    the labelled log itself."""
    target = audit.spec.columns.target
    ref = audit.reference
    if ref is not None and target in ref.columns and ref[target].notna().any():
        labelled = audit.labelled(ref)
        y = audit.y_true(labelled)
        if audit.spec.task != "regression":
            return pd.Series(y).value_counts(normalize=True), f"reference data ({len(labelled):,} labelled rows)"
    return pd.Series(data.y_true).value_counts(normalize=True), "the labelled log itself (no labels in a reference)"


# ------------------------------------------------------------------ model versions
def version_comparison(audit, data: LabelledData, settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> list[dict]:
    """The primary version against each other version in the log, on the same requests.

    With an id column the versions are joined on it (labels come from the primary rows) and
    each difference (other − primary) gets a paired bootstrap interval; without one each version
    is scored on its own labelled rows (``join`` is None: not the same requests, no interval).
    Output: one dict per other version: ``version``, ``join``, ``n``, ``metrics``: a DataFrame
    indexed by metric with ``primary``, ``other``, ``difference``, ``lower``, ``upper``.
    """
    spec = audit.spec
    vcol, idcol = spec.columns.model_version, spec.columns.id
    others = [v for v in audit.versions if v != data.version]
    if not others or spec.task not in ("binary", "multiclass", "regression"):
        return []
    out = []
    for other in others:
        rows = audit.current[audit.current[vcol].astype(str) == other]
        if idcol and idcol in rows.columns:
            where = join_positions(data.frame[idcol].to_numpy(), rows[idcol].to_numpy())
            mine = np.flatnonzero(where >= 0)
            if len(mine) == 0:
                continue
            theirs = rows.iloc[where[mine]]
            y = data.y_true[mine]
            a = (data.y_pred[mine], None if data.y_score is None else data.y_score[mine])
            b = (audit.y_pred(theirs), audit.y_score(theirs))
            join = idcol
        else:
            theirs = audit.labelled(rows)
            if len(theirs) == 0:
                continue
            y, a, b, join = None, None, None, None
        out.append({"version": other, "join": join,
                    "n": int(len(mine) if join else len(theirs)),
                    "metrics": _compare(spec.task, y, a, b, settings) if join else
                    _unpaired(audit, data, theirs, settings)})
    return out


def join_positions(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """For each id in ``ours``, the position of the same id in ``theirs`` (its first occurrence:
    a request logged twice counts once; validation warns about duplicates), or -1.
    One factorize of both id arrays (a hash of each string once) is faster than a merge."""
    codes, _ = pd.factorize(np.concatenate([np.asarray(theirs, dtype=object), np.asarray(ours, dtype=object)]))
    their_codes, our_codes = codes[: len(theirs)], codes[len(theirs):]
    first = np.full(int(codes.max()) + 2 if len(codes) else 1, -1)
    first[their_codes[::-1]] = np.arange(len(theirs))[::-1]  # written last = first occurrence
    return np.where(our_codes >= 0, first[our_codes], -1)


def _task_stats(task: str, y, pred, score) -> Callable[[np.ndarray | None], dict]:
    """A weighted-statistics function for one model on fixed rows (see :class:`_WeightedBinary`)."""
    if task == "binary":
        ok = np.ones(len(y), bool) if score is None else np.isfinite(score)
        return _WeightedBinary(y, pred, score if score is not None and ok.all() else None).stats
    if task == "multiclass":
        correct = (pd.Series(pred, dtype=object).astype(str).to_numpy() == pd.Series(y, dtype=object).astype(str).to_numpy()).astype(float)
        return lambda w: {"accuracy": ((np.ones((1, len(y))) if w is None else w) @ correct)
                          / (np.ones((1, len(y))) if w is None else w).sum(axis=1)}
    abs_err, sq_err = np.abs(pred - y), (pred - y) ** 2

    def reg(w):
        w = np.ones((1, len(y))) if w is None else w
        total = w.sum(axis=1)
        return {"mean_absolute_error": (w @ abs_err) / total, "root_mean_squared_error": np.sqrt((w @ sq_err) / total)}
    return reg


def _compare(task, y, a, b, settings) -> pd.DataFrame:
    """Paired comparison of two models' metrics on the same rows (difference = b − a)."""
    if task == "regression":
        ok = np.isfinite(y) & np.isfinite(a[0]) & np.isfinite(b[0])
        y, a, b = y[ok], (a[0][ok], None), (b[0][ok], None)
    elif task == "binary" and a[1] is not None and b[1] is not None:
        ok = np.isfinite(a[1]) & np.isfinite(b[1])
        y, a, b = y[ok], (a[0][ok], a[1][ok]), (b[0][ok], b[1][ok])
    elif task == "binary":
        a, b = (a[0], None), (b[0], None)
    fa, fb = _task_stats(task, y, *a), _task_stats(task, y, *b)
    pa, pb = fa(None), fb(None)
    if task != "binary":
        pa = {k: float(np.ravel(v)[0]) for k, v in pa.items()}
        pb = {k: float(np.ravel(v)[0]) for k, v in pb.items()}
    names = [k for k in pa if k in pb]
    diff = {k: pb[k] - pa[k] for k in names}
    n = len(y)
    sample = bounded_sample(n, settings)
    if sample is not None:  # bootstrap on a bounded sample of the pairs
        y_s = y[sample]
        fa = _task_stats(task, y_s, a[0][sample], None if a[1] is None else a[1][sample])
        fb = _task_stats(task, y_s, b[0][sample], None if b[1] is None else b[1][sample])
        sa, sb = fa(None), fb(None)
        sdiff = {k: float(np.ravel(sb[k])[0] - np.ravel(sa[k])[0]) for k in names}
    else:
        sdiff = diff
    m = settings.rows(n)
    def weighted_diff(w: np.ndarray) -> dict[str, np.ndarray]:
        sa, sb = fa(w), fb(w)  # both models under the same resample: a paired bootstrap
        return {k: sb[k] - sa[k] for k in names}

    intervals = bootstrap_intervals(weighted_diff, m, diff, settings, sdiff, scale=float(np.sqrt(m / max(n, 1))))
    return pd.DataFrame({"primary": pa, "other": pb, "difference": diff,
                         "lower": {k: v[0] for k, v in intervals.items()},
                         "upper": {k: v[1] for k, v in intervals.items()}}).loc[names].rename_axis("metric")


def _unpaired(audit, data: LabelledData, theirs: pd.DataFrame, settings) -> pd.DataFrame:
    """Each version on its own labelled rows (no id column to pair them): values only."""
    task = audit.spec.task
    fa = _task_stats(task, data.y_true, data.y_pred, data.y_score)
    yb, pb_, sb = audit.y_true(theirs), audit.y_pred(theirs), audit.y_score(theirs)
    if task == "regression":
        ok = np.isfinite(yb) & np.isfinite(pb_)
        yb, pb_ = yb[ok], pb_[ok]
    fb = _task_stats(task, yb, pb_, sb if sb is not None and np.isfinite(sb).all() else None)
    pa = {k: float(np.ravel(v)[0]) for k, v in fa(None).items()}
    pb = {k: float(np.ravel(v)[0]) for k, v in fb(None).items()}
    names = [k for k in pa if k in pb]
    return pd.DataFrame({"primary": pa, "other": pb, "difference": {k: pb[k] - pa[k] for k in names},
                         "lower": np.nan, "upper": np.nan}).loc[names].rename_axis("metric")


# ------------------------------------------------------------------ the section
def _metric_records(table: pd.DataFrame) -> dict:
    return {m: {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for m, row in table.to_dict(orient="index").items()}


def _card_metrics(table: pd.DataFrame) -> tuple[CardMetric, ...]:
    out = []
    for name, row in table.iterrows():
        if not np.isfinite(row["value"]):
            continue
        lo = float(row["lower"]) if np.isfinite(row["lower"]) else None
        hi = float(row["upper"]) if np.isfinite(row["upper"]) else None
        out.append(CardMetric(type=str(name), value=float(row["value"]), slice="", lower=lo, upper=hi, n=int(row["n"])))
    return tuple(out)


def _versions_report(versions: list[dict]) -> list[dict]:
    return [{"version": v["version"], "join": v["join"], "n": v["n"], "metrics": _metric_records(v["metrics"])}
            for v in versions]


def _better_version(versions: list[dict], metric: str) -> dict | None:
    """The other version that is significantly better than the primary on ``metric``, if any."""
    best = None
    for v in versions:
        if metric not in v["metrics"].index:
            continue
        row = v["metrics"].loc[metric]
        sign = -1 if metric in LOWER_IS_BETTER else 1
        lo, hi = row["lower"], row["upper"]
        significant = np.isfinite(lo) and (lo > 0 if sign > 0 else hi < 0)
        if significant and (best is None or sign * row["difference"] > sign * best[1]["difference"]):
            best = (v, row)
    return None if best is None else {"version": best[0]["version"], "n": best[0]["n"], **best[1].to_dict()}


def _fmt_ci(row) -> str:
    if np.isfinite(row["lower"]) and np.isfinite(row["upper"]):
        return f"{row['value']:.3f}, 95% CI {row['lower']:.3f}–{row['upper']:.3f}"
    return f"{row['value']:.3f}"


def binary_verdict(metrics: pd.DataFrame, baselines: pd.DataFrame, versions: list[dict], positive_label,
                   majority_label: str = "the most common outcome") -> Verdict:
    """Green when the model ranks clearly better than guessing and no other version beats it.

    Rules (stated in the verdict's detail): with scores, red when the ROC AUC's lower bound is
    ≤ 0.6 (little better than the 0.5 of a coin flip), amber when the AUC is below 0.75 or another
    version is significantly better on the same requests; without scores, red when accuracy is
    not significantly above always answering the majority class, amber when another version is
    significantly more accurate on the same requests.
    """
    acc, zero_acc = metrics.loc["accuracy"], baselines.loc["accuracy", "majority_class"]
    acc_text = f"is right {acc['value']:.0%} of the time (always answering '{majority_label}': {zero_acc:.0%})"
    scored = "roc_auc" in metrics.index and np.isfinite(metrics.loc["roc_auc", "value"])
    better = _better_version(versions, "roc_auc" if scored else "accuracy")
    if scored:
        auc = metrics.loc["roc_auc"]
        lead = f"(ROC AUC {_fmt_ci(auc)}; guessing: 0.5)"
        if not np.isfinite(auc["lower"]) or auc["lower"] <= 0.6:
            status, headline = RED, f"The model tells '{positive_label}' apart from the rest little better than chance {lead}."
        elif auc["value"] < 0.75:
            status, headline = AMBER, f"The model tells '{positive_label}' apart from the rest only moderately well {lead} and {acc_text}."
        else:
            status, headline = GREEN, f"The model tells '{positive_label}' apart from the rest well {lead} and {acc_text}."
        detail = ("Rules: red when the ROC AUC's 95% lower bound is ≤ 0.60; amber below 0.75 or when another model "
                  "version is significantly better on the same requests; otherwise green.")
    else:
        if acc["lower"] <= zero_acc:
            status, headline = RED, f"The model is not clearly better than always answering '{majority_label}': it {acc_text}."
        else:
            status, headline = GREEN, f"The model beats the naive baselines: it {acc_text}."
        detail = ("Rules (no scores, so no ROC AUC): red when accuracy's 95% lower bound is at or below the "
                  "majority-class accuracy; amber when another model version is significantly more accurate on the "
                  "same requests; otherwise green.")
    if better is not None and status == GREEN:
        status = AMBER
        metric = "ROC AUC" if scored else "accuracy"
        headline += (f" But {better['version']} does better on the {better['n']:,} labelled requests both scored "
                     f"({metric} {better['other']:.3f} vs {better['primary']:.3f}).")
    return Verdict(status, headline, detail)


def multiclass_verdict(metrics: pd.DataFrame, baselines: pd.DataFrame, versions: list[dict]) -> Verdict:
    """Red when accuracy is not significantly above the majority class; amber when macro F1 is
    under twice the class-prior random baseline's or another version is significantly better."""
    acc, zero = metrics.loc["accuracy"], baselines.loc["accuracy", "majority_class"]
    f1, rand_f1 = metrics.loc["macro_f1", "value"], baselines.loc["macro_f1", "class_prior_random"]
    text = (f"it is right {acc['value']:.0%} of the time (majority class: {zero:.0%}); macro F1 {f1:.3f} "
            f"(random guessing with the class shares: {rand_f1:.3f})")
    if acc["lower"] <= zero:
        status, headline = RED, f"The model is not clearly better than always predicting the most common class: {text}."
    elif f1 < 2 * rand_f1:
        status, headline = AMBER, f"The model beats the naive baselines only modestly: {text}."
    else:
        status, headline = GREEN, f"The model clearly beats the naive baselines: {text}."
    better = _better_version(versions, "accuracy")
    if better is not None and status == GREEN:
        status = AMBER
        headline += f" But {better['version']} is more accurate on the same {better['n']:,} requests."
    return Verdict(status, headline, "Rules: red when accuracy's 95% lower bound is at or below the majority-class "
                   "accuracy; amber when macro F1 is under twice the random baseline's; otherwise green.")


def regression_verdict(metrics: pd.DataFrame, baselines: pd.DataFrame, versions: list[dict]) -> Verdict:
    """Red when the model is not better than predicting the mean (R² upper bound ≤ 0); amber
    when it explains less than half the variance (R² < 0.5) or another version is better."""
    r2, mae = metrics.loc["r2_score"], metrics.loc["mean_absolute_error", "value"]
    base = baselines.loc["mean_absolute_error", "predict_mean"]
    text = (f"its typical error (MAE) is {mae:.4g}, against {base:.4g} for always predicting the mean; "
            f"R² {_fmt_ci(r2)}")
    if not np.isfinite(r2["upper"]) or r2["upper"] <= 0:
        status, headline = RED, f"The model predicts no better than the average value: {text}."
    elif r2["value"] < 0.5:
        status, headline = AMBER, f"The model explains less than half of the variation: {text}."
    else:
        status, headline = GREEN, f"The model predicts clearly better than the average value: {text}."
    better = _better_version(versions, "mean_absolute_error")
    if better is not None and status == GREEN:
        status = AMBER
        headline += f" But {better['version']} has a lower MAE on the same {better['n']:,} requests."
    return Verdict(status, headline, "Rules: red when R²'s 95% upper bound is ≤ 0; amber when R² < 0.5; otherwise green.")


def performance_section(audit, settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> Section:
    """The performance Section of an audit: overall metrics with intervals, baselines, other
    versions on the same requests, confusion matrix, curves and the threshold table.

    Only the primary version's labelled rows count. Raises :class:`MissingInputError` without
    labels. See the README ("report.json → performance") for the report keys.
    """
    with single_threaded_blas():
        return _performance_section(audit, settings)


def _performance_section(audit, settings: BootstrapSettings) -> Section:
    from sightline.charts import performance as charts

    data = labelled_data(audit)
    task = audit.spec.task
    prov = {"model_version": data.version, "rows": data.rows, "labelled_rows": len(data.y_true),
            "bootstrap_resamples": settings.n_resamples, "bootstrap_rows": settings.rows(len(data.y_true)),
            "bootstrap_seed": settings.seed, "confidence": settings.confidence}
    report = {"task": task, "model_version": data.version, "rows": data.rows, "labelled_rows": len(data.y_true)}
    versions = version_comparison(audit, data, settings)
    report["versions"] = _versions_report(versions)
    tables: dict[str, pd.DataFrame] = {}
    chart_list: list[Chart] = []
    if task == "binary":
        verdict = _binary_part(audit, data, settings, versions, report, prov, tables, chart_list, charts)
    elif task == "multiclass":
        metrics, per_class = multiclass_metrics(data.y_true, data.y_pred, settings=settings)
        prior, prior_source = label_prior(audit, data)
        base = classification_baselines(data.y_true, prior=prior)
        cm = confusion_table(data.y_true, data.y_pred)
        report.update(overall=_metric_records(metrics), per_class=per_class.reset_index().to_dict(orient="records"),
                      baselines={"prior_source": prior_source, **base.to_dict()},
                      confusion_matrix={"labels": list(cm.index), "counts": cm.to_numpy().tolist()})
        tables.update(metrics=metrics, per_class=per_class, baselines=base, confusion_matrix=cm)
        chart_list += [Chart("confusion_matrix", "Confusion matrix", charts.confusion_chart(confusion_long(cm))),
                       Chart("per_class", "Precision, recall and F1 per class", charts.per_class_chart(per_class))]
        verdict = multiclass_verdict(metrics, base, versions)
    else:
        metrics = regression_metrics(data.y_true, data.y_pred, settings=settings)
        ref_y = _reference_target(audit)
        center = float(np.mean(ref_y)) if ref_y is not None else float(np.mean(data.y_true))
        median = float(np.median(ref_y)) if ref_y is not None else float(np.median(data.y_true))
        base = regression_baselines(data.y_true, center=center, median=median)
        bins = error_by_bin(data.y_true, data.y_pred)
        report.update(overall=_metric_records(metrics), baselines={
            "source": "reference data" if ref_y is not None else "the labelled log itself", **base.to_dict()},
            error_by_bin=bins.to_dict(orient="records"))
        tables.update(metrics=metrics, baselines=base, error_by_bin=bins)
        chart_list += [Chart("error_by_bin", "Error by prediction range", charts.error_by_bin_chart(bins)),
                       Chart("residuals", "Residuals", charts.residual_chart(residual_sample(data.y_true, data.y_pred)))]
        verdict = regression_verdict(metrics, base, versions)
    if versions:
        tables["versions"] = pd.concat({v["version"]: v["metrics"] for v in versions}, names=["version", "metric"])
    return Section(area="performance", verdict=verdict, report=report, metrics=_card_metrics(tables["metrics"]),
                   charts=tuple(chart_list), provenance=prov, tables=tables)


def _reference_target(audit) -> np.ndarray | None:
    ref, target = audit.reference, audit.spec.columns.target
    if ref is None or target not in ref.columns:
        return None
    y = pd.to_numeric(ref[target], errors="coerce").dropna().to_numpy(dtype=float)
    return y if len(y) else None


def _binary_part(audit, data, settings, versions, report, prov, tables, chart_list, charts) -> Verdict:
    """The binary half of :func:`performance_section` (fills report, tables, charts in place)."""
    spec = audit.spec
    score = data.y_score
    scored = None if score is None else np.isfinite(score)
    if scored is not None and not scored.any():
        score, scored = None, None
    y_s, s_s, p_s = ((data.y_true, score, data.y_pred) if scored is None or scored.all()
                     else (data.y_true[scored], score[scored], data.y_pred[scored]))
    if score is None or scored.all():
        metrics = binary_metrics(data.y_true, data.y_pred, y_score=score, settings=settings)
    else:  # label metrics on every labelled row, score metrics on the rows that have a score
        metrics = binary_metrics(data.y_true, data.y_pred, settings=settings)
        with_score = binary_metrics(y_s, p_s, y_score=s_s, settings=settings)
        metrics = pd.concat([metrics, with_score.loc[["roc_auc", "average_precision", "log_loss", "brier_score"]]])
    prior, prior_source = label_prior(audit, data)
    base = classification_baselines(data.y_true, prior=prior)
    labels = [data.negative_label, str(spec.positive_label)]
    cm = confusion_from_counts(confusion_counts(data.y_true, data.y_pred), labels=labels)
    prevalence = float(np.mean(data.y_true))
    report.update(positive_label=spec.positive_label, negative_label=data.negative_label, prevalence=prevalence,
                  scored_rows=len(y_s) if score is not None else 0,
                  overall=_metric_records(metrics),
                  baselines={"prior_source": prior_source,
                             "prior_positive_share": float(prior.get(1, 0.0)),
                             **{k: {m: (None if not np.isfinite(v) else float(v)) for m, v in col.items()}
                                for k, col in base.to_dict().items()}},
                  confusion_matrix={"labels": labels, "counts": cm.to_numpy().tolist(),
                                    "source": "logged predictions"})
    tables.update(metrics=metrics, baselines=base, confusion_matrix=cm)
    prov.update(prior_source=prior_source, threshold=spec.threshold,
                curves=f"computed on all {len(y_s):,} scored rows, drawn with at most {CURVE_POINTS} points")
    chart_list.append(Chart("baselines", "The model against naive baselines", charts.baseline_chart(metrics, base)))
    chart_list.append(Chart("confusion_matrix", "Confusion matrix (logged predictions)",
                            charts.confusion_chart(confusion_long(cm))))
    if score is not None:
        curve = threshold_curve(y_s, s_s)
        report["threshold"] = spec.threshold
        report["threshold_curve"] = curve.to_dict(orient="records")
        roc, pr = roc_curve_points(y_s, s_s), pr_curve_points(y_s, s_s)
        at = curve.iloc[int(np.argmin(np.abs(curve["threshold"] - spec.threshold)))]
        chart_list += [
            Chart("roc_curve", "ROC curve", charts.roc_chart(roc, auc=metrics.loc["roc_auc", "value"],
                                                            operating_point=at)),
            Chart("precision_recall_curve", "Precision-recall curve",
                  charts.pr_chart(pr, average_precision=metrics.loc["average_precision", "value"],
                                  prevalence=float(np.mean(y_s)), operating_point=at)),
            Chart("threshold_curve", "Precision, recall and selection rate by threshold",
                  charts.threshold_chart(curve, spec.threshold)),
        ]
    majority = str(spec.positive_label) if prior.get(1, 0.0) > 0.5 else data.negative_label
    return binary_verdict(metrics, base, versions, spec.positive_label, majority)
