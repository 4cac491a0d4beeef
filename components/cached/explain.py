"""Explainability's cached results: the SHAP explanations, their Section, one row's explanation,
the most confident errors."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pandas as pd

from components.cached import per_audit
from sightline.core.section import Section
from sightline.data.audit import Audit
from sightline.explain import (
    ExplainResult,
    LocalExplanation,
    explain_audit,
    explain_row,
    explain_settings,
    find_row,
    section_from_result,
)
from sightline.explain import confident_errors as most_confident_errors


# SHAP runs OUTSIDE a cached function so that its progress bar can update (Streamlit cannot replay
# elements drawn inside a cached function on blocks created outside it). The cache holds one box
# per fingerprint + settings; its lock makes concurrent sessions wait for the first computation
# instead of repeating it.
@per_audit(max_entries=8)
def _box(audit: Audit, settings: tuple) -> dict:
    return {"lock": threading.Lock()}


def result(audit: Audit, progress: Callable[[float, str], None] | None = None) -> ExplainResult:
    """The audit's :class:`ExplainResult`, cached by fingerprint and ``explain:`` settings;
    ``progress(fraction, text)`` is called while SHAP runs (first visit only)."""
    settings = explain_settings(audit.spec)
    box = _box(audit, settings.key())
    if "result" not in box and box["lock"].locked() and progress:
        progress(0.0, "Explaining the predictions (started in the background when the audit loaded)…")
    with box["lock"]:
        if "result" not in box:
            box["result"] = explain_audit(audit, settings, progress=progress)
    return box["result"]


@per_audit(max_entries=8)
def _section(audit: Audit, settings: tuple, *, explained: ExplainResult) -> Section:
    return section_from_result(audit, explained)


def section(audit: Audit, explained: ExplainResult) -> Section:
    """The explainability Section built from already computed explanations."""
    return _section(audit, explained.settings.key(), explained=explained)


@per_audit(max_entries=256)
def _row(audit: Audit, settings: tuple, row_id: str, *, explained: ExplainResult) -> LocalExplanation:
    return explain_row(explained, audit, find_row(audit, row_id))


def row(audit: Audit, explained: ExplainResult, row_id: str) -> LocalExplanation:
    """The explanation of the logged prediction ``row_id`` (an id of ``columns.id``, else a row
    number). Raises :class:`SightlineInputError` for an id not in the log."""
    return _row(audit, explained.settings.key(), str(row_id).strip(), explained=explained)


@per_audit(max_entries=8, copies=True)
def confident_errors(audit: Audit, n: int) -> pd.DataFrame:
    """The ``n`` most confident wrong predictions among labelled ones (a DataFrame)."""
    return most_confident_errors(audit, n)
