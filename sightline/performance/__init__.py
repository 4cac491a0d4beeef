"""Performance: overall metrics with confidence intervals, baselines, curves, versions."""
