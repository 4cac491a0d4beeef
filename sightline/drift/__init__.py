"""Drift: per-feature tests and distances, drift over time, feature and schema changes, label-free estimate."""
