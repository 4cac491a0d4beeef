"""Overview: what was loaded, and one plain-language verdict per area."""

import pandas as pd
import streamlit as st

from components import cache, chart_view, router, state
from components.verdicts import render_verdict
from components.whole_log import render_whole_log
from sightline.charts.overview import label_coverage_chart
from sightline.data.summary import data_summary, label_coverage_by_window
from sightline.report.registry import AREA_TITLES, AREAS

router.ensure_routed()

audit = state.require_audit()
cache.precompute(audit, needed=True)  # every area is shown here: start them before drawing the rest
summary = data_summary(audit)

st.title(summary.name)
st.caption(f"Task: **{summary.task}**" + (f" · positive label **{audit.spec.positive_label}**" if audit.spec.positive_label is not None else "")
           + f" · audit fingerprint `{audit.fingerprint}`")

st.subheader("Health summary")
st.caption("One verdict per area; open the area's page for the numbers behind it.")
# One placeholder per area, filled as each area finishes, so what was loaded (below) shows at
# once on a large log instead of after the slowest area.
slots = {}
areas = list(AREAS)
for row in range(0, len(areas), 2):
    for col, area in zip(st.columns(2), areas[row:row + 2]):
        slots[area] = col.empty()
        slots[area].caption(f":material/hourglass_top: {AREA_TITLES[area]}: computing…")

st.subheader("What was loaded")
c = st.columns(4)
c[0].metric("Logged predictions", f"{summary.log_rows:,}",
            help="Rows in the prediction log, all model versions together."
            + (f" The pages analyse a random sample of {summary.current_rows:,} of them." if summary.sample else ""))
c[1].metric("Reference rows", f"{summary.reference_rows:,}" if summary.reference_rows is not None else "none",
            help="The data the log is compared against (e.g. validation data). Drift needs it.")
c[2].metric("Label coverage", f"{summary.label_coverage:.0%}",
            help="Share of the primary model's predictions whose true outcome has arrived. Only these count in accuracy metrics.")
c[3].metric("Time span", f"{summary.days:.0f} days" if summary.days is not None else "no timestamps",
            help="From the first to the last logged prediction.")
if summary.start:
    st.caption(f"From {summary.start[:16].replace('T', ' ')} to {summary.end[:16].replace('T', ' ')} UTC"
               + (f"; latest labelled prediction {summary.last_label_time[:10]}" if summary.last_label_time else "; no labels yet"))

coverage = label_coverage_by_window(audit)
if len(coverage):
    chart_view.show(st, label_coverage_chart(coverage), width="stretch")
    st.caption("Labels arrive late: the most recent weeks have predictions but no outcomes yet, so accuracy "
               "there is unknown — the Drift page estimates it from the scores and monitors inputs meanwhile.")

render_whole_log(audit)

left, right = st.columns(2)
with left:
    st.markdown("**Model versions**")
    if summary.versions:
        rows_label = "rows in the sample" if summary.sample else "rows"
        versions = pd.DataFrame({"version": list(summary.versions), rows_label: list(summary.versions.values())})
        versions["role"] = ["primary (audited)" if v == summary.primary_version else "other (compared on Model versions)" for v in versions["version"]]
        st.dataframe(versions, hide_index=True, width="stretch")
    else:
        st.caption("The log has no model-version column: one model assumed.")
    st.markdown("**Sensitive attributes** (groups and row counts" + (", in the sample)" if summary.sample else ")"))
    for col, groups in summary.sensitive.items():
        st.caption(f"`{col}`: " + ", ".join(f"{g} ({n:,})" for g, n in groups.items()))
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
    with slots[area].container():
        render_verdict(section, title=AREA_TITLES[area], detail=False)


# One at a time here: the background computation started above already uses every core; this
# thread waits for what it has under way and computes only what it has not begun.
cache.sections(audit, AREAS, on_done=_show, workers=1)

if audit.findings:
    with st.expander(f"Validation notes ({len(audit.findings)})"):
        for f in audit.findings:
            (st.warning if f.level == "warning" else st.info)(f"**{f.subject}** — {f.message}")
