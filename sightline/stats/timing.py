"""Timing of the prediction log: time windows and model-version groups, latency percentiles
and histogram, throughput, and latency incidents.

Latency is a distribution, so it is reported as percentiles (p50/p90/p95/p99, numpy's
``linear`` method) overall, per model version and per time window — never as a mean alone.
A window is a latency *incident* when its p99 is at least ``factor`` times the version's
typical window p99 (the median over windows with enough requests to estimate a p99), or,
for windows too small to estimate a p99, when significantly more than 1% of its requests are
slower than the version's overall p99 (one-sided binomial test, Bonferroni over windows).
Consecutive flagged windows form one incident.

Every function here is pure (frames and arrays in, frames out); :mod:`sightline.operations.section`
assembles them into the Operations result and Section.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PERCENTILES = (50, 90, 95, 99)
PERCENTILE_COLUMNS = tuple(f"p{p}_ms" for p in PERCENTILES)
# Window name -> (description, minutes per window). Weeks start on Monday, as elsewhere.
WINDOWS = {"hour": ("hourly", 60), "day": ("daily", 1440), "week": ("weekly", 10080)}
DEFAULT_WINDOW = "day"
INCIDENT_FACTOR = 2.0          # p99 at least this many times the typical window p99
MIN_WINDOW_REQUESTS = 100      # below this a p99 is little more than the slowest request: too noisy to compare
SLOW_SHARE_ALPHA = 0.01        # family-wise level of the small-window slow-share test
SINGLE_MODEL = "model"         # version label when the log has no model-version column


# --------------------------------------------------------------------------- windows
def window_starts(ts: pd.Series, window: str = DEFAULT_WINDOW) -> pd.Series:
    """Start of the window each timestamp falls in.

    Inputs: datetime64 Series; ``window`` "hour", "day" or "week" (weeks start on Monday).
    Output: datetime64 Series aligned with ``ts`` (NaT stays NaT).
    """
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)}, got {window!r}")
    if window == "hour":
        return ts.dt.floor("h")
    day = ts.dt.floor("D")
    if window == "day":
        return day
    return day - pd.to_timedelta(day.dt.dayofweek, unit="D")


def version_labels(versions, n: int) -> pd.Categorical:
    """Version label per row as a categorical of strings (grouping by its codes is fast on 1M rows).

    Inputs: labels (array-like, Series or Categorical) or None (one model), the row count."""
    if versions is None:
        return pd.Categorical(np.full(n, SINGLE_MODEL, dtype=object))
    if isinstance(versions, pd.Series):
        versions = versions.array
    if isinstance(versions, pd.Categorical) and all(isinstance(c, str) for c in versions.categories):
        return versions
    return pd.Categorical(pd.Series(np.asarray(versions, dtype=object)).astype(str))


# --------------------------------------------------------------------------- latency
def valid_latency(latency) -> np.ndarray:
    """Latencies as floats in milliseconds with non-numeric, infinite and negative values set to NaN
    (they cannot be timings; validation warns about them)."""
    values = pd.to_numeric(pd.Series(latency), errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values) & (values >= 0), values, np.nan)


def group_percentiles(values: np.ndarray, codes: np.ndarray, n_groups: int,
                      percentiles=PERCENTILES) -> np.ndarray:
    """Percentiles of ``values`` within each group, identical to ``np.percentile`` (linear method).

    Inputs: float values (NaN ignored), integer group codes in [0, n_groups), percentiles in
    [0, 100]. Output: array (n_groups, len(percentiles)); NaN for a group without values.
    One sort for all groups, so 1,000,000 rows take a fraction of a second.
    """
    values = np.asarray(values, dtype=float)
    codes = np.asarray(codes)
    keep = ~np.isnan(values) & (codes >= 0)
    values, codes = values[keep], codes[keep]
    counts = np.bincount(codes, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    v = _sorted_within_groups(values, codes, counts, starts)
    out = np.full((n_groups, len(percentiles)), np.nan)
    has = counts > 0
    for j, q in enumerate(percentiles):
        pos = q / 100.0 * (counts[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, counts[has] - 1)
        frac = pos - lo
        a, b = v[starts[has] + lo], v[starts[has] + hi]
        # numpy's lerp: a + (b - a) * t, computed from the nearer end for t >= 0.5
        out[has, j] = np.where(frac >= 0.5, b - (b - a) * (1 - frac), a + (b - a) * frac)
    return out


def _sorted_within_groups(values: np.ndarray, codes: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``values`` ordered by group code, and by value within a group (ties in row order): the
    array ``values[np.lexsort((values, codes))]``. Rows are first grouped by a stable sort of the
    codes (a radix sort for up to 65,535 groups), then each group's block is sorted on its own,
    which is several times faster than a lexsort of a million rows."""
    if len(counts) > 65_535 or len(counts) > len(values) // 8 + 16:  # many small groups: one lexsort
        return values[np.lexsort((values, codes))]
    v = values[np.argsort(codes.astype(np.uint16), kind="stable")]
    # Equal floats are the same bits, except 0.0 and -0.0: only then must ties keep row order.
    kind = "stable" if bool(np.any(np.signbit(values) & (values == 0))) else None
    for g in np.flatnonzero(counts > 1):
        v[starts[g]:starts[g] + counts[g]].sort(kind=kind)
    return v


def latency_percentiles(latency, versions=None) -> pd.DataFrame:
    """Latency percentiles per model version.

    Inputs: latencies in ms (invalid ones ignored), optional version labels aligned with them.
    Output: DataFrame indexed by ``model_version`` with ``n`` (valid timings), ``missing``
    (rows without a valid timing), ``p50_ms``, ``p90_ms``, ``p95_ms``, ``p99_ms``, ``max_ms``.
    """
    lat = valid_latency(latency)
    labels = version_labels(versions, len(lat))
    codes = np.asarray(labels.codes)
    groups = len(labels.categories)
    pct = group_percentiles(lat, codes, groups, PERCENTILES + (100,))
    valid = ~np.isnan(lat) & (codes >= 0)
    n = np.bincount(codes[valid], minlength=groups)
    rows = np.bincount(codes[codes >= 0], minlength=groups)
    out = pd.DataFrame(pct, columns=list(PERCENTILE_COLUMNS) + ["max_ms"],
                       index=pd.Index([str(c) for c in labels.categories], name="model_version"))
    out.insert(0, "missing", rows - n)
    out.insert(0, "n", n)
    # versions in order of first appearance, as the log lists them
    order = pd.unique(np.asarray(codes[codes >= 0]))
    return out.iloc[order]


def window_groups(starts, labels: pd.Categorical, windows: tuple | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """The (model version, window) groups of rows, as ``groupby(["model_version", "window"],
    sort=True, observed=True)`` forms them, counted on integer codes instead of a pandas groupby.

    Inputs: window starts (datetime64, NaT for none) and version labels (see
    :func:`version_labels`), aligned; ``windows``, when the caller has it, ``pd.factorize(starts,
    sort=True)`` (codes aligned with ``starts``, values possibly of a superset of its rows: only
    windows present form groups). Output: each row's group number (numbered in sorted order:
    versions by name, then time; -1 without a window), and one row per
    group with ``window``, ``model_version`` (string) and ``n`` (rows).
    """
    w_codes, w_values = pd.factorize(pd.Series(starts).to_numpy(), sort=True) if windows is None else windows  # NaT -> -1
    # versions in string order (the order a sort of the version column gives)
    categories = np.asarray([str(c) for c in labels.categories], dtype=object)
    by_name = np.argsort(categories, kind="stable")
    rank = np.empty(len(categories), dtype=np.int64)
    rank[by_name] = np.arange(len(categories))
    v_codes = np.asarray(labels.codes, dtype=np.int64)
    n_w = max(len(w_values), 1)
    ok = (w_codes >= 0) & (v_codes >= 0)
    key = np.where(ok, rank[np.maximum(v_codes, 0)] * n_w + w_codes, 0)
    counts = np.bincount(key[ok], minlength=len(categories) * n_w)
    present = np.flatnonzero(counts)
    lookup = np.full(len(counts), -1, dtype=np.int64)
    lookup[present] = np.arange(len(present))
    codes = np.where(ok, lookup[key], -1)
    groups = pd.DataFrame({"window": pd.Series(w_values).take(present % n_w).to_numpy() if len(w_values) else w_values[:0],
                           "model_version": categories[by_name][present // n_w], "n": counts[present]})
    return codes, groups


def latency_by_window(latency, starts: pd.Series, versions=None) -> pd.DataFrame:
    """Latency percentiles per (window, model version).

    Inputs: latencies in ms, window starts (see :func:`window_starts`), optional version labels.
    Output: DataFrame with ``window``, ``model_version``, ``n``, ``p50_ms`` … ``p99_ms``,
    ``max_ms``; one row per window that has at least one valid timing, sorted by version and time.
    """
    return _latency_by_window(valid_latency(latency), starts, versions)[0]


def _latency_by_window(lat: np.ndarray, starts, versions, windows: tuple | None = None):
    """:func:`latency_by_window` of valid latencies, with the group number of each row that has
    a valid timing and a window (the rows ``ok``): (table, codes, ok). ``windows`` as for
    :func:`window_groups` (of all of ``starts``)."""
    labels = version_labels(versions, len(lat))
    starts = pd.Series(starts).to_numpy()
    ok = ~np.isnan(lat) & pd.notna(starts)
    if not ok.any():
        return pd.DataFrame(columns=["window", "model_version", "n", *PERCENTILE_COLUMNS, "max_ms"]), np.array([], dtype=np.int64), ok
    codes, out = window_groups(starts[ok], labels[ok], None if windows is None else (windows[0][ok], windows[1]))
    pct = group_percentiles(lat[ok], codes, len(out), PERCENTILES + (100,))
    for j, col in enumerate(list(PERCENTILE_COLUMNS) + ["max_ms"]):
        out[col] = pct[:, j]
    return out, codes, ok


def latency_histogram(latency, versions=None, bins_per_decade: int = 10) -> pd.DataFrame:
    """Counts of latencies in logarithmic bins, per version (a long-tailed distribution reads on a log axis).

    Output: DataFrame with ``model_version``, ``low_ms``, ``high_ms``, ``count`` and ``share``
    (of the version's valid timings); bins are 10^(k / bins_per_decade) ms wide; empty bins left out.
    Zero latencies fall in the lowest bin.
    """
    lat = valid_latency(latency)
    labels = version_labels(versions, len(lat))
    ok = ~np.isnan(lat)
    if not ok.any():
        return pd.DataFrame(columns=["model_version", "low_ms", "high_ms", "count", "share"])
    positive = lat[ok & (lat > 0)]
    floor = np.log10(positive.min()) if len(positive) else 0.0
    k = np.floor(np.log10(np.maximum(lat[ok], 10 ** floor)) * bins_per_decade).astype(np.int64)
    # (version, bin) counts in the order groupby([version, k], observed=True) gives: category, then bin
    codes = np.asarray(labels.codes)[ok]
    k, codes = k[codes >= 0], codes[codes >= 0]
    k0 = int(k.min()) if len(k) else 0
    span = int(k.max()) - k0 + 1 if len(k) else 1
    counts = np.bincount(codes.astype(np.int64) * span + (k - k0), minlength=len(labels.categories) * span)
    present = np.flatnonzero(counts)
    names = np.asarray([str(c) for c in labels.categories], dtype=object)
    out = pd.DataFrame({"model_version": names[present // span], "k": present % span + k0, "count": counts[present]})
    out["low_ms"] = 10.0 ** (out["k"] / bins_per_decade)
    out["high_ms"] = 10.0 ** ((out["k"] + 1) / bins_per_decade)
    out["share"] = out["count"] / out.groupby("model_version")["count"].transform("sum")
    return out[["model_version", "low_ms", "high_ms", "count", "share"]]


# --------------------------------------------------------------------------- throughput
def throughput_by_window(starts: pd.Series, versions=None, window: str = DEFAULT_WINDOW,
                         groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Requests per window and per model version, windows without traffic included as 0.

    Inputs: window starts, optional version labels, the window name (for the per-minute rate).
    Output: DataFrame with ``window``, ``model_version``, ``requests``, ``requests_per_minute``;
    each version spans its own first to last window (a shadow model that started late is not
    shown as idle before it started). ``groups``: :func:`window_groups` of these starts and
    versions when the caller has it (the counts are then not made again).
    """
    starts = pd.Series(starts).reset_index(drop=True)
    labels = version_labels(versions, len(starts))
    if groups is None:
        groups = window_groups(starts.to_numpy(), labels)[1]
    step = pd.Timedelta(minutes=WINDOWS[window][1])
    parts = []
    # versions in category order, as groupby(sort=True) on the categorical orders them
    for version in (str(c) for c in labels.categories):
        mine = groups[groups["model_version"] == version]
        if not len(mine):
            continue
        per = pd.Series(mine["n"].to_numpy(), index=pd.DatetimeIndex(mine["window"].to_numpy(), name="window"))
        per = per.reindex(pd.date_range(per.index.min(), per.index.max(), freq=step), fill_value=0)
        parts.append(pd.DataFrame({"window": per.index, "model_version": str(version), "requests": per.to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["window", "model_version", "requests", "requests_per_minute"])
    out = pd.concat(parts, ignore_index=True)
    out["requests_per_minute"] = out["requests"] / WINDOWS[window][1]
    return out


# --------------------------------------------------------------------------- incidents
def flag_slow_windows(by_window: pd.DataFrame, slow_counts: pd.Series | None = None, *,
                      factor: float = INCIDENT_FACTOR, min_requests: int = MIN_WINDOW_REQUESTS,
                      overall_p99: pd.Series | None = None) -> pd.DataFrame:
    """Mark latency incidents in :func:`latency_by_window` output.

    Inputs: per-window percentiles; ``slow_counts`` aligned with ``by_window`` (requests slower
    than the version's overall p99, for the small-window test; None skips that test); the
    factor over the typical p99; the minimum requests for a window's p99 to count.
    ``overall_p99`` (version -> p99 of all its requests) is the usual level of a version none of
    whose windows is big enough (e.g. hourly windows of a small log).
    Output: a copy with ``typical_p99_ms`` (median p99 over the version's windows with at
    least ``min_requests``, else its overall p99), ``p99_ratio``, ``slow`` and ``slow_share`` (when given),
    ``slow_p_value`` and ``incident`` (bool).
    """
    from scipy.stats import binom

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


def latency_incidents(flagged: pd.DataFrame, window: str = DEFAULT_WINDOW) -> pd.DataFrame:
    """Group consecutive flagged windows of a version into incidents.

    Input: :func:`flag_slow_windows` output. Output: one row per incident with
    ``model_version``, ``start``, ``end`` (end of the last window), ``windows``, ``requests``,
    ``peak_p99_ms``, ``typical_p99_ms``, ``ratio`` (peak over typical), sorted by start.
    """
    cols = ["model_version", "start", "end", "windows", "requests", "peak_p99_ms", "typical_p99_ms", "ratio"]
    step = pd.Timedelta(minutes=WINDOWS[window][1])
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
