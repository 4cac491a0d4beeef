"""Streamlit pieces of the Operations and Model versions pages: settings, metric rows,
a chart with its table, and plain-language sentences. No statistics here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import chart_view
from sightline.operations import DEFAULT_WINDOW, INCIDENT_FACTOR, MIN_WINDOW_REQUESTS, OPERATIONS_WINDOWS
from sightline.stats.windows import WINDOWS

WINDOW_KEY = "operations.window"
FACTOR_KEY = "operations.factor"
MIN_REQUESTS_KEY = "operations.min_requests"
CANDIDATE_KEY = "versions.candidate"

PERCENTILE_HELP = {
    "p50": "Median latency: half of the requests were answered faster than this.",
    "p90": "90th percentile: 1 request in 10 was slower than this.",
    "p95": "95th percentile: 1 request in 20 was slower than this.",
    "p99": "99th percentile (tail latency): 1 request in 100 was slower than this. Users notice the tail; "
           "it is what latency limits (SLOs) are usually written on.",
}


def operations_settings() -> tuple[str, float, int]:
    """The page's settings as chosen so far (window, incident factor, minimum requests per window).
    Read before the widgets are drawn, so the verdict at the top can follow them."""
    return (st.session_state.get(WINDOW_KEY) or DEFAULT_WINDOW, float(st.session_state.get(FACTOR_KEY, INCIDENT_FACTOR)),
            int(st.session_state.get(MIN_REQUESTS_KEY, MIN_WINDOW_REQUESTS)))


def operations_settings_widgets() -> None:
    """Window size and incident rule controls (their values are read by :func:`operations_settings`)."""
    c = st.columns([2, 1, 1])
    c[0].segmented_control("Time window", options=list(OPERATIONS_WINDOWS), format_func=lambda w: WINDOWS[w].adjective.capitalize(),
                           default=DEFAULT_WINDOW, key=WINDOW_KEY,
                           help="Group the log into hours, days or weeks (in the log's own clock; weeks start on Monday). Short incidents "
                                "stand out in hours and fade in weeks.")
    c[1].number_input("Incident factor", min_value=1.1, max_value=20.0, value=INCIDENT_FACTOR, step=0.1, key=FACTOR_KEY,
                      help="A window is an incident when its p99 is at least this many times the version's usual "
                           "(median) window p99.")
    c[2].number_input("Min. requests per window", min_value=5, max_value=10_000, value=MIN_WINDOW_REQUESTS, step=5,
                      key=MIN_REQUESTS_KEY,
                      help="A p99 needs enough requests: below this, a window is judged instead by how many of its "
                           "requests were slower than the version's overall p99 (binomial test).")


def percentile_metrics(latency: pd.DataFrame, version: str, invalid_rate: float | None = None) -> None:
    """One row of st.metric: p50/p90/p95/p99 of ``version`` (ms) and the invalid-prediction rate."""
    row = latency.loc[version]
    cols = st.columns(5)
    for col, p in zip(cols, ("p50", "p90", "p95", "p99")):
        col.metric(f"{p} latency", f"{row[f'{p}_ms']:,.0f} ms", help=PERCENTILE_HELP[p])
    if invalid_rate is not None:
        cols[4].metric("Invalid rate", f"{invalid_rate:.2%}",
                       help="Share of logged predictions that were empty (no prediction, no score) or invalid "
                            "(a classification score outside [0, 1]).")


def chart_with_table(chart, table: pd.DataFrame, caption: str, label: str = "Table behind the chart") -> None:
    """The chart, a plain caption under it, and its numbers in an expander."""
    chart_view.show(st, chart, width="stretch")
    st.caption(caption)
    with st.expander(label):
        st.dataframe(table, hide_index=True, width="stretch")


def incident_sentences(incidents: pd.DataFrame) -> list[str]:
    """One plain sentence per incident (version, when, how much slower, how many requests)."""
    out = []
    for _, r in incidents.iterrows():
        start, end = pd.Timestamp(r["start"]), pd.Timestamp(r["end"])
        span = f"{start:%a %d %b %H:%M} to {end:%H:%M}" if end - start < pd.Timedelta(days=1) else \
            f"{start:%a %d %b}" + ("" if end - start <= pd.Timedelta(days=1) else f" to {end - pd.Timedelta(seconds=1):%a %d %b}")
        out.append(f"**{r['model_version']}**, {span}: p99 reached **{r['peak_p99_ms']:,.0f} ms**, "
                   f"{r['ratio']:.1f}× its usual {r['typical_p99_ms']:,.0f} ms ({r['requests']:,} requests in the window).")
    return out


def ms_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Latency columns rounded to 0.1 ms for display."""
    out = frame.copy()
    for col in out.columns:
        if str(col).endswith("_ms") or col == "p99_ratio":
            out[col] = out[col].astype(float).round(1)
    return out


def top_slice_sentence(comp) -> str | None:
    """Where two versions disagree most, in one sentence (slice, rate, lift, who was right there)."""
    if comp.by_slice is None or not comp.agreement or not (~comp.by_slice["small"]).any():
        return None
    top = comp.by_slice[~comp.by_slice["small"]].iloc[0]
    overall = 1 - comp.agreement["rate"]
    text = (f"They disagree most on **{top['slice'].replace(' & ', ' and ')}**: {top['rate']:.0%} of its {int(top['n']):,} "
            f"requests, {top['lift']:.0f}× the overall {overall:.1%}")
    if "candidate_right" in top and top["candidate_right"] + top["baseline_right"] > 0:
        text += (f"; where the label is known, {comp.candidate} was right {int(top['candidate_right'])} times there and "
                 f"{comp.baseline} {int(top['baseline_right'])} times")
    return text + "."
