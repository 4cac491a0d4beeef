"""Calibration: when the model says 70%, does it come true about 70% of the time — overall and
for each group?"""

import streamlit as st

from components import cache, router, state
from components import performance as ui
from components.cached import calibration
from components.verdicts import render_verdict
from sightline.calibration import MIN_BIN_COUNT, overall_and_groups
from sightline.charts.calibration import group_reliability_chart, reliability_chart
from sightline.core.section import AMBER, GREEN, RED
from sightline.core.vocabulary import metric_label
from sightline.stats.reliability import STRATEGIES, describe_bins

router.ensure_routed()

GROUP_COLUMNS = {"n": "rows", "brier_score": metric_label("brier_score"), "expected_calibration_error": metric_label("expected_calibration_error"),
                 "ece_lower": "ECE low", "ece_upper": "ECE high", "ece_if_calibrated": "ECE by chance", "p_value": "p (calibrated)",
                 "maximum_calibration_error": metric_label("maximum_calibration_error"), "mean_predicted": "mean predicted", "fraction_positive": "came true",
                 "reliable": "enough rows"}

audit = state.require_audit()
st.title("Calibration")
with st.spinner("Binning predictions and bootstrapping intervals…"):
    section = cache.section("calibration", audit)
render_verdict(section)
if section.verdict.status not in (GREEN, AMBER, RED):
    st.stop()
prov = section.provenance
for note in prov.get("notes", []):
    st.warning(f"Audit file: {note}.")

st.caption("A calibrated model's scores can be read as probabilities: of all cases scored about 0.7, about 70% turn "
           "out positive. That matters whenever someone acts on the number itself (a risk estimate, an expected "
           "cost), not only on the ranking.")
c1, c2, c3 = st.columns(3)
strategy = c1.radio("Bins", STRATEGIES, index=STRATEGIES.index(prov["strategy"]), horizontal=True,
                    format_func={"uniform": "equal width", "quantile": "equal count"}.get,
                    help="Equal width: bins 0–0.1, 0.1–0.2, … (the usual ECE). Equal count: each bin holds about the same "
                         "number of predictions, so sparse score ranges get no tiny, noisy bins.")
n_bins = c2.slider("Number of bins", 5, 20, value=min(max(prov["n_bins"], 5), 20),
                   help="More bins show more detail but each holds fewer predictions (noisier).")
sensitive = audit.sensitive
options = sensitive + [f for f in audit.features if f not in sensitive]
flagged = [f["column"] for f in section.report.get("flagged_groups", []) if f["column"] in options]
column = c3.selectbox("Compare groups of", options, index=options.index(flagged[0]) if flagged else 0,
                      help="Sensitive attributes first; numeric columns are split into four quantile bins.") if options else None
with st.spinner("Computing calibration for this choice…"):
    result = calibration.view(audit, n_bins=n_bins, strategy=strategy, column=column)

version = f" of model **{result.model_version}**" if result.model_version else ""
what = ("the outcome is whether the predicted class was right and the probability is the model's confidence in it "
        "(top-label calibration)" if result.kind == "top_label" else f"the outcome is {result.outcome}")
st.markdown(f"Uses **{result.scored_rows:,}** labelled predictions{version} with a score, of {result.rows:,} logged; "
            f"{what}. Bins: {describe_bins(result.n_bins, result.strategy)}.")
m = result.metrics
ui.metric_cards(m, ["brier_score", "expected_calibration_error", "maximum_calibration_error"] if result.kind == "binary"
                else ["expected_calibration_error", "maximum_calibration_error"])
ece = m.loc["expected_calibration_error", "value"]
real = ("so the gap is real, not noise" if result.p_value < 0.05 else "so this gap may well be noise")
st.caption(f"On average the model predicts **{result.mean_predicted:.1%}**; **{result.fraction_positive:.1%}** came true. "
           f"Even a perfectly calibrated model shows an ECE of about {result.ece_if_calibrated:.3f} on "
           f"{result.scored_rows:,} rows by chance; {ece:.3f} is observed, {real} "
           f"({'p < 0.01' if result.p_value < 0.01 else f'p = {result.p_value:.2f}'}).")

left, right = st.columns([3, 2])
with left:
    ui.show_chart(reliability_chart(result.table, scheme=result.scheme))
with right:
    st.markdown("**How to read it**")
    st.markdown("- Each dot is one bin of predictions: across, their average predicted probability; up, the share that "
                "came true. Bigger dots hold more predictions; the vertical lines are 95% intervals.\n"
                "- On the dashed diagonal the scores are honest. **Below** it the model is over-confident "
                "(predicts more than happens); **above**, under-confident.\n"
                "- The bars below count the predictions per bin: a bin with few predictions says little.")
with st.expander("Reliability table (per bin)"):
    ui.show_table(result.table)

if column:
    summary, _ = result.groups[column]
    st.subheader(f"By {column}")
    shown = summary[summary["reliable"]]
    st.caption(f"Every group is binned with the same edges as all rows. Groups under {result.min_group_size} rows are "
               "greyed out in the table and left off the chart and the verdict; at most 8 groups are drawn, largest "
               f"first, and a group's bins with fewer than {MIN_BIN_COUNT} predictions are not drawn. Small groups "
               "zig-zag by chance: 'ECE by chance' and 'p (calibrated)' in the table say whether a gap is more than noise.")
    if len(shown):
        ui.show_chart(group_reliability_chart(overall_and_groups(result, column), column=column))
    else:
        st.info(f"No group of {column} has {result.min_group_size} or more labelled rows.")
    table = summary.reset_index().rename(columns=GROUP_COLUMNS)
    grey = table.style.apply(lambda r: ["color: #9e9e9e" if not r["enough rows"] else ""] * len(r), axis=1)
    st.dataframe(grey.format({c: "{:.3f}" for c in table.columns if table[c].dtype.kind == "f"} | {"rows": "{:,}"}),
                 hide_index=True, width="stretch", column_config={
                     "ECE by chance": st.column_config.Column(help="ECE a perfectly calibrated model would show on this group's predictions."),
                     "p (calibrated)": st.column_config.Column(help="Chance of an ECE this large if the group were perfectly calibrated; "
                                                               "small means the miscalibration is real.")})

with st.expander("How these numbers were computed"):
    ui.show_table(m.reset_index())
    st.json(prov)
