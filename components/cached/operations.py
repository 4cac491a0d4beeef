"""Operations' cached results: latency, throughput and invalid predictions per window — the
Operations Section's own for the default settings."""

from __future__ import annotations

from components import cache
from components.cached import per_audit
from sightline.data.audit import Audit
from sightline.operations import OperationsResult, operations_result


@per_audit(max_entries=16)
def _computed(audit: Audit, window: str, factor: float, min_requests: int) -> OperationsResult:
    return operations_result(audit, window, factor=factor, min_requests=min_requests)


def result(audit: Audit, window: str, factor: float, min_requests: int) -> OperationsResult:
    """Latency, throughput and invalid predictions of ``audit`` in ``window``s, incidents at
    ``factor``× the usual p99 (windows of ``min_requests`` or more). For the settings the report
    uses, the Operations Section's own result (no second computation). Raises
    :class:`MissingInputError` without latency and timestamps."""
    computed = cache.section("operations", audit).results.get("result")
    if computed is not None and (computed.window, float(computed.settings["incident_factor"]),
                                 int(computed.settings["min_window_requests"])) == (window, float(factor), int(min_requests)):
        return computed
    return _computed(audit, window, float(factor), int(min_requests))
