"""Slices: where the model does worse — metrics per slice, automatic worst-slice discovery,
and a Simpson's-paradox check between model versions."""

import streamlit as st

from components import cache, router, state
from components.cached import slices
from components.slices import render_simpson, render_slice_view, render_worst_slices, slice_controls, sort_table
from components.verdicts import render_verdict
from sightline.core.errors import MissingInputError
from sightline.core.section import NOT_COMPUTED, UNAVAILABLE
from sightline.core.vocabulary import METRICS
from sightline.slices import min_slice_size

router.ensure_routed()

audit = state.require_audit()
st.title("Slices")
st.caption("An overall number can hide a group the model fails. This page breaks the metrics down by slices of the data "
           "(one value of a column, a numeric range, or a combination such as *women over 50*), searches for the slices "
           "where the model is significantly worse, and checks whether two model versions rank differently overall and by slice.")

with st.spinner("Searching every slice of up to three columns for the worst ones…"):
    section = cache.section("slices", audit)
render_verdict(section)
if section.verdict.status in (UNAVAILABLE, NOT_COMPUTED):
    st.caption("Slice evaluation needs labelled predictions (columns.target) and feature or sensitive columns in the log.")
    st.stop()
report, provenance = section.report, section.provenance
charts = {c.name: c.chart for c in section.charts}

st.subheader("Worst slices found automatically")
render_worst_slices(report["discovered"], charts.get("slices_worst"), provenance, report["task"])

st.subheader("Explore metrics per slice")
settings = report["settings"]
try:
    with st.spinner("Preparing slices…"):
        data = slices.data(audit, settings["n_bins"])
except MissingInputError as exc:
    st.info(str(exc))
    st.stop()
chosen = slice_controls(data.columns, settings["columns"], data.task, data.outcomes.has_auc,
                        min_slice_size(audit), settings["n_bins"])
overall = report["overall"][chosen.metric]["value"]
info = METRICS[chosen.metric]
st.caption(f"**{info.label}**: {info.help} Overall: **{overall:.1%}**" if info.percent and chosen.metric != "roc_auc"
           else f"**{info.label}**: {info.help} Overall: **{overall:.3f}**")
if not chosen.columns:
    st.info("Pick at least one column to slice by.")
elif chosen.combine and len(chosen.columns) < 2:
    st.info("Pick two or three columns to see their intersections, or show each column on its own.")
else:
    with st.spinner("Counting every slice…"):
        if chosen.combine:
            cols = chosen.columns[:3]
            if len(chosen.columns) > 3:
                st.warning(f"Intersections use at most three columns: showing {', '.join(cols)}.")
            tables = {" × ".join(cols): slices.table(audit, cols, min_size=chosen.min_size, n_bins=chosen.n_bins)}
        else:
            tables = {c: slices.table(audit, [c], min_size=chosen.min_size, n_bins=chosen.n_bins) for c in chosen.columns}
    tabs = st.tabs(list(tables)) if len(tables) > 1 else [st.container()]
    for tab, (name, table) in zip(tabs, tables.items()):
        with tab:
            small = int(table["too_small"].sum())
            st.caption(f"{len(table):,} slices of **{name}** over {data.n:,} labelled predictions"
                       + (f"; {small} below {chosen.min_size} rows are greyed out." if small else "."))
            render_slice_view(sort_table(table, chosen.metric, chosen.sort), chosen.metric, overall,
                              min_size=chosen.min_size, title=f"{info.label} by {name}")
st.caption("Bars are red (worse) when the whole 95% confidence interval lies on the bad side of the overall value (dashed "
           "line), green (better) on the good side, blue (in line) when the slice cannot be told apart from overall. "
           f"Impact = how much the overall {info.label.lower()} would change if the slice performed like the rest of the data.")

st.subheader("Two model versions: Simpson's paradox check")
st.caption("A version can be better overall yet worse on most slices when the versions saw a different mix of traffic "
           "(the kidney-stone example). Both versions are compared on the same slices here.")
render_simpson(report["simpson"], prefer=tuple(audit.sensitive))

with st.expander("Settings and provenance"):
    st.markdown(f"Audit settings (`slices:` in the audit file): columns **{', '.join(settings['columns'])}**, "
                f"minimum size **{settings['min_size']}**, up to **{settings['max_order']}** columns combined, "
                f"**{settings['n_bins']}** quantile bins. The worst-slice search and the report use these; the controls "
                "above only change this page's view.")
    st.caption(f"Confidence intervals — {provenance['confidence_intervals']}. "
               f"{provenance['suppressed_slices']} slice(s) below the minimum size are left out of report.json and the model card.")
    st.json(provenance, expanded=False)
