"""Performance: how often the model is right, against naive baselines and other model versions,
and how the decision threshold trades precision for recall."""

import streamlit as st

from components import cache, router, state
from components import performance as ui
from components.verdicts import render_verdict
from sightline.core.section import AMBER, GREEN, RED

router.ensure_routed()

audit = state.require_audit()
task = audit.spec.task
st.title("Performance")
with st.spinner("Computing metrics, confidence intervals and curves…"):
    section = cache.section("performance", audit)
render_verdict(section)
if section.verdict.status not in (GREEN, AMBER, RED):
    st.stop()

rep, tables, prov = section.report, section.tables, section.provenance
charts = {c.name: c for c in section.charts}
version = f" of model **{rep['model_version']}**" if rep.get("model_version") else ""
st.markdown(f"Metrics use **{rep['labelled_rows']:,} of {rep['rows']:,}** predictions{version} whose true outcome "
            "has arrived; predictions still waiting for a label cannot be scored yet.")
st.caption(f"95% confidence intervals: {ui.interval_methods(tables['metrics'])}. Hover a number for what it means.")

headline = {"binary": ["roc_auc", "average_precision", "accuracy", "precision", "recall", "f1"],
            "multiclass": ["accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall"],
            "regression": ["mean_absolute_error", "root_mean_squared_error", "r2_score", "mean_error"]}[task]
ui.metric_cards(tables["metrics"], headline)

st.subheader("Against baselines")
source = rep["baselines"].get("prior_source") or rep["baselines"].get("source")
st.caption("A number means little alone: each metric sits next to what naive models score on the same labels "
           f"(their class shares or averages come from {source}).")
if "baselines" in charts:
    ui.show_chart(charts["baselines"].chart)
ui.show_table(ui.baseline_table(tables["metrics"], tables["baselines"]))
for v in rep["versions"]:
    how = (f"on the same **{v['n']:,}** labelled requests (joined on `{audit.spec.columns.id}`). A difference whose "
           "interval excludes 0 is more than chance." if v["paired"] else
           f"each on its own labelled rows (at least {v['n']:,} per version): they share no request, so a difference "
           "can also come from the traffic each version saw.")
    st.markdown(f"**{rep['model_version']} against {v['version']}**, {how}")
    ui.show_table(ui.versions_table({"version": v["version"], "metrics": tables["versions"].loc[v["version"]]},
                                    rep["model_version"]))

if task == "binary":
    if "roc_curve" in charts:
        st.subheader("Ranking quality")
        st.caption("Both curves sweep the threshold over every score. ROC: the closer to the top-left corner, the "
                   "better positives rank above negatives. Precision-recall: how precise the flagged set stays as "
                   "more positives are found (more telling when positives are rare). Dashed: random guessing; "
                   "orange dot: the threshold in use.")
        left, right = st.columns(2)
        for col, name in ((left, "roc_curve"), (right, "precision_recall_curve")):
            with col:
                ui.show_chart(charts[name].chart)
                with st.expander(f"{charts[name].title}: the points drawn"):
                    ui.show_table(charts[name].chart.layer[1].data)
        st.caption(prov["curves"].capitalize() + ".")
        st.subheader("Choosing the threshold")
        ui.threshold_explorer(rep)
    else:
        st.info("The log has no score column, so ROC and precision-recall curves and the threshold control are not "
                "available: map `columns.score` (the probability of the positive label) in the audit.")
        ui.show_chart(charts["confusion_matrix"].chart)
elif task == "multiclass":
    st.subheader("Per class")
    st.caption("Precision, recall and F1 of each class, with the number of true cases (support). Classes with "
               "little support have wide intervals (see the table).")
    ui.show_chart(charts["per_class"].chart)
    ui.show_chart(charts["confusion_matrix"].chart)
    with st.expander("Per-class table"):
        ui.show_table(tables["per_class"].reset_index())
    with st.expander("Confusion matrix table"):
        st.dataframe(tables["confusion_matrix"], width="stretch")
else:
    st.subheader("Where the error lives")
    st.caption("Predictions are split into ten bins holding equally many rows: a tall bar is a prediction range "
               "with large errors, an orange tick away from zero a range the model over- or under-predicts.")
    ui.show_chart(charts["error_by_bin"].chart)
    with st.expander("Error per prediction bin"):
        ui.show_table(tables["error_by_bin"])
    ui.show_chart(charts["residuals"].chart)
    st.caption("Error = predicted − actual (above zero: the model over-predicts). A funnel or curve shape means the "
               "error depends on the prediction.")

with st.expander("How these numbers were computed"):
    ui.show_table(tables["metrics"].reset_index())
    st.json(prov)
