"""Operational health of the prediction log: latency, throughput, empty or invalid predictions.

Latency is reported as percentiles, never as a mean alone; what makes a window a latency
*incident* is defined in :mod:`sightline.operations.incidents`.

The pure computations live in :mod:`sightline.stats.timing` (latency, throughput),
:mod:`sightline.stats.windows` (time windows), :mod:`sightline.operations.incidents` and
:mod:`sightline.operations.invalid`; :func:`operations_result`
gathers them and :func:`sightline.report.compose.operations_section` assembles them (with the
model-version comparison) into the Section that the Operations page, ``report.json`` and the card share.
The model-version comparison lives in :mod:`sightline.versions.section`; its result is reported
under ``report["versions"]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sightline.core.errors import MissingInputError
from sightline.core.numbers import MS, format_value
from sightline.core.section import AMBER, GREEN, RED, CardMetric, Verdict
from sightline.data.audit import Audit
from sightline.operations.incidents import INCIDENT_FACTOR, MIN_WINDOW_REQUESTS, flag_slow_windows, latency_incidents
from sightline.operations.invalid import (
    INVALID_REASONS,
    invalid_prediction_flags,
    invalid_rates,
)
from sightline.stats.timing import (
    PERCENTILE_COLUMNS,
    PERCENTILES,
    SINGLE_MODEL,
    _latency_by_window,
    latency_histogram,
    latency_percentiles,
    throughput_by_window,
    valid_latency,
    version_labels,
    window_groups,
)
from sightline.stats.windows import WINDOWS, normalise_window, window_codes, window_starts

log = logging.getLogger(__name__)

INVALID_RATE_AMBER = 0.001     # more than 0.1% empty or invalid predictions needs attention
INVALID_RATE_RED = 0.01        # more than 1% is a problem

OPERATIONS_WINDOWS = ("hour", "day", "week")  # the windows Operations offers (sightline.stats.windows)
DEFAULT_WINDOW = "day"
NO_OPERATIONS_INPUT = ("Operations needs a latency column (columns.latency_ms) or timestamps (columns.timestamp) "
                       "in the prediction log — map them in the audit file")


# --------------------------------------------------------------------------- the whole result
@dataclass(frozen=True)
class OperationsResult:
    """Operational health of one log in one windowing.

    ``latency``: percentiles per version (index ``model_version``); ``latency_windows``: per
    window and version, with incident flags; ``throughput``; ``invalid`` (per version) and
    ``invalid_windows``; ``incidents`` (merged runs of flagged windows); ``histogram`` (log-binned
    latency counts per version). Times are window starts in the log's own wall-clock time
    (tz-naive, see :mod:`sightline.stats.windows`), latencies milliseconds, rates fractions in [0, 1]. ``settings`` holds the window,
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

    Inputs: the audit (all logged rows, every version); the window (one of :data:`OPERATIONS_WINDOWS`,
    any spelling :func:`sightline.stats.windows.normalise_window` reads);
    the incident factor and minimum requests per window (see :func:`flag_slow_windows`).
    Output: :class:`OperationsResult`. Raises :class:`MissingInputError` when the log has
    neither latency nor timestamps; ValueError for another window.
    """
    window = normalise_window(window, OPERATIONS_WINDOWS, default=DEFAULT_WINDOW)
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
        # each row's window is found once; every per-window view groups rows by these codes
        windows = window_codes(ts, window)
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
    return format_value(ms, MS)


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
                sentences.append(f"latency is usually steady (median {_fmt_ms(p50)}, p99 {_fmt_ms(p99)} over all requests), but "
                                 f"{len(own)} short incident{'s' if len(own) > 1 else ''} ({when}) pushed the {result.window}'s p99 "
                                 f"up to {own['ratio'].max():.1f}× its usual {WINDOWS[result.window].adjective} p99 of "
                                 f"{_fmt_ms(float(own['typical_p99_ms'].iloc[0]))}"
                                 + (" and the latest window is still slow" if ongoing else ""))
            else:
                statuses.append(GREEN)
                sentences.append(f"latency is steady (median {_fmt_ms(p50)}, p99 {_fmt_ms(p99)}) with no incidents")
    else:
        # not measured is not the same as fast: the colour says a part of the check is missing
        statuses.append(AMBER)
        sentences.append("latency is not measured (no latency column is mapped: columns.latency_ms), so response "
                         "times could not be checked")
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
    lead = "" if primary == SINGLE_MODEL else f"For {primary}, "  # a log without versions has no name to give
    body = sentences[0] + ("; " + "; ".join(sentences[1:]) if len(sentences) > 1 else "") + "."
    headline = lead + (body if lead else body[:1].upper() + body[1:])
    gate_text = f"p99 limit {gate:g} ms (gates.max_p99_latency_ms)" if gate is not None else "no p99 limit set (gates.max_p99_latency_ms)"
    detail = (f"Percentiles of {WINDOWS[result.window].adjective} windows; incidents are windows whose p99 is ≥ "
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


