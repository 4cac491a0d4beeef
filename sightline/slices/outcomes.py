"""Per-slice outcomes, grouped statistics and metrics with confidence intervals, gap and impact.

Holds :class:`Outcomes` (what happened per row), :class:`GroupStats` with :func:`group_stats` /
:func:`mask_stats` (sufficient statistics per group, one ``np.bincount`` per partition), the
metric catalogue (:data:`METRICS`, :data:`TASK_METRICS`) and :func:`metrics_frame` /
:func:`overall_metrics`, which turn the statistics into metric values, intervals, gaps and
impacts.

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

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sightline.data.audit import comparable_labels
from sightline.stats.confusion import CELLS, confusion_cells, counts_of_cells
from sightline.stats.intervals import Z95, wilson_interval

F1_BOOTSTRAP = 200       # multinomial resamples for the F1 interval


TASK_METRICS = {
    "binary": ("accuracy", "error_rate", "precision", "recall", "f1", "selection_rate", "roc_auc"),
    "multiclass": ("accuracy", "error_rate"),
    "regression": ("mean_absolute_error",),
}


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

    def __post_init__(self):
        if self.task == "multiclass":  # a missing label must compare as "no match", not raise
            object.__setattr__(self, "y_true", comparable_labels(self.y_true))
            object.__setattr__(self, "y_pred", comparable_labels(self.y_pred))

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
        return confusion_cells(self.y_true, self.y_pred)

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
        counts.update(zip(CELLS, counts_of_cells(outcomes.cell, group, n_groups).T))
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
    keys = list(CELLS) if outcomes.task == "binary" else ["correct"] if outcomes.task == "multiclass" else ["abs_sum", "abs_sumsq"]
    if outcomes.has_auc:
        keys += ["auc_n1", "auc_n0", "auc_u", "auc_pairs_pos", "auc_pairs_neg"]
    n, cols = [], {k: [] for k in keys}
    for mask in masks:
        idx = np.flatnonzero(mask)
        n.append(len(idx))
        if outcomes.task == "binary":
            for k, v in zip(CELLS, counts_of_cells(outcomes.cell[idx])[0]):
                cols[k].append(v)
        elif outcomes.task == "multiclass":
            cols["correct"].append(float(np.sum(outcomes.y_true[idx] == outcomes.y_pred[idx])))
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
