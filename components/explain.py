"""Streamlit pieces of the Explainability page: computing with progress, the provenance line,
and the one-prediction explainer (picker + waterfall). No statistics here."""

from __future__ import annotations

import math

import streamlit as st

from components import chart_view
from components.cached import explain
from sightline.charts.explain import waterfall_chart
from sightline.core.errors import SightlineInputError
from sightline.data.audit import Audit
from sightline.explain import SPACE_TEXT, ExplainResult, find_row, output_space_text

ROW_KEY = "explain.row_id"          # the id typed in the "one prediction" view
ERROR_PICK_KEY = "explain.error_pick"  # the confident error picked from the list


def compute_result(audit: Audit) -> ExplainResult | None:
    """The audit's explanations, showing a progress bar while SHAP runs (cached afterwards);
    None, with the reason shown, when the input does not allow explanations."""
    with st.status("Computing SHAP explanations…", expanded=False) as status:
        bar = st.progress(0.0, text="Preparing the explainer…")

        def progress(fraction: float, text: str) -> None:
            bar.progress(min(1.0, max(0.0, fraction)), text=text)

        try:
            result = explain.result(audit, progress)
        except SightlineInputError as exc:
            status.update(label="Explanations unavailable", state="error", expanded=True)
            st.error(f"**Explanations could not be computed.** {exc}")
            return None
        bar.empty()
        status.update(label=f"Explanations ready — {result.label}", state="complete")
    return result


def render_provenance(result: ExplainResult, audit: Audit) -> None:
    """How the numbers were obtained: explainer, sample, output space, additivity, fidelity."""
    positive = audit.spec.positive_label
    if result.source == "surrogate":
        fid = result.fidelity
        text = (f"**Surrogate explanations.** No model file or logged SHAP values are available, so Sightline explains "
                f"a {result.explained} instead; {fid.sentence()}.")
        (st.warning if fid.low else st.info)(text + (" Fidelity is low: rankings are rough." if fid.low else ""), icon=":material/content_copy:")
    cols = st.columns([1.4, 1, 1, 1])
    cols[0].metric("Explainer", result.method, help=f"Explains {result.explained}. TreeExplainer and LinearExplainer are exact; "
                   "permutation SHAP is model-agnostic and approximate; 'logged SHAP values' were computed by the serving system.")
    cols[1].metric("Rows explained", f"{result.current.n:,}", help=f"A random sample of {result.current.population:,} logged rows of the "
                   f"primary model, stratified by {result.stratified_by or 'nothing (no predictions logged)'}, seed {result.settings.seed}. "
                   "Set explain.sample_size in the audit to change it.")
    cols[2].metric("Output explained", SPACE_TEXT[result.output_space], help="SHAP values are in this unit: " + output_space_text(result, positive))
    if result.additivity is not None:
        cols[3].metric("Additivity", "holds ✓" if result.additivity.holds else "fails ✗",
                       help="SHAP values of a row plus the base value must add up to the model's output. " + result.additivity.sentence())
    if result.additivity is not None and not result.additivity.holds:
        st.warning(result.additivity.sentence(), icon=":material/warning:")
    if result.score_match is not None and result.score_match < 0.99:
        st.caption(f"ℹ️ The model file reproduces the logged score (within 0.01) for {result.score_match:.1%} of the explained rows: "
                   "for the rest, the served score came from somewhere else (see Slices/Performance), so explanations describe the file, not what was served.")
    for note in result.notes:
        st.caption(f"ℹ️ {note}")


def drawn_text(drawn: int, explained: int) -> str:
    """' 500 of 2,000 explained rows drawn …' when a dot chart shows fewer rows than were explained, else ''."""
    if drawn >= explained:
        return ""
    return (f" {drawn:,} of {explained:,} explained rows drawn (a seeded random subset, so the page stays quick); "
            "the importance figures use all of them.")


def sigmoid_text(value: float, space: str) -> str:
    """' (probability 77%)' for a log-odds value, else ''."""
    if space != "log-odds" or not math.isfinite(value):
        return ""
    return f" (probability {1 / (1 + math.exp(-value)):.0%})"


def logged_score(audit: Audit, row_id: str) -> float | None:
    """The logged score of the prediction ``row_id`` (binary audits with scores), else None.
    Looked up once per view: finding a row by id reads the whole id column (0.4 s at 1M rows)."""
    if not audit.has_score:
        return None
    return float(audit.y_score(find_row(audit, row_id))[0])


def logged_score_text(score: float | None) -> str:
    """' (logged score 0.97)' for a known logged score, else ''."""
    return f" (logged score {score:.2f})" if score is not None and math.isfinite(score) else ""


def _served_mismatch(result: ExplainResult, local, logged: float | None) -> str | None:
    """A warning when the logged score of this row is not what the explained model computes."""
    if result.source == "precomputed" or result.output_space not in ("log-odds", "probability") or logged is None:
        return None
    ours = 1 / (1 + math.exp(-local.output)) if result.output_space == "log-odds" else local.output
    if not math.isfinite(logged) or abs(logged - ours) <= 0.05:
        return None
    if result.source == "surrogate":
        return (f"The surrogate gives this prediction {ours:.2f}, far from its logged score {logged:.2f}: the surrogate "
                "mimics this row poorly, so read its explanation with care.")
    return (f"The logged score of this prediction ({logged:.2f}) is not what the model file computes for its inputs "
            f"({ours:.2f}): what was served did not come from this model, so this explanation describes the file only.")


def render_local(result: ExplainResult, audit: Audit) -> None:
    """Pick a logged prediction (by id, or from the most confident errors) and show its waterfall."""
    errors = explain.confident_errors(audit, 10)
    left, right = st.columns([3, 2])
    picked = None
    if len(errors):
        options = [f"{r.id} · {r.kind.split(' (')[0]} · score {r.score:.2f} · actual {r.actual}" for r in errors.itertuples()]
        pick = left.selectbox("Most confident errors among labelled predictions", options, key=ERROR_PICK_KEY,
                              help="False positives with the highest scores and false negatives with the lowest: "
                                   "where the model was surest and wrong.")
        picked = pick.split(" · ")[0]
    else:
        left.caption("No labelled errors to list (labels have not arrived, or every labelled prediction is right).")
    id_col = audit.spec.columns.id
    first = str(result.current.rows[id_col].iloc[0]) if id_col else str(result.current.rows.index[0])
    typed = right.text_input("…or any prediction id", key=ROW_KEY, placeholder=picked or first,
                             help=f"A value of the id column '{id_col}'." if id_col else "The row number in the log.")
    row_id = typed.strip() or picked or first
    try:
        local = explain.row(audit, result, row_id)
    except SightlineInputError as exc:
        st.error(str(exc))
        return
    space = result.output_space
    unit = SPACE_TEXT[space] + (" (surrogate)" if result.source == "surrogate" else "")
    chart_view.show(st, waterfall_chart(local, output_label=unit, explained_by=" (surrogate)" if result.source == "surrogate" else ""),
                    width="stretch")
    score = logged_score(audit, local.row_id)
    st.caption(f"Prediction **{local.row_id}**{logged_score_text(score)}: the average output (SHAP's base value) is {local.base_value:.3f}"
               f"{sigmoid_text(local.base_value, space)}; this row's inputs move it to {local.output:.3f}{sigmoid_text(local.output, space)}. "
               "Red bars pushed this prediction up, blue bars down; the longest bars matter most.")
    served = _served_mismatch(result, local, score)
    if served:
        st.warning(served, icon=":material/warning:")
    with st.expander("Table: this prediction's inputs and SHAP values"):
        table = local.values.rename("SHAP value").to_frame()
        table.insert(0, "input value", local.data.astype(str))
        st.dataframe(table, width="stretch")
