"""Time windows: hand-counted starts, pandas' own floors and periods as the reference, the
counted window codes against np.unique, time zones on the log's own clock, and the callers that
share the one window function."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sightline.data.summary import label_coverage_by_window
from sightline.stats.windows import WINDOWS, normalise_window, wall_clock, window_codes, window_starts


def _pandas_starts(ts: pd.Series, window: str) -> pd.Series:
    """The window starts as pandas computes them (floors and calendar periods), in ns."""
    if window in ("hour", "day"):
        out = ts.dt.floor("h" if window == "hour" else "D")
    else:
        out = ts.dt.to_period("W-SUN" if window == "week" else "M").dt.start_time
    return out.astype("datetime64[ns]")


def test_window_starts_by_hand():
    ts = pd.Series(pd.to_datetime(["2026-06-03 14:59:59", "2026-06-07 23:00:00", "2026-06-08 00:00:00", "2026-06-30 12:00:00", None]))
    hand = {"hour": ["2026-06-03 14:00", "2026-06-07 23:00", "2026-06-08 00:00", "2026-06-30 12:00", None],
            "day": ["2026-06-03", "2026-06-07", "2026-06-08", "2026-06-30", None],
            # 2026-06-01 and 2026-06-08 are Mondays; Sunday 7 June still belongs to the week of 1 June
            "week": ["2026-06-01", "2026-06-01", "2026-06-08", "2026-06-29", None],
            "month": ["2026-06-01", "2026-06-01", "2026-06-01", "2026-06-01", None]}
    for window, want in hand.items():
        got = window_starts(ts, window)
        assert got.dtype == "datetime64[ns]"
        pd.testing.assert_series_equal(got, pd.Series(pd.to_datetime(want)), check_names=False)
    codes, starts = window_codes(ts, "week")
    assert codes.tolist() == [0, 0, 1, 2, -1] and list(starts.date.astype(str)) == ["2026-06-01", "2026-06-08", "2026-06-29"]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("window", list(WINDOWS))
def test_window_starts_equal_pandas_floors_and_periods(unit, window):
    """Values, dtype, index and name equal pandas' ``dt.floor`` (hours, days) and W-SUN / M
    periods' start times (weeks, months), NaT and times before 1970 included."""
    rng = np.random.default_rng(21)
    ts = pd.Series(pd.to_datetime(rng.integers(-3_000_000_000, 3_000_000_000, 5_000), unit="s").astype(f"datetime64[{unit}]"),
                   name="t", index=np.arange(5_000) * 3)
    ts.iloc[::97] = pd.NaT
    got = window_starts(ts, window)
    assert got.dtype == "datetime64[ns]" and got.name == "t"
    pd.testing.assert_series_equal(got, _pandas_starts(ts, window))


@pytest.mark.parametrize("window", list(WINDOWS))
def test_window_codes_equal_numpy_unique(window):
    rng = np.random.default_rng(6)
    ts = pd.Series(pd.Timestamp("2025-12-20") + pd.to_timedelta(rng.integers(0, 200 * 86400, 5000), unit="s"))
    ts[rng.random(len(ts)) < 0.05] = pd.NaT
    starts = window_starts(ts, window).to_numpy()
    valid = ~np.isnat(starts)
    uniq, inverse = np.unique(starts[valid], return_inverse=True)
    codes, got = window_codes(ts, window)
    assert codes.dtype == np.int64 and codes[valid].tolist() == inverse.tolist() and (codes[~valid] == -1).all()
    assert got.equals(pd.DatetimeIndex(uniq))


def test_window_codes_without_timestamps():
    codes, starts = window_codes(None, "week")
    assert len(codes) == 0 and len(starts) == 0
    codes, starts = window_codes(pd.Series(pd.to_datetime([None, None])), "day")
    assert codes.tolist() == [-1, -1] and len(starts) == 0 and starts.dtype == "datetime64[ns]"


# --------------------------------------------------------------------------- time zones
def test_tz_aware_timestamps_are_windowed_on_their_own_clock():
    """A log stamped +02:00 is cut into its local hours, days, weeks and months; the starts come
    back tz-naive. 00:30 on Monday 1 June (+02:00) is 22:30 on Sunday 31 May in UTC."""
    local = pd.Series(pd.to_datetime(["2026-06-01 00:30", "2026-05-31 23:30", "2026-06-30 23:59", None]))
    stamped = local.dt.tz_localize("+02:00")
    want = {"hour": ["2026-06-01 00:00", "2026-05-31 23:00", "2026-06-30 23:00", None],
            "day": ["2026-06-01", "2026-05-31", "2026-06-30", None],
            "week": ["2026-06-01", "2026-05-25", "2026-06-29", None],
            "month": ["2026-06-01", "2026-05-01", "2026-06-01", None]}
    for window, days in want.items():
        got = window_starts(stamped, window)
        assert got.dtype == "datetime64[ns]"  # tz-naive
        pd.testing.assert_series_equal(got, pd.Series(pd.to_datetime(days)))
        pd.testing.assert_series_equal(got, window_starts(local, window))
    # in UTC the first row would fall in Sunday's day and the previous week
    assert window_starts(stamped.dt.tz_convert("UTC"), "day").iloc[0] == pd.Timestamp("2026-05-31")
    codes, starts = window_codes(stamped, "day")
    assert codes.tolist() == [1, 0, 2, -1] and starts.tz is None


def test_a_named_time_zone_across_daylight_saving_keeps_local_days():
    """Europe/Berlin switches from +01:00 to +02:00 on 29 March 2026: every local day still starts at 00:00."""
    local = pd.Series(pd.date_range("2026-03-27 00:15", periods=96, freq="h"))
    berlin = local.dt.tz_localize("Europe/Berlin", nonexistent="shift_forward")
    got = window_starts(berlin, "day")
    np.testing.assert_array_equal(got.to_numpy(), wall_clock(berlin).astype("datetime64[D]").astype("datetime64[ns]"))
    assert sorted(set(got.dt.strftime("%Y-%m-%d"))) == ["2026-03-27", "2026-03-28", "2026-03-29", "2026-03-30"]


def test_mixed_offsets_in_one_column_each_read_on_their_own_clock():
    """pandas keeps timestamps with different UTC offsets as objects; each is windowed on its own clock."""
    values = [dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
              dt.datetime(2026, 3, 30, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), None]
    got = window_starts(pd.Series(values, dtype=object), "day")
    pd.testing.assert_series_equal(got, pd.Series(pd.to_datetime(["2026-03-28", "2026-03-30", None])))


# --------------------------------------------------------------------------- names
def test_normalise_window_reads_a_users_spelling_within_what_the_caller_offers():
    assert [normalise_window(w) for w in ("Hourly", " d ", "WEEK", "m", "monthly")] == ["hour", "day", "week", "month", "month"]
    assert normalise_window(None, ("day", "week"), default="week") == "week"
    assert normalise_window("  ", ("day", "week"), default="day") == "day"
    with pytest.raises(ValueError, match="day, week, month"):
        normalise_window("hour", ("day", "week", "month"))
    with pytest.raises(ValueError):
        normalise_window("fortnight")
    assert [WINDOWS[w].minutes for w in ("hour", "day", "week")] == [60, 1440, 7 * 1440] and WINDOWS["month"].minutes is None


# --------------------------------------------------------------------------- callers
def test_label_coverage_by_week_equals_a_pandas_groupby_of_periods(sample_audit):
    ts = sample_audit.timestamps(sample_audit.primary)
    labelled = sample_audit.primary[sample_audit.spec.columns.target].notna().to_numpy()
    want = (pd.DataFrame({"window": ts.dt.to_period("W-SUN").dt.start_time, "labelled": labelled})
            .groupby("window").agg(rows=("labelled", "size"), labelled=("labelled", "sum")).reset_index())
    want["coverage"] = want["labelled"] / want["rows"]
    pd.testing.assert_frame_equal(label_coverage_by_window(sample_audit), want, check_exact=True)
