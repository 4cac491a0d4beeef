"""Order statistics of a numeric column read through its reference-fitted bins.

A numeric :class:`sightline.drift.windows.Binning` orders its bins by value, so the value at any
rank lies in the bin where the running count of rows passes that rank: only that bin's values
need a partition, not the whole column (on a million rows with decile bins, a tenth of them).
"""

from __future__ import annotations

import numpy as np


def ranked_values(values: np.ndarray, codes: np.ndarray, counts: np.ndarray, ranks) -> np.ndarray:
    """``np.sort(values[~np.isnan(values)])[ranks]``, exactly, from numeric bin ``codes``.

    Inputs: float values; their codes from a numeric :class:`~sightline.drift.windows.Binning`
    (bins ordered by value, NaN in the last bin); rows per bin (``np.bincount(codes,
    minlength=n_bins)``); 0-based ranks below the number of non-NaN values. Only the bins holding the ranks are selected and
    partitioned (a tenth of the rows each for deciles), not the whole array sorted.
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    cum = np.cumsum(np.asarray(counts)[:-1])          # the last bin is the missing values'
    bins = np.searchsorted(cum, ranks, side="right")
    out = np.empty(len(ranks))
    for b in np.unique(bins):
        at = bins == b
        local = ranks[at] - (int(cum[b - 1]) if b else 0)
        out[at] = np.partition(values[codes == b], np.unique(local))[local]
    return out


def median_from_bins(values: np.ndarray, codes: np.ndarray, counts: np.ndarray) -> float:
    """``np.median`` of the non-NaN ``values``, exactly: numpy's own mean of the one or two
    middle values, found by :func:`ranked_values` (same inputs). NaN without values."""
    n = int(np.asarray(counts)[:-1].sum())
    if n == 0:
        return float("nan")
    middle = [n // 2] if n % 2 else [n // 2 - 1, n // 2]
    return float(np.mean(ranked_values(values, codes, counts, middle)))
