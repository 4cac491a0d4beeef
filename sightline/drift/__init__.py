"""Drift: per-feature tests and distances, drift over time, feature and schema changes, label-free estimate.

The public face: what pages, the report and the card use. The modules hold the rest."""

from __future__ import annotations

from sightline.drift.effects import column_distribution
from sightline.drift.reference import drift_vs_reference
from sightline.drift.section import drift_section
from sightline.drift.settings import DRIFT_WINDOWS, drift_settings
from sightline.drift.timeline import DriftOverTime, drift_over_time
from sightline.drift.windows import flagged_windows_text

__all__ = [
    "column_distribution", "drift_over_time", "drift_section", "drift_settings", "drift_vs_reference", "DRIFT_WINDOWS",
    "DriftOverTime", "flagged_windows_text",
]
