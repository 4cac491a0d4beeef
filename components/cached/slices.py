"""Slices' cached results: the encoded slice columns and the per-slice tables the page explores —
the Slices Section's own for the audit's settings."""

from __future__ import annotations

import pandas as pd

from components import cache
from components.cached import per_audit
from sightline.data.audit import Audit
from sightline.slices import SliceData, slice_data


@per_audit(max_entries=8)
def _data(audit: Audit, n_bins: int) -> SliceData:
    return slice_data(audit, n_bins=n_bins)


def data(audit: Audit, n_bins: int) -> SliceData:
    """Labelled primary rows, outcomes and slice columns encoded in ``n_bins`` quantile bins: the
    Slices Section's own when it used as many bins. Raises MissingInputError without labels."""
    computed = cache.section("slices", audit).results.get("data")
    return computed if computed is not None and computed.n_bins == int(n_bins) else _data(audit, int(n_bins))


@per_audit(max_entries=64, copies=True)
def _table(audit: Audit, n_bins: int, columns: tuple, min_size: int) -> pd.DataFrame:
    return data(audit, n_bins).table(list(columns), min_size=min_size)


def table(audit: Audit, columns, *, min_size: int, n_bins: int) -> pd.DataFrame:
    """Metrics per slice of the intersection of ``columns`` (a DataFrame; slices under ``min_size``
    rows flagged ``too_small``). One column at the Section's bins and minimum size: the Section's
    own table (not to be changed in place)."""
    section = cache.section("slices", audit)
    tables, settings = section.results.get("tables", {}), section.report.get("settings", {})
    columns = tuple(columns)
    if (len(columns) == 1 and columns[0] in tables
            and (settings.get("n_bins"), settings.get("min_size")) == (int(n_bins), int(min_size))):
        return tables[columns[0]]
    return _table(audit, int(n_bins), columns, int(min_size))
