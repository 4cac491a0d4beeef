"""Calibration: reliability diagram, Brier score, ECE/MCE, overall and per group.

The public face: what pages, the report and the card use. The modules hold the rest."""

from __future__ import annotations

from sightline.calibration.section import MIN_BIN_COUNT, CalibrationResult, calibration_result, calibration_section, calibration_verdict, overall_and_groups

__all__ = [
    "calibration_result", "calibration_section", "calibration_verdict", "CalibrationResult", "MIN_BIN_COUNT",
    "overall_and_groups",
]
