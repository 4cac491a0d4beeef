"""Fairness: group and intersectional metrics with uncertainty, disparities, summaries, verdicts."""
