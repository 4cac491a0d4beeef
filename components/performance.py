"""Streamlit pieces of the Performance and Calibration pages: metric cards with intervals and
plain-language definitions, the model-vs-baselines table, the threshold explorer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components import chart_view
from sightline.charts.performance import confusion_chart, threshold_chart
from sightline.core.vocabulary import metric, metric_label
from sightline.performance import confusion_from_counts, confusion_long

BASELINE_NAMES = {
    "majority_class": "Majority class (zero rule)", "class_prior_random": "Random (class shares)",
    "predict_mean": "Always the mean", "predict_median": "Always the median",
}
BASELINE_HELP = {
    "majority_class": "Always predicts the most common class; its probability is the class share.",
    "class_prior_random": "Guesses at random with each class's share; its probability is the class share.",
    "predict_mean": "Always predicts the average target value.",
    "predict_median": "Always predicts the median target value.",
}


def interval_methods(metrics: pd.DataFrame) -> str:
    """How each interval was obtained, grouped: 'Wilson score interval: Accuracy, Precision; …'."""
    groups: dict[str, list[str]] = {}
    for name, method in metrics["method"].items():
        groups.setdefault(str(method), []).append(metric_label(name))
    return "; ".join(f"{method} for {', '.join(names)}" for method, names in groups.items())


def ci_text(row) -> str:
    """'95% CI 0.886–0.899', or '' when the interval is unknown."""
    lo, hi = row.get("lower"), row.get("upper")
    if lo is None or hi is None or not np.isfinite(lo) or not np.isfinite(hi):
        return ""
    return f"95% CI {lo:.3f}–{hi:.3f}"


def metric_cards(metrics: pd.DataFrame, names: list[str]) -> None:
    """One ``st.metric`` per metric (value, its 95% interval below, the definition and the
    interval method as tooltip)."""
    names = [m for m in names if m in metrics.index]
    cols = st.columns(len(names)) if names else []
    for col, name in zip(cols, names):
        row = metrics.loc[name]
        with col:
            st.metric(metric_label(name), f"{row['value']:.3f}" if np.isfinite(row["value"]) else "—",
                      help=f"{metric(name).help} Interval: {row.get('method', '')}; n = {int(row['n']):,}.")
            st.caption(ci_text(row) or "no interval")


def _num(x) -> str:
    return f"{x:.3f}" if x is not None and np.isfinite(x) else "undefined"


def baseline_table(metrics: pd.DataFrame, baselines: pd.DataFrame) -> pd.DataFrame:
    """Model vs baselines as text, one row per metric: model value, its interval, each baseline,
    and what the metric means ("undefined": e.g. the precision of a model that never predicts
    the positive class). Versions go in their own table: they are compared on other rows."""
    rows = []
    for name in metrics.index:
        row = {"metric": metric_label(name), "model": _num(metrics.loc[name, "value"]),
               "95% CI": ci_text(metrics.loc[name]).replace("95% CI ", "")}
        for b in baselines.columns:
            row[BASELINE_NAMES.get(b, b)] = _num(baselines.loc[name, b]) if name in baselines.index else ""
        row["what it means"] = metric(name).help
        rows.append(row)
    return pd.DataFrame(rows)


def versions_table(version: dict, primary: str | None) -> pd.DataFrame:
    """One other version against the primary: each metric, the difference (other − primary) with
    its 95% interval, and whether it is more than chance — the table Model versions shows too."""
    m = version["metrics"]
    out = pd.DataFrame({
        "metric": [metric_label(k) for k in m.index],
        primary or "primary": m["baseline"].to_numpy(), version["version"]: m["candidate"].to_numpy(),
        "difference": m["difference"].to_numpy(),
        "95% CI of difference": [f"{lo:+.3f} to {hi:+.3f}" if np.isfinite(lo) and np.isfinite(hi) else ""
                                 for lo, hi in zip(m["lower"], m["upper"])],
        "more than chance": ["yes" if sig else "no" for sig in m["significant"]],
    })
    return out


def number_config(df: pd.DataFrame, fmt: str = "%.3f") -> dict:
    """Column config showing every float column with ``fmt``."""
    return {c: st.column_config.NumberColumn(c, format=fmt) for c in df.columns if pd.api.types.is_float_dtype(df[c])}


def show_chart(chart, container=st) -> None:
    """Render a chart builder's output as the model card's PNG shows it: at its own size (the
    builders set "pad" autosize) and without the Streamlit theme (the card has none)."""
    chart_view.show(container, chart, width="content", theme=None)


def show_table(df: pd.DataFrame, **kwargs) -> None:
    """A table the width of the page. One with a sentence per row ("what it means") is drawn as a
    static table, whose cells wrap: an interactive grid cuts every cell at one line."""
    if "what it means" in df.columns:
        # word joiners keep an interval ("0.835–0.849") on one line while the sentences wrap
        st.table(df.map(lambda v: v.replace("–", "\u2060–\u2060") if isinstance(v, str) and " " not in v else v),
                 hide_index=True, border="horizontal")
        return
    st.dataframe(df, hide_index=True, width="stretch", column_config=number_config(df), **kwargs)


def threshold_explorer(report: dict, key: str = "performance_threshold") -> None:
    """Threshold slider, the precision/recall/selection-rate chart with the choice marked, and
    the confusion matrix and rates at that threshold (all read from the report's threshold
    table, so moving the slider computes nothing)."""
    curve = pd.DataFrame(report["threshold_curve"])
    default = float(report.get("threshold", 0.5))
    pos, neg = str(report["positive_label"]), str(report["negative_label"])
    t = st.slider("Threshold", 0.0, 1.0, value=round(default, 2), step=0.01, key=key,
                  help=f"A prediction counts as '{pos}' when its score is at least this value. The audit's threshold is {default:.2f}.")
    row = curve.iloc[int(np.argmin(np.abs(curve["threshold"].to_numpy() - t)))]
    selected = int(row["tp"] + row["fp"])
    precision = f"{row['precision']:.0%}" if np.isfinite(row["precision"]) else "—"
    st.markdown(f"At **{t:.2f}** the model flags **{row['selection_rate']:.0%}** of cases ({selected:,}) as '{pos}'; "
                f"**{precision}** of those really are (precision), and it finds **{row['recall']:.0%}** of all real "
                f"'{pos}' cases (recall). Raising the threshold flags fewer cases: precision tends to rise, recall falls.")
    show_chart(threshold_chart(curve, t))
    left, right = st.columns([3, 2])
    table = confusion_from_counts(row, labels=[neg, pos])
    show_chart(confusion_chart(confusion_long(table), title=f"Confusion at {t:.2f}"), left)
    with right:
        fpr = row["false_positive_rate"]
        st.metric(metric_label("false_positive_rate"), f"{fpr:.1%}" if np.isfinite(fpr) else "—",
                  help=f"Share of real '{neg}' cases wrongly flagged as '{pos}'.")
        st.metric("Missed positives", f"{int(row['fn']):,}", help=f"Real '{pos}' cases the model does not flag at this threshold.")
        st.metric(metric_label("accuracy"), f"{row['accuracy']:.1%}", help="Share of all predictions that are right at this threshold.")
    logged = report.get("confusion_matrix", {}).get("counts")
    at_default = curve.iloc[int(np.argmin(np.abs(curve["threshold"].to_numpy() - default)))]
    if logged and logged != confusion_from_counts(at_default, labels=[neg, pos]).to_numpy().tolist():
        st.caption(f"Note: the logged predictions were not all made by thresholding the score at {default:.2f}; "
                   "the metrics above use the logged predictions.")
    with st.expander("Threshold table (every 0.01)"):
        show_table(curve)
