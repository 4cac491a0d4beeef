"""Slice-based evaluation: metrics per slice, automatic worst-slice search, Simpson's-paradox check.

The public face: what pages, the report and the card use. The modules hold the rest."""

from __future__ import annotations

from sightline.slices.encoding import DEFAULT_N_BINS
from sightline.slices.inputs import SliceData, min_slice_size, slice_data
from sightline.slices.outcomes import TASK_METRICS
from sightline.slices.section import slices_section
from sightline.slices.simpson import compare_versions

__all__ = [
    "compare_versions", "DEFAULT_N_BINS", "min_slice_size", "slice_data", "SliceData", "slices_section", "TASK_METRICS",
]
