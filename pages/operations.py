"""Operations: latency percentiles, throughput and empty or invalid predictions, per time window and model version."""

import streamlit as st

from components import router, state
from components.cached import operations
from components.operations import chart_with_table, incident_sentences, ms_table, operations_settings, operations_settings_widgets, percentile_metrics
from components.verdicts import render_verdict
from sightline.charts.operations import invalid_rate_chart, latency_distribution_chart, latency_over_time_chart, throughput_chart
from sightline.core.errors import MissingInputError
from sightline.operations import DEFAULT_WINDOW, INCIDENT_FACTOR, MIN_WINDOW_REQUESTS, operations_verdict
from sightline.stats.windows import WINDOWS

router.ensure_routed()

audit = state.require_audit()
st.title("Operations")
st.caption("How the model behaves as a service: how fast it answers (latency as percentiles, never just an average), "
           "how much traffic it serves, and how often it returns an empty or invalid prediction.")

window, factor, min_requests = operations_settings()
try:
    with st.spinner("Computing latency percentiles per window and version…"):
        result = operations.result(audit, window, factor, min_requests)
except MissingInputError as exc:
    st.info(f"**Operations needs more input.** {exc}.")
    st.caption("Latency percentiles need a latency column; per-window views and throughput need timestamps.")
    st.stop()

render_verdict(operations_verdict(result))
if (window, factor, min_requests) != (DEFAULT_WINDOW, INCIDENT_FACTOR, MIN_WINDOW_REQUESTS):
    st.caption("ℹ️ You changed the settings below: the verdict follows them; the model card and report.json use the defaults "
               f"(daily windows, {INCIDENT_FACTOR:g}×, {MIN_WINDOW_REQUESTS} requests).")
primary = result.primary_version
invalid_rate = float(result.invalid.loc[primary, "rate"]) if primary in result.invalid.index else None
if result.has_latency:
    percentile_metrics(result.latency, primary, invalid_rate)
    st.caption(f"Primary version **{primary}**, all {int(result.latency.loc[primary, 'n']):,} timed requests. "
               "Other versions are compared below.")
for note in result.notes:
    st.caption(f"ℹ️ {note}")

operations_settings_widgets()
noun = WINDOWS[result.window].adjective

if result.has_latency and result.has_time:
    st.subheader("Latency over time")
    table = ms_table(result.latency_windows.drop(columns=["slow_p_value"], errors="ignore"))
    chart_with_table(latency_over_time_chart(result), table,
                     f"Each line is a percentile of the {noun} latency (log scale: equal steps are equal ratios). The gap between "
                     "p50 and p99 is the tail: a few slow requests. Red dots mark incidents: windows whose p99 is at least "
                     f"{result.settings['incident_factor']:g}× the version's usual p99.",
                     label=f"Percentiles per {result.window} and version (ms)")
    typical_n = result.latency_windows.groupby("model_version")["n"].median().get(primary, 0)
    if typical_n < result.settings["min_window_requests"]:
        st.caption(f":material/warning: A typical {result.window} holds only {typical_n:.0f} requests: its p90–p99 are close to its slowest "
                   "request and jump around. Choose a longer window for stable percentiles; incidents in short windows "
                   "are judged by how many requests were slower than usual, not by the p99.")
    st.markdown(f"**Incidents** ({len(result.incidents)})")
    if len(result.incidents):
        for sentence in incident_sentences(result.incidents):
            st.markdown(f"- {sentence}")
        with st.expander("Incident table"):
            st.dataframe(ms_table(result.incidents), hide_index=True, width="stretch")
    else:
        st.caption(f"No {result.window} window stands out: every p99 stays below {result.settings['incident_factor']:g}× the usual level.")

if result.has_latency:
    st.subheader("Latency per model version")
    chart_with_table(latency_distribution_chart(result), ms_table(result.latency.reset_index()),
                     "How many requests took how long, per version, on a log scale. A curve further right is a slower "
                     "model; the dashed lines are each version's p99. A shadow model that serves no user can still be "
                     "slower than the one it might replace — check this before promoting it.",
                     label="Percentiles per version (ms)")

if result.has_time:
    st.subheader("Throughput")
    per_window = result.throughput.groupby("model_version")["requests"].agg(["median", "max", "sum"])
    chart_with_table(throughput_chart(result), result.throughput.round({"requests_per_minute": 3}),
                     f"Requests each version answered per {result.window} (median {per_window.loc[primary, 'median']:,.0f}, "
                     f"peak {per_window.loc[primary, 'max']:,.0f} for {primary})" + ("; a shadow version's dashed line lies on "
                     "the primary's where it scored the same requests" if len(per_window) > 1 else "") + ". Dips are quiet nights and weekends; a window "
                     "at 0 inside the range means no traffic was logged — an outage or a logging gap.",
                     label=f"Requests per {result.window}")

st.subheader("Empty or invalid predictions")
reasons = result.invalid.reset_index()
if int(reasons["invalid"].sum()) == 0:
    st.success(f"No empty or invalid predictions: every one of the {int(reasons['rows'].sum()):,} logged predictions has a "
               f"prediction{' and a valid score' if audit.has_score else ''}.", icon=":material/check_circle:")
else:
    if result.has_time:
        chart_with_table(invalid_rate_chart(result), result.invalid_windows,
                         "Share of predictions per window that were empty (no prediction or no score) or invalid (a score "
                         "outside [0, 1]). Such rows reach users as errors or defaults, and leave metrics blind.",
                         label="Invalid predictions per window")
    st.dataframe(reasons, hide_index=True, width="stretch")
st.caption("Checked per row: missing prediction, missing or non-numeric score, and (classification) a score outside [0, 1].")

with st.expander("How these numbers are computed"):
    st.markdown(
        f"- **Percentiles** use numpy's linear method (`np.percentile`) on every valid timing (numbers ≥ 0 ms), per "
        f"version and per {result.window} (the log's own clock). No sampling: exact on the whole log.\n"
        f"- **Incident rule**: a window with at least {result.settings['min_window_requests']} requests is an incident when its "
        f"p99 ≥ {result.settings['incident_factor']:g}× the median window p99 of that version; a smaller window when its share "
        "of requests slower than the version's overall p99 is significantly above 1% (binomial test, Bonferroni over "
        "windows) and at least 5%. Consecutive flagged windows form one incident.\n"
        "- **Latency limit**: " + (f"`gates.max_p99_latency_ms` = {result.settings['max_p99_latency_ms']:g} ms."
                                   if result.settings["max_p99_latency_ms"] is not None else
                                   "none set — add `gates: {max_p99_latency_ms: 300}` to the audit to judge against a limit "
                                   "instead of the log's own usual level."))
