"""Drift's cached results: the log in the windows and PSI threshold a user picks (the Drift
Section's own for the audit's settings), and one column's distributions."""

from __future__ import annotations

import dataclasses

import pandas as pd

from components import cache
from components.cached import per_audit
from sightline.data.audit import Audit
from sightline.drift import DriftOverTime, column_distribution, drift_over_time, drift_settings


@per_audit(max_entries=16)
def _over_time(audit: Audit, window: str, psi_threshold: float) -> DriftOverTime:
    return drift_over_time(audit, window, dataclasses.replace(drift_settings(audit), psi_threshold=psi_threshold))


def over_time(audit: Audit, *, window: str, psi_threshold: float) -> DriftOverTime:
    """Drift per ``window`` with features shifted at PSI ≥ ``psi_threshold``: the Drift Section's
    own result when the settings are the audit's (no second computation)."""
    results = cache.section("drift", audit).results
    if results.get("over_time_settings") == (window, float(psi_threshold)):
        return results["over_time"]
    return _over_time(audit, window, float(psi_threshold))


@per_audit(max_entries=64, copies=True)
def distribution(audit: Audit, column: str) -> pd.DataFrame:
    """Reference vs production shares per bin of one column."""
    return column_distribution(audit, column)
