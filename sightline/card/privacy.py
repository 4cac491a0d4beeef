"""Small-group suppression for everything the model card exports.

Aggregates over a handful of people can reveal facts about them (the Strava heatmap), and
metrics on tiny groups are noise anyway. Every metric and table row the card exports whose
row count is below ``fairness.min_group_size`` is dropped here — defensively, even when the
analysis already suppressed it — and the card says how many were dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sightline.core.section import CardMetric

# Columns that hold "how many rows is this line about" in section tables.
COUNT_COLUMNS = ("n", "rows", "n_rows", "count", "size", "support", "group_size", "slice_size")


@dataclass(frozen=True)
class Suppression:
    """What was dropped for privacy: counts of metrics and table rows, and the threshold."""

    min_group_size: int
    metrics: int = 0
    table_rows: int = 0

    @property
    def total(self) -> int:
        return self.metrics + self.table_rows

    def sentence(self) -> str:
        """One plain sentence for the card."""
        if not self.total:
            return (f"Groups and slices with fewer than {self.min_group_size} rows are never shown in this card; "
                    "none of the results fell below that size.")
        parts = []
        if self.metrics:
            parts.append(f"{self.metrics} metric value{'s' if self.metrics != 1 else ''}")
        if self.table_rows:
            parts.append(f"{self.table_rows} table row{'s' if self.table_rows != 1 else ''}")
        return (f"To protect small groups, {' and '.join(parts)} computed on fewer than {self.min_group_size} rows "
                f"(fairness.min_group_size) {'were' if self.total != 1 else 'was'} suppressed from this card.")


def keep_metric(metric: CardMetric, min_group_size: int) -> bool:
    """False when the metric was computed on fewer than ``min_group_size`` rows (unknown n is kept)."""
    return metric.n is None or metric.n >= min_group_size


def suppress_metrics(metrics, min_group_size: int) -> tuple[tuple[CardMetric, ...], int]:
    """(kept metrics, number dropped)."""
    kept = tuple(m for m in metrics if keep_metric(m, min_group_size))
    return kept, len(metrics) - len(kept)


def count_column(table: pd.DataFrame) -> str | None:
    """The column of ``table`` that holds per-row group sizes, or None when it has none."""
    for col in COUNT_COLUMNS:
        if col in table.columns and pd.api.types.is_numeric_dtype(table[col]):
            return col
    return None


def suppress_table(table: pd.DataFrame, min_group_size: int) -> tuple[pd.DataFrame, int]:
    """(table without rows whose group size is below ``min_group_size``, number dropped).

    Tables without a size column (see :data:`COUNT_COLUMNS`) are returned unchanged.
    The input frame is never modified.
    """
    col = count_column(table)
    if col is None:
        return table, 0
    small = pd.to_numeric(table[col], errors="coerce") < min_group_size
    dropped = int(small.sum())
    return (table.loc[~small] if dropped else table), dropped
