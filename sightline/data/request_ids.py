"""Cheap exact tests on request ids (used by :func:`sightline.data.model_versions.paired_requests` before pairing versions).

Pairing two versions' rows on their ids hashes every id of the log. Canary and A/B logs send
each request to one version only, so no id is shared and that work finds nothing: when the ids
are integers, :func:`ids_disjoint` proves it with a comparison of ranges or one bitmap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BITMAP_ROWS_FACTOR = 8  # a bitmap over the id range is used when the range is at most this × the ids (+ 1M)


def ids_disjoint(ids: pd.Series, in_a: np.ndarray, in_b: np.ndarray) -> bool:
    """True when no id of the rows ``in_a`` is also an id of the rows ``in_b``; False when some id
    is shared *or* the test cannot tell cheaply (ids that are not plain integers, or integers
    spread over a range much wider than their count): then the caller pairs the rows as usual.

    Inputs: the id column, boolean masks of the two sets of rows (aligned with it).
    Output: bool — True is always exact (equal to an empty ``np.intersect1d``)."""
    if not (pd.api.types.is_integer_dtype(ids.dtype) and isinstance(ids.dtype, np.dtype)):
        return False
    values = ids.to_numpy()
    a, b = values[in_a], values[in_b]
    if len(a) == 0 or len(b) == 0:
        return True
    a_lo, a_hi, b_lo, b_hi = (int(x) for x in (a.min(), a.max(), b.min(), b.max()))
    if a_hi < b_lo or b_hi < a_lo:
        return True
    lo, hi = max(a_lo, b_lo), min(a_hi, b_hi)  # only ids in the overlap of the ranges can be shared
    if hi - lo + 1 > BITMAP_ROWS_FACTOR * (len(a) + len(b)) + 1_000_000:
        return False
    seen = np.zeros(hi - lo + 1, dtype=bool)
    a = a[(a >= lo) & (a <= hi)]
    b = b[(b >= lo) & (b <= hi)]
    # offsets within [0, hi - lo], computed after the range filter so they cannot overflow
    seen[(a - lo).astype(np.int64, copy=False)] = True
    return not bool(seen[(b - lo).astype(np.int64, copy=False)].any())
