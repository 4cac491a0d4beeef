"""Fairness: group and intersectional metrics with uncertainty, disparities, summaries, verdicts.

The public face: what pages, the report and the card use. The modules hold the rest."""

from __future__ import annotations

from sightline.fairness.groups import RATE_METRICS
from sightline.fairness.section import ColumnFairness, FairnessResult, fairness_result, fairness_section, fairness_verdict
from sightline.fairness.summaries import TASK_SUMMARIES, people
from sightline.fairness.whatif import CONSTRAINTS, DEFAULT_SAMPLE_SIZE, Tradeoff, WhatIfInputs, rates_at_thresholds, tradeoff_curve, whatif_inputs

__all__ = [
    "ColumnFairness", "CONSTRAINTS", "DEFAULT_SAMPLE_SIZE", "fairness_result", "fairness_section", "fairness_verdict",
    "FairnessResult", "people", "RATE_METRICS", "rates_at_thresholds", "TASK_SUMMARIES", "Tradeoff", "tradeoff_curve",
    "whatif_inputs", "WhatIfInputs",
]
