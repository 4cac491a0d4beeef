"""The slice table: slice names and descriptions, and metrics for every slice of an
intersection of encoded columns (:func:`slice_table`, :func:`slice_table_encoded`).

Metrics, intervals, gap and impact come from :mod:`sightline.slices.outcomes`; columns are encoded
by :mod:`sightline.slices.encoding`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sightline.core.errors import MissingInputError
from sightline.core.vocabulary import slice_name
from sightline.slices.encoding import DEFAULT_N_BINS, EncodedColumn, encode_column
from sightline.slices.outcomes import Outcomes, group_stats, metrics_frame, total_stats


def slice_description(pairs: Sequence[tuple[str, str]], kinds: Mapping[str, str] | None = None) -> str:
    """Readable form of a slice: "age 37–45 and sex = Female"."""
    kinds = kinds or {}
    # A numeric range reads as "age 37–45"; a single value or category as "sex = Female".
    parts = [f"{c} {v}" if kinds.get(c) == "numeric" and ("–" in v or " to " in v) else f"{c} = {v}" for c, v in pairs]
    return " and ".join(parts)



# -- the slice table --------------------------------------------------------------------------
def value_column(name: str, taken) -> str:
    """The slice table's column holding the sliced column ``name``'s value: ``name`` itself,
    unless the table already has a column of that name (a feature called ``n``, ``accuracy``,
    ``slice``…), then ``"name (value)"`` (with more parentheses until it is free)."""
    out = name
    while out in taken:
        out = f"{out} (value)"
    return out



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
    taken = set(head.columns) | set(table.columns) | {"too_small", "_sort"}
    for name, vals in value_cols.items():
        column = value_column(name, taken)
        head[column] = vals
        taken.add(column)
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
    ``columns``, ``order``, ``too_small``, one column per sliced column with its value (named
    as the column, or ``"<column> (value)"`` when the table has a column of that name already),
    ``n``, ``share`` (of all rows), confusion counts (binary), then per metric the value,
    ``_lower``/``_upper`` (95% CI), ``_gap`` and ``_impact`` (see :mod:`sightline.slices.outcomes`).
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

