"""Binary confusion counts per group: the one routine behind performance, slices and fairness.

Each row's confusion cell is ``2 · y_true + y_pred`` (0 true negative, 1 false positive, 2 false
negative, 3 true positive: scikit-learn's ``confusion_matrix(...).ravel()`` order); the counts of
every group come from one ``np.bincount`` of ``group · 4 + cell``. The ungrouped case is one
group. The query layer's SQL aggregate (:func:`sightline.data.aggregates.confusion_counts`) returns
the same four columns, :data:`CELLS`.
"""

from __future__ import annotations

import numpy as np

CELLS = ("tn", "fp", "fn", "tp")


def confusion_cells(y_true, y_pred) -> np.ndarray:
    """Each row's confusion cell, 2 · y_true + y_pred (int8: 0 tn, 1 fp, 2 fn, 3 tp), from 0/1
    labels and predictions (1 = positive)."""
    return (np.asarray(y_true).astype(np.int8) * 2 + np.asarray(y_pred).astype(np.int8)).astype(np.int8)


def counts_of_cells(cells: np.ndarray, codes: np.ndarray | None = None, n_groups: int = 1) -> np.ndarray:
    """Confusion counts per group from :func:`confusion_cells`.

    Inputs: the cells, each row's group code (0 … n_groups − 1; None: one group).
    Output: int64 array of shape (n_groups, 4), columns in :data:`CELLS` order (tn, fp, fn, tp).
    """
    cells = np.asarray(cells, dtype=np.int64)
    key = cells if codes is None else np.asarray(codes, dtype=np.int64) * 4 + cells
    return np.bincount(key, minlength=4 * n_groups).reshape(n_groups, 4)


def confusion_counts(y_true, y_pred, codes: np.ndarray | None = None, n_groups: int = 1) -> np.ndarray:
    """Binary confusion counts per group: (n_groups, 4) int64, columns tn, fp, fn, tp.

    Inputs: 0/1 labels and predictions, optionally each row's group code (0 … n_groups − 1).
    Row g equals ``sklearn.metrics.confusion_matrix(y_true[g], y_pred[g], labels=[0, 1]).ravel()``.
    """
    return counts_of_cells(confusion_cells(y_true, y_pred), codes, n_groups)
