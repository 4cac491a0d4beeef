"""Calibration errors with intervals: the Brier score, ECE and MCE of a set of predictions with
bootstrap intervals and the chance level of a perfectly calibrated model
(:func:`calibration_metrics`), and the same per group with every group binned like all rows
(:func:`calibration_by_group`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.calibration.bootstrap import calibration_noise, consistency_p_value
from sightline.stats.bootstrap import (
    DEFAULT_BOOTSTRAP,
    BootstrapSettings,
    SharedResampleWeights,
    bootstrap_intervals,
    bounded_sample,
    mean_interval,
)
from sightline.stats.reliability import (
    DEFAULT_N_BINS,
    DEFAULT_STRATEGY,
    bin_edges,
    bin_ids,
    bin_sums,
    calibration_errors,
    check_probabilities,
    errors_from_table,
    reliability_rows,
    reliability_table,
    resampled_calibration_errors,
)


def brier_score(y_true, y_prob) -> float:
    """Mean squared difference between predicted probability and 0/1 outcome (lower is better)."""
    y_true, y_prob = check_probabilities(y_true, y_prob)
    return float(np.mean((y_prob - y_true) ** 2)) if len(y_true) else float("nan")


def calibration_metrics(y_true, y_prob, *, n_bins: int = DEFAULT_N_BINS, strategy: str = DEFAULT_STRATEGY,
                        edges: np.ndarray | None = None, ids: np.ndarray | None = None,
                        table: pd.DataFrame | None = None, weights: SharedResampleWeights | None = None,
                        settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> pd.DataFrame:
    """Brier score, ECE and MCE with 95% intervals.

    Inputs: outcomes, probabilities, the bin scheme or ``edges``; optionally what the caller
    already has for these rows and edges: ``ids`` (bins, from :func:`bin_ids`), ``table``
    (:func:`reliability_table`) and ``weights`` (resamples shared between calls).
    Output: DataFrame indexed by metric (``brier_score``: normal interval of the mean squared
    error; ``expected_calibration_error``, ``maximum_calibration_error``: bootstrap with the bin
    edges held fixed, on at most ``settings.max_rows`` rows) with value/lower/upper/n/method.
    """
    y_true, y_prob = check_probabilities(y_true, y_prob)
    n = len(y_true)
    edges = bin_edges(y_prob, n_bins=n_bins, strategy=strategy) if edges is None else edges
    k = len(edges) - 1
    ids = bin_ids(y_prob, edges) if ids is None else ids
    ece, mce = errors_from_table(reliability_table(y_true, y_prob, edges=edges, ids=ids) if table is None else table)
    rows = {}
    mean, lo, hi = mean_interval((y_prob - y_true) ** 2, settings.confidence)
    rows["brier_score"] = {"value": mean, "lower": lo, "upper": hi, "n": n,
                           "method": "normal approximation of the mean squared error"}
    sample = bounded_sample(n, settings)
    ys, ps, ids_s = (y_true, y_prob, ids) if sample is None else (y_true[sample], y_prob[sample], ids[sample])
    point = {"expected_calibration_error": ece, "maximum_calibration_error": mce}
    sample_point = point if sample is None else \
        dict(zip(point, errors_from_table(reliability_table(ys, ps, edges=edges, ids=ids_s))))
    m = settings.rows(n)
    intervals = bootstrap_intervals(resampled_calibration_errors(ys, ps, ids_s, k), m, point, settings,
                                    sample_point, scale=float(np.sqrt(m / n)) if n else 1.0, weights=weights) if n else \
        {name: (float("nan"), float("nan")) for name in point}
    for name, value in point.items():
        lo, hi = intervals[name]
        rows[name] = {"value": value, "lower": max(lo, 0.0) if np.isfinite(lo) else lo, "upper": hi, "n": n,
                      "method": settings.describe(n) + " (bin edges fixed)"}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")


def group_labels(values: pd.Series, *, n_bins: int = 4) -> pd.Series:
    """Group names of a column: categories as text; numbers with more than ``n_bins`` distinct
    values in quantile bins ("17–28"); missing values as "(missing)"."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and values.nunique() > n_bins:
        edges = np.unique(np.nanquantile(values.to_numpy(dtype=float), np.linspace(0, 1, n_bins + 1)))
        ids = np.clip(np.searchsorted(edges[1:-1], values.to_numpy(dtype=float), side="right"), 0, len(edges) - 2)
        names = np.array([f"{lo:g}–{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])], dtype=object)
        out = pd.Series(names[ids], index=values.index, dtype=object)
        return out.where(values.notna(), "(missing)")
    return values.astype("string").fillna("(missing)").astype(str)


def calibration_by_group(y_true, y_prob, *, sensitive_features, n_bins: int = DEFAULT_N_BINS,
                         strategy: str = DEFAULT_STRATEGY, min_group_size: int = 30,
                         settings: BootstrapSettings = DEFAULT_BOOTSTRAP, edges: np.ndarray | None = None,
                         ids: np.ndarray | None = None,
                         weights: SharedResampleWeights | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calibration per group, every group binned with the same edges (from all rows).

    Inputs: outcomes, probabilities, ``sensitive_features`` (group name per row), the bin
    scheme, the smallest group that gets a verdict; optionally the ``edges`` of that scheme on
    these probabilities, each row's bin ``ids`` and shared resample ``weights`` (all of them as
    this function would make them, passed to save the work).
    Output: (summary, reliability). ``summary`` is indexed by group, largest first, with ``n``,
    ``brier_score``, ``expected_calibration_error`` (+ ``ece_lower``/``ece_upper``; and
    ``ece_if_calibrated``, the mean ECE a perfectly calibrated model would show on the group's
    predictions, with ``p_value``, the chance of an ECE this large if it were calibrated — see
    :func:`calibration_noise`), ``maximum_calibration_error``, ``mean_predicted``,
    ``fraction_positive`` and ``reliable`` (n ≥ min_group_size; only those get intervals). ``reliability`` stacks :func:`reliability_table` per group with a
    ``group`` column.

    Every group's counts and sums come from one ``bincount`` over (group, bin) cells, so the cost
    does not grow with the number of groups; only reliable groups (at most rows / min_group_size)
    get their own bootstrap and chance simulation.
    """
    y_true, y_prob = check_probabilities(y_true, y_prob)
    groups = pd.Series(np.asarray(sensitive_features, dtype=object)).astype(str)
    edges = bin_edges(y_prob, n_bins=n_bins, strategy=strategy) if edges is None else edges
    ids = bin_ids(y_prob, edges) if ids is None else ids
    weights = SharedResampleWeights() if weights is None else weights
    codes, names = pd.factorize(groups, sort=False)
    if not len(names):
        return pd.DataFrame(columns=["n"]), reliability_table([], [], edges=edges).assign(group=[])
    # Every group in one pass: counts and sums per (group, bin) cell from one bincount each, in
    # row order within a cell (so each sum equals the group's own reliability_table, bit for bit).
    # Groups are at most data.validation.MAX_GROUPS, so the (group × bin) arrays stay small.
    k = len(edges) - 1
    sizes = np.bincount(codes, minlength=len(names))
    order = np.argsort(-sizes, kind="stable")  # largest group first; ties in order of appearance
    sums = bin_sums(y_true, y_prob, ids, k, codes, len(names))
    ece, mce = calibration_errors(*sums)
    brier = np.bincount(codes, weights=(y_prob - y_true) ** 2, minlength=len(names)) / sizes
    mean_predicted = np.bincount(codes, weights=y_prob, minlength=len(names)) / sizes
    fraction_positive = np.bincount(codes, weights=y_true, minlength=len(names)) / sizes
    reliable = sizes >= min_group_size
    ece_lower, ece_upper = np.full(len(names), np.nan), np.full(len(names), np.nan)
    ece_if_calibrated, p_value = np.full(len(names), np.nan), np.full(len(names), np.nan)
    # Intervals and chance levels only for groups of at least min_group_size rows (at most
    # rows / min_group_size of them); their rows, in row order, from one stable sort.
    by_group = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[by_group], np.arange(len(names) + 1))
    for code in order[reliable[order]]:
        rows = by_group[bounds[code]:bounds[code + 1]]
        yt, yp, ig = y_true[rows], y_prob[rows], ids[rows]
        m = calibration_metrics(yt, yp, edges=edges, ids=ig, weights=weights, settings=settings)
        ece_lower[code], ece_upper[code] = m.loc["expected_calibration_error", ["lower", "upper"]]
        noise = calibration_noise(yp, edges, n_sim=settings.n_resamples, max_rows=settings.max_rows,
                                  seed=settings.seed, ids=ig)
        ece_if_calibrated[code] = float(noise.mean()) if len(noise) else np.nan
        p_value[code] = consistency_p_value(float(ece[code]), noise)
    summary_df = pd.DataFrame({
        "group": np.asarray(names, dtype=object)[order], "n": sizes[order].astype(int),
        "brier_score": brier[order], "expected_calibration_error": ece[order],
        "ece_lower": ece_lower[order], "ece_upper": ece_upper[order], "ece_if_calibrated": ece_if_calibrated[order],
        "p_value": p_value[order], "maximum_calibration_error": mce[order], "mean_predicted": mean_predicted[order],
        "fraction_positive": fraction_positive[order], "reliable": reliable[order]}).set_index("group")
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    long = reliability_rows(*sums, edges)
    long = long.iloc[np.lexsort((long["bin"].to_numpy(), rank[long["group"].to_numpy()]))]  # largest group first
    # object: a fixed-width str array of a 1 MB name would take GBs
    long = long.assign(group=np.asarray(names, dtype=object)[long["group"].to_numpy()]).reset_index(drop=True)
    long = long[[*long.columns.drop("group"), "group"]]
    return summary_df, long
