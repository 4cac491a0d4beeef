"""Operations views that share one grouping of the window starts (and the versions' id test)
equal their straightforward pandas / numpy forms: values, dtypes and order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sightline.data.request_ids import ids_disjoint
from sightline.operations.invalid import invalid_prediction_flags, invalid_rates
from sightline.stats.timing import (
    _latency_by_window,
    latency_by_window,
    latency_histogram,
    throughput_by_window,
    valid_latency,
    version_labels,
    window_groups,
)
from sightline.stats.windows import WINDOWS, window_codes, window_starts


def _throughput_groupby(starts, versions=None, window="day"):
    """throughput_by_window as a pandas groupby (the form it had before it reused window_groups)."""
    starts = pd.Series(starts).reset_index(drop=True)
    frame = pd.DataFrame({"window": starts, "model_version": version_labels(versions, len(starts))}).dropna(subset=["window"])
    counts = frame.groupby(["model_version", "window"], sort=True, observed=True).size()
    step = pd.Timedelta(minutes=WINDOWS[window].minutes)
    parts = []
    for version, per in counts.groupby(level=0, sort=True, observed=True):
        per = per.droplevel(0)
        per = per.reindex(pd.date_range(per.index.min(), per.index.max(), freq=step), fill_value=0)
        parts.append(pd.DataFrame({"window": per.index, "model_version": str(version), "requests": per.to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["window", "model_version", "requests", "requests_per_minute"])
    out = pd.concat(parts, ignore_index=True)
    out["requests_per_minute"] = out["requests"] / WINDOWS[window].minutes
    return out


def _histogram_groupby(latency, versions=None, bins_per_decade=10):
    """latency_histogram as a pandas groupby."""
    lat = valid_latency(latency)
    labels = version_labels(versions, len(lat))
    ok = ~np.isnan(lat)
    positive = lat[ok & (lat > 0)]
    floor = np.log10(positive.min()) if len(positive) else 0.0
    k = np.floor(np.log10(np.maximum(lat[ok], 10 ** floor)) * bins_per_decade).astype(np.int64)
    out = pd.DataFrame({"model_version": labels[ok], "k": k}).groupby(["model_version", "k"], observed=True).size()
    out = out.rename("count").reset_index()
    out["model_version"] = out["model_version"].astype(str)
    out["low_ms"] = 10.0 ** (out["k"] / bins_per_decade)
    out["high_ms"] = 10.0 ** ((out["k"] + 1) / bins_per_decade)
    out["share"] = out["count"] / out.groupby("model_version")["count"].transform("sum")
    return out[["model_version", "low_ms", "high_ms", "count", "share"]]


def _log(seed, n=4_000):
    rng = np.random.default_rng(seed)
    unit = ("s", "us", "ns")[seed % 3]
    ts = pd.Series(pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.uniform(0, 30 * 86400, n), unit="s")).astype(f"datetime64[{unit}]")
    if seed % 4 == 3:
        ts = ts.dt.tz_localize("UTC")
    ts = ts.where(rng.random(n) >= 0.05)  # some unreadable timestamps (NaT)
    lat = rng.lognormal(3.5, 0.8, n)
    lat[rng.random(n) < 0.05] = np.nan
    lat[rng.random(n) < 0.01] = 0.0
    late = np.where(np.arange(n) < n // 2, "champion", rng.choice(["champion", "shadow"], n))  # shadow starts late
    versions = [late, pd.Categorical.from_codes(rng.integers(0, 3, n), ["z", "a", "m"]), None,
                pd.Categorical.from_codes(rng.integers(-1, 2, n), ["b", "a"])][seed % 4]
    return ts, lat, versions, ("hour", "day", "week")[seed % 3]


@pytest.mark.parametrize("seed", range(8))
def test_throughput_and_histogram_equal_pandas_groupby(seed):
    ts, lat, versions, window = _log(seed)
    starts = window_starts(ts, window)
    pd.testing.assert_frame_equal(throughput_by_window(starts, versions, window), _throughput_groupby(starts, versions, window),
                                  check_exact=True)
    pd.testing.assert_frame_equal(latency_histogram(lat, versions), _histogram_groupby(lat, versions), check_exact=True)


@pytest.mark.parametrize("seed", range(8))
def test_views_from_one_factorization_equal_separate_calls(seed):
    """operations_result finds each row's window once (window_codes) and passes the codes on: every
    view equals the same view computed on its own."""
    ts, lat, versions, window = _log(seed)
    starts = window_starts(ts, window)
    labels = version_labels(versions, len(starts))
    windows = window_codes(ts, window)
    factorized = pd.factorize(starts.to_numpy(), sort=True)
    np.testing.assert_array_equal(windows[0], factorized[0])
    assert windows[1].equals(pd.DatetimeIndex(factorized[1]))
    groups = window_groups(starts.to_numpy(), labels, windows)
    alone = window_groups(starts.to_numpy(), labels)
    np.testing.assert_array_equal(groups[0], alone[0])
    pd.testing.assert_frame_equal(groups[1], alone[1], check_exact=True)
    pd.testing.assert_frame_equal(throughput_by_window(starts, labels, window, groups=groups[1]),
                                  _throughput_groupby(starts, labels, window), check_exact=True)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"pred": rng.choice(["yes", "no", " ", None], len(starts)), "score": rng.uniform(-0.1, 1.1, len(starts))})
    flags = invalid_prediction_flags(frame, prediction="pred", score="score", task="binary")
    pd.testing.assert_frame_equal(invalid_rates(flags, labels, starts, groups=groups), invalid_rates(flags, labels, starts),
                                  check_exact=True)
    lat = valid_latency(lat)
    table, codes, ok = _latency_by_window(lat, starts, labels, windows)
    pd.testing.assert_frame_equal(table, latency_by_window(lat, starts, labels), check_exact=True)
    want_codes, _ = window_groups(starts.to_numpy()[ok], labels[ok])
    np.testing.assert_array_equal(codes, want_codes)


@pytest.mark.parametrize("seed", range(40))
def test_ids_disjoint_is_exact(seed):
    """True exactly when np.intersect1d finds no shared id; False may also mean "cannot tell"
    (ids that are not integers, or spread too wide) — never a wrong True."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 3_000))
    kind = seed % 5
    if kind == 0:    # one id range split between the versions (A/B): disjoint
        ids = rng.permutation(n) + int(rng.integers(-10**6, 10**6))
    elif kind == 1:  # shadow: every id twice
        ids = np.repeat(rng.integers(0, 10**5, n // 2 + 1), 2)[:n]
    elif kind == 2:  # sparse ids over a wide range, a few collisions possible
        ids = rng.integers(-2**62, 2**62, n) // int(rng.choice([1, 2**40, 2**58]))
    elif kind == 3:  # small range, random overlap
        ids = rng.integers(0, max(n, 1) * 3, n).astype(rng.choice([np.int32, np.uint32, np.int64, np.uint64]))
    else:           # not integers: the test declines
        ids = rng.integers(0, 10**6, n).astype(float)
    version = rng.integers(0, 3, n)
    in_a, in_b = version == 0, version == 1
    got = ids_disjoint(pd.Series(ids), in_a, in_b)
    truly = len(np.intersect1d(ids[in_a], ids[in_b])) == 0
    assert not got or truly
    if ids.dtype.kind in "iu" and kind in (0, 1, 3):
        assert got == truly
    if kind == 4:
        assert got is False
