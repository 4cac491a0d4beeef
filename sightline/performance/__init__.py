"""Performance: overall metrics with confidence intervals, baselines, curves, versions.

The public face: what pages, the report and the card use. The modules hold the rest."""

from __future__ import annotations

from sightline.performance.curves import confusion_from_counts, confusion_long
from sightline.performance.section import performance_section, version_comparison

__all__ = [
    "confusion_from_counts", "confusion_long", "performance_section", "version_comparison",
]
