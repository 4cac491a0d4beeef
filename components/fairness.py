"""Streamlit pieces of the Fairness page: summary sentences, group tables with tooltips, the
threshold sliders. No statistics here (they live in sightline.fairness.section / fairness_whatif)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from components import chart_view
from sightline.charts.fairness import gaps_over_time_chart, group_rates_chart, tradeoff_chart
from sightline.core.vocabulary import METRICS, metric, metric_label, metric_name
from sightline.fairness import CONSTRAINTS, DEFAULT_SAMPLE_SIZE, RATE_METRICS, ColumnFairness, FairnessResult, people, rates_at_thresholds

WHATIF_COLUMN_KEY = "fairness.whatif.column"
WHATIF_CONSTRAINT_KEY = "fairness.whatif.constraint"
THRESHOLD_KEY = "fairness.whatif.threshold.{column}.{group}"  # one slider per column and group

# Group-table columns with a tooltip: the metrics' help texts, and the row count.
N_HELP = "Labelled rows of the group (predictions whose true outcome has arrived)."
# Coloured dots in Streamlit markdown (emoji need a colour font the viewer may not have).
ICON = {"red": ":red[●]", "amber": ":orange[●]", "green": ":green[●]", "none": ":gray[○]"}
WORD = {"red": "red", "amber": "amber", "green": "green", "none": "no tolerance"}


def _column_config(frame: pd.DataFrame) -> dict:
    """Tooltips and number formats for a group table."""
    out = {}
    for col in frame.columns:
        base = col.removesuffix("_lower").removesuffix("_upper")
        if col == "n":
            out[col] = st.column_config.NumberColumn("n", help=N_HELP, format="%d")
        elif base in METRICS:
            label = metric_label(base) + (" (95% low)" if col.endswith("_lower") else " (95% high)" if col.endswith("_upper") else "")
            fmt = "percent" if base in RATE_METRICS else "%.3f"
            out[col] = st.column_config.NumberColumn(label, help=metric(base).help, format=fmt)
    return out


def _dashes(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty text cells (a pair that does not exist, a week without two groups) as "—", not "None"."""
    text = [c for c in frame.columns if frame[c].dtype == object]
    return frame.assign(**{c: frame[c].where(frame[c].notna(), "—") for c in text}) if text else frame


def summary_sentences(col: ColumnFairness) -> None:
    """One line per fairness summary: status, name (with its definition as tooltip) and the plain sentence."""
    seen = {}
    for key, s in col.summaries.iterrows():
        name, definition = metric_label(key), metric(key).help
        sentence = s["sentence"]
        if sentence in seen:  # equalized odds is often just the TPR gap again
            sentence = f"Same pair and rate as {seen[sentence]} — see above."
        else:
            seen[sentence] = metric_name(key)
        st.markdown(f"{ICON.get(s['status'], ICON['none'])} **{name}** ({WORD.get(s['status'], s['status'])}) — {sentence}",
                    help=definition)


def base_rate_note(col: ColumnFairness, positive: str) -> None:
    """Why selection gaps and error gaps differ: the groups' true base rates."""
    big = col.groups[~col.groups["small"]]
    if "base_rate" not in big.columns or len(big) < 2:
        return
    hi, lo = big["base_rate"].idxmax(), big["base_rate"].idxmin()
    st.caption(
        f"**Reading the gaps.** In the labelled data itself, {big.loc[hi, 'base_rate']:.0%} of {people(col.name, str(hi))} "
        f"but {big.loc[lo, 'base_rate']:.0%} of {people(col.name, str(lo))} truly have '{positive}' (the *base rate*). "
        "Demographic parity and the four-fifths rule compare selections regardless of that, so part of their gap mirrors "
        "the labels (for census income: historical pay gaps). Equal opportunity and equalized odds compare the model's "
        "errors among people with the same true outcome — those gaps are the model's own.")


def group_table(col: ColumnFairness, min_group_size: int) -> None:
    """The full group table (small groups greyed) and the disparities to the reference group."""
    frame = col.groups.drop(columns=[c for c in col.groups.columns if c.endswith("_sd") or c == "bootstrap_rows"])
    counts = [c for c in ("pos", "neg", "pp", "tp", "fp", "fn", "tn", "correct") if c in frame.columns]
    first = ["n", "small"]  # then the metrics with their intervals, the confusion counts, the note
    frame = frame[first + [c for c in frame.columns if c not in first + counts + ["note"]] + counts + ["note"]]
    shown = frame.reset_index()
    styled = shown.style.apply(lambda r: ["color: #9e9e9e" if r["small"] else "" for _ in r], axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", column_config=_column_config(frame))
    if "pos" in frame.columns:
        st.caption(f"{col.reference_note}. Counts (pos = truly positive, pp = predicted positive, tp/fp/fn/tn = confusion "
                   f"cells). Rates: 95% Wilson intervals; ROC AUC and calibration error: bootstrap intervals.")
    elif "correct" in frame.columns:
        st.caption(f"{col.reference_note}. correct = rows whose predicted class is the true one; accuracy with a 95% "
                   "Wilson interval.")
    else:
        st.caption(f"{col.reference_note}. Means of the outcome, the prediction and the absolute error, in the target's "
                   "units, each with a normal 95% interval.")
    if len(col.disparities):
        st.markdown(f"**Each group against the reference group ({col.reference})** — difference (group − reference) "
                    "with a Newcombe 95% interval, ratio (group ÷ reference) with a Katz 95% interval.")
        st.dataframe(col.disparities, hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.3f") for c in col.disparities.columns
                                    if c not in ("group", "metric")})


def render_column(col: ColumnFairness, result: FairnessResult) -> None:
    """Everything about one sensitive column or intersection: sentences, chart, tables, over time."""
    summary_sentences(col)
    if result.task == "binary":
        base_rate_note(col, result.positive_label)
    if col.small_groups:
        st.warning(f"**Small groups:** {', '.join(col.small_groups)} — fewer than {result.min_group_size} labelled rows. "
                   "They are shown greyed for completeness, left out of the summaries and the verdict, and suppressed from "
                   "the model card and report.json (too few rows to measure reliably, and too few to publish safely).",
                   icon=":material/lock:")
    metrics = {"binary": ("selection_rate", "true_positive_rate", "false_positive_rate"),
               "multiclass": ("accuracy",), "regression": ("mean_absolute_error", "mean_prediction")}[result.task]
    chart_view.show(st, group_rates_chart(col.groups, metrics=metrics, reference=col.reference, include_small=True,
                                      title=f"Rates by {col.name}: dot = value, bar = 95% interval"), width="stretch")
    st.caption("Bars that do not overlap mean a real difference; long bars mean few rows. Orange = reference group, "
               "grey = too small to compare.")
    with st.expander(f"Group table and disparities — {col.name}"):
        group_table(col, result.min_group_size)
    with st.expander("Summary numbers (value, 95% interval, tolerance)"):
        cols = ["value", "lower", "upper", "tolerance", "status", "component", "group_high", "group_low",
                "evidence_high", "evidence_low", "evidence_lower", "evidence_upper", "pair_confidence"]
        st.dataframe(_dashes(col.summaries[cols]), width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.3f") for c in
                                    ("value", "lower", "upper", "tolerance", "evidence_lower", "evidence_upper")})
        st.caption("value: max − min over groups (ratios: min ÷ max), as fairlearn. Intervals are 95% jointly over all group "
                   "pairs (Bonferroni: pair_confidence per pair). Red needs a pair whose whole interval is beyond the "
                   "tolerance (evidence_*); tolerances come from `fairness.tolerance` in the audit file.")
    if col.gaps_over_time is not None and col.gaps_over_time["value"].notna().any():
        st.markdown("**Over time** — is the gap widening?")
        chart_view.show(st, gaps_over_time_chart(col.gaps_over_time, col.over_time, tolerance=result.tolerance,
                                             min_group_size=result.min_group_size), width="stretch")
        st.caption("Selection-rate gaps use every prediction, so they continue into the latest weeks whose labels have not "
                   "arrived; true-positive-rate gaps need labels. A week compares only groups with at least "
                   f"{result.min_group_size} rows that week (shaded band: 95% interval, joint over the pairs of groups).")
        with st.expander("Gaps and group sizes per week"):
            st.dataframe(_dashes(col.gaps_over_time), hide_index=True, width="stretch")
            st.dataframe(_dashes(col.over_time), hide_index=True, width="stretch")


def threshold_sliders(column: str, groups: list[str], default: float) -> dict[str, float]:
    """One threshold slider per group (laid out in rows of four), with a reset button."""
    if st.button("Reset every threshold to the deployed one", key=f"fairness.whatif.reset.{column}"):
        for g in groups:
            st.session_state[THRESHOLD_KEY.format(column=column, group=g)] = default
    out = {}
    cells = st.columns(min(4, len(groups)))
    for i, g in enumerate(groups):
        out[g] = cells[i % len(cells)].slider(
            g, 0.0, 1.0, value=default, step=0.01, key=THRESHOLD_KEY.format(column=column, group=g),
            help=f"People in '{g}' are selected when their score is at least this value (deployed: {default:g}).")
    return out


def whatif_results(inputs, column: str, thresholds: dict[str, float], min_group_size: int, positive: str) -> None:
    """Rates and gaps at the chosen thresholds, next to the deployed single threshold."""
    feats = inputs.features(column)
    groups, summ = rates_at_thresholds(inputs.y_true, inputs.y_score, sensitive_features=feats, thresholds=thresholds,
                                       default_threshold=inputs.threshold, min_group_size=min_group_size, positive_label=positive)
    _, base = rates_at_thresholds(inputs.y_true, inputs.y_score, sensitive_features=feats, thresholds={},
                                  default_threshold=inputs.threshold, min_group_size=min_group_size, positive_label=positive)
    acc = float(np.average(groups["accuracy"], weights=groups["n"]))
    acc0 = float((inputs.y_true == (inputs.y_score >= inputs.threshold)).mean())
    c = st.columns(4)
    changed = lambda d, fmt: None if abs(d) < 5e-4 else format(d, fmt)  # noqa: E731 — no arrow for "no change"
    c[0].metric(metric_label("accuracy"), f"{acc:.1%}", changed(acc - acc0, "+.1%"),
                help="All labelled rows, at your thresholds (arrow: change vs the deployed threshold).")
    for cell, key in zip(c[1:], ("demographic_parity_difference", "equal_opportunity_difference", "equalized_odds_difference")):
        v, v0 = summ.loc[key, "value"], base.loc[key, "value"]
        cell.metric(metric_label(key) + " gap", f"{v:.3f}", changed(v - v0, "+.3f"), delta_color="inverse",
                    help=metric(key).help + " Arrow: change vs the deployed threshold (green = narrower).")
    chart_view.show(st, group_rates_chart(groups, metrics=("selection_rate", "true_positive_rate", "false_positive_rate"),
                                      include_small=True, title="Rates at your thresholds (95% intervals)"), width="stretch")
    with st.expander("What-if table"):
        st.dataframe(groups.drop(columns=["note"]).reset_index(), hide_index=True, width="stretch",
                     column_config=_column_config(groups))


def tradeoff_view(tradeoff) -> None:
    """fairlearn's accuracy-vs-gap curve with its table and sample size."""
    if tradeoff.points.empty:
        st.info(f"The trade-off curve needs {tradeoff.note}.")
        return
    label = CONSTRAINTS[tradeoff.constraint][1]
    chart_view.show(st, tradeoff_chart(tradeoff.points, constraint_label=label), width="stretch")
    left_out = f"; groups left out (too small): {', '.join(tradeoff.groups_left_out)}" if tradeoff.groups_left_out else ""
    st.caption(f"Each blue point is fairlearn's `ThresholdOptimizer` choosing per-group thresholds (randomised between "
               f"two, as in Hardt et al. 2016) to maximise accuracy while keeping the {label} at most the allowed value. "
               "Fitted and evaluated on " + (f"a random sample of **{tradeoff.sample_size:,}** of {tradeoff.rows_available:,} "
                                             if tradeoff.sample_size < tradeoff.rows_available else
                                             f"all **{tradeoff.sample_size:,}** ") +
               f"labelled rows (at most {DEFAULT_SAMPLE_SIZE:,}, to stay interactive){left_out}. "
               "Analysis only: nothing in the model or its predictions changes.")
    with st.expander("Trade-off table"):
        st.dataframe(tradeoff.points, hide_index=True, width="stretch")
