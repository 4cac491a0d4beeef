"""Reliability binning: how predicted probabilities are cut into bins (scikit-learn's
``calibration_curve`` edges), and the audit's ``calibration:`` settings that choose the cut."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

DEFAULT_N_BINS = 10


DEFAULT_STRATEGY = "uniform"


STRATEGIES = ("uniform", "quantile")


# ------------------------------------------------------------------ settings
def calibration_settings(settings: Mapping | None) -> tuple[int, str, list[str]]:
    """``n_bins`` and ``strategy`` from the audit's ``calibration:`` section, with defaults.

    Output: (n_bins, strategy, notes); a bad value is replaced by the default and a note says
    which key was wrong and what is allowed (the page shows the notes).
    """
    settings = dict(settings or {})
    notes = []
    n_bins = settings.get("n_bins", DEFAULT_N_BINS)
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or not 2 <= n_bins <= 100:
        notes.append(f"calibration.n_bins must be a whole number from 2 to 100, got {n_bins!r} — using {DEFAULT_N_BINS}")
        n_bins = DEFAULT_N_BINS
    strategy = settings.get("strategy", DEFAULT_STRATEGY)
    if strategy not in STRATEGIES:
        notes.append(f"calibration.strategy must be 'uniform' or 'quantile', got {strategy!r} — using '{DEFAULT_STRATEGY}'")
        strategy = DEFAULT_STRATEGY
    return n_bins, strategy, notes


def describe_bins(n_bins: int, strategy: str) -> str:
    """The bin scheme in words, as the page and the card state it."""
    if strategy == "uniform":
        return f"{n_bins} equal-width bins of the predicted probability (0–{1 / n_bins:g}, …, {1 - 1 / n_bins:g}–1)"
    return f"{n_bins} quantile bins (each holds about the same number of predictions)"


# ------------------------------------------------------------------ bins and errors
def bin_edges(y_prob, *, n_bins: int = DEFAULT_N_BINS, strategy: str = DEFAULT_STRATEGY) -> np.ndarray:
    """Bin edges as scikit-learn's ``calibration_curve`` draws them: ``n_bins + 1`` values."""
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        return np.percentile(np.asarray(y_prob, dtype=float), np.linspace(0, 1, n_bins + 1) * 100)
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")


def bin_ids(y_prob, edges: np.ndarray) -> np.ndarray:
    """The bin of each prediction (0 … len(edges) − 2); an edge value belongs to the bin below."""
    return np.searchsorted(edges[1:-1], np.asarray(y_prob, dtype=float))
