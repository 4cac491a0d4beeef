"""The whole-log figures of a sampled log, counted in place by DuckDB (cached)."""

from __future__ import annotations

from components.cached import per_audit
from sightline.data.audit import Audit
from sightline.data.scale import whole_log_figures


@per_audit(max_entries=4, copies=True, spinner="Counting every row of the log with DuckDB…")
def _figures(audit: Audit) -> dict | None:
    return whole_log_figures(audit)


def figures(audit: Audit) -> dict | None:
    """:func:`sightline.data.scale.whole_log_figures` of the audit (None unless its log was sampled)."""
    return _figures(audit) if audit.log_sample is not None else None
