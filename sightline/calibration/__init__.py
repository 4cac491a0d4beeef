"""Calibration: reliability diagram, Brier score, ECE/MCE, overall and per group."""
