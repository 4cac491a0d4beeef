"""Calibration's cached results: the reliability diagram and group comparison for the bins and
group column a user picks — the Calibration Section's own when it covers the choice."""

from __future__ import annotations

from components import cache
from components.cached import per_audit
from sightline.calibration import CalibrationResult, calibration_result
from sightline.data.audit import Audit


@per_audit(max_entries=32)
def _computed(audit: Audit, n_bins: int, strategy: str, column: str | None) -> CalibrationResult:
    return calibration_result(audit, n_bins=n_bins, strategy=strategy, group_columns=(column,) if column else ())


def view(audit: Audit, *, n_bins: int, strategy: str, column: str | None) -> CalibrationResult:
    """Calibration with ``n_bins`` bins of ``strategy`` and, when ``column`` is given, per group of
    it (``result.groups[column]``). The Calibration Section's own result when it was binned the
    same way and holds that column (its groups are the sensitive columns): no second computation."""
    computed = cache.section("calibration", audit).results.get("result")
    if (computed is not None and (computed.n_bins, computed.strategy) == (int(n_bins), strategy)
            and (column is None or column in computed.groups)):
        return computed
    return _computed(audit, int(n_bins), strategy, column)
