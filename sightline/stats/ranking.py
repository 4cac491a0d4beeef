"""ROC AUC — realised (0/1 labels) and expected (calibrated probabilities) — from one sort of the scores.

The drift views need many ROC AUCs over subsets of the same rows: realised and label-free
estimated, per time window, over the labelled rows and over the rows still waiting for labels.
Each is the Mann–Whitney form of the AUC over tie groups of the score::

    AUC = sum_g pos_g * (neg_below_g + neg_g / 2) / (P * N)

where ``pos_g``/``neg_g`` are the positive/negative weights of the rows sharing score value g
(1/0 labels, or p and 1 − p for the expected AUC) and ``neg_below_g`` the negative weight of the
lower scores. With 0/1 labels this is scikit-learn's ``roc_auc_score`` (the area under the ROC
step curve, ties counting half); with probabilities it is
:func:`sightline.drift.estimation.expected_roc_auc`. Tests check both equal on random data.

Sorting is the cost (a stable argsort of a million scores: ~0.1 s), so the scores are sorted
once (:func:`score_order`) and every subset takes its rows in that order with a boolean mask.
"""

from __future__ import annotations

import numpy as np

MAX_TIED_SHARE = 0.05   # above this share of tied rows, a stable sort beats repairing the ties


def score_order(y_score) -> np.ndarray:
    """Row indices that sort ``y_score`` ascending; tied rows keep their row order (as a stable
    sort leaves them, so tie groups sum their weights in row order); NaN last.

    numpy's default (SIMD) argsort is ~3× faster than its stable one on a million floats; the
    few rows it leaves tied out of row order are put back, or, when many rows are tied, the
    stable sort is used instead.
    """
    s = np.asarray(y_score, dtype=float)
    order = np.argsort(s)
    ranked = s[order]
    tied = ranked[1:] == ranked[:-1]  # NaN never equals NaN: NaN rows are never repaired (nor used)
    n_tied = int(tied.sum())
    if n_tied == 0:
        return order
    if n_tied > MAX_TIED_SHARE * len(s):
        return np.argsort(s, kind="stable")
    in_tie = np.zeros(len(s), dtype=bool)
    in_tie[1:] |= tied
    in_tie[:-1] |= tied
    at = np.flatnonzero(in_tie)
    group = np.cumsum(np.concatenate(([True], ~tied)))[at]   # tie group of each tied position
    order[at] = order[at][np.lexsort((order[at], group))]
    return order


def subset_order(order: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`score_order` of the rows selected by boolean ``mask``, as positions within that
    subset (what ``score_order(y_score[mask])`` returns), derived from the order of all rows."""
    position = np.cumsum(mask) - 1
    return position[order[mask[order]]]


def roc_auc_sorted(pos: np.ndarray, neg: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of rows already sorted by ``score`` (ascending, no NaN).

    Inputs: per row the positive weight ``pos`` and negative weight ``neg`` (y and 1 − y, or p
    and 1 − p). Output: the (expected) AUC, ties counting half; NaN without positive or negative
    weight.
    """
    if len(score) == 0:
        return float("nan")
    # Tie groups are runs of equal scores; their weights summed in row order (as a bincount would).
    starts = np.flatnonzero(np.concatenate(([True], score[1:] != score[:-1])))
    pos_g = np.add.reduceat(pos, starts)
    neg_g = np.add.reduceat(neg, starts)
    total_pos, total_neg = pos_g.sum(), neg_g.sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    neg_below = np.cumsum(neg_g) - neg_g
    return float((pos_g * (neg_below + 0.5 * neg_g)).sum() / (total_pos * total_neg))


def roc_auc_ordered(pos, neg, score, order: np.ndarray, mask: np.ndarray | None = None) -> float:
    """:func:`roc_auc_sorted` of the rows selected by ``mask`` (all rows if None), taken in
    ``order`` (:func:`score_order` of ``score``). ``mask`` must leave out rows whose score is NaN."""
    idx = order if mask is None else order[mask[order]]
    return roc_auc_sorted(np.asarray(pos, dtype=float)[idx], np.asarray(neg, dtype=float)[idx],
                          np.asarray(score, dtype=float)[idx])


def window_orders(order: np.ndarray, windows: np.ndarray, n_windows: int) -> list[np.ndarray]:
    """Per window (index 0..n_windows-1), its rows in score order: one stable sort of the window
    index (a radix sort on small integers) applied to the score order of all rows."""
    w = np.asarray(windows)[order]
    small = w.astype(np.int16) if n_windows < np.iinfo(np.int16).max else w  # -1 (no window) sorts first
    by_window = order[np.argsort(small, kind="stable")]
    bounds = np.searchsorted(np.asarray(windows)[by_window], np.arange(n_windows + 1), side="left")
    return [by_window[bounds[k]:bounds[k + 1]] for k in range(n_windows)]
