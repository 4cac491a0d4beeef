"""Drift: is production still like the reference — inputs, outputs, outcomes and the link
between score and outcome — overall and window by window, and how is the model doing where
labels have not arrived yet?"""

import streamlit as st

from components import chart_view, router, state
from components import drift as ui
from components.cached import drift
from sightline.charts import drift as charts
from sightline.drift import DRIFT_WINDOWS, flagged_windows_text

router.ensure_routed()

audit = state.require_audit()
st.title("Drift")
st.caption("Production (the audited model's logged predictions) against the reference data it was validated on: "
           "inputs (covariate shift), scores (prediction drift), outcomes (label shift) and the link between score "
           "and outcome (concept drift). Hover any number or column name for what it means.")
section = ui.open_section(audit)
rep, prov = section.report, section.provenance
chart_of = {c.name: c.chart for c in section.charts}
ui.headline_metrics(rep, audit.spec.task)

# -- now vs reference ----------------------------------------------------------------------
st.subheader("Features now vs the reference")
features = ui.feature_table(rep["features"])
ui.chart_with_table(
    chart_of["drift_features"], features, "Per-feature table: evidently's test, statistic, threshold, PSI and what moved",
    caption=f"Bars: evidently's test score ÷ its threshold, so the dashed line at 1 is the threshold and a red bar, past "
            f"it, drifted; PSI is listed beside each bar. "
            f"{ui.sample_note(prov).capitalize()}. A significant difference is not always an important one — read the "
            f"'what moved' column. Thresholds come from the audit's `drift:` section.")
if rep.get("skipped_features"):
    st.caption("Not tested: " + "; ".join(f"`{s['feature']}` ({s['reason']})" for s in rep["skipped_features"]))
options = list(features["feature"]) + ([audit.spec.columns.score] if rep.get("prediction") and audit.has_score else [])
column = st.selectbox("Compare the distributions of", options, index=0, key="drift_feature",
                      help="Reference and production shares per bin, side by side (drifted features are listed first).")
row = next((r for r in rep["features"] if r["feature"] == column), rep.get("prediction") or {})
chart_view.show(st, charts.distribution_chart(drift.distribution(audit, column), column), width="content")
st.caption(f"**{column}**: {row.get('effect', '')}. Test: {row.get('method')}, "
           f"{'drifted' if row.get('drifted') else 'no drift'}; PSI {row.get('psi', 0):.3f}.")

# -- over time ------------------------------------------------------------------------------
st.subheader("Over time")
left, right = st.columns([2, 1])
default = prov["over_time"]["window"]
window = left.segmented_control("Window", list(DRIFT_WINDOWS), default=default, key="drift_window",
                                help="How production is cut into periods; the verdict above uses the audit's "
                                     f"drift.window ({default}).") or default
threshold = right.number_input("PSI threshold for a shifted feature", 0.01, 2.0, float(prov["over_time"]["psi_threshold"]),
                               0.05, key="drift_psi_threshold", help=ui.HELP["psi"])
with st.spinner(f"Cutting the log into {window}s…"):
    ot = drift.over_time(audit, window=window, psi_threshold=threshold)
w = ot.windows
if not len(w):
    st.info("The log has no timestamp column, so it cannot be cut into windows: map `columns.timestamp` in the audit. "
            "The comparison with the reference above and the feature checks below still work.")
else:
    ui.chart_with_table(
        charts.psi_heatmap(ot.psi, window), ot.psi, f"PSI table: every feature and {window}",
        caption=f"Darker = further from the reference. A dot marks a shift that is both large and real: "
                f"{ot.provenance['window_flag_rule']}. The last row is the model's score (prediction drift).")
    if (ot.missing["missing_rate"] > 0).any():
        ui.chart_with_table(charts.missing_heatmap(ot.missing, window), ot.missing, "Missing values table",
                            caption="Share of missing values per feature; a sudden change usually means a logging bug.")
st.markdown("**Feature changes, new categories and classes**")
ui.render_changes(ot, window)

# -- predictions and labels -------------------------------------------------------------------
pred = rep.get("prediction")
has_label_rates = bool(len(w)) and "positive_rate" in w.columns
if pred or has_label_rates:  # no heading over nothing
    st.subheader("Predictions and labels")
if "drift_score_distribution" in chart_of:
    chart_view.show(st, chart_of["drift_score_distribution"], width="content")
    st.caption(f"Prediction drift — {pred['effect']}; predicted-positive rate "
               f"{ui.pct(pred.get('reference_predicted_positive_rate'))} → {ui.pct(pred.get('current_predicted_positive_rate'))}. "
               f"Scores are watched even while labels are missing.")
elif pred:
    st.caption(f"Prediction drift (**{pred.get('column') or pred.get('feature')}**) — {pred.get('effect')}; "
               f"{'drifted' if pred.get('drifted') else 'no drift'} by {pred.get('method')}. "
               "Predictions are watched even while labels are missing.")
if has_label_rates:
    shifted = flagged_windows_text(w["window"], w["label_shift"], window)
    ui.chart_with_table(
        charts.label_rate_chart(w, window),
        w[["window", "labelled", "positive_rate", "expected_positive_rate", "label_tvd", "label_p_value", "label_shift"]],
        "Label table per window",
        caption=("Label shift — the share of positive outcomes changed — in " + shifted + "." if shifted else
                 "No window's outcome mix differs from the reference's.")
                + " When the observed rate leaves the rate the scores imply, the model did not see it coming.")

# -- concept drift ----------------------------------------------------------------------------
if len(w) and "est_accuracy" in w.columns:
    st.subheader("Concept drift: does a score still lead to the same outcome?")
    ui.chart_with_table(
        charts.performance_by_window_chart(w, window),
        w[["window", "rows", "coverage", "accuracy", "est_accuracy", "est_accuracy_lower", "est_accuracy_upper",
           "roc_auc", "est_roc_auc", "precision", "est_precision", "recall", "est_recall", "below_estimate"]],
        "Performance table per window (realised and estimated)",
        caption="Solid: measured on labelled rows. Dashed: estimated from the scores alone. "
                + (f"Realised accuracy fell clearly below the estimate in {flagged_windows_text(w['window'], w['below_estimate'], window)}: "
                   "there the same scores led to different outcomes than on the reference." if w["below_estimate"].any()
                   else "Realised accuracy stays within what the scores predict."))
    if len(ot.score_outcome) and ot.score_outcome["reference_rate"].notna().any():
        ui.chart_with_table(charts.score_outcome_chart(ot.score_outcome), ot.score_outcome, "Score → outcome table",
                            caption="Each cell: of the rows the model scored in that range, how many more (red) or fewer "
                                    "(blue) turned out positive than on the reference. A red column = the same scores now "
                                    "lead to more positive outcomes: P(outcome | score) changed.")
    sig = ot.segments[ot.segments["significant"]] if len(ot.segments) else ot.segments
    if len(sig):
        st.markdown("**Where outcomes departed from the scores** (beyond a uniform change of the base rate):")
        for _, s in sig.head(5).iterrows():
            st.markdown(f"- **{s['feature']} = {s['segment']}**, {window} of {s['window']}: {ui.pct(s['observed_rate'])} "
                        f"positive vs {ui.pct(s['expected_rate'])} expected ({s['n']:,} labelled rows, z = {s['z']:.1f})")
        with st.expander(f"Segment × {window} table (largest departures first)"):
            ui.show_table(ot.segments.head(200))
        st.caption(f"A segment counts when |z| ≥ {ot.segments.attrs.get('z_bound', float('nan')):.2f} (Bonferroni over every "
                   f"segment and {window} tested). Expected = calibrated score, adjusted for the {window}'s overall label shift "
                   "and the segment's own gap on the reference.")

# -- without labels ---------------------------------------------------------------------------
st.subheader("Without labels: estimated performance")
ui.render_label_free(rep.get("label_free"), ot)

with st.expander("How these numbers were obtained (provenance)"):
    st.json(prov | {"window_view": ot.provenance})
