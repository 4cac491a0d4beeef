"""Fairness: group and intersectional metrics with uncertainty, verdicts, gaps over time and a
threshold what-if (analysis only)."""

import streamlit as st

from components import router, state
from components.cached import fairness
from components.fairness import WHATIF_COLUMN_KEY, WHATIF_CONSTRAINT_KEY, render_column, threshold_sliders, tradeoff_view, whatif_results
from components.verdicts import render_verdict
from sightline.core.errors import MissingInputError
from sightline.fairness import CONSTRAINTS, TASK_SUMMARIES, fairness_verdict

router.ensure_routed()

audit = state.require_audit()
st.title("Fairness")
st.caption("Does the model treat groups differently? Each sensitive attribute of the audit (`columns.sensitive`), and their "
           "intersections, is compared group by group — with 95% intervals, so a gap that could be noise is not "
           "mistaken for bias — against tolerances set in the audit file.")

try:
    with st.spinner("Computing group metrics and bootstrap intervals…"):
        result = fairness.result(audit)
except MissingInputError as exc:
    st.info(f"**Fairness needs more input.** {exc}.")
    st.caption("Map the protected attributes (`columns.sensitive`) and the label column on the **Data & audit file** page.")
    st.stop()
render_verdict(fairness_verdict(result))  # the same verdict as the Overview, the card and report.json
tol = result.tolerance
st.caption(
    f"Computed on **{result.labelled_rows:,}** labelled predictions of "
    f"{'the primary version **' + str(audit.primary_version) + '**' if audit.primary_version else 'the model'}. "
    f"Groups under **{result.min_group_size}** rows (`fairness.min_group_size`) are not compared. Tolerances: "
    + ", ".join(f"{k.replace('_', ' ')} {'≥' if k.endswith('_ratio') else '≤'} {v:g}" for k, v in tol.items()
                if k in TASK_SUMMARIES[result.task])
    + " (`fairness.tolerance`).")
for note in result.notes:
    st.warning(note)
if result.suppressed_groups:
    st.caption(f":material/lock: {result.suppressed_groups} small group(s) in all are shown greyed on this page only; the model card "
               "and report.json leave them out.")

names = list(result.columns)
tabs = st.tabs([("⊗ " if result.columns[n].is_intersection else "") + n for n in names])
for tab, name in zip(tabs, names):
    with tab:
        col = result.columns[name]
        if col.is_intersection:
            st.caption(f"Intersection of {' and '.join(col.columns)}: a model can be fair to each attribute alone and "
                       "still fail a combination of them (e.g. Black women).")
        render_column(col, result)

st.divider()
st.subheader("Threshold what-if")
st.info("**Analysis only — nothing here changes the model or its logged predictions.** It shows what per-group "
        "decision thresholds *would* do to each group's rates and to overall accuracy.", icon=":material/science:")
inputs = fairness.threshold_inputs(audit)
if inputs is None:
    st.caption("The what-if needs a binary model with a logged score (`columns.score`) and labels.")
    st.stop()
column = st.selectbox("Compare groups of", names, key=WHATIF_COLUMN_KEY,
                      help="Thresholds are set per group of this attribute (or intersection).")
groups = [g for g in result.columns[column].groups.index if not result.columns[column].groups.loc[g, "small"]]
small = result.columns[column].small_groups
thresholds = threshold_sliders(column, groups, inputs.threshold)
if small:
    st.caption(f"Small groups ({', '.join(small)}) keep the deployed threshold {inputs.threshold:g}.")
whatif_results(inputs, column, thresholds, result.min_group_size, result.positive_label)

st.markdown("**What would fairness cost?** fairlearn's `ThresholdOptimizer` finds the per-group thresholds that "
            "keep accuracy highest for each allowed gap.")
constraint = st.segmented_control(
    "Constraint", list(CONSTRAINTS), default="demographic_parity", key=WHATIF_CONSTRAINT_KEY,
    format_func=lambda c: {"demographic_parity": "Demographic parity", "true_positive_rate_parity": "Equal opportunity",
                           "equalized_odds": "Equalized odds"}[c],
    help="Demographic parity: equal selection rates. Equal opportunity: equal true positive rates. "
         "Equalized odds: equal true AND false positive rates (fairlearn has only the strict version; the curve mixes "
         "it with the deployed rule).") or "demographic_parity"
with st.spinner(f"Running fairlearn ThresholdOptimizer ({constraint.replace('_', ' ')})…"):
    tradeoff = fairness.tradeoff(audit, column, constraint)
tradeoff_view(tradeoff)
