"""Model versions' cached results: a candidate compared with the primary version — the one the
Operations Section holds (the report layer composes the comparison into it)."""

from __future__ import annotations

from components import cache
from components.cached import per_audit
from sightline.data.audit import Audit
from sightline.versions import VersionComparison, compare_versions


@per_audit(max_entries=16)
def _computed(audit: Audit, candidate: str) -> VersionComparison:
    return compare_versions(audit, candidate)


def comparison(audit: Audit, candidate: str) -> VersionComparison:
    """``candidate`` compared with the primary version: the Operations Section's comparison
    when it holds one (no second computation). Raises :class:`MissingInputError` when the
    versions cannot be compared."""
    computed = cache.section("operations", audit).results.get("versions", {}).get(candidate)
    return computed if computed is not None else _computed(audit, candidate)
