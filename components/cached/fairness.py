"""Fairness's cached results: the group tables (the fairness Section's own), the threshold
what-if inputs and fairlearn's accuracy-vs-gap trade-off."""

from __future__ import annotations

from components import cache
from components.cached import per_audit
from sightline.data.audit import Audit
from sightline.fairness import FairnessResult, Tradeoff, WhatIfInputs, fairness_result, tradeoff_curve, whatif_inputs


@per_audit(max_entries=8)
def _computed(audit: Audit) -> FairnessResult:
    return fairness_result(audit)


def result(audit: Audit) -> FairnessResult:
    """Group tables, summaries and gaps over time of ``audit``: the fairness Section's own result
    (computed once per audit, for the Overview, this page and the card alike). Raises
    :class:`MissingInputError` without sensitive columns or labels."""
    computed = cache.section("fairness", audit).results.get("result")
    return computed if computed is not None else _computed(audit)


@per_audit(max_entries=8)
def threshold_inputs(audit: Audit) -> WhatIfInputs | None:
    """Labels, scores and sensitive columns for the threshold what-if (None without scores)."""
    return whatif_inputs(audit)


@per_audit(max_entries=32)
def tradeoff(audit: Audit, column: str, constraint: str) -> Tradeoff:
    """fairlearn ThresholdOptimizer accuracy-vs-gap points for one column (or intersection) and constraint."""
    inputs = threshold_inputs(audit)
    return tradeoff_curve(inputs.y_true, inputs.y_score, sensitive_features=inputs.features(column),
                          constraint=constraint, threshold=inputs.threshold,
                          min_group_size=audit.spec.fairness.min_group_size)
