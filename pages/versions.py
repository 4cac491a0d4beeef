"""Model versions: a shadow, canary or A/B candidate compared with the primary version on the same requests."""

import streamlit as st

from components import chart_view, router, state
from components.cached import versions
from components.operations import CANDIDATE_KEY, chart_with_table, ms_table, top_slice_sentence
from components.verdicts import render_verdict
from sightline.charts.versions import (
    agreement_over_time_chart,
    disagreement_band_chart,
    disagreement_slice_chart,
    latency_comparison_chart,
    metric_difference_chart,
    metric_effects,
    score_scatter_chart,
)
from sightline.core.errors import MissingInputError
from sightline.versions import NO_VERSION_COLUMN, ONE_VERSION, versions_verdict

router.ensure_routed()

audit = state.require_audit()
st.title("Model versions")
st.caption("Logs often hold more than one model: a challenger scored in shadow, a canary, an A/B split. "
           "Compared on the same requests, the difference is the model's, not the traffic's.")

if len(audit.versions) < 2:
    st.info(ONE_VERSION if audit.versions else NO_VERSION_COLUMN, icon="ℹ️")
    st.markdown("With two versions this page shows: **agreement** (how often they predict the same), **metric differences** "
                "with 95% confidence intervals on the requests whose label has arrived, **where they disagree** (by feature "
                "slice and score band), **score shift**, and **latency** side by side. Log the version name in a column "
                "and the request id in another, and map them as `columns.model_version` and `columns.id`.")
    st.stop()

others = [v for v in audit.versions if v != audit.primary_version]
candidate = st.session_state.get(CANDIDATE_KEY)
candidate = candidate if candidate in others else others[0]  # e.g. after opening another audit
try:
    with st.spinner("Comparing the versions on the same requests (bootstrap confidence intervals)…"):
        comp = versions.comparison(audit, candidate)
except MissingInputError as exc:
    st.info(str(exc), icon="ℹ️")
    st.stop()

render_verdict(versions_verdict(comp), title=f"{comp.candidate} vs {comp.baseline}")
if len(others) > 1:
    st.selectbox("Version to compare with the primary", others, key=CANDIDATE_KEY,
                 help=f"The primary (audited) version is {comp.baseline}; pick which other version to compare with it.")
for note in comp.notes:
    st.caption(f"ℹ️ {note}")

m = comp.metrics.set_index("metric") if comp.metrics is not None else None
c = st.columns(4)
if comp.agreement:
    c[0].metric("Same prediction", f"{comp.agreement['rate']:.1%}", help="Share of shared requests where both versions predicted "
                f"the same class ({comp.agreement['n']:,} requests; needs no labels).")
for col, name, title in ((c[1], "accuracy", "Accuracy change"), (c[2], "roc_auc", "ROC AUC change")):
    if m is not None and name in m.index:
        r = m.loc[name]
        col.metric(title, f"{r['difference'] * (100 if name == 'accuracy' else 1):+.{1 if name == 'accuracy' else 3}f}"
                   + (" pts" if name == "accuracy" else ""), help=f"{comp.candidate} minus {comp.baseline} on {int(r['n']):,} "
                   f"labelled shared requests; 95% CI {r['lower']:+.3f} to {r['upper']:+.3f}.")
if comp.latency is not None:
    p99 = comp.latency["p99_ms"]
    c[3].metric("p99 latency", f"{p99.iloc[-1]:,.0f} ms", f"{p99.iloc[-1] - p99.iloc[0]:+,.0f} ms", delta_color="inverse",
                help=f"99th percentile of {comp.candidate}'s latency on the same requests; the change is against {comp.baseline}.")

if m is not None and len(m):
    st.subheader("Is it better?")
    effects = metric_effects(comp).drop(columns=["label"]).round(4)
    if "higher_is_better" in effects.columns:  # a metric with no better direction (selection rate) reads "—", not None
        effects["higher_is_better"] = effects["higher_is_better"].map({True: "yes", False: "no"}).fillna("—")
    chart_with_table(metric_difference_chart(comp), effects,
                     "Each dot is how much the metric changes if the candidate replaces the primary model; the bar is its "
                     "95% confidence interval. An interval that crosses the dashed zero line means the data cannot yet tell "
                     "the two apart. Selection rate is how often the model predicts the positive class.",
                     label="Metric differences, intervals and methods")

if comp.paired and comp.agreement:
    st.subheader("Where do they disagree?")
    o = comp.disagreement_outcome
    if o.get("disagreements"):
        st.markdown(f"On the {o['disagreements']:,} labelled requests where their predictions differ, **{comp.candidate} was right "
                    f"{o['candidate_right']:,} times** and {comp.baseline} {o['baseline_right']:,} times.")
    if top_slice_sentence(comp):
        st.markdown(top_slice_sentence(comp))
    if comp.by_band is not None:
        chart_with_table(disagreement_band_chart(comp), comp.by_band.round(4),
                         "Disagreement by the primary model's score. Near the decision threshold a small score change flips "
                         "the prediction, so some disagreement there is expected; disagreement far from it means the models "
                         "see those requests differently.", label="Disagreement per score band")
    if comp.by_slice is not None and (~comp.by_slice["small"]).any():
        chart_with_table(disagreement_slice_chart(comp), comp.by_slice.round(4),
                         f"Groups of requests (one feature, or two together) where the predictions differ most, with 95% "
                         f"intervals. Groups under {comp.provenance.get('min_slice_size')} requests are left out of the chart "
                         "(marked small in the table). A group far above the dashed line is where one model changed "
                         "behaviour — check which one is right there.", label="Disagreement per slice (all slices)")
    col1, col2 = st.columns([1, 1])
    with col1:
        if comp.scatter is not None and len(comp.scatter):
            chart_view.show(st, score_scatter_chart(comp, audit.spec.threshold if audit.spec.task == "binary" else None))
    with col2:
        s = comp.scores
        if s:
            st.markdown(f"**Scores**: correlation {s['pearson']:.3f} (Spearman {s['spearman']:.3f}); mean score "
                        f"{s['mean_baseline']:.3f} → {s['mean_candidate']:.3f} (shift {s['mean_shift']:+.4f}, 95% CI "
                        f"{s['lower']:+.4f} to {s['upper']:+.4f}); {s['share_moved_over_0_1']:.1%} of requests moved by more than 0.1.")
            st.caption(f"Points near the diagonal got the same score from both; red points got different predictions. "
                       f"A random sample of {comp.provenance.get('scatter_rows', 0):,} of {comp.n_shared:,} requests is drawn.")
    if comp.by_window is not None and len(comp.by_window) > 1:
        chart_with_table(agreement_over_time_chart(comp), comp.by_window.round(4),
                         "Agreement over time, on every shared request (labels not needed): a sudden drop means the inputs "
                         "changed in a way the two models read differently.", label="Agreement per window")

if comp.latency is not None:
    st.subheader("Is it fast enough?")
    chart_with_table(latency_comparison_chart(comp), ms_table(comp.latency.reset_index()),
                     f"Latency percentiles of both versions on the same requests. The median {comp.candidate} request took "
                     f"{comp.latency['median_ratio_to_baseline'].iloc[-1]:.2f}× as long as the same request on {comp.baseline}."
                     if "median_ratio_to_baseline" in comp.latency else "Latency percentiles of both versions.",
                     label="Latency percentiles (ms)")

with st.expander("How this comparison is computed"):
    st.json(comp.provenance, expanded=False)
    st.caption("Accuracy and selection rate: Newcombe's hybrid score interval for paired proportions and McNemar's exact test. "
               "Precision, recall, F1, ROC AUC: percentile bootstrap over requests (resampling pairs). Brier score and score "
               "shift: t interval on per-request differences. Slices: Wilson intervals.")
