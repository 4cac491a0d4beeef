"""Slice-based evaluation: metrics per slice with confidence intervals, gap and impact.

A *slice* is a set of rows sharing one value of a column (``sex=Female``), one numeric bin
(``age=37–45``), or an intersection of two or three of those (``sex=Female & race=Black``).
Categorical columns are used as they are (missing values become the slice ``(missing)``;
beyond :data:`MAX_LEVELS` the rarest values are pooled as ``(other)``); numeric columns are
cut at their quantiles into ``n_bins`` bins labelled by the smallest and largest value inside
(``age 37–45``).

Everything is computed from grouped confusion counts (one ``np.bincount`` per column set),
never row by row, so a 1,000,000-row log takes well under a second per table.

Metrics (binary): ``accuracy``, ``error_rate``, ``precision``, ``recall``, ``f1``,
``selection_rate`` — 95% Wilson intervals, except F1 (multinomial bootstrap of the slice's
confusion counts, which is exactly the row bootstrap for a confusion-count metric) — and
``roc_auc`` where the slice holds both classes (Hanley–McNeil 1982 interval). Multiclass:
``accuracy``, ``error_rate``. Regression: ``mean_absolute_error`` (normal-approximation interval).

For every metric: ``gap`` = slice − overall, and ``impact`` = overall − (the overall value if
the slice performed like the rest of the data). The slice keeps its rows, labels and
denominator (its rows for accuracy, its predicted positives for precision, its positives for
recall) and takes the rest's rate, which makes the counterfactual overall value equal the
rest's value: ``impact = overall − metric(rest)``. For accuracy that is
``overall − (n_rest·acc_rest + n_slice·acc_rest)/N = (n_slice/N)·(acc_slice − acc_rest)``.
Negative impact on accuracy means the slice drags the overall number down by that much.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sightline.errors import MissingInputError
from sightline.slice_encoding import (  # noqa: F401 — re-exported: slices are encoded there
    DEFAULT_N_BINS, MAX_LEVELS, MISSING_LABEL, OTHER_LABEL, EncodedColumn, _format_number, encode_column, encode_columns)
from sightline.stats import wilson_interval

log = logging.getLogger(__name__)

DEFAULT_MAX_ORDER = 3
F1_BOOTSTRAP = 200       # multinomial resamples for the F1 interval
Z95 = 1.959963984540054


@dataclass(frozen=True)
class MetricInfo:
    """How to read a metric: label, whether higher is better (None: neither), a plain help text."""

    label: str
    higher_is_better: bool | None
    help: str
    percent: bool = True


METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo("Accuracy", True, "Share of predictions that were right."),
    "error_rate": MetricInfo("Error rate", False, "Share of predictions that were wrong (1 − accuracy)."),
    "precision": MetricInfo("Precision", True, "Of the rows predicted positive, the share that really were positive."),
    "recall": MetricInfo("Recall", True, "Of the truly positive rows, the share the model caught (true positive rate)."),
    "f1": MetricInfo("F1", True, "Harmonic mean of precision and recall: high only when both are."),
    "selection_rate": MetricInfo("Selection rate", None, "Share of rows predicted positive (neither good nor bad by itself)."),
    "roc_auc": MetricInfo("ROC AUC", True, "Chance that a random positive row is scored above a random negative one (0.5 = guessing, 1 = perfect ranking)."),
    "mean_absolute_error": MetricInfo("Mean absolute error", False, "Average size of the error, in the target's units.", percent=False),
}
TASK_METRICS = {
    "binary": ("accuracy", "error_rate", "precision", "recall", "f1", "selection_rate", "roc_auc"),
    "multiclass": ("accuracy", "error_rate"),
    "regression": ("mean_absolute_error",),
}
# Model-card metric types emitted per slice (error_rate is 1 − accuracy, so it is left out).
CARD_TYPES = {
    "binary": ("accuracy", "precision", "recall", "f1", "selection_rate", "roc_auc"),
    "multiclass": ("accuracy",),
    "regression": ("mean_absolute_error",),
}


def slice_name(pairs: Sequence[tuple[str, str]]) -> str:
    """The model-card slice string: ``col=value`` or ``a=x & b=y``."""
    return " & ".join(f"{c}={v}" for c, v in pairs)


def slice_description(pairs: Sequence[tuple[str, str]], kinds: Mapping[str, str] | None = None) -> str:
    """Readable form of a slice: "age 37–45 and sex = Female"."""
    kinds = kinds or {}
    # A numeric range reads as "age 37–45"; a single value or category as "sex = Female".
    parts = [f"{c} {v}" if kinds.get(c) == "numeric" and ("–" in v or " to " in v) else f"{c} = {v}" for c, v in pairs]
    return " and ".join(parts)


# -- outcomes and grouped statistics -------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Outcomes:
    """What happened per row, in the form the metrics need.

    Binary: ``y_true``/``y_pred`` 0/1 ints, ``y_score`` P(positive) floats or None.
    Multiclass: label arrays. Regression: floats. ``errors`` is 0/1 (classification: wrong
    prediction) or the absolute error (regression): the quantity slice discovery looks at.
    """

    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y_true)

    @cached_property
    def errors(self) -> np.ndarray:
        if self.task == "regression":
            return np.abs(self.y_true.astype(float) - self.y_pred.astype(float))
        return (self.y_true != self.y_pred).astype(np.float64)

    @cached_property
    def has_auc(self) -> bool:
        return self.task == "binary" and self.y_score is not None and bool(np.isfinite(self.y_score).any())

    @cached_property
    def _auc_rows(self) -> dict:
        """Per-row pair counts against the whole data (for AUC of a slice's complement).

        For a positive row: negatives scored below it (+½ per tie); for a negative row:
        positives scored above it (+½ per tie). Summed over all positives this is the
        Mann–Whitney U of the whole data.
        """
        s = self.y_score
        ok = np.isfinite(s)
        pos = (self.y_true == 1) & ok
        neg = (self.y_true == 0) & ok
        # Rows with a score, by score. Everything built on this order depends on the runs of tied
        # scores only, never on the order inside a run (per-row pair counts; within-group ranks,
        # summed as half-integers: exact below 2**52), so NumPy's unstable sort gives the same
        # numbers as a stable one, about three times faster. A huge log keeps the stable sort.
        order = np.flatnonzero(ok)[np.argsort(s[ok], kind=None if len(s) < 1 << 25 else "stable")]
        index = np.int32 if len(s) < np.iinfo(np.int32).max else np.int64  # positions: half the memory on a long log
        order = order.astype(index)
        ss = s[order]
        # Counts of each class below and up to each score, from one pass over the sorted scores
        # (a run of tied scores shares them): the same integers as binary searches per row.
        new_run = np.r_[True, ss[1:] != ss[:-1]][: len(ss)]
        starts = np.flatnonzero(new_run).astype(index)
        ends = np.r_[starts[1:], len(ss)].astype(index)  # one past each run
        run = np.cumsum(new_run, dtype=index) - 1
        sorted_pos, sorted_neg = pos[order], neg[order]
        pos_cum = np.r_[0, np.cumsum(sorted_pos, dtype=index)].astype(index)
        neg_cum = np.r_[0, np.cumsum(sorted_neg, dtype=index)].astype(index)
        c = np.zeros(len(s))
        run_p = run[sorted_pos]
        lo, hi = neg_cum[starts[run_p]], neg_cum[ends[run_p]]  # negatives scored below / not above
        c[order[sorted_pos]] = lo + 0.5 * (hi - lo)
        run_n = run[sorted_neg]
        lo, hi = pos_cum[starts[run_n]], pos_cum[ends[run_n]]
        c[order[sorted_neg]] = (pos_cum[-1] - hi) + 0.5 * (hi - lo)
        return {"ok": ok, "pos": pos, "neg": neg, "pairs": c, "u_all": float(c[pos].sum()), "order": order, "sorted": ss,
                "sorted_pos": sorted_pos}

    @cached_property
    def cell(self) -> np.ndarray:
        """Binary: each row's confusion cell, 2·y_true + y_pred (0 tn, 1 fp, 2 fn, 3 tp)."""
        return (self.y_true.astype(np.int8) * 2 + self.y_pred.astype(np.int8)).astype(np.int8)

    @cached_property
    def _auc_split(self) -> dict:
        """Positions of the positive and negative rows with a score, and their pair counts
        (computed once for every partition counted)."""
        parts = self._auc_rows
        pos_rows, neg_rows = np.flatnonzero(parts["pos"]), np.flatnonzero(parts["neg"])
        if len(self) < np.iinfo(np.int32).max:
            pos_rows, neg_rows = pos_rows.astype(np.int32), neg_rows.astype(np.int32)
        return {"pos_rows": pos_rows, "neg_rows": neg_rows,
                "pairs_pos": parts["pairs"][pos_rows], "pairs_neg": parts["pairs"][neg_rows]}

    @cached_property
    def total(self) -> GroupStats:
        """:func:`group_stats` of all rows as one group (computed once)."""
        return group_stats(self, np.zeros(len(self), dtype=np.int64), 1)


@dataclass(frozen=True)
class GroupStats:
    """Sufficient statistics per group (arrays of equal length)."""

    n: np.ndarray
    counts: dict = field(default_factory=dict)


def _within_u(outcomes: Outcomes, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Mann–Whitney U of each group's positives against the same group's negatives (ties ½),
    from within-group average ranks: rows already sorted by score are stably re-sorted by
    group (no per-group loop, no second float sort)."""
    parts = outcomes._auc_rows
    order = parts["order"]
    g = group[order]
    if n_groups <= np.iinfo(np.uint16).max:
        g = g.astype(np.uint16)  # NumPy sorts 16-bit keys with a stable radix sort: O(rows)
    by_group = np.argsort(g, kind="stable")
    gs, ss = g[by_group], parts["sorted"][by_group]
    n = len(gs)
    if n == 0:
        return np.zeros(n_groups)
    new_group = np.r_[True, gs[1:] != gs[:-1]]
    new_run = new_group | np.r_[True, ss[1:] != ss[:-1]]  # a run of tied scores inside one group
    del ss, new_group
    starts = np.flatnonzero(new_run)
    ends = np.r_[starts[1:], n] - 1
    # Only the positives' ranks are summed: compute them alone (a long log's memory).
    pos_rows = np.flatnonzero(parts["sorted_pos"][by_group])
    del by_group
    run_of_pos = (np.cumsum(new_run, dtype=np.int64) - 1)[pos_rows]
    sizes = np.bincount(gs, minlength=n_groups)
    group_start = (np.cumsum(sizes) - sizes)[gs[pos_rows]]  # first position of each positive's group
    rank = (starts + ends)[run_of_pos] / 2 - group_start + 1
    n1 = np.bincount(gs[pos_rows], minlength=n_groups).astype(float)
    r1 = np.bincount(gs[pos_rows], weights=rank, minlength=n_groups)
    return r1 - n1 * (n1 + 1) / 2


def group_stats(outcomes: Outcomes, group: np.ndarray, n_groups: int) -> GroupStats:
    """Counts per group of a partition (``group[i]`` in 0..n_groups-1 for every row).

    Binary: tn, fp, fn, tp; multiclass: correct; regression: abs_sum, abs_sumsq; with scores,
    the AUC parts (n1, n0 with a finite score; within-group U; pair counts against all rows).
    """
    group = np.asarray(group, dtype=np.int64)
    n = np.bincount(group, minlength=n_groups)
    counts: dict[str, np.ndarray] = {}
    if outcomes.task == "binary":
        cells = np.bincount(group * 4 + outcomes.cell, minlength=4 * n_groups).reshape(n_groups, 4)
        counts.update(tn=cells[:, 0], fp=cells[:, 1], fn=cells[:, 2], tp=cells[:, 3])
    elif outcomes.task == "multiclass":
        counts["correct"] = np.bincount(group, weights=(outcomes.y_true == outcomes.y_pred), minlength=n_groups)
    else:
        err = outcomes.errors
        counts["abs_sum"] = np.bincount(group, weights=err, minlength=n_groups)
        counts["abs_sumsq"] = np.bincount(group, weights=err**2, minlength=n_groups)
    if outcomes.has_auc:
        parts, split = outcomes._auc_rows, outcomes._auc_split
        group_pos, group_neg = group[split["pos_rows"]], group[split["neg_rows"]]
        counts["auc_n1"] = np.bincount(group_pos, minlength=n_groups)
        counts["auc_n0"] = np.bincount(group_neg, minlength=n_groups)
        counts["auc_u"] = np.array([parts["u_all"]]) if n_groups == 1 else _within_u(outcomes, group, n_groups)
        counts["auc_pairs_pos"] = np.bincount(group_pos, weights=split["pairs_pos"], minlength=n_groups)
        counts["auc_pairs_neg"] = np.bincount(group_neg, weights=split["pairs_neg"], minlength=n_groups)
    return GroupStats(n=n, counts=counts)


def mask_stats(outcomes: Outcomes, masks: Sequence[np.ndarray]) -> GroupStats:
    """The statistics of :func:`group_stats` for possibly overlapping row masks (one group per
    mask), each computed on its own rows only (O(rows in the slice · log) after the mask)."""
    keys = ["tn", "fp", "fn", "tp"] if outcomes.task == "binary" else ["correct"] if outcomes.task == "multiclass" else ["abs_sum", "abs_sumsq"]
    if outcomes.has_auc:
        keys += ["auc_n1", "auc_n0", "auc_u", "auc_pairs_pos", "auc_pairs_neg"]
    n, cols = [], {k: [] for k in keys}
    for mask in masks:
        idx = np.flatnonzero(mask)
        n.append(len(idx))
        yt, yp = outcomes.y_true[idx], outcomes.y_pred[idx]
        if outcomes.task == "binary":
            cells = np.bincount(yt.astype(np.int64) * 2 + yp.astype(np.int64), minlength=4)
            for k, v in zip(("tn", "fp", "fn", "tp"), cells):
                cols[k].append(v)
        elif outcomes.task == "multiclass":
            cols["correct"].append(float(np.sum(yt == yp)))
        else:
            err = outcomes.errors[idx]
            cols["abs_sum"].append(float(err.sum()))
            cols["abs_sumsq"].append(float((err**2).sum()))
        if outcomes.has_auc:
            from scipy.stats import rankdata

            parts = outcomes._auc_rows
            pos, neg = parts["pos"][idx], parts["neg"][idx]
            ok = pos | neg
            ranks = rankdata(outcomes.y_score[idx][ok])
            n1, n0 = int(pos.sum()), int(neg.sum())
            cols["auc_n1"].append(n1)
            cols["auc_n0"].append(n0)
            cols["auc_u"].append(float(ranks[pos[ok]].sum() - n1 * (n1 + 1) / 2))
            cols["auc_pairs_pos"].append(float(parts["pairs"][idx][pos].sum()))
            cols["auc_pairs_neg"].append(float(parts["pairs"][idx][neg].sum()))
    return GroupStats(n=np.asarray(n, dtype=np.int64), counts={k: np.asarray(v) for k, v in cols.items()})


def total_stats(outcomes: Outcomes) -> GroupStats:
    """The whole data as one group."""
    return outcomes.total


# -- metrics from statistics ---------------------------------------------------------------
def _ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _f1(tp, fp, fn) -> np.ndarray:
    return _ratio(2 * np.asarray(tp, float), 2 * np.asarray(tp, float) + fp + fn)


def _f1_interval(tn, fp, fn, tp, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """95% percentile interval of F1 by resampling each group's confusion counts from a
    multinomial with the observed cell shares (what resampling its rows would give)."""
    cells = np.stack([tn, fp, fn, tp], axis=1).astype(float)
    n = cells.sum(axis=1)
    lower = np.full(len(n), np.nan)
    upper = np.full(len(n), np.nan)
    ok = n > 0
    if not ok.any():
        return lower, upper
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n[ok].astype(np.int64), cells[ok] / n[ok, None], size=(F1_BOOTSTRAP, int(ok.sum())))
    f1 = _f1(draws[..., 3], draws[..., 1], draws[..., 2])  # (B, groups)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # groups with no positive at all: F1 undefined
        valid = np.isfinite(f1).sum(axis=0) >= F1_BOOTSTRAP / 2
        lo = np.nanquantile(f1, 0.025, axis=0)
        hi = np.nanquantile(f1, 0.975, axis=0)
    lower[ok] = np.where(valid, lo, np.nan)
    upper[ok] = np.where(valid, hi, np.nan)
    return lower, upper


def hanley_mcneil_interval(auc, n1, n0) -> tuple[np.ndarray, np.ndarray]:
    """95% interval of ROC AUC from the Hanley & McNeil (1982) standard error."""
    a = np.asarray(auc, dtype=float)
    n1, n0 = np.asarray(n1, dtype=float), np.asarray(n0, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        q1, q2 = a / (2 - a), 2 * a**2 / (1 + a)
        se = np.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a**2) + (n0 - 1) * (q2 - a**2)) / (n1 * n0))
    return np.clip(a - Z95 * se, 0, 1), np.clip(a + Z95 * se, 0, 1)


def _values(task: str, n, c: dict) -> dict[str, tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]:
    """metric -> (value, lower, upper) arrays from counts (CIs None when not wanted)."""
    out = {}
    if task == "binary":
        tn, fp, fn, tp = (np.asarray(c[k], dtype=float) for k in ("tn", "fp", "fn", "tp"))
        for name, num, den in (("accuracy", tp + tn, n), ("error_rate", fp + fn, n), ("precision", tp, tp + fp),
                               ("recall", tp, tp + fn), ("selection_rate", tp + fp, n)):
            out[name] = (_ratio(num, den), num, den)
        out["f1"] = (_f1(tp, fp, fn), None, None)
    elif task == "multiclass":
        correct = np.asarray(c["correct"], dtype=float)
        out["accuracy"] = (_ratio(correct, n), correct, n)
        out["error_rate"] = (_ratio(n - correct, n), n - correct, n)
    else:
        out["mean_absolute_error"] = (_ratio(c["abs_sum"], n), None, None)
    if "auc_u" in c:
        out["roc_auc"] = (_ratio(c["auc_u"], np.asarray(c["auc_n1"], float) * c["auc_n0"]), None, None)
    return out


def _rest_auc(stats: GroupStats, total: GroupStats) -> np.ndarray:
    c, t = stats.counts, total.counts
    u_rest = t["auc_u"][0] - c["auc_pairs_pos"] - c["auc_pairs_neg"] + c["auc_u"]
    pairs = (t["auc_n1"][0] - np.asarray(c["auc_n1"], float)) * (t["auc_n0"][0] - np.asarray(c["auc_n0"], float))
    return _ratio(u_rest, pairs)


def metrics_frame(task: str, stats: GroupStats, total: GroupStats, *, seed: int = 0) -> pd.DataFrame:
    """One row per group: n, share, counts, and per metric ``<m>``, ``<m>_lower``,
    ``<m>_upper`` (95% CI), ``<m>_gap`` (group − overall) and ``<m>_impact``
    (overall − the metric on all other rows; see the module docstring)."""
    n = np.asarray(stats.n, dtype=float)
    n_total = float(total.n[0])
    rest_n = n_total - n
    rest_counts = {k: np.asarray(total.counts[k][0], float) - np.asarray(v, float)
                   for k, v in stats.counts.items() if k in ("tn", "fp", "fn", "tp", "correct", "abs_sum", "abs_sumsq")}
    own = _values(task, n, stats.counts)
    rest = _values(task, rest_n, rest_counts)
    overall = _values(task, np.array([n_total]), total.counts)
    cols: dict[str, np.ndarray] = {"n": stats.n.astype(int), "share": n / n_total if n_total else n * np.nan}
    if task == "binary":
        cols["positives"] = (np.asarray(stats.counts["tp"]) + stats.counts["fn"]).astype(int)
        cols.update({k: np.asarray(stats.counts[k]).astype(int) for k in ("tp", "fp", "fn", "tn")})
    for name in TASK_METRICS[task]:
        if name not in own:
            continue
        value, num, den = own[name]
        if num is not None:
            lower, upper = wilson_interval(num, den)
        elif name == "f1":
            lower, upper = _f1_interval(*(stats.counts[k] for k in ("tn", "fp", "fn", "tp")), seed=seed)
        elif name == "roc_auc":
            lower, upper = hanley_mcneil_interval(value, stats.counts["auc_n1"], stats.counts["auc_n0"])
        else:  # mean absolute error: normal approximation from the sum of squares
            with np.errstate(invalid="ignore", divide="ignore"):
                var = (np.asarray(stats.counts["abs_sumsq"], float) - n * value**2) / np.where(n > 1, n - 1, np.nan)
                half = Z95 * np.sqrt(np.clip(var, 0, None) / n)
            lower, upper = np.clip(value - half, 0, None), value + half
        rest_value = _rest_auc(stats, total) if name == "roc_auc" else rest[name][0]
        overall_value = overall[name][0][0]
        cols[name] = value
        cols[f"{name}_lower"] = lower
        cols[f"{name}_upper"] = upper
        cols[f"{name}_gap"] = value - overall_value
        cols[f"{name}_impact"] = overall_value - rest_value
    return pd.DataFrame(cols)


def overall_metrics(outcomes: Outcomes) -> dict[str, dict]:
    """The overall value of each metric with its 95% CI: metric -> {value, lower, upper, n}."""
    total = total_stats(outcomes)
    frame = metrics_frame(outcomes.task, total, total)
    return {m: {"value": float(frame[m].iloc[0]), "lower": float(frame[f"{m}_lower"].iloc[0]),
                "upper": float(frame[f"{m}_upper"].iloc[0]), "n": len(outcomes)}
            for m in TASK_METRICS[outcomes.task] if m in frame}


# -- the slice table --------------------------------------------------------------------------
def combined_codes(encoded: Sequence[EncodedColumn]) -> tuple[np.ndarray, tuple[int, ...]]:
    """One int64 key per row for the intersection of columns (mixed radix of their codes)."""
    shape = tuple(e.n_levels for e in encoded)
    key = np.zeros(len(encoded[0].codes), dtype=np.int64)
    for e in encoded:
        key = key * e.n_levels + e.codes
    return key, shape


def slice_table_encoded(outcomes: Outcomes, encoded: Sequence[EncodedColumn], *, min_size: int, seed: int = 0) -> pd.DataFrame:
    """The slice table for the intersection of already-encoded columns (see :func:`slice_table`)."""
    key, shape = combined_codes(encoded)
    size = int(np.prod(shape))
    present = np.flatnonzero(np.bincount(key, minlength=size))
    lookup = np.full(size, -1, dtype=np.int64)
    lookup[present] = np.arange(len(present))
    stats = group_stats(outcomes, lookup[key], len(present))
    table = metrics_frame(outcomes.task, stats, total_stats(outcomes), seed=seed)
    levels = np.unravel_index(present, shape)
    names = [e.name for e in encoded]
    value_cols = {e.name: np.asarray(e.labels, dtype=object)[lv] for e, lv in zip(encoded, levels)}
    kinds = {e.name: e.kind for e in encoded}
    pairs = [list(zip(names, vals)) for vals in zip(*value_cols.values())]
    head = pd.DataFrame({"slice": [slice_name(p) for p in pairs],
                         "description": [slice_description(p, kinds) for p in pairs],
                         "columns": " & ".join(names), "order": len(names)})
    for name, vals in value_cols.items():
        head[name] = vals
    table = pd.concat([head, table], axis=1)
    table.insert(4, "too_small", table["n"] < min_size)
    # Column codes in level order keep bins in numeric order (sorting is the caller's choice).
    table["_sort"] = present
    return table.sort_values("_sort").drop(columns="_sort").reset_index(drop=True)


def slice_table(frame: pd.DataFrame, columns: Sequence[str], *, y_true, y_pred, y_score=None, task: str = "binary",
                min_size: int = 30, n_bins: int = DEFAULT_N_BINS,
                encoded: Mapping[str, EncodedColumn] | None = None) -> pd.DataFrame:
    """Metrics for every slice of the intersection of ``columns`` (one column: its values).

    Inputs: the rows (not modified), the column names (1–3), the aligned outcome arrays
    (binary 0/1 with 1 = positive; ``y_score`` = P(positive) or None), the task, the minimum
    slice size (smaller slices are kept but marked ``too_small``), the number of quantile
    bins for numeric columns; ``encoded`` to reuse columns already encoded.
    Output: one row per non-empty slice: ``slice`` ("a=x & b=y"), ``description``,
    ``columns``, ``order``, ``too_small``, one column per sliced column with its value,
    ``n``, ``share`` (of all rows), confusion counts (binary), then per metric the value,
    ``_lower``/``_upper`` (95% CI), ``_gap`` and ``_impact`` (see the module docstring).
    """
    columns = list(columns)
    if not columns:
        raise ValueError("slice_table needs at least one column")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingInputError(f"column(s) {', '.join(missing)} are not in the prediction log — pick columns that exist")
    enc = [encoded[c] if encoded and c in encoded else encode_column(frame[c], n_bins=n_bins) for c in columns]
    outcomes = Outcomes(task, np.asarray(y_true), np.asarray(y_pred), None if y_score is None else np.asarray(y_score, dtype=float))
    return slice_table_encoded(outcomes, enc, min_size=min_size)


# -- the audit's slice data -------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SliceData:
    """The labelled rows of the primary model version, their outcomes and encoded columns.

    The rows are not copied (a log of millions of rows would be held twice): ``source`` is the
    primary version's frame and ``rows`` the positions of the rows used in it; :meth:`column`
    takes one column of those rows, :attr:`frame` all of them (a copy, made on first use).
    """

    task: str
    source: pd.DataFrame
    rows: np.ndarray
    outcomes: Outcomes
    encoded: dict[str, EncodedColumn]
    n_bins: int
    dropped: int = 0   # labelled rows left out (regression: a missing prediction or target)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The rows used, every column (a copy of them)."""
        return self.source if len(self.rows) == len(self.source) else self.source.iloc[self.rows]

    def column(self, name: str) -> pd.Series:
        """One column of the rows used, as in the log (indexed 0..n-1 when not every row is used)."""
        return _take(self.source[name], self.rows)

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def columns(self) -> list[str]:
        """Columns that can form slices (two or more distinct slices)."""
        return [c for c, e in self.encoded.items() if e.n_levels >= 2]

    def kinds(self) -> dict[str, str]:
        return {c: e.kind for c, e in self.encoded.items()}

    def table(self, columns: Sequence[str], *, min_size: int) -> pd.DataFrame:
        """:func:`slice_table` on these rows."""
        unknown = [c for c in columns if c not in self.encoded]
        if unknown:
            raise MissingInputError(f"column(s) {', '.join(unknown)} cannot be sliced — choose among: {', '.join(self.columns)}")
        return slice_table_encoded(self.outcomes, [self.encoded[c] for c in columns], min_size=min_size)

    def mask(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Rows in the slice given as (column, value label) pairs."""
        m = np.ones(self.n, dtype=bool)
        for col, label in pairs:
            enc = self.encoded[col]
            m &= enc.codes == enc.labels.index(label)
        return m


def _take(values: pd.Series, rows: np.ndarray) -> pd.Series:
    """The values at positions ``rows`` (sorted, distinct) of ``values``, same name and dtype,
    indexed 0..n-1 (taking the array alone is several times faster than ``iloc``); the Series
    itself when that is all of them."""
    if len(rows) == len(values):
        return values
    return pd.Series(values.array.take(rows), name=values.name, copy=False)


def candidate_columns(audit) -> list[str]:
    """Columns slices may use: the audit's features and sensitive columns (in that order)."""
    cols = list(dict.fromkeys(list(audit.features) + list(audit.spec.columns.sensitive)))
    return [c for c in cols if c in audit.primary.columns]


def slice_data(audit, *, n_bins: int | None = None) -> SliceData:
    """Prepare slicing for an audit: labelled primary rows, outcomes, encoded candidate columns.

    Raises :class:`MissingInputError` when no label has arrived or no column can be sliced.
    """
    spec = audit.spec
    n_bins = int(n_bins or slice_setting(audit, "n_bins"))
    primary, target = audit.primary, spec.columns.target
    # Positions of the labelled rows (what audit.labelled() selects), so that only the outcome
    # columns and one slice column at a time are ever copied.
    has_target = bool(target) and target in primary.columns
    rows = np.flatnonzero(primary[target].notna().to_numpy()) if has_target else np.zeros(0, dtype=np.int64)
    if len(primary) < np.iinfo(np.int32).max:
        rows = rows.astype(np.int32)
    if not len(rows):
        raise MissingInputError("Slice evaluation needs true outcomes: no prediction of the primary model has its label yet "
                                f"(column '{spec.columns.target}') — wait for labels or map columns.target")
    outcome_columns = [c for c in dict.fromkeys((target, spec.columns.prediction, spec.columns.score)) if c and c in primary.columns]
    labelled = primary[outcome_columns].iloc[rows]
    y_true, y_pred = audit.y_true(labelled), audit.y_pred(labelled)
    dropped = 0
    if spec.task == "regression":
        ok = np.isfinite(y_true) & np.isfinite(y_pred)
        dropped = int((~ok).sum())
        if dropped:
            labelled, y_true, y_pred, rows = labelled[ok], y_true[ok], y_pred[ok], rows[ok]
        if not len(labelled):
            raise MissingInputError(f"Slice evaluation needs numeric targets and predictions: none of the {dropped:,} labelled "
                                    f"rows has both a number in '{spec.columns.target}' and in '{spec.columns.prediction}'")
    y_score = audit.y_score(labelled) if spec.task == "binary" else None
    if spec.task == "binary":  # 0/1: one byte each instead of eight (every use widens or compares)
        y_true, y_pred = y_true.astype(np.int8), y_pred.astype(np.int8)
    columns = candidate_columns(audit)
    if not columns:
        raise MissingInputError("Slice evaluation needs feature or sensitive columns in the log — list them in columns.features / columns.sensitive")
    encoded = {c: encode_column(_take(primary[c], rows), n_bins=n_bins) for c in columns}
    return SliceData(spec.task, primary, rows, Outcomes(spec.task, y_true, y_pred, y_score), encoded, n_bins, dropped)


SETTING_RANGES = {"min_size": (1, None), "max_order": (1, 3), "n_bins": (2, 20)}


def slice_setting(audit, key: str) -> int:
    """One whole-number setting of ``slices:`` in the audit (``min_size`` defaults to
    ``fairness.min_group_size``, ``max_order`` to 3, ``n_bins`` to 5).

    A bad value raises :class:`MissingInputError` naming the key, so this area explains it and
    the other areas still run.
    """
    default = {"min_size": audit.spec.fairness.min_group_size, "max_order": DEFAULT_MAX_ORDER, "n_bins": DEFAULT_N_BINS}[key]
    value = audit.spec.slices.get(key, default)
    low, high = SETTING_RANGES[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < low \
            or (high is not None and value > high):
        allowed = f"a whole number from {low} to {high}" if high else f"a whole number ≥ {low}"
        raise MissingInputError(f"slices.{key} must be {allowed}, got {value!r} — fix it in the audit file")
    return int(value)


def min_slice_size(audit) -> int:
    """``slices.min_size`` from the audit, else ``fairness.min_group_size``."""
    return slice_setting(audit, "min_size")


def default_columns(data: SliceData, audit, discovered: pd.DataFrame | None = None, n_features: int = 3) -> tuple[list[str], list[str]]:
    """The columns to tabulate: ``slices.columns`` when set, else the sensitive columns plus
    up to ``n_features`` features (those in the worst discovered slices first).

    Output: (columns, ignored) — ``ignored`` names configured columns that cannot be sliced.
    """
    configured = audit.spec.slices.get("columns")
    if configured and not isinstance(configured, (str, list, tuple)):
        raise MissingInputError(f"slices.columns must be a list of column names, e.g. [sex, age], got {configured!r}")
    if configured:
        configured = [configured] if isinstance(configured, str) else [str(c) for c in configured]
        usable = [c for c in configured if c in data.columns]
        ignored = [c for c in configured if c not in data.columns]
        if usable:
            return usable, ignored
    else:
        ignored = []
    sensitive = [c for c in audit.spec.columns.sensitive if c in data.columns]
    picked: list[str] = []
    if discovered is not None and len(discovered):
        for cols in discovered["columns"]:
            for c in str(cols).split(" & "):
                if c in data.columns and c not in sensitive and c not in picked and len(picked) < n_features:
                    picked.append(c)
    for c in data.columns:
        if len(picked) >= n_features:
            break
        if c not in sensitive and c not in picked:
            picked.append(c)
    return sensitive + picked, ignored




# -- the section: verdict, report, card metrics, charts ------------------------------------------
def primary_metric(task: str) -> str:
    """The metric the section's charts and discovery speak about."""
    return "mean_absolute_error" if task == "regression" else "accuracy"


def discover(data: SliceData, *, min_size: int, max_order: int = DEFAULT_MAX_ORDER, **options):
    """:func:`sightline.slice_finder.find_worst_slices` over every sliceable column of ``data``."""
    from sightline.slice_finder import find_worst_slices

    encoded = [data.encoded[c] for c in data.columns]
    return find_worst_slices(encoded, data.outcomes.errors, binary_errors=data.task != "regression",
                             max_order=max_order, min_size=min_size, **options)


def discovered_table(data: SliceData, slices: pd.DataFrame) -> pd.DataFrame:
    """Every metric (with CI, gap, impact) for discovered slices, re-counted on all rows.

    Input: the ``slices`` table of a slice search (``slice`` strings "a=x & b=y").
    """
    if slices is None or not len(slices):
        return pd.DataFrame()
    pairs = [[tuple(part.split("=", 1)) for part in str(s).split(" & ")] for s in slices["slice"]]
    stats = mask_stats(data.outcomes, [data.mask(p) for p in pairs])
    table = metrics_frame(data.task, stats, total_stats(data.outcomes))
    head = slices[["slice", "description", "columns", "order"]].reset_index(drop=True)
    return pd.concat([head, table], axis=1)


def _card_metrics(task: str, table: pd.DataFrame) -> list:
    from sightline.sections import CardMetric

    out = []
    for row in table.itertuples(index=False):
        for m in CARD_TYPES[task]:
            value = getattr(row, m, None)
            if value is None or not np.isfinite(value):
                continue
            lower, upper = getattr(row, f"{m}_lower"), getattr(row, f"{m}_upper")
            out.append(CardMetric(type=m, value=float(value), slice=row.slice,
                                  lower=float(lower) if np.isfinite(lower) else None,
                                  upper=float(upper) if np.isfinite(upper) else None, n=int(row.n)))
    return out


def _headline(search, task: str, examined_text: str) -> tuple[str, str]:
    """(status, headline) from a slice search."""
    from sightline.sections import AMBER, GREEN, RED

    found = search.slices
    if not len(found):
        return GREEN, f"No slice is significantly worse than the rest of the data ({examined_text})."
    distinct = f"at least {len(found):,}" if search.truncated else f"{len(found):,}"
    worst = found.iloc[0]
    what = "mean absolute error" if task == "regression" else "error rate"
    fmt = (lambda x: f"{x:.3g}") if task == "regression" else (lambda x: f"{x:.0%}")
    status = RED if worst["lift"] >= 2 else AMBER
    plural = "slice" if len(found) == 1 else "distinct slices"
    return status, (f"The model is significantly worse on {distinct} {plural}; the top-ranked: {worst['description']} "
                    f"(n={int(worst['n']):,}) with {what} {fmt(worst['error_rate'])} vs {fmt(search.overall_error)} overall "
                    f"({worst['lift']:.1f}×).")


def slices_section(audit):
    """The Slices area: per-slice tables for the audit's slice columns, the worst slices found
    by :func:`discover`, and the Simpson's-paradox check between model versions.

    Settings (``slices:`` in the audit): ``columns`` (default: sensitive columns + features of
    the worst slices), ``min_size`` (default ``fairness.min_group_size``), ``max_order``
    (default 3), ``n_bins`` (default 5). Slices below ``min_size`` are left out of the report
    and the card (privacy) and counted in the provenance.
    """
    from sightline.charts.slices import simpson_chart, slice_metric_chart, worst_slices_chart
    from sightline.sections import AMBER, GREEN, Chart, Section, Verdict
    from sightline.simpson import PARADOX, compare_versions

    spec = audit.spec
    data = slice_data(audit)
    min_size = min_slice_size(audit)
    max_order = slice_setting(audit, "max_order")
    metric = primary_metric(data.task)
    search = discover(data, min_size=min_size, max_order=max_order)
    columns, ignored = default_columns(data, audit, search.slices)
    # The version check first: its temporary arrays are freed before the ROC AUC row data (kept
    # for every table after it) is built, so a long log never holds both.
    simpson = compare_versions(audit, data, min_size=min_size)
    overall = overall_metrics(data.outcomes)
    tables = {c: data.table([c], min_size=min_size) for c in columns}
    found = discovered_table(data, search.slices)

    shown = {c: t[~t["too_small"]].reset_index(drop=True) for c, t in tables.items()}
    suppressed = int(sum(t["too_small"].sum() for t in tables.values()))
    single = pd.concat(shown.values(), ignore_index=True) if shown else pd.DataFrame()
    extra = found[~found["slice"].isin(single["slice"])] if len(found) and len(single) else found
    metrics = _card_metrics(data.task, single) + (_card_metrics(data.task, extra) if len(extra) else [])
    metrics = tuple(metrics)

    examined = f"{search.n_examined:,} slices of up to {max_order} columns checked, min size {min_size}"
    status, headline = _headline(search, data.task, examined)
    if status == GREEN and simpson.status == PARADOX:
        status = AMBER
    notes = [f"{data.n:,} labelled predictions of {audit.primary_version or 'the model'}; {examined}."]
    if search.sampled:
        notes.append(f"The search ran on a random sample of {search.search_rows:,} rows; found slices were re-counted on all rows.")
    if simpson.status != "unavailable":
        notes.append(simpson.message)
    if ignored:
        notes.append(f"slices.columns names {', '.join(ignored)}, which cannot be sliced (not in the log or one value only) — ignored.")
    verdict = Verdict(status, headline, " ".join(notes))

    charts = [Chart(f"slices_{c}", f"{METRICS[metric].label} by {c}",
                    slice_metric_chart(shown[c], metric, overall[metric]["value"], title=f"{METRICS[metric].label} by {c}"))
              for c in columns if len(shown[c])]
    if len(search.slices):
        charts.insert(0, Chart("slices_worst", "Worst slices found",
                               worst_slices_chart(search.slices, search.overall_error, regression=data.task == "regression")))
    if simpson.status != "unavailable":
        col = simpson.paradox_columns[0] if simpson.paradox_columns else next(
            (c for c in spec.columns.sensitive if c in data.columns), data.columns[0])
        charts.append(Chart("slices_versions", f"Versions compared by {col}",
                            simpson_chart(simpson.slices, simpson.version_a, simpson.version_b, simpson.overall,
                                          metric=simpson.metric, column=col)))

    simpson_report = simpson.to_report()

    def keep(table: pd.DataFrame) -> pd.DataFrame:
        return table.drop(columns=["too_small"], errors="ignore")

    report = {
        "task": data.task, "metric": metric, "rows": data.n,
        "settings": {"columns": columns, "min_size": min_size, "max_order": max_order, "n_bins": data.n_bins},
        "overall": overall,
        "tables": {c: keep(t).to_dict(orient="records") for c, t in shown.items()},
        "discovered": {"overall_error": search.overall_error, "slices_examined": search.n_examined,
                       "significant": search.n_significant, "listed": len(search.slices),
                       "truncated": search.truncated,
                       "slices": search.slices.to_dict(orient="records"),
                       "metrics": found.to_dict(orient="records") if len(found) else []},
        "simpson": simpson_report,
    }
    provenance = {
        "rows": data.n, "rows_without_prediction": data.dropped, "min_size": min_size, "suppressed_slices": suppressed,
        "suppressed_version_slices": simpson_report["suppressed_slices"],
        "bins": {c: {"kind": e.kind, "edges": list(e.edges)} for c, e in data.encoded.items() if e.kind == "numeric"},
        "confidence_intervals": "95%: Wilson for proportions; multinomial bootstrap (200) for F1; "
                                "Hanley-McNeil for ROC AUC; normal approximation for MAE",
        "impact": "overall − metric on the rows outside the slice",
        "discovery": search.provenance(),
        "simpson": simpson.settings,
    }
    # The card gets compact tables (its performance_metrics already hold every metric per slice).
    card_cols = ["slice", "n", metric, f"{metric}_lower", f"{metric}_upper", f"{metric}_gap", f"{metric}_impact"]
    tables_for_card = {f"slices_{c}": t[[k for k in card_cols if k in t]] for c, t in shown.items()}
    if len(search.slices):
        tables_for_card["worst_slices"] = search.slices[["description", "n", "error_rate", "rest_error_rate", "lift", "p_adjusted"]]
    return Section(area="slices", verdict=verdict, report=report, metrics=metrics, charts=tuple(charts),
                   provenance=provenance, tables=tables_for_card)
