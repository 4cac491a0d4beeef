"""Explainability: SHAP feature importance, with the model, logged SHAP values or a surrogate.

The public face: what pages, the report and the card use. The modules hold the rest."""

from __future__ import annotations

from sightline.explain.local import confident_errors, explain_row, find_row
from sightline.explain.results import (
    DOMINANT_SHARE,
    NEGLIGIBLE_SHARE,
    NOTABLE_SHARE_GAP,
    ExplainResult,
    LocalExplanation,
    explain_settings,
    global_importance,
    group_importance_table,
    largest_group_difference,
)
from sightline.explain.section import (
    SPACE_TEXT,
    explain_audit,
    explain_section,
    importance_subtitle,
    output_space_text,
    section_from_result,
)

__all__ = [
    "confident_errors", "DOMINANT_SHARE", "explain_audit", "explain_row", "explain_section", "explain_settings",
    "ExplainResult", "find_row", "global_importance", "group_importance_table", "importance_subtitle",
    "largest_group_difference", "LocalExplanation", "NEGLIGIBLE_SHARE", "NOTABLE_SHARE_GAP", "output_space_text",
    "section_from_result", "SPACE_TEXT",
]
