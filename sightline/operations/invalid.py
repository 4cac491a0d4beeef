"""Empty or invalid predictions in the log: per-row flags (and why) and their counts and rates
per model version and per time window. Pure functions: frames in, frames out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.stats.timing import version_labels, window_groups

INVALID_REASONS = ("missing_prediction", "missing_score", "score_out_of_range")


# --------------------------------------------------------------------------- invalid predictions
def invalid_prediction_flags(frame: pd.DataFrame, *, prediction: str | None, score: str | None,
                             task: str) -> pd.DataFrame:
    """Which rows hold an empty or invalid prediction, and why.

    Inputs: the log, the prediction and score column names (either may be None), the task.
    Output: boolean DataFrame aligned with ``frame``: ``missing_prediction`` (empty or blank),
    ``missing_score`` (empty or not a number), ``score_out_of_range`` (classification scores
    outside [0, 1]), and ``invalid`` (any of them).
    """
    n = len(frame)
    flags = pd.DataFrame({r: np.zeros(n, dtype=bool) for r in INVALID_REASONS}, index=frame.index)
    if prediction and prediction in frame.columns:
        p = frame[prediction]
        blank = False
        if p.dtype == object or isinstance(p.dtype, pd.CategoricalDtype):
            # check the distinct values only: a 1M-row log holds a handful of classes
            codes, uniques = pd.factorize(p)
            is_blank = np.array([isinstance(u, str) and not u.strip() for u in uniques], dtype=bool)
            blank = is_blank[codes] if is_blank.any() else False
        flags["missing_prediction"] = p.isna().to_numpy() | blank
    if score and score in frame.columns:
        s = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
        flags["missing_score"] = np.isnan(s)
        if task in ("binary", "multiclass"):
            with np.errstate(invalid="ignore"):
                flags["score_out_of_range"] = ~np.isnan(s) & ((s < 0) | (s > 1))
    flags["invalid"] = flags[list(INVALID_REASONS)].any(axis=1)
    return flags


def invalid_rates(flags: pd.DataFrame, versions=None, starts: pd.Series | None = None,
                  groups: tuple | None = None) -> pd.DataFrame:
    """Counts and rate of invalid predictions per version (and per window when ``starts`` is given).

    Output columns: [``window``,] ``model_version``, ``rows``, ``invalid``, ``rate`` (0–1), and
    one count column per reason in :data:`INVALID_REASONS`; sorted by version (then time).
    ``groups``: :func:`window_groups` of ``starts`` and the versions when the caller has it.
    """
    labels = version_labels(versions, len(flags))
    if starts is not None:
        codes, out = window_groups(starts, labels) if groups is None else (groups[0], groups[1].copy())
        out = out.rename(columns={"n": "rows"})
    else:
        codes = np.asarray(labels.codes, dtype=np.int64)
        rows = np.bincount(codes[codes >= 0], minlength=len(labels.categories))
        present = np.flatnonzero(rows)
        # versions in string order, as a sort of the version column gives them
        present = present[np.argsort(np.asarray([str(c) for c in labels.categories], dtype=object)[present], kind="stable")]
        lookup = np.full(len(rows), -1, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        codes = np.where(codes >= 0, lookup[np.maximum(codes, 0)], -1)
        out = pd.DataFrame({"model_version": np.asarray([str(c) for c in labels.categories], dtype=object)[present],
                            "rows": rows[present]})
    grouped = codes >= 0
    for col in ["invalid", *INVALID_REASONS]:
        flag = flags[col].to_numpy(dtype=bool) & grouped
        out[col] = np.bincount(codes[flag], minlength=len(out))
    out.insert(out.columns.get_loc("invalid") + 1, "rate", out["invalid"] / out["rows"])
    return out
