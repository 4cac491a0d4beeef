"""Time windows of a log: which window each timestamp falls in, and what the windows are called.

One rule for every area: an **hour** starts on the full hour, a **day** at 00:00, a **week** on
Monday at 00:00 and a **month** on the 1st at 00:00. Each area offers its own choice of these
(operations: hour/day/week; drift: day/week/month; fairness: week).

Time zones: windows are cut in the timestamps' own wall-clock time and returned time-zone-naive.
A log stamped ``2026-06-01 00:30+02:00`` falls in the day of 1 June (its local day), not in 31
May as it would in UTC, so a "day" or a "week" is the one the people who logged it lived through.
A tz-naive log is taken as it reads. Timestamps with different offsets in one column (which
pandas leaves as objects) are each read on their own clock.

Everything is numpy arithmetic on int64 nanoseconds — no Period objects, no Python per row — so
a million timestamps take a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class WindowKind:
    """One kind of time window: its name (``week``), how it reads as an adjective (``weekly``)
    and in the plural (``weeks``), and its length in minutes (None for months, whose length varies)."""

    name: str
    adjective: str
    plural: str
    minutes: int | None


WINDOWS = {w.name: w for w in (WindowKind("hour", "hourly", "hours", 60), WindowKind("day", "daily", "days", 1_440),
                               WindowKind("week", "weekly", "weeks", 10_080), WindowKind("month", "monthly", "months", None))}
WINDOW_ALIASES = {"hourly": "hour", "h": "hour", "daily": "day", "d": "day", "weekly": "week", "w": "week",
                  "monthly": "month", "m": "month"}

_NS_HOUR = 3_600 * 10**9
_NS_DAY = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min  # NaT as int64


def normalise_window(window: str | None, allowed: tuple[str, ...] = tuple(WINDOWS), default: str | None = None) -> str:
    """A window name from a user's spelling (``"Weekly"``, ``"w"``, ``" week "`` -> ``"week"``).

    Inputs: the spelling; the names the caller offers (a subset of :data:`WINDOWS`); the name
    used when ``window`` is None or blank. Raises ValueError for anything else.
    """
    raw = default if window is None or not str(window).strip() else window
    name = str(raw).strip().lower()
    name = WINDOW_ALIASES.get(name, name)
    if name not in allowed:
        raise ValueError(f"window '{window}' is not one of {', '.join(allowed)}")
    return name


def wall_clock(ts) -> np.ndarray:
    """Timestamps as tz-naive ``datetime64[ns]`` in their own wall-clock time (NaT stays NaT).

    Input: a datetime Series (any unit, tz-aware or not) or anything ``pd.Series`` and
    ``pd.to_datetime`` read (unreadable values become NaT). Output: a ``datetime64[ns]`` numpy
    array; a tz-aware log keeps its local clock (``00:30+02:00`` stays ``00:30``).
    """
    s = ts if isinstance(ts, pd.Series) else pd.Series(ts)
    if not pd.api.types.is_datetime64_any_dtype(s):
        if s.dtype == object:  # tz-aware datetimes with different offsets, which pandas keeps as objects
            s = s.map(_naive, na_action="ignore")
        s = pd.to_datetime(s, errors="coerce")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ns]")


def _naive(value):
    """A datetime on its own wall clock without its time zone (anything else as it is)."""
    return value.replace(tzinfo=None) if getattr(value, "tzinfo", None) is not None else value


def window_starts(ts, window: str) -> pd.Series:
    """Start of the window each timestamp falls in.

    Inputs: timestamps (see :func:`wall_clock`: any datetime Series, tz-aware ones in their own
    wall-clock time); ``window`` one of :data:`WINDOWS` (``hour``, ``day``, ``week`` starting
    Monday, ``month`` starting on the 1st). Output: tz-naive ``datetime64[ns]`` Series with the
    index and name of ``ts`` (NaT stays NaT).
    """
    window = normalise_window(window)
    ns = wall_clock(ts).view(np.int64)
    nat = ns == _NAT
    ns = np.where(nat, 0, ns)  # keeps the arithmetic below clear of NaT's int64 minimum
    if window == "hour":
        out = ns - ns % _NS_HOUR  # numpy's % floors, so times before 1970 go to the hour before them too
    else:
        days = ns // _NS_DAY
        if window == "week":
            days = days - (days + 3) % 7  # 1970-01-01 was a Thursday: (days + 3) % 7 == 0 on Mondays
        elif window == "month":
            days = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").view(np.int64)
        out = days * _NS_DAY
    out = np.where(nat, _NAT, out).view("datetime64[ns]")
    index, name = (ts.index, ts.name) if isinstance(ts, pd.Series) else (None, None)
    return pd.Series(out, index=index, name=name, copy=False)


def window_codes(ts, window: str) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Window number of each timestamp and the windows' starts.

    Inputs: as :func:`window_starts` (or None: no rows). Output: int64 codes (0 for the earliest
    window present, -1 without a timestamp) and the sorted starts of the windows present
    (``DatetimeIndex``, tz-naive ns): ``np.unique(starts, return_inverse=True)``, counted
    instead of sorted.
    """
    if ts is None:
        return np.full(0, -1, dtype=np.int64), pd.DatetimeIndex([], dtype="datetime64[ns]")
    starts = window_starts(ts, window).to_numpy().view(np.int64)
    valid = starts != _NAT
    step = _NS_HOUR if normalise_window(window) == "hour" else _NS_DAY
    units = starts[valid] // step  # hour or day numbers: at most ~5 million in datetime64[ns]'s range, so count instead of sorting
    codes = np.full(len(starts), -1, dtype=np.int64)
    if not len(units):
        return codes, pd.DatetimeIndex([], dtype="datetime64[ns]")
    offset = units - units.min()
    present = np.bincount(offset) > 0
    rank = np.cumsum(present) - 1  # window number of each present hour or day
    codes[valid] = rank[offset]
    uniq = (np.flatnonzero(present) + units.min()) * step
    return codes, pd.DatetimeIndex(np.asarray(uniq, dtype=np.int64).view("datetime64[ns]"))
