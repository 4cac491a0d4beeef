"""Binary metrics of bootstrap resamples given as row indices.

A resample is a row of an index matrix ``idx`` (B × m): resample ``b`` holds the rows
``idx[b]``. :func:`resampled_roc_auc` gives each resample's ROC AUC, :func:`resampled_binary_metrics`
its precision, recall and F1, and :func:`resampled_classification_metrics` all four from one
pass over the indices. Every result is a ratio of whole-number counts, so any way of counting
gives the same floats bit for bit; the functions differ only in how fast they count.
"""

from __future__ import annotations

import numpy as np

# Resamples × cells counted at a time. Small enough for the count block (8 bytes a cell) to
# stay in the CPU cache: at 1.6 MB the AUC of 500 resamples of 20,000 rows takes half the CPU
# of 32 MB blocks, with the same integer counts.
CHUNK_CELLS = 200_000


def bootstrap_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """Row indices of ``n_resamples`` bootstrap resamples of ``n`` rows (drawn with replacement,
    seeded). Output: int32 array (n_resamples, n); row ``b`` is resample ``b``."""
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n), dtype=np.int32)


def _rank_cells(y_true, y_score) -> tuple[np.ndarray, np.ndarray, int]:
    """Each row's (class, rank of its score among the distinct scores) as one number
    ``class × g + rank`` (class-major, so a resample's negatives and positives are two contiguous
    blocks of g counts), the ranks, and g."""
    y = np.asarray(y_true).astype(np.int64)
    uniq, rank = np.unique(np.asarray(y_score, dtype=np.float64), return_inverse=True)
    rank = rank.astype(np.int64).ravel()
    g = len(uniq)
    return y * g + rank, rank, g


def _cell_counts(cell: np.ndarray, g: int, idx: np.ndarray, chunk_cells: int):
    """Yield (start, neg, pos) per chunk of resamples: (k, g) counts of each score rank among the
    negatives and the positives of resamples ``start … start + k − 1``."""
    b = idx.shape[0]
    step = max(1, chunk_cells // max(2 * g, 1))
    for start in range(0, b, step):
        part = idx[start:start + step]
        k = len(part)
        key = cell[part]
        key += (np.arange(k, dtype=np.int64) * (2 * g))[:, None]
        counts = np.bincount(key.ravel(), minlength=k * 2 * g).reshape(k, 2, g)
        yield start, counts[:, 0], counts[:, 1]


def _auc_from_counts(neg: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """ROC AUC from (k, g) per-rank counts: 2 × Mann–Whitney U = Σ pos · (2 · negatives strictly
    below + negatives tied) = Σ pos · (2 · cumulative negatives − negatives), an integer."""
    cum = np.cumsum(neg, axis=1)
    twice_u = np.einsum("ij,ij->i", pos, 2 * cum - neg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (twice_u / 2) / (pos.sum(axis=1).astype(np.float64) * neg.sum(axis=1).astype(np.float64))


def resampled_roc_auc(y_true, y_score, idx: np.ndarray, chunk_cells: int = CHUNK_CELLS) -> np.ndarray:
    """ROC AUC of each resample ``y_true[idx[b]], y_score[idx[b]]`` (ties count one half, as
    scikit-learn's ``roc_auc_score``).

    Inputs: 0/1 labels (n,), scores (n,), resample indices (B, m). Output: (B,) AUCs; NaN where
    a resample holds one class only. One pass over the indices: each row becomes (class, rank
    of its score among the distinct scores), counted per resample; the Mann–Whitney sum is then
    a cumulative count. The counts are whole numbers, so the sums are exact and the result does
    not depend on the order of summation; resamples are counted ``chunk_cells`` (resamples ×
    cells) at a time to bound memory.
    """
    cell, _, g = _rank_cells(y_true, y_score)
    idx = np.atleast_2d(idx)
    out = np.empty(idx.shape[0])
    for start, neg, pos in _cell_counts(cell, g, idx, chunk_cells):
        out[start:start + len(neg)] = _auc_from_counts(neg, pos)
    return out


def _ratios(tp: np.ndarray, pp: np.ndarray, ap: np.ndarray) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"precision": tp / pp, "recall": tp / ap, "f1": 2 * tp / (pp + ap)}


def resampled_binary_metrics(y_true, y_pred, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 of the positive class on each resample ``idx[b]`` (B, m).
    Output: name -> (B,) array; NaN where undefined (no predicted / no actual positives)."""
    y = np.asarray(y_true).astype(np.int8)
    p = np.asarray(y_pred).astype(np.int8)
    idx = np.atleast_2d(idx)
    tp = (y & p)[idx].sum(axis=1, dtype=np.int64)
    pp, ap = p[idx].sum(axis=1, dtype=np.int64), y[idx].sum(axis=1, dtype=np.int64)
    return _ratios(tp, pp, ap)


def resampled_classification_metrics(y_true, y_pred, y_score, idx: np.ndarray,
                                     chunk_cells: int = CHUNK_CELLS) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and ROC AUC of each resample ``idx[b]`` (B, m) from one count.

    Inputs: 0/1 labels, 0/1 predictions, scores (n,), resample indices. Output: name -> (B,)
    array, equal bit for bit to :func:`resampled_binary_metrics` and :func:`resampled_roc_auc`.
    When every distinct score has one prediction (predictions made by thresholding the score,
    the usual case) the per-rank counts of the AUC also give the predicted positives, so the
    resamples are read once instead of four times; otherwise the two functions are called.
    """
    pred = np.asarray(y_pred).astype(np.int64)
    cell, rank, g = _rank_cells(y_true, y_score)
    flag = np.zeros(g, dtype=np.int64)
    flag[rank] = pred
    if not (np.array_equal(flag[rank], pred) and np.all((pred == 0) | (pred == 1))):  # count separately
        out = resampled_binary_metrics(y_true, y_pred, idx)
        out["roc_auc"] = resampled_roc_auc(y_true, y_score, idx, chunk_cells)
        return out
    idx = np.atleast_2d(idx)
    b = idx.shape[0]
    tp, pp, ap, auc = (np.empty(b, dtype=np.int64), np.empty(b, dtype=np.int64), np.empty(b, dtype=np.int64),
                       np.empty(b))
    for start, neg, pos in _cell_counts(cell, g, idx, chunk_cells):
        end = start + len(neg)
        tp[start:end] = pos @ flag
        pp[start:end] = tp[start:end] + neg @ flag
        ap[start:end] = pos.sum(axis=1)
        auc[start:end] = _auc_from_counts(neg, pos)
    out = _ratios(tp, pp, ap)
    out["roc_auc"] = auc
    return out
