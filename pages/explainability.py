"""Explainability: which inputs drive the predictions — overall, per prediction, per group, over time."""

import pandas as pd
import streamlit as st

from components import chart_view, router, state
from components.cached import explain
from components.explain import compute_result, drawn_text, render_local, render_provenance
from components.verdicts import render_verdict
from sightline.charts.explain import beeswarm_chart, dependence_chart, drawn_rows, group_importance_chart, importance_bar, importance_shift_chart
from sightline.explain import (
    DOMINANT_SHARE,
    NEGLIGIBLE_SHARE,
    NOTABLE_SHARE_GAP,
    global_importance,
    group_importance_table,
    importance_subtitle,
    largest_group_difference,
)

router.ensure_routed()

audit = state.require_audit()
st.title("Explainability")
st.caption("Which inputs drive the model's predictions, measured with **SHAP values**: for each prediction, how much each "
           "input pushed the output up or down from the average. Summed over inputs they add up to the prediction.")

result = compute_result(audit)
if result is None:
    st.stop()
section = explain.section(audit, result)
render_verdict(section)
render_provenance(result, audit)

importance = global_importance(result.current.values)
features = importance["feature"].tolist()
subtitle = importance_subtitle(result, audit.spec.positive_label)
is_surrogate = result.source == "surrogate"
tag = " (surrogate)" if is_surrogate else ""

# One view at a time: drawing all six at 1M rows (thousands of dots each) made the page slow to open.
VIEWS = {
    "importance": ("Overall importance", "Which inputs matter most, averaged over every explained prediction."),
    "distribution": ("Distribution", "Every explained prediction as a dot per input: how far, and which way, that input pushed it."),
    "dependence": ("Dependence", "How one input's effect on the output changes with the input's value."),
    "local": ("One prediction", "Why the model gave one logged prediction its output, input by input."),
    "group": ("By group", "Whether the model leans on different inputs for different groups of a sensitive attribute."),
    "shift": ("Reference vs current", "Whether what drives the model has changed between the reference data and the current log."),
}
view = st.segmented_control("View", list(VIEWS), format_func=lambda v: VIEWS[v][0], default="importance", required=True,
                            key="explain.view") or "importance"
st.caption(VIEWS[view][1])


if view == "importance":
    chart_view.show(st, importance_bar(importance, title="Which inputs drive the predictions" + tag, subtitle=subtitle), width="stretch")
    st.caption(f"Bar length: the average size of an input's push on the output (mean |SHAP value|); the label is its share of "
               f"the total. One input above {DOMINANT_SHARE:.0%} may be leaking the answer; inputs under {NEGLIGIBLE_SHARE:.1%} "
               "barely matter and are candidates for removal.")
    with st.expander("Table: importance per input"):
        st.dataframe(importance, hide_index=True, width="stretch",
                     column_config={"mean_abs_shap": st.column_config.NumberColumn("mean |SHAP|", format="%.4f"),
                                    "share": st.column_config.ProgressColumn("share of total", format="percent", min_value=0, max_value=1)})

elif view == "distribution":
    top = st.slider("Inputs shown", 3, len(features), min(10, len(features)), key="explain.beeswarm_top")
    shown, shown_data = drawn_rows(result.current.values, result.current.data)
    chart_view.show(st, beeswarm_chart(shown, shown_data, features[:top], subtitle=subtitle), width="stretch")
    st.caption("Each dot is one explained prediction. Right of the dashed line the input raised the output, left of it lowered it. "
               "Numeric inputs are coloured from low (blue) to high (orange) values — e.g. orange dots on the right mean high values "
               "raise the prediction. Categorical inputs are grey; hover a dot for its value." + drawn_text(len(shown), result.current.n))

elif view == "dependence":
    c1, c2 = st.columns(2)
    feature = c1.selectbox("Input", features, key="explain.dep_feature", help="The input whose effect is plotted.")
    others = ["(none)"] + [f for f in features if f != feature]
    second = c2.selectbox("Colour by", others, index=1 if len(others) > 1 else 0, key="explain.dep_color",
                          help="A second input: if dots of one colour lie higher than others at the same value, the two inputs interact.")
    shown, shown_data = drawn_rows(result.current.values, result.current.data)
    chart_view.show(st, dependence_chart(shown, shown_data, feature, None if second == "(none)" else second), width="stretch")
    shape = ("A rising cloud means higher values raise the prediction" if pd.api.types.is_numeric_dtype(result.current.data[feature])
             else "Categories are sorted by their average effect, lowest first")
    st.caption(f"How the model's use of **{feature}** changes with its value{tag}. {shape}; a wide vertical spread at one "
               "value means the effect depends on other inputs (the colour may show which)." + drawn_text(len(shown), result.current.n))

elif view == "local":
    render_local(result, audit)

elif view == "group":
    sensitive = [c for c in audit.sensitive if c in result.current.rows.columns]
    if not sensitive:
        st.info("No sensitive attributes are mapped: list them under `columns.sensitive` in the audit to compare groups.")
    else:
        column = st.selectbox("Sensitive attribute", sensitive, key="explain.group_column")
        table = group_importance_table(result.current, column, min_group_size=audit.spec.fairness.min_group_size)
        chart_view.show(st, group_importance_chart(table, column), width="stretch")
        diff = largest_group_difference(table)
        if diff:
            verdict = ("A notable difference: check whether it is justified." if diff["gap"] >= NOTABLE_SHARE_GAP
                       else "That is small: the model leans on much the same inputs for every group.")
            st.markdown(f"Largest difference: **{diff['feature']}** accounts for {diff['high_share']:.0%} of the importance for "
                        f"**{diff['high_group']}** but {diff['low_share']:.0%} for **{diff['low_group']}** "
                        f"({diff['gap'] * 100:.0f} percentage points){tag}. {verdict}")
        own = importance.set_index("feature")
        if column in own.index:
            rank = features.index(column) + 1
            st.caption(f"The model uses **{column}** itself as an input: it ranks #{rank} of {len(features)} with "
                       f"{own.loc[column, 'share']:.1%} of total importance{tag}.")
        st.caption(f"Shares are within each group, so groups of different size compare fairly. Faded columns have fewer than "
                   f"{audit.spec.fairness.min_group_size} rows in the {result.current.n:,}-row sample: too few to trust.")
        with st.expander("Table: importance per group"):
            st.dataframe(table, hide_index=True, width="stretch")

elif view == "shift":
    shift = section.tables.get("importance_shift")
    if shift is None:
        why = " ".join(n for n in result.notes if "reference" in n.lower())
        st.info(why or "No reference explanation: add a reference data set ('reference:' in the audit) to compare.")
    else:
        chart_view.show(st, importance_shift_chart(shift), width="stretch")
        moved = shift.reindex(shift["change"].abs().sort_values(ascending=False).index).iloc[0]
        st.markdown(f"Biggest change: **{moved['feature']}** went from {moved['reference_share']:.0%} of total importance in the "
                    f"reference data to {moved['current_share']:.0%} in the current log{tag}. "
                    + ("What drives the model has shifted: see the Drift page for the inputs behind it."
                       if abs(moved["change"]) >= NOTABLE_SHARE_GAP else "A small shift: what drives the model is stable."))
        st.caption(f"Both sides are explained the same way ({result.method}; {result.reference.n:,} reference rows, "
                   f"{result.current.n:,} current rows). A shift means the inputs changed (see Drift) or the model now meets "
                   "cases where other inputs decide.")
        with st.expander("Table: importance in reference and current data"):
            st.dataframe(shift, hide_index=True, width="stretch")
