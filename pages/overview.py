"""Overview: one status line, one verdict per area (most urgent first, each linking to its page),
and what was loaded — every figure naming the rows it counts."""

import pandas as pd
import streamlit as st

from components import cache, chart_view, router, state
from components.verdicts import AREA_PAGES, by_severity, render_area_row, status_line
from components.whole_log import render_whole_log
from sightline.charts.overview import label_coverage_chart
from sightline.data.summary import data_summary, label_coverage_by_window
from sightline.report.registry import AREA_TITLES, AREAS

router.ensure_routed()

audit = state.require_audit()
cache.precompute(audit, needed=True)  # every area is shown here: start them before drawing the rest
summary = data_summary(audit)
# The audited version, named beside every figure that counts only its rows (None: one model).
primary = summary.primary_version if len(summary.versions) > 1 else None
of_primary = f" of {primary}" if primary else ""

st.title(summary.name)
st.caption(f"Task: **{summary.task}**" + (f" · positive label **{audit.spec.positive_label}**" if audit.spec.positive_label is not None else "")
           + f" · audit fingerprint `{audit.fingerprint}`")
status = st.empty()

st.subheader("Health summary")
st.caption("One verdict per area, most urgent first; open an area's page for the numbers behind it.")
# Redrawn as each area finishes, so what was loaded (below) shows at once on a large log instead
# of after the slowest area, and the order is by severity once every verdict is in.
board = st.empty()
done: dict = {}


def _draw() -> None:
    pending = [a for a in AREAS if a not in done]
    statuses = {a: done[a].verdict.status for a in AREAS if a in done}
    status.markdown("##### " + status_line(statuses, AREA_TITLES, pending, colour=True))
    with board.container():
        for area in by_severity(statuses):
            render_area_row(done[area], AREA_TITLES[area], AREA_PAGES[area])
        for area in pending:
            st.caption(f":material/hourglass_top: {AREA_TITLES[area]}: computing…")


_draw()

st.subheader("What was loaded")
c = st.columns(4)
c[0].metric("Logged predictions", f"{summary.log_rows:,}",
            help="Rows in the prediction log, all model versions together."
            + (f" The pages analyse a random sample of {summary.current_rows:,} of them." if summary.sample else ""))
c[1].metric("Reference rows", f"{summary.reference_rows:,}" if summary.reference_rows is not None else "none",
            help="The data the log is compared against (e.g. validation data). Drift needs it.")
c[2].metric(f"Label coverage{f' ({primary})' if primary else ''}", f"{summary.label_coverage:.1%}",
            help=f"Share of the predictions{of_primary} whose true outcome has arrived. Only these count in accuracy metrics.")
c[3].metric("Time span", f"{summary.days:.0f} days" if summary.days is not None else "no timestamps",
            help=f"From the first to the last logged prediction{of_primary}.")
share = f"All {summary.primary_rows:,}" if summary.labelled_rows == summary.primary_rows else f"{summary.labelled_rows:,} of the {summary.primary_rows:,}"
rows_note = f"{share} predictions{of_primary} have their label: the rows Performance, Calibration, Slices and Fairness score"
if primary and summary.current_rows:
    rows_note += (f". All versions together: {summary.current_labelled_rows:,} of {summary.current_rows:,} "
                  f"({summary.current_labelled_rows / summary.current_rows:.1%})")
st.caption(rows_note + ".")
if summary.start:
    st.caption(f"Predictions{of_primary} from {summary.start[:16].replace('T', ' ')} to {summary.end[:16].replace('T', ' ')} UTC"
               + (f"; latest labelled prediction {summary.last_label_time[:10]}" if summary.last_label_time else "; no labels yet"))

coverage = label_coverage_by_window(audit)
if len(coverage):
    chart_view.show(st, label_coverage_chart(coverage, primary), width="stretch")
label_note = st.empty()
awaiting = int((coverage["labelled"] == 0)[::-1].cummin().sum())  # trailing weeks without a single label


def _label_note(drift) -> None:
    """Say why recent weeks lack labels only when they do, and point to the estimate only when Drift made one."""
    if not len(coverage) or coverage["coverage"].min() >= 1:
        return
    if not summary.labelled_rows:
        label_note.caption(f"No prediction{of_primary} has its label yet: accuracy metrics wait for labels.")
        return
    estimated = drift is not None and ((drift.report.get("label_free") or {}).get("estimate_unlabelled"))
    estimate = " — the Drift page estimates it from the scores" if estimated else ""
    if awaiting:
        start = pd.Timestamp(coverage["window"].iloc[-awaiting]).strftime("%d %b")
        label_note.caption(f"Labels arrive late: the last {awaiting} week{'s' if awaiting > 1 else ''} (from {start}) have "
                           f"predictions but no outcomes yet, so accuracy there is unknown{estimate}.")
    else:
        label_note.caption(f"{summary.primary_rows - summary.labelled_rows:,} predictions{of_primary} still await their label.")


_label_note(None)
render_whole_log(audit)

left, right = st.columns(2)
with left:
    st.markdown("**Model versions**")
    if summary.versions:
        rows_label = "rows in the sample" if summary.sample else "rows"
        versions = pd.DataFrame({"version": list(summary.versions), rows_label: list(summary.versions.values())})
        versions["role"] = ["primary (audited)" if v == summary.primary_version else "other (compared on Model versions)" for v in versions["version"]]
        st.dataframe(versions, hide_index=True, width="stretch", column_config={rows_label: st.column_config.NumberColumn(format="localized")})
    else:
        st.caption("The log has no model-version column: one model assumed.")
    st.markdown(f"**Sensitive attributes**: each group's rows{of_primary}" + (" in the sample" if summary.sample else "")
                + " and how many are labelled (the rows Fairness and Calibration count)")
    for col, groups in summary.sensitive.items():
        labelled = summary.sensitive_labelled.get(col, {})
        st.caption(f"`{col}`: " + ", ".join(f"{g} ({n:,} rows, {labelled.get(g, 0):,} labelled)" for g, n in groups.items()))
    if not summary.sensitive:
        st.caption("None mapped: fairness needs `columns.sensitive` in the audit.")
with right:
    st.markdown(f"**Features** ({len(summary.features)}): {len(summary.numeric_features)} numeric, {len(summary.categorical_features)} categorical")
    st.caption(", ".join(f"`{f}`" for f in summary.features))
    st.markdown("**Model artifact**: " + ("loaded (used for SHAP)" if summary.has_model else "none — explanations use a surrogate"))
    st.markdown("**Inputs** (SHA-256 fingerprints)")
    inputs = pd.DataFrame(summary.inputs)
    for col in ("rows", "columns"):
        inputs[col] = [f"{int(v):,}" if pd.notna(v) else "—" for v in inputs[col]]
    inputs["sha256"] = inputs["sha256"].str[:16] + "…"
    st.dataframe(inputs, hide_index=True, width="stretch")


def _show(area: str, section) -> None:
    done[area] = section
    _draw()
    if area == "drift":
        _label_note(section)


# One at a time here: the background computation started above already uses every core; this
# thread waits for what it has under way and computes only what it has not begun.
cache.sections(audit, AREAS, on_done=_show, workers=1)

if audit.findings:
    with st.expander(f"Validation notes ({len(audit.findings)})"):
        for f in audit.findings:
            (st.warning if f.level == "warning" else st.info)(f"**{f.subject}** — {f.message}")
