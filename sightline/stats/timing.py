"""Timing of the prediction log: model-version groups, latency percentiles and histogram, throughput.

Latency is a distribution, so it is reported as percentiles (p50/p90/p95/p99, numpy's
``linear`` method) overall, per model version and per time window — never as a mean alone.
Windows come from :func:`sightline.stats.windows.window_starts`; what makes a window a latency
incident is the Operations area's rule (:mod:`sightline.operations.incidents`).

Every function here is pure (frames and arrays in, frames out); :mod:`sightline.operations.section`
assembles them into the Operations result and Section, :mod:`sightline.versions.section` reads the
percentiles per version.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.stats.windows import WINDOWS

PERCENTILES = (50, 90, 95, 99)
PERCENTILE_COLUMNS = tuple(f"p{p}_ms" for p in PERCENTILES)
SINGLE_MODEL = "model"         # version label when the log has no model-version column


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

    Inputs: latencies in ms, window starts (see :func:`sightline.stats.windows.window_starts`), optional version labels.
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
def throughput_by_window(starts: pd.Series, versions=None, window: str = "day",
                         groups: pd.DataFrame | None = None) -> pd.DataFrame:
    """Requests per window and per model version, windows without traffic included as 0.

    Inputs: window starts, optional version labels, the window name (``hour``, ``day`` or
    ``week``: a window of fixed length, for the per-minute rate).
    Output: DataFrame with ``window``, ``model_version``, ``requests``, ``requests_per_minute``;
    each version spans its own first to last window (a shadow model that started late is not
    shown as idle before it started). ``groups``: :func:`window_groups` of these starts and
    versions when the caller has it (the counts are then not made again).
    """
    starts = pd.Series(starts).reset_index(drop=True)
    labels = version_labels(versions, len(starts))
    if groups is None:
        groups = window_groups(starts.to_numpy(), labels)[1]
    minutes = WINDOWS[window].minutes
    if minutes is None:
        raise ValueError(f"throughput needs windows of a fixed length (hour, day or week), got {window!r}")
    step = pd.Timedelta(minutes=minutes)
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
    out["requests_per_minute"] = out["requests"] / minutes
    return out
