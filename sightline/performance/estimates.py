"""Metric tables with confidence intervals and naive baselines.

Holds :func:`binary_metrics`, :func:`multiclass_metrics` and :func:`regression_metrics`
(95% intervals: Wilson for proportions, a normal approximation for means of per-row losses,
the bootstrap of :mod:`sightline.stats.bootstrap` for the rest), the weighted binary
statistics behind them (:class:`_WeightedBinary`), regression error by prediction range and
residual samples, and the exact scores of naive baselines (:func:`classification_baselines`,
:func:`regression_baselines`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.core.numbers import format_value
from sightline.performance.curves import RankedScores, _auc_ap, confusion_table, metrics_from_confusion
from sightline.stats.bootstrap import DEFAULT_BOOTSTRAP, BootstrapSettings, bootstrap_intervals, bounded_sample, mean_interval
from sightline.stats.confusion import confusion_counts
from sightline.stats.intervals import wilson_interval

EPS = np.finfo(float).eps      # probability clipping for log loss, as scikit-learn does


# ------------------------------------------------------------------ binary metrics
class _WeightedBinary:
    """Every binary metric under bootstrap count weights, vectorised over resamples.

    Inputs: 0/1 labels, 0/1 predictions, scores (or None). ``stats(W)`` gives name -> (b,)
    values for a (b, n) weight matrix; ``stats(None)`` the unweighted values as floats.
    """

    def __init__(self, y_true, y_pred, y_score=None, ranked: RankedScores | None = None):
        self.y = np.asarray(y_true, dtype=float)
        self.pred = np.asarray(y_pred, dtype=float)
        self.score = None if y_score is None else np.asarray(y_score, dtype=float)
        if self.score is not None and ranked is None:
            ranked = RankedScores(self.y, self.score)
        self.ranked = None if self.score is None else ranked
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


def binary_metrics(y_true, y_pred, *, y_score=None, settings: BootstrapSettings = DEFAULT_BOOTSTRAP,
                   ranked: RankedScores | None = None) -> pd.DataFrame:
    """Binary metrics with 95% intervals.

    Inputs: ``y_true`` and ``y_pred`` 0/1 (1 = positive), optional ``y_score`` = P(positive)
    (rows with a missing score must be removed by the caller), bootstrap settings, optionally
    the :class:`RankedScores` of (``y_true``, ``y_score``) when the caller has it (saves a sort).
    Output: DataFrame indexed by metric (accuracy, precision, recall, f1, and with scores
    roc_auc, average_precision, log_loss, brier_score) with ``value``, ``lower``, ``upper``,
    ``n`` (rows behind the number: e.g. predicted positives for precision) and ``method``.
    """
    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    n = len(y_true)
    tn, fp, fn, tp = (int(v) for v in confusion_counts(y_true, y_pred)[0])
    rows = {}
    for name, k, m in (("accuracy", tp + tn, n), ("precision", tp, tp + fp), ("recall", tp, tp + fn)):
        lo, hi = wilson_interval(k, m)
        rows[name] = _row(k / m if m else np.nan, lo, hi, m, "Wilson score interval")

    full = _WeightedBinary(y_true, y_pred, y_score, ranked)
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
    out.insert(0, "bin", [f"{format_value(lo, digits=4)} – {format_value(hi, digits=4)}" for lo, hi in zip(out["lower"], out["upper"])])
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
