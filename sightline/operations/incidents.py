"""The operations incident rule: which time windows were unusually slow, and the incidents they form.

A window is a latency *incident* when its p99 is at least ``factor`` times the version's
typical window p99 (the median over windows with enough requests to estimate a p99), or,
for windows too small to estimate a p99, when significantly more than 1% of its requests are
slower than the version's overall p99 (one-sided binomial test, Bonferroni over windows).
Consecutive flagged windows form one incident. Pure functions: frames in, frames out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binom

from sightline.stats.windows import WINDOWS

INCIDENT_FACTOR = 2.0          # p99 at least this many times the typical window p99
MIN_WINDOW_REQUESTS = 100      # below this a p99 is little more than the slowest request: too noisy to compare
SLOW_SHARE_ALPHA = 0.01        # family-wise level of the small-window slow-share test


def flag_slow_windows(by_window: pd.DataFrame, slow_counts: pd.Series | None = None, *,
                      factor: float = INCIDENT_FACTOR, min_requests: int = MIN_WINDOW_REQUESTS,
                      overall_p99: pd.Series | None = None) -> pd.DataFrame:
    """Mark latency incidents in :func:`sightline.stats.timing.latency_by_window` output.

    Inputs: per-window percentiles; ``slow_counts`` aligned with ``by_window`` (requests slower
    than the version's overall p99, for the small-window test; None skips that test); the
    factor over the typical p99; the minimum requests for a window's p99 to count.
    ``overall_p99`` (version -> p99 of all its requests) is the usual level of a version none of
    whose windows is big enough (e.g. hourly windows of a small log).
    Output: a copy with ``typical_p99_ms`` (median p99 over the version's windows with at
    least ``min_requests``, else its overall p99), ``p99_ratio``, ``slow`` and ``slow_share`` (when given),
    ``slow_p_value`` and ``incident`` (bool).
    """
    out = by_window.copy()
    big = out["n"] >= min_requests
    typical = out[big].groupby("model_version")["p99_ms"].median()
    out["typical_p99_ms"] = out["model_version"].map(typical).astype(float)
    if overall_p99 is not None:
        out["typical_p99_ms"] = out["typical_p99_ms"].fillna(out["model_version"].map(overall_p99).astype(float))
    out["p99_ratio"] = out["p99_ms"] / out["typical_p99_ms"]
    incident = big & (out["p99_ratio"] >= factor)
    if slow_counts is not None:
        slow = np.asarray(slow_counts, dtype=float)
        out["slow"] = slow.astype(int)
        out["slow_share"] = slow / out["n"].to_numpy()
        # P(at least this many of n requests slower than the version's p99 if 1% are) ...
        p = binom.sf(slow - 1, out["n"].to_numpy(), 0.01)
        out["slow_p_value"] = p
        # ... judged per version with a Bonferroni correction over its small windows
        n_small = (~big).groupby(out["model_version"]).transform("sum").clip(lower=1)
        incident |= ~big & (p < SLOW_SHARE_ALPHA / n_small) & (out["slow_share"] >= 0.05)
    out["incident"] = incident.to_numpy(dtype=bool)
    return out


def latency_incidents(flagged: pd.DataFrame, window: str) -> pd.DataFrame:
    """Group consecutive flagged windows of a version into incidents.

    Input: :func:`flag_slow_windows` output and its window name (``hour``, ``day`` or ``week``). Output: one row per incident with
    ``model_version``, ``start``, ``end`` (end of the last window), ``windows``, ``requests``,
    ``peak_p99_ms``, ``typical_p99_ms``, ``ratio`` (peak over typical), sorted by start.
    """
    cols = ["model_version", "start", "end", "windows", "requests", "peak_p99_ms", "typical_p99_ms", "ratio"]
    step = pd.Timedelta(minutes=WINDOWS[window].minutes)
    rows = []
    if not len(flagged):
        return pd.DataFrame(columns=cols)
    for version, per in flagged[flagged["incident"].astype(bool)].groupby("model_version", sort=True):
        per = per.sort_values("window")
        # a gap of more than one window starts a new incident
        run = (per["window"].diff() > step).cumsum()
        for _, part in per.groupby(run):
            peak = float(part["p99_ms"].max())
            typical = float(part["typical_p99_ms"].iloc[0])
            rows.append({"model_version": version, "start": part["window"].min(), "end": part["window"].max() + step,
                         "windows": int(len(part)), "requests": int(part["n"].sum()), "peak_p99_ms": peak,
                         "typical_p99_ms": typical, "ratio": peak / typical if typical > 0 else np.nan})
    return pd.DataFrame(rows, columns=cols).sort_values(["start", "model_version"], ignore_index=True)
