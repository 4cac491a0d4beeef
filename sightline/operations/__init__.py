"""Operational health: latency percentiles and incidents, throughput, invalid predictions.

The public face: what pages, the report and the card use. The modules hold the rest."""

from __future__ import annotations

from sightline.operations.incidents import INCIDENT_FACTOR, MIN_WINDOW_REQUESTS
from sightline.operations.section import (
    DEFAULT_WINDOW,
    OPERATIONS_WINDOWS,
    OperationsResult,
    operations_metrics,
    operations_report,
    operations_result,
    operations_verdict,
)

__all__ = [
    "DEFAULT_WINDOW", "INCIDENT_FACTOR", "MIN_WINDOW_REQUESTS", "operations_metrics", "operations_report",
    "operations_result", "operations_verdict", "OPERATIONS_WINDOWS", "OperationsResult",
]
