"""The audit's sliceable data: the primary version's labelled rows, their outcomes and encoded
columns, and the ``slices:`` settings that choose them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sightline.core.errors import MissingInputError
from sightline.slices.encoding import DEFAULT_N_BINS, EncodedColumn, encode_column
from sightline.slices.outcomes import Outcomes
from sightline.slices.tables import slice_table_encoded

DEFAULT_MAX_ORDER = 3


# -- the audit's slice data -------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SliceData:
    """The labelled rows of the primary model version, their outcomes and encoded columns.

    The rows are not copied (a log of millions of rows would be held twice): ``source`` is the
    primary version's frame and ``rows`` the positions of the rows used in it; :meth:`column`
    takes one column of those rows, :attr:`frame` all of them (a copy, made on first use).
    """

    task: str
    source: pd.DataFrame
    rows: np.ndarray
    outcomes: Outcomes
    encoded: dict[str, EncodedColumn]
    n_bins: int
    dropped: int = 0   # labelled rows left out (regression: a missing prediction or target)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The rows used, every column (a copy of them)."""
        return self.source if len(self.rows) == len(self.source) else self.source.iloc[self.rows]

    def column(self, name: str) -> pd.Series:
        """One column of the rows used, as in the log (indexed 0..n-1 when not every row is used)."""
        return _take(self.source[name], self.rows)

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def columns(self) -> list[str]:
        """Columns that can form slices (two or more distinct slices)."""
        return [c for c, e in self.encoded.items() if e.n_levels >= 2]

    def kinds(self) -> dict[str, str]:
        return {c: e.kind for c, e in self.encoded.items()}

    def table(self, columns: Sequence[str], *, min_size: int) -> pd.DataFrame:
        """:func:`slice_table` on these rows."""
        unknown = [c for c in columns if c not in self.encoded]
        if unknown:
            raise MissingInputError(f"column(s) {', '.join(unknown)} cannot be sliced — choose among: {', '.join(self.columns)}")
        return slice_table_encoded(self.outcomes, [self.encoded[c] for c in columns], min_size=min_size)

    def mask(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Rows in the slice given as (column, value label) pairs."""
        return self.mask_of_codes([(col, self.encoded[col].labels.index(label)) for col, label in pairs])

    def mask_of_codes(self, key: Sequence[tuple[str, int]]) -> np.ndarray:
        """Rows in the slice given as (column, level code) pairs (:attr:`SliceSearch.keys`)."""
        m = np.ones(self.n, dtype=bool)
        for col, code in key:
            m &= self.encoded[col].codes == code
        return m


def _take(values: pd.Series, rows: np.ndarray) -> pd.Series:
    """The values at positions ``rows`` (sorted, distinct) of ``values``, same name and dtype,
    indexed 0..n-1 (taking the array alone is several times faster than ``iloc``); the Series
    itself when that is all of them."""
    if len(rows) == len(values):
        return values
    return pd.Series(values.array.take(rows), name=values.name, copy=False)


def candidate_columns(audit) -> list[str]:
    """Columns slices may use: the audit's features and sensitive columns (in that order)."""
    cols = list(dict.fromkeys(list(audit.features) + list(audit.spec.columns.sensitive)))
    return [c for c in cols if c in audit.primary.columns]


def slice_data(audit, *, n_bins: int | None = None) -> SliceData:
    """Prepare slicing for an audit: labelled primary rows, outcomes, encoded candidate columns.

    Raises :class:`MissingInputError` when no label has arrived or no column can be sliced.
    """
    spec = audit.spec
    n_bins = int(n_bins or slice_setting(audit, "n_bins"))
    primary, target = audit.primary, spec.columns.target
    # Positions of the labelled rows (what audit.labelled() selects), so that only the outcome
    # columns and one slice column at a time are ever copied.
    has_target = bool(target) and target in primary.columns
    rows = np.flatnonzero(primary[target].notna().to_numpy()) if has_target else np.zeros(0, dtype=np.int64)
    if len(primary) < np.iinfo(np.int32).max:
        rows = rows.astype(np.int32)
    if not len(rows):
        raise MissingInputError("Slice evaluation needs true outcomes: no prediction of the primary model has its label yet "
                                f"(column '{spec.columns.target}') — wait for labels or map columns.target")
    outcome_columns = [c for c in dict.fromkeys((target, spec.columns.prediction, spec.columns.score)) if c and c in primary.columns]
    labelled = primary[outcome_columns].iloc[rows]
    y_true, y_pred = audit.y_true(labelled), audit.y_pred(labelled)
    dropped = 0
    if spec.task == "regression":
        ok = np.isfinite(y_true) & np.isfinite(y_pred)
        dropped = int((~ok).sum())
        if dropped:
            labelled, y_true, y_pred, rows = labelled[ok], y_true[ok], y_pred[ok], rows[ok]
        if not len(labelled):
            raise MissingInputError(f"Slice evaluation needs numeric targets and predictions: none of the {dropped:,} labelled "
                                    f"rows has both a number in '{spec.columns.target}' and in '{spec.columns.prediction}'")
    y_score = audit.y_score(labelled) if spec.task == "binary" else None
    if spec.task == "binary":  # 0/1: one byte each instead of eight (every use widens or compares)
        y_true, y_pred = y_true.astype(np.int8), y_pred.astype(np.int8)
    columns = candidate_columns(audit)
    if not columns:
        raise MissingInputError("Slice evaluation needs feature or sensitive columns in the log — list them in columns.features / columns.sensitive")
    encoded = {c: encode_column(_take(primary[c], rows), n_bins=n_bins) for c in columns}
    return SliceData(spec.task, primary, rows, Outcomes(spec.task, y_true, y_pred, y_score), encoded, n_bins, dropped)


SETTING_RANGES = {"min_size": (1, None), "max_order": (1, 3), "n_bins": (2, 20)}


def slice_setting(audit, key: str) -> int:
    """One whole-number setting of ``slices:`` in the audit (``min_size`` defaults to
    ``fairness.min_group_size``, ``max_order`` to 3, ``n_bins`` to 5).

    A bad value raises :class:`MissingInputError` naming the key, so this area explains it and
    the other areas still run.
    """
    default = {"min_size": audit.spec.fairness.min_group_size, "max_order": DEFAULT_MAX_ORDER, "n_bins": DEFAULT_N_BINS}[key]
    value = audit.spec.slices.get(key, default)
    low, high = SETTING_RANGES[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < low \
            or (high is not None and value > high):
        allowed = f"a whole number from {low} to {high}" if high else f"a whole number ≥ {low}"
        raise MissingInputError(f"slices.{key} must be {allowed}, got {value!r} — fix it in the audit file")
    return int(value)


def min_slice_size(audit) -> int:
    """``slices.min_size`` from the audit, else ``fairness.min_group_size``."""
    return slice_setting(audit, "min_size")
