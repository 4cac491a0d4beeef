"""Columns as slice codes: categorical values, or numeric columns cut into quantile bins.

A categorical column keeps its values (missing values become the slice ``(missing)``; beyond
:data:`MAX_LEVELS` the rarest values are pooled as ``(other)``); a numeric column is cut at its
quantiles into ``n_bins`` bins labelled by the smallest and largest value inside (``37–45``).
Used by :mod:`sightline.slices.inputs` and :mod:`sightline.slices.simpson`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sightline.core.numbers import YEAR, format_value, guess_unit

MISSING_LABEL = "(missing)"
OTHER_LABEL = "(other)"
MAX_LEVELS = 50          # categorical values kept per column (the rest pooled as "(other)")
DEFAULT_N_BINS = 5


@dataclass(frozen=True, eq=False)
class EncodedColumn:
    """One column as slice codes: ``codes[i]`` in ``0..len(labels)-1`` for every row (the
    smallest integer type that holds them: widen before arithmetic).

    ``kind`` is "categorical" or "numeric"; ``edges`` are the inner cut points of a numeric
    column (a row goes to bin i when edges[i-1] < value <= edges[i]).
    """

    name: str
    codes: np.ndarray
    labels: tuple[str, ...]
    kind: str
    edges: tuple[float, ...] = ()

    @property
    def n_levels(self) -> int:
        return len(self.labels)


def _format_number(value: float, integer: bool, year: bool = False) -> str:
    """Bin bounds as people write them: years as years (1993), other whole numbers with
    thousands separators (19,999), other values from 1,000 up to the unit (43,245), smaller
    ones to three significant digits (0.843), never in scientific notation."""
    if year:
        return format_value(value, YEAR)
    if integer:
        return f"{round(value):,d}"
    return format_value(value)


def encode_column(values: pd.Series, *, n_bins: int = DEFAULT_N_BINS, max_levels: int = MAX_LEVELS) -> EncodedColumn:
    """Slice codes of one column (the Series is not modified).

    Numeric columns (not bool) with more than ``n_bins`` distinct values are cut at their
    quantiles into at most ``n_bins`` bins (ties merge bins: a column that is mostly 0 gets a
    "0" bin); the others are categorical. Missing values get their own slice.
    """
    name = str(values.name)
    is_numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if is_numeric:
        x = values.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(x)
        # One sort gives the distinct values, the quantiles and each bin's smallest and largest value.
        xs = np.sort(x if finite.all() else x[finite])
        new_value = xs[1:] != xs[:-1]
        if len(xs) and int(np.count_nonzero(new_value)) + 1 > max(n_bins, 1):
            return _encode_numeric(name, x, finite, xs, new_value, n_bins)
    return _encode_categorical(name, values, max_levels)


def _encode_numeric(name: str, x: np.ndarray, finite: np.ndarray, xs: np.ndarray, new_value: np.ndarray,
                    n_bins: int) -> EncodedColumn:
    """Quantile bins of a numeric column: ``xs`` its finite values sorted, ``new_value`` where
    ``xs`` changes value (``xs[1:] != xs[:-1]``)."""
    cuts = np.unique(_sorted_quantiles(xs, np.linspace(0, 1, n_bins + 1)[1:-1]))
    cuts = cuts[cuts < xs[-1]]  # a cut at the maximum would leave an empty top bin
    # Bin i holds cuts[i-1] < value <= cuts[i]: its code is the number of cuts below the value.
    codes = np.zeros(len(x), dtype=np.int8 if len(cuts) < 127 else np.int32)  # widened below if missing values need a code
    values = np.where(finite, x, 0.0)
    for cut in cuts:
        codes += values > cut
    n_real = len(cuts) + 1
    integer = _all_whole(xs, new_value)
    year = integer and guess_unit(name, xs) == YEAR  # year_built 1950–1963, not 1,950–1,963
    # Label each bin by the smallest and largest value really inside it (readable, exact).
    bounds = np.r_[0, np.searchsorted(xs, cuts, side="right"), len(xs)]
    labels = []
    for code in range(n_real):
        start, end = bounds[code], bounds[code + 1]
        if end > start:
            lo, hi = _signed_zero(x, xs[start]), _signed_zero(x, xs[end - 1])
            lo_s, hi_s = _format_number(lo, integer, year), _format_number(hi, integer, year)
            sep = " to " if lo < 0 else "–"  # "-3.9 to -0.85" reads better than "-3.9–-0.85"
            labels.append(lo_s if lo_s == hi_s else f"{lo_s}{sep}{hi_s}")
        else:
            labels.append(f"≤{_format_number(cuts[code], integer, year)}" if code < len(cuts)
                          else f">{_format_number(cuts[-1], integer, year)}")
    if not finite.all():
        codes = np.where(finite, codes, n_real).astype(np.int32)
        labels.append(MISSING_LABEL)
    return EncodedColumn(name, _compact(codes, len(labels)), tuple(labels), "numeric", tuple(float(c) for c in cuts))


def _all_whole(xs: np.ndarray, new_value: np.ndarray) -> bool:
    """Whether every value of the sorted ``xs`` is a whole number (``new_value`` where ``xs``
    changes value). The smallest values first: most continuous columns answer there, without
    gathering the distinct values."""
    if not np.all(np.mod(xs[:256], 1) == 0):
        return False
    return bool(np.all(np.mod(xs[np.r_[True, new_value]], 1) == 0))


def _sorted_quantiles(xs: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(xs, q)`` (linear method) of an ascending array, by NumPy's own index,
    weight and interpolation steps without its partition (a no-op on sorted values, but a pass
    over them per quantile). A column holding zeros keeps ``np.quantile``: its partition may
    swap 0.0 and -0.0 (equal values), and the sign of a zero cut shows in a label. Falls back
    to ``np.quantile`` too if NumPy's internals move."""
    at = int(np.searchsorted(xs, 0.0))
    if at < len(xs) and xs[at] == 0:
        return np.quantile(xs, q)
    try:
        from numpy.lib import _function_base_impl as impl

        method = impl._QuantileMethods["linear"]
        virtual = np.asanyarray(method["get_virtual_index"](len(xs), q))
        previous, following = impl._get_indexes(xs, virtual, len(xs))
        gamma = impl._get_gamma(virtual, previous, method)
        return impl._lerp(xs[previous], xs[following], gamma)
    except (ImportError, AttributeError, KeyError, TypeError):
        return np.quantile(xs, q)


def _signed_zero(x: np.ndarray, value: np.float64) -> np.float64:
    """A bin bound of 0 with the sign of the first zero in the column's row order: 0.0 and -0.0
    are equal, so a sort may put either first; the label ("0" or "-0") follows the first row."""
    return x[int(np.argmax(x == 0))] if value == 0 else value


def _factorized(values: pd.Series) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """``pd.factorize(values)``'s codes (-1: missing) and uniques, and each unique's rows.

    A categorical column's own codes give them without hashing every row: factorize numbers the
    categories present in order of first appearance, which the first rows settle whenever every
    category present already shows up there (else the whole column is scanned).
    """
    if not isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        return codes, uniques, np.bincount(codes[codes >= 0], minlength=len(uniques))
    cat = values.cat.codes.to_numpy()  # category positions, -1 = missing
    k = len(values.cat.categories)
    rows = np.bincount(cat.astype(np.intp) + 1, minlength=k + 1)[1:]  # rows per category
    seen = pd.unique(cat[:4096])
    seen = seen[seen >= 0]
    if len(seen) < np.count_nonzero(rows):
        seen = pd.unique(cat)
        seen = seen[seen >= 0]
    appear = np.full(k + 1, -1, dtype=np.intp)  # category position -> factorize code; appear[-1] stays -1
    appear[seen] = np.arange(len(seen))
    return appear[cat], values.cat.categories[seen], rows[seen]


def _encode_categorical(name: str, values: pd.Series, max_levels: int) -> EncodedColumn:
    codes, uniques, counts = _factorized(values)
    order = np.argsort(-counts, kind="stable")  # most frequent first
    keep = order[: max_levels - 1] if len(order) > max_levels else order
    remap = np.full(len(uniques) + 1, -1, dtype=np.int32)
    remap[keep] = np.arange(len(keep), dtype=np.int32)
    labels = [str(uniques[i]).strip() for i in keep]
    pooled = len(order) > len(keep)
    if pooled:
        remap[np.setdiff1d(np.arange(len(uniques)), keep)] = len(labels)
        labels.append(OTHER_LABEL)
    out = remap[codes]  # codes == -1 (missing) maps to remap[-1] == -1
    if (codes < 0).any():
        out = np.where(codes < 0, len(labels), out)
        labels.append(MISSING_LABEL)
    return EncodedColumn(name, _compact(out, len(labels)), tuple(labels), "categorical")


def _compact(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Codes in the smallest integer type that holds them (int8 up to 127 levels): a
    5,000,000-row log's 20 slice columns take 100 MB instead of 400 MB."""
    for dtype in (np.int8, np.int16):
        if n_levels <= np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes.astype(np.int32)


def encode_columns(frame: pd.DataFrame, columns: Sequence[str], *, n_bins: int = DEFAULT_N_BINS) -> dict[str, EncodedColumn]:
    """:func:`encode_column` for each named column of ``frame``."""
    return {c: encode_column(frame[c], n_bins=n_bins) for c in columns}
