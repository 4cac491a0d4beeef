"""Operational health of the prediction log: latency, throughput, empty or invalid predictions.

Latency is a distribution, so it is reported as percentiles (p50/p90/p95/p99, numpy's
``linear`` method) overall, per model version and per time window — never as a mean alone.
A window is a latency *incident* when its p99 is at least ``factor`` times the version's
typical window p99 (the median over windows with enough requests to estimate a p99), or,
for windows too small to estimate a p99, when significantly more than 1% of its requests are
slower than the version's overall p99 (one-sided binomial test, Bonferroni over windows).
Consecutive flagged windows form one incident.

Every function here is pure (frames and arrays in, frames out); :func:`operations_section`
assembles them into the Section that the Operations page, ``report.json`` and the card share.
The model-version comparison lives in :mod:`sightline.versions`; its result is reported
under ``report["versions"]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sightline.audit import Audit
from sightline.errors import MissingInputError
from sightline.sections import AMBER, GREEN, RED, CardMetric, Chart, Section, Verdict

log = logging.getLogger(__name__)

PERCENTILES = (50, 90, 95, 99)
PERCENTILE_COLUMNS = tuple(f"p{p}_ms" for p in PERCENTILES)
# Window name -> (description, minutes per window). Weeks start on Monday, as elsewhere.
WINDOWS = {"hour": ("hourly", 60), "day": ("daily", 1440), "week": ("weekly", 10080)}
DEFAULT_WINDOW = "day"
INCIDENT_FACTOR = 2.0          # p99 at least this many times the typical window p99
MIN_WINDOW_REQUESTS = 100      # below this a p99 is little more than the slowest request: too noisy to compare
SLOW_SHARE_ALPHA = 0.01        # family-wise level of the small-window slow-share test
INVALID_REASONS = ("missing_prediction", "missing_score", "score_out_of_range")
INVALID_RATE_AMBER = 0.001     # more than 0.1% empty or invalid predictions needs attention
INVALID_RATE_RED = 0.01        # more than 1% is a problem
SINGLE_MODEL = "model"         # version label when the log has no model-version column

NO_OPERATIONS_INPUT = ("Operations needs a latency column (columns.latency_ms) or timestamps (columns.timestamp) "
                       "in the prediction log — map them in the audit file")


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


# --------------------------------------------------------------------------- invalid predictions
def invalid_prediction_flags(frame: pd.DataFrame, *, prediction: str | None, score: str | None,
                             task: str) -> pd.DataFrame:
    """Which rows hold an empty or invalid prediction, and why.

    Inputs: the log, the prediction and score column names (either may be None), the task.
    Output: boolean DataFrame aligned with ``frame``: ``missing_prediction`` (empty or blank),
    ``missing_score`` (empty or not a number), ``score_out_of_range`` (classification scores
    outside [0, 1]), and ``invalid`` (any of them).
    """
    n = len(frame)
    flags = pd.DataFrame({r: np.zeros(n, dtype=bool) for r in INVALID_REASONS}, index=frame.index)
    if prediction and prediction in frame.columns:
        p = frame[prediction]
        blank = False
        if p.dtype == object or isinstance(p.dtype, pd.CategoricalDtype):
            # check the distinct values only: a 1M-row log holds a handful of classes
            codes, uniques = pd.factorize(p)
            is_blank = np.array([isinstance(u, str) and not u.strip() for u in uniques], dtype=bool)
            blank = is_blank[codes] if is_blank.any() else False
        flags["missing_prediction"] = p.isna().to_numpy() | blank
    if score and score in frame.columns:
        s = pd.to_numeric(frame[score], errors="coerce").to_numpy(dtype=float)
        flags["missing_score"] = np.isnan(s)
        if task in ("binary", "multiclass"):
            with np.errstate(invalid="ignore"):
                flags["score_out_of_range"] = ~np.isnan(s) & ((s < 0) | (s > 1))
    flags["invalid"] = flags[list(INVALID_REASONS)].any(axis=1)
    return flags


def invalid_rates(flags: pd.DataFrame, versions=None, starts: pd.Series | None = None,
                  groups: tuple | None = None) -> pd.DataFrame:
    """Counts and rate of invalid predictions per version (and per window when ``starts`` is given).

    Output columns: [``window``,] ``model_version``, ``rows``, ``invalid``, ``rate`` (0–1), and
    one count column per reason in :data:`INVALID_REASONS`; sorted by version (then time).
    ``groups``: :func:`window_groups` of ``starts`` and the versions when the caller has it.
    """
    labels = version_labels(versions, len(flags))
    if starts is not None:
        codes, out = window_groups(starts, labels) if groups is None else (groups[0], groups[1].copy())
        out = out.rename(columns={"n": "rows"})
    else:
        codes = np.asarray(labels.codes, dtype=np.int64)
        rows = np.bincount(codes[codes >= 0], minlength=len(labels.categories))
        present = np.flatnonzero(rows)
        # versions in string order, as a sort of the version column gives them
        present = present[np.argsort(np.asarray([str(c) for c in labels.categories], dtype=object)[present], kind="stable")]
        lookup = np.full(len(rows), -1, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        codes = np.where(codes >= 0, lookup[np.maximum(codes, 0)], -1)
        out = pd.DataFrame({"model_version": np.asarray([str(c) for c in labels.categories], dtype=object)[present],
                            "rows": rows[present]})
    grouped = codes >= 0
    for col in ["invalid", *INVALID_REASONS]:
        flag = flags[col].to_numpy(dtype=bool) & grouped
        out[col] = np.bincount(codes[flag], minlength=len(out))
    out.insert(out.columns.get_loc("invalid") + 1, "rate", out["invalid"] / out["rows"])
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


# --------------------------------------------------------------------------- the whole result
@dataclass(frozen=True)
class OperationsResult:
    """Operational health of one log in one windowing.

    ``latency``: percentiles per version (index ``model_version``); ``latency_windows``: per
    window and version, with incident flags; ``throughput``; ``invalid`` (per version) and
    ``invalid_windows``; ``incidents`` (merged runs of flagged windows); ``histogram`` (log-binned
    latency counts per version). Times are UTC window
    starts, latencies milliseconds, rates fractions in [0, 1]. ``settings`` holds the window,
    the incident factor, the minimum requests per window and the latency gate (or None).
    """

    window: str
    primary_version: str
    versions: tuple[str, ...]
    latency: pd.DataFrame
    latency_windows: pd.DataFrame
    throughput: pd.DataFrame
    invalid: pd.DataFrame
    invalid_windows: pd.DataFrame
    incidents: pd.DataFrame
    histogram: pd.DataFrame | None = None
    settings: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def has_latency(self) -> bool:
        return len(self.latency) > 0 and int(self.latency["n"].sum()) > 0

    @property
    def has_time(self) -> bool:
        return len(self.throughput) > 0


def _version_labels(audit: Audit, frame: pd.DataFrame) -> np.ndarray | pd.Categorical:
    """Each row's model version as a string (what :func:`version_labels` takes). A categorical
    column (Parquet's dictionary columns) comes back as the categorical :func:`version_labels`
    would make of its strings, converting only its distinct values, not every row."""
    col = audit.spec.columns.model_version
    if audit.versions and col in frame.columns:
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes, uniques = pd.factorize(values, use_na_sentinel=False)
            names = version_labels(pd.Series(uniques).astype(str).to_numpy(dtype=object), len(uniques))
            return pd.Categorical.from_codes(np.asarray(names.codes)[codes], dtype=names.dtype)
        return values.astype(str).to_numpy(dtype=object)
    return np.full(len(frame), audit.primary_version or SINGLE_MODEL, dtype=object)


def latency_gate(audit: Audit) -> float | None:
    """``gates.max_p99_latency_ms`` from the audit, or None when it is not set or not a number."""
    value = (audit.spec.gates or {}).get("max_p99_latency_ms")
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        log.warning("gates.max_p99_latency_ms is not a number (%r); ignored", value)
        return None


def operations_result(audit: Audit, window: str = DEFAULT_WINDOW, *, factor: float = INCIDENT_FACTOR,
                      min_requests: int = MIN_WINDOW_REQUESTS) -> OperationsResult:
    """Latency, throughput and invalid predictions of every model version in the log.

    Inputs: the audit (all logged rows, every version); the window ("hour", "day", "week");
    the incident factor and minimum requests per window (see :func:`flag_slow_windows`).
    Output: :class:`OperationsResult`. Raises :class:`MissingInputError` when the log has
    neither latency nor timestamps.
    """
    spec, frame = audit.spec, audit.current
    cols = spec.columns
    has_latency = bool(cols.latency_ms) and cols.latency_ms in frame.columns
    if not has_latency and not audit.has_time:
        raise MissingInputError(NO_OPERATIONS_INPUT)
    versions = version_labels(_version_labels(audit, frame), len(frame))
    primary = audit.primary_version or SINGLE_MODEL
    notes = []
    flags = invalid_prediction_flags(frame, prediction=cols.prediction, score=cols.score, task=spec.task)
    invalid = invalid_rates(flags, versions).set_index("model_version")
    empty_windows = pd.DataFrame(columns=["window", "model_version", "n", *PERCENTILE_COLUMNS, "max_ms", "incident"])
    latency = latency_percentiles(frame[cols.latency_ms], versions) if has_latency else pd.DataFrame()
    if not has_latency:
        notes.append("No latency column is mapped (columns.latency_ms): latency percentiles are not available.")
    elif int(latency["n"].sum()) == 0:
        notes.append(f"Column '{cols.latency_ms}' holds no valid timing (numbers ≥ 0).")
    elif int(latency["missing"].sum()):
        notes.append(f"{int(latency['missing'].sum()):,} rows have no valid latency (missing, negative or not a number) and are left out of percentiles.")
    if audit.has_time:
        ts = audit.timestamps(frame)
        starts = window_starts(ts, window)
        if ts.isna().any():
            notes.append(f"{int(ts.isna().sum()):,} rows have no readable timestamp and are left out of the per-window views.")
        # the window starts are hashed once; every per-window view groups rows by these codes
        windows = pd.factorize(starts.to_numpy(), sort=True)
        groups = window_groups(starts.to_numpy(), versions, windows)
        throughput = throughput_by_window(starts, versions, window, groups=groups[1])
        invalid_windows = invalid_rates(flags, versions, starts, groups=groups)
        if has_latency and int(latency["n"].sum()):
            lat = valid_latency(frame[cols.latency_ms])
            by_window, codes, ok = _latency_by_window(lat, starts, versions, windows)
            p99 = latency["p99_ms"].reindex([str(c) for c in versions.categories]).to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                slow_row = lat > p99[np.asarray(versions.codes)]
            # requests slower than their version's p99, per window (the groups of by_window, same order)
            slow = np.bincount(codes[slow_row[ok]], minlength=len(by_window))
            flagged = flag_slow_windows(by_window, slow, factor=factor, min_requests=min_requests,
                                        overall_p99=latency["p99_ms"])
            incidents = latency_incidents(flagged, window)
        else:
            flagged, incidents = empty_windows, latency_incidents(empty_windows, window)
    else:
        notes.append("No timestamps are mapped (columns.timestamp): only whole-log figures, no windows or throughput.")
        throughput = pd.DataFrame(columns=["window", "model_version", "requests", "requests_per_minute"])
        invalid_windows = pd.DataFrame(columns=["window", "model_version", "rows", "invalid", "rate", *INVALID_REASONS])
        flagged, incidents = empty_windows, latency_incidents(empty_windows, window)
    order = [primary] + [v for v in audit.versions if v != primary]
    return OperationsResult(
        window=window, primary_version=primary, versions=tuple(order), latency=latency,
        latency_windows=flagged, throughput=throughput, invalid=invalid, invalid_windows=invalid_windows,
        incidents=incidents, notes=tuple(notes),
        histogram=latency_histogram(frame[cols.latency_ms], versions) if has_latency else None,
        settings={"window": window, "incident_factor": factor, "min_window_requests": min_requests,
                  "max_p99_latency_ms": latency_gate(audit), "percentile_method": "numpy linear"},
    )


# --------------------------------------------------------------------------- verdict
def _fmt_ms(ms: float) -> str:
    return f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def _fmt_day(ts) -> str:
    return pd.Timestamp(ts).strftime("%-d %b %H:%M") if pd.Timestamp(ts).hour else pd.Timestamp(ts).strftime("%-d %b")


def operations_verdict(result: OperationsResult) -> Verdict:
    """Green / amber / red from the primary version's latency and invalid-prediction rate.

    Latency with ``gates.max_p99_latency_ms`` set: red when the overall p99 exceeds it, amber
    when some window's p99 does. Without a gate, relative to the log's own typical p99: amber
    for past incidents, red when the most recent window is an incident. Invalid predictions:
    amber above 0.1%, red above 1%. The worst of the two decides.
    """
    primary, gate = result.primary_version, result.settings.get("max_p99_latency_ms")
    statuses, sentences = [], []
    if result.has_latency and primary in result.latency.index and result.latency.loc[primary, "n"] > 0:
        row = result.latency.loc[primary]
        p50, p99 = float(row["p50_ms"]), float(row["p99_ms"])
        windows = result.latency_windows
        mine = windows[windows["model_version"] == primary] if len(windows) else windows
        incidents = result.incidents
        if gate is not None:
            over = mine[mine["p99_ms"] > gate] if len(mine) else mine
            if p99 > gate:
                statuses.append(RED)
                sentences.append(f"p99 latency is {_fmt_ms(p99)}, above the {_fmt_ms(gate)} limit")
            elif len(over):
                statuses.append(AMBER)
                sentences.append(f"p99 latency is {_fmt_ms(p99)} (limit {_fmt_ms(gate)}), but in {len(over)} "
                                 f"{result.window}(s) it went over the limit")
            else:
                statuses.append(GREEN)
                sentences.append(f"p99 latency is {_fmt_ms(p99)}, within the {_fmt_ms(gate)} limit")
        else:
            ongoing = bool(len(mine)) and bool(mine.sort_values("window")["incident"].iloc[-1])
            own = incidents[incidents["model_version"] == primary].sort_values("start")
            if len(own):
                when = ", ".join(dict.fromkeys(_fmt_day(s) for s in own["start"]))
                statuses.append(RED if ongoing else AMBER)
                sentences.append(f"latency is usually steady (median {_fmt_ms(p50)}, p99 {_fmt_ms(p99)}), but "
                                 f"{len(own)} short incident{'s' if len(own) > 1 else ''} ({when}) pushed the {result.window}'s p99 "
                                 f"up to {own['ratio'].max():.1f}× its usual {_fmt_ms(float(own['typical_p99_ms'].iloc[0]))}"
                                 + (" and the latest window is still slow" if ongoing else ""))
            else:
                statuses.append(GREEN)
                sentences.append(f"latency is steady (median {_fmt_ms(p50)}, p99 {_fmt_ms(p99)}) with no incidents")
    else:
        sentences.append("latency is not logged")
    if primary in result.invalid.index:
        rate = float(result.invalid.loc[primary, "rate"])
        bad = int(result.invalid.loc[primary, "invalid"])
        statuses.append(RED if rate > INVALID_RATE_RED else AMBER if rate > INVALID_RATE_AMBER else GREEN)
        sentences.append(f"{rate:.1%} of predictions were empty or invalid" if bad else "no prediction was empty or invalid")
    status = RED if RED in statuses else AMBER if AMBER in statuses else GREEN
    others = result.incidents[result.incidents["model_version"] != primary] if len(result.incidents) else result.incidents
    if len(others):
        per = others.groupby("model_version").size()
        sentences.append(" and ".join(f"{v} had {k} incident{'s' if k > 1 else ''}" for v, k in per.items()) + " too")
    headline = f"For {primary}, " + sentences[0] + ("; " + "; ".join(sentences[1:]) if len(sentences) > 1 else "") + "."
    gate_text = f"p99 limit {gate:g} ms (gates.max_p99_latency_ms)" if gate is not None else "no p99 limit set (gates.max_p99_latency_ms)"
    detail = (f"Percentiles of {WINDOWS[result.window][0]} windows; incidents are windows whose p99 is ≥ "
              f"{result.settings['incident_factor']:g}× the version's typical window p99; {gate_text}; "
              f"invalid-prediction rate amber above {INVALID_RATE_AMBER:.1%}, red above {INVALID_RATE_RED:.0%}.")
    return Verdict(status, headline, detail)


# --------------------------------------------------------------------------- section
def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return out.to_dict(orient="records")


def operations_report(result: OperationsResult) -> dict:
    """The JSON-safe ``report.json["operations"]`` body (without ``versions``)."""
    lat = result.latency
    primary = result.primary_version
    overall = ({k: int(v) if k in ("n", "missing") else float(v) for k, v in lat.loc[primary].items()}
               if result.has_latency and primary in lat.index else {})
    cols = ["window", "model_version", "n", *PERCENTILE_COLUMNS, "max_ms", "incident"]
    return {
        "window": result.window,
        "primary_version": primary,
        "latency": {"overall": overall, "per_version": _records(lat.reset_index()) if len(lat) else [],
                    "per_window": _records(result.latency_windows[cols]) if len(result.latency_windows) else []},
        "throughput": _records(result.throughput),
        "invalid_predictions": {"per_version": _records(result.invalid.reset_index()),
                                "per_window": _records(result.invalid_windows)},
        "incidents": _records(result.incidents),
        "settings": dict(result.settings),
        "notes": list(result.notes),
    }


def operations_metrics(result: OperationsResult) -> tuple[CardMetric, ...]:
    """Card metrics: latency percentiles and invalid-prediction rate, slice "" for the primary
    version and ``model_version=<v>`` for the others."""
    out = []
    for version in result.versions:
        sl = "" if version == result.primary_version else f"model_version={version}"
        if result.has_latency and version in result.latency.index and result.latency.loc[version, "n"] > 0:
            row = result.latency.loc[version]
            for p, col in zip(PERCENTILES, PERCENTILE_COLUMNS):
                out.append(CardMetric(f"latency_p{p}_ms", float(row[col]), sl, n=int(row["n"])))
        if version in result.invalid.index:
            row = result.invalid.loc[version]
            out.append(CardMetric("invalid_prediction_rate", float(row["rate"]), sl, n=int(row["rows"])))
    return tuple(out)


def operations_section(audit: Audit) -> Section:
    """Operations for the report and card: daily windows, default incident rule, and the
    model-version comparison under ``report["versions"]``."""
    from sightline.charts.operations import latency_over_time_chart, throughput_chart
    from sightline.charts.versions import metric_difference_chart
    from sightline.versions import compare_versions, versions_report

    result = operations_result(audit)
    report = operations_report(result)
    comparisons = {}
    if len(audit.versions) > 1:
        for candidate in audit.versions:
            if candidate != audit.primary_version:
                comparisons[candidate] = compare_versions(audit, candidate)
    report["versions"] = versions_report(audit, comparisons)
    charts = []
    if result.has_latency and result.has_time:
        charts.append(Chart("latency_over_time", "Latency percentiles per day and model version", latency_over_time_chart(result)))
    if result.has_time:
        charts.append(Chart("throughput", "Requests per day and model version", throughput_chart(result)))
    for candidate, comp in comparisons.items():
        if comp.metrics is not None and len(comp.metrics):
            charts.append(Chart(f"version_comparison_{len(charts)}", f"{candidate} minus {comp.baseline}: metric differences (95% CI)",
                                metric_difference_chart(comp)))
    tables = {"latency_percentiles": result.latency.reset_index()} if result.has_latency else {}
    if len(result.incidents):
        tables["latency_incidents"] = result.incidents
    for candidate, comp in comparisons.items():
        if comp.metrics is not None and len(comp.metrics):
            tables[f"version_comparison {candidate}"] = comp.metrics
    provenance = {
        "rows": int(len(audit.current)), "window": result.window, "percentile_method": "numpy linear (np.percentile default)",
        "incident_rule": f"window p99 ≥ {INCIDENT_FACTOR:g}× the version's median window p99 (windows with ≥ {MIN_WINDOW_REQUESTS} requests); "
                         "smaller windows: share of requests above the version's p99 significantly > 1% (binomial, Bonferroni)",
        "max_p99_latency_ms": result.settings["max_p99_latency_ms"],
        "versions": {c: comp.provenance for c, comp in comparisons.items()},
    }
    return Section(area="operations", verdict=operations_verdict(result), report=report,
                   metrics=operations_metrics(result), charts=tuple(charts), provenance=provenance, tables=tables)
