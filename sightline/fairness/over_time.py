"""Fairness gaps per time window: the main gap of each window (demographic parity and equal
opportunity, accuracy parity, or the MAE gap) next to the group sizes, with intervals joint over
the window's group pairs, as the summaries have."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.data.audit import comparable_labels
from sightline.fairness.summaries import newcombe_difference, pair_confidence


def fairness_over_time(windows: pd.Series, codes: np.ndarray, labels: list[str], *, y_pred: np.ndarray,
                       y_true: np.ndarray | None = None, labelled: np.ndarray | None = None,
                       min_group_size: int = 30, task: str = "binary") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The main gaps per time window, next to the group sizes.

    Inputs: the window (start time) of each row, group codes and labels, predictions, labels
    and which rows are labelled (selection rates need no labels, so weeks awaiting labels still
    show the demographic-parity gap), the minimum group size (applied per window), the task.
    Output: (per window and group: window, group, rows, labelled, selection_rate,
    true_positive_rate (binary) or accuracy/mean_absolute_error; and gaps: window, metric,
    value, lower, upper (95% jointly over the window's group pairs), groups_compared, group_high,
    group_low). A window where fewer than two
    groups reach the minimum size has no gap for that metric (NaN, groups_compared < 2).
    """
    win_codes, win_values = pd.factorize(windows, sort=True)
    ok = win_codes >= 0
    k = len(labels)
    cell = win_codes * k + codes
    size = len(win_values) * k
    lab = np.ones(len(codes), bool) if labelled is None else np.asarray(labelled, bool)
    cnt = lambda w=None, m=ok: np.bincount(cell[m], weights=None if w is None else w[m], minlength=size)  # noqa: E731
    table = pd.DataFrame({"window": np.repeat(np.asarray(win_values), k), "group": labels * len(win_values),
                          "rows": cnt(), "labelled": cnt(m=ok & lab)})
    if task == "binary":
        yp = np.asarray(y_pred, float)
        yt = np.asarray(y_true, float) if y_true is not None else np.zeros(len(codes))
        table["pp"] = cnt(yp)
        table["pos"] = cnt(yt, ok & lab)
        table["tp"] = cnt(yt * yp, ok & lab)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["selection_rate"] = table["pp"] / table["rows"]
            table["true_positive_rate"] = table["tp"] / table["pos"]
        metrics = {"demographic_parity_difference": ("selection_rate", "pp", "rows", "rows"),
                   "equal_opportunity_difference": ("true_positive_rate", "tp", "pos", "labelled")}
    elif task == "multiclass":
        correct = (comparable_labels(y_true) == comparable_labels(y_pred)).astype(float)
        table["correct"] = cnt(correct, ok & lab)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["accuracy"] = table["correct"] / table["labelled"]
        metrics = {"accuracy_difference": ("accuracy", "correct", "labelled", "labelled")}
    else:
        err = np.abs(np.asarray(y_pred, float) - np.asarray(y_true, float))
        m = ok & lab & np.isfinite(err)
        table["labelled"] = cnt(m=m)
        table["abs_error"] = cnt(np.where(m, err, 0), m)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["mean_absolute_error"] = table["abs_error"] / table["labelled"]
        metrics = {"mean_absolute_error_difference": ("mean_absolute_error", None, None, "labelled")}
    gaps = []
    for window, part in table.groupby("window", sort=True):
        for metric, (rate, num, den, size_col) in metrics.items():
            eligible = part[(part[size_col] >= min_group_size) & part[rate].notna()]
            rec = {"window": window, "metric": metric, "value": np.nan, "lower": np.nan, "upper": np.nan,
                   "groups_compared": len(eligible), "group_high": None, "group_low": None}
            if len(eligible) >= 2:
                hi, lo = eligible.loc[eligible[rate].idxmax()], eligible.loc[eligible[rate].idxmin()]
                rec.update(group_high=hi["group"], group_low=lo["group"], value=hi[rate] - lo[rate])
                if num is not None:  # joint over the window's group pairs, as the summaries
                    _, lower, u = newcombe_difference(hi[num], hi[den], lo[num], lo[den], pair_confidence(len(eligible)))
                    rec.update(lower=float(lower), upper=float(u))
            gaps.append(rec)
    return table, pd.DataFrame(gaps)
