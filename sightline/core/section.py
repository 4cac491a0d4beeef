"""Result types shared by every analysis area, the dashboard and the model card.

Each area (performance, calibration, explainability, fairness, drift, operations) exposes
one function ``<area>_section(audit) -> Section``. The Overview page, ``report.json`` and the
model card all read that one Section, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GREEN, AMBER, RED = "green", "amber", "red"
NOT_COMPUTED, UNAVAILABLE = "not_computed", "unavailable"
STATUSES = (GREEN, AMBER, RED, NOT_COMPUTED, UNAVAILABLE)


@dataclass(frozen=True)
class Verdict:
    """A plain-language verdict: ``status`` (green/amber/red, or not_computed/unavailable)
    and one ``headline`` sentence a stakeholder can read; ``detail`` for the engineer."""

    status: str
    headline: str
    detail: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown verdict status {self.status!r}")


@dataclass(frozen=True)
class CardMetric:
    """One model-card metric: ``type`` in scikit-learn snake_case (``roc_auc``), ``value``,
    ``slice`` ("" overall, ``col=value``, or ``a=x & b=y``), optional 95% CI and row count."""

    type: str
    value: float
    slice: str = ""
    lower: float | None = None
    upper: float | None = None
    n: int | None = None


@dataclass(frozen=True)
class Chart:
    """A named chart for the card: ``name`` (file-safe id), ``title``, the Altair ``chart``."""

    name: str
    title: str
    chart: Any


@dataclass(frozen=True)
class Section:
    """The result of one analysis area.

    ``report`` is JSON-safe and goes to report.json verbatim; ``metrics`` become the card's
    performance_metrics; ``charts`` its graphics; ``provenance`` says how the numbers were
    obtained (sample sizes, methods, thresholds); ``tables`` are DataFrames for the card's tables.
    """

    area: str
    verdict: Verdict
    report: dict = field(default_factory=dict)
    metrics: tuple[CardMetric, ...] = ()
    charts: tuple[Chart, ...] = ()
    provenance: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    # The area's own result objects, for a page that shows more than the card (never serialised):
    # the page reuses them instead of computing the same thing again.
    results: dict = field(default_factory=dict)


def unavailable_section(area: str, reason: str, status: str = UNAVAILABLE) -> Section:
    """A Section that explains why an area has no result (missing input, or not built yet)."""
    return Section(area=area, verdict=Verdict(status, reason), report={"status": status, "reason": reason})
