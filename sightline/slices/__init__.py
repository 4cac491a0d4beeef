"""Slice-based evaluation: metrics per slice, automatic worst-slice search, Simpson's-paradox check."""
