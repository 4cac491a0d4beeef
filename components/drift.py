"""Streamlit pieces of the Drift page: headline numbers, readable tables, findings, the
label-free estimate. No statistics here: everything comes from :mod:`sightline.drift.section` results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components import cache, chart_view
from components.verdicts import render_verdict
from sightline.charts.drift import reliability_chart
from sightline.core.errors import SightlineInputError
from sightline.core.numbers import SCORE, format_value, guess_unit
from sightline.core.section import AMBER, GREEN, RED, Section
from sightline.core.vocabulary import metric_label, metric_name
from sightline.drift import drift_settings

# Plain-language definitions (tooltips and captions).
HELP = {
    "psi": "Population stability index: how much the share of rows per bin moved from the reference to production. "
           "Below 0.1 little change, 0.1–0.25 a moderate shift, above 0.25 a major one. Computed on all rows.",
    "method": "The test evidently picked (or the audit set): Wasserstein distance (numbers) and Jensen–Shannon distance "
              "(categories) for references over 1,000 rows; K-S, chi-square or Z-test p-values for smaller ones.",
    "statistic": "The test's distance between reference and production (0 = identical). Drifted when ≥ the threshold.",
    "p_value": "For significance tests: the chance of a difference this large if nothing changed. Drifted when < the threshold.",
    "drift_share": "Share of features whose test says 'drifted'. The dataset counts as drifted at or above the audit's "
                   "drift_share (evidently's default 0.5).",
    "coverage": "Share of predictions whose true outcome has arrived.",
    "estimate": "Estimated from the scores alone (confidence-based, like NannyML's CBPE): it assumes a score of 0.7 still "
                "comes true 70% of the time. It cannot see concept drift or label shift.",
}
WINDOW_WORDS = {"day": "day", "week": "week", "month": "month"}


def open_section(audit) -> Section:
    """The drift Section (cached), or stop the page with what is missing or wrong."""
    try:
        drift_settings(audit)  # bad drift: settings are the user's to fix, not an internal error
        with st.spinner("Comparing production with the reference (evidently tests, PSI, windows)…"):
            section = cache.section("drift", audit)
    except SightlineInputError as exc:
        st.error(f"**Drift cannot run as configured.** {exc}")
        st.caption("Fix the `drift:` section of the audit file on the **Data & audit file** page.")
        st.stop()
    render_verdict(section)
    if section.verdict.status not in (GREEN, AMBER, RED):
        st.stop()
    return section


def pct(x, digits: int = 1) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}%}"


def headline_metrics(report: dict, task: str = "binary") -> None:
    """Four numbers a stakeholder reads first. ``task``: the audit's task (a binary model's mean
    score is a probability; a regression's mean prediction is in the target's units; a
    multiclass model has no mean, only its class mix)."""
    ds, pred, label, lf = report["dataset"], report.get("prediction") or {}, report.get("label") or {}, report.get("label_free") or {}
    c = st.columns(4)
    c[0].metric("Features drifted", f"{ds['n_drifted']} of {ds['n_features']}", help=HELP["drift_share"],
                delta=f"dataset drift: {'yes' if ds['drifted'] else 'no'}", delta_color="off", delta_arrow="off")
    test = f"Test: {pred.get('method')} → {'drifted' if pred.get('drifted') else 'no drift'}; PSI {pred.get('psi') or 0:.3f}."
    mean, ref_mean = pred.get("current_mean"), pred.get("reference_mean")
    if pred and mean is not None and np.isfinite(mean):
        unit = SCORE if task == "binary" else guess_unit(pred.get("column") or pred.get("feature"))
        change = mean - ref_mean if ref_mean is not None and np.isfinite(ref_mean) else None
        c[1].metric("Mean score" if task == "binary" else "Mean prediction", format_value(mean, unit),
                    delta=None if change is None else f"{'+' if change >= 0 else '−'}{format_value(abs(change), unit)} vs reference",
                    delta_color="off", delta_arrow="off",
                    help=("Prediction drift: the model's average probability of the positive class, production vs reference. "
                          if task == "binary" else "Prediction drift: the model's average prediction, production vs reference. ")
                         + test)
    elif pred:
        c[1].metric("Predicted classes", "shifted" if pred.get("drifted") else "steady", delta=pred.get("effect"),
                    delta_color="off", delta_arrow="off", help="Prediction drift: the mix of predicted classes, production vs "
                                                               "reference. " + test)
    if label.get("current_positive_rate") is not None:
        c[2].metric("Positive rate (labelled)", pct(label["current_positive_rate"]),
                    delta=f"{(label['current_positive_rate'] - label['reference_positive_rate']) * 100:+.1f} pts vs reference",
                    delta_color="off", delta_arrow="off",
                    help="Label drift: share of positive outcomes among predictions whose label arrived.")
    est = lf.get("estimate_unlabelled")
    if est:
        c[3].metric("Accuracy, unlabelled", "≈ " + pct(est["accuracy"]), delta=f"estimate · {lf['unlabelled_rows']:,} rows",
                    delta_color="off", delta_arrow="off", help="Estimated accuracy of the predictions still waiting for "
                                                               "labels. " + HELP["estimate"])


def sample_note(prov: dict) -> str:
    """How evidently's rows were chosen, in one sentence."""
    ev = prov["evidently"]
    how = ("computed by Sightline's numpy/scipy copy of them, tested equal to evidently's own Report"
           if str(ev.get("implementation", "")).startswith("sightline") else "run by evidently's Report")
    if ev["sampled"]:
        return (f"evidently {ev['version']}'s tests ran on a seeded random sample of {ev['current_sample']:,} of "
                f"{prov['current_rows']:,} production rows and {ev['reference_sample']:,} of {prov['reference_rows']:,} "
                f"reference rows (drift.sample_size = {ev['sample_size']:,}, seed {ev['seed']}; {how}); PSI and effects "
                "use every row")
    return (f"evidently {ev['version']}'s tests ran on all {prov['current_rows']:,} production rows of "
            f"{prov.get('model_version') or 'the model'} and all {prov['reference_rows']:,} reference rows ({how})")


def _test_result(row: pd.Series) -> str:
    """A test's outcome as one cell: a p-value test's p, or a distance test's statistic."""
    p, stat = row.get("p_value"), row.get("statistic")
    if p is not None and np.isfinite(p):
        return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    if stat is not None and np.isfinite(stat):
        return f"distance {format_value(stat)}"
    return "not tested"


def feature_table(features: list[dict]) -> pd.DataFrame:
    """The per-feature rows with plain column names, drifted first; a test gives either a p-value
    or a distance, so both are one "result" column (no empty cells)."""
    df = pd.DataFrame(features)
    df = df.sort_values(["drifted", "psi"], ascending=[False, False])
    if len(df) and {"statistic", "p_value"} <= set(df.columns):
        df["statistic"], df["p_value"] = pd.to_numeric(df["statistic"], errors="coerce"), pd.to_numeric(df["p_value"], errors="coerce")
        df.insert(int(df.columns.get_loc("statistic")), "result", df.apply(_test_result, axis=1))
        df = df.drop(columns=["statistic", "p_value"])
    return df.rename(columns={"method": "test (evidently)", "p_value": "p-value", "effect": "what moved"})


def show_table(df: pd.DataFrame, fmt: str = "%.3f", **kwargs) -> None:
    config = {c: st.column_config.NumberColumn(c, format=fmt) for c in df.columns if pd.api.types.is_float_dtype(df[c])}
    config |= {c: st.column_config.NumberColumn(c, help=HELP[k], format="%.3g")
               for c, k in (("statistic", "statistic"), ("p-value", "p_value")) if c in df.columns}
    if "psi" in df.columns:
        config["psi"] = st.column_config.NumberColumn("PSI", help=HELP["psi"], format="%.3f")
    st.dataframe(df, hide_index=True, width="stretch", column_config=config, **kwargs)


def chart_with_table(chart, table: pd.DataFrame, label: str, caption: str | None = None) -> None:
    """A chart, its plain-language caption, and its numbers in an expander."""
    chart_view.show(st, chart, width="content")
    if caption:
        st.caption(caption)
    with st.expander(label):
        show_table(table)


def render_changes(ot, window: str) -> None:
    """Feature changes, categories and classes the reference never had, each as a sentence."""
    changes, unseen, schema = ot.feature_changes, ot.unseen, ot.label_schema
    if not len(changes) and not len(unseen) and not len(schema):
        st.success("No unit, type or content change, and no category or class the reference lacks.")
        return
    for _, r in changes.iterrows():
        box = st.error if r["change"] in ("unit_change", "scale_change", "type_change", "empty") else st.warning
        box(r["message"], icon=":material/build:")
    for _, r in schema.iterrows():
        st.error(f"Label-schema change: the {r['role']} column '{r['column']}' holds class '{r['class']}' "
                 f"({r['rows']:,} rows, first {r['first_window'] or 'in the log'}) that the reference never had.", icon=":material/label:")
    if len(unseen):
        big = unseen[unseen["first_window_share"].fillna(unseen["share"]) >= 0.01]
        for _, r in big.iterrows():
            when = f" from the {WINDOW_WORDS[window]} of {r['first_window']}" if r["first_window"] else ""
            st.warning(f"New category in **{r['feature']}**: '{r['category']}' appears{when} "
                       f"({pct(r['first_window_share'])} of that {WINDOW_WORDS[window]}, {r['rows']:,} rows in all); the "
                       f"reference never had it, so the model has never learned what it means.", icon="🆕")
        with st.expander(f"Every category the reference never had ({len(unseen)})"):
            show_table(unseen.rename(columns={"share": "share of all rows", "first_window_share": "share of first window"}))


def render_label_free(lf: dict | None, ot) -> None:
    """The estimate over unlabelled rows, its assumption, and the calibration it relies on."""
    if not lf:
        st.info("Label-free estimation needs a binary task with a score column and a labelled reference.")
        return
    est, cal = lf.get("estimate_unlabelled"), lf.get("calibration") or {}
    if est:
        st.markdown(f"**{lf['unlabelled_rows']:,} predictions are still waiting for labels.** Their performance, "
                    f"*estimated* from the scores alone (≈):")
        c = st.columns(5)
        for col, key in zip(c, ("accuracy", "precision", "recall", "f1", "roc_auc")):
            col.metric(metric_label(key), f"≈ {est[key]:.3f}",
                       help=f"Estimated {metric_name(key)} (≈ marks an estimate). " + HELP["estimate"])
        st.caption(f"If the scores are calibrated, the realised accuracy of these rows should land between "
                   f"{pct(est['accuracy_lower'])} and {pct(est['accuracy_upper'])} (95%). "
                   f"Reference accuracy: {pct((lf.get('reference') or {}).get('accuracy'))}; realised on labelled production "
                   f"rows: {pct((lf.get('realised_labelled') or {}).get('accuracy'))} (estimated there: "
                   f"{pct((lf.get('estimate_labelled') or {}).get('accuracy'))}).")
    else:
        st.success("Every prediction has its label: nothing to estimate.")
    left, right = st.columns([1, 1])
    rel = pd.DataFrame(lf.get("reference_reliability") or [])
    if len(rel):
        chart_view.show(left, reliability_chart(rel), width="content")
    right.markdown(f"**What the estimate assumes.** {lf['assumption'][0].upper() + lf['assumption'][1:]}.")
    if cal.get("reference_ece") is not None:
        right.markdown(f"On the reference the raw scores' {metric_name('expected_calibration_error')} is **{cal['reference_ece']:.3f}** "
                       f"(the average gap between score and outcome rate, weighted by rows; left). Before estimating, "
                       f"{cal['note']} (ECE {cal['reference_ece_after']:.3f} on those same rows, by construction).")
    right.caption("Where labels exist, the performance chart above compares realised (solid) with estimated (dashed) accuracy: where "
                  "the realised line drops below the grey band, the scores stopped meaning what they meant on the "
                  "reference — the estimate is not to be trusted there, and the gap itself is evidence of concept drift.")
