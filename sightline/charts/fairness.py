"""Charts of the Fairness page and the model card's fairness graphics (pure: result in, chart out)."""

from __future__ import annotations

from typing import Mapping

import altair as alt
import numpy as np
import pandas as pd

from sightline.charts import PRIMARY, SECONDARY, STATUS_COLORS, WIDTH
from sightline.core.vocabulary import metric_label

GROUP_KIND_COLORS = {"reference group": SECONDARY, "group": PRIMARY, "small group (not compared)": STATUS_COLORS["grey"]}
SMALL_MERGED = "small groups (merged)"
OTHER_MERGED = "other groups (merged)"
MAX_CHART_GROUPS = 40   # groups drawn on the rates chart (the largest, and the reference group)
MAX_COLOR_GROUPS = 12   # groups with a colour of their own on the rows-per-week bars
LEGEND_LABEL_LIMIT = 130  # px of a group name in the rows-per-week legend: four columns stay within the chart's width


def group_rates_long(groups: pd.DataFrame, metrics, reference: str | None, include_small: bool) -> pd.DataFrame:
    """Long table behind :func:`group_rates_chart`: group, metric, value, lower, upper, n, kind."""
    frame = groups if include_small else groups[~groups["small"]]
    rows = []
    for metric in metrics:
        if metric not in frame.columns:
            continue
        for group, r in frame.iterrows():
            kind = "small group (not compared)" if r["small"] else ("reference group" if group == reference else "group")
            rows.append({"group": str(group), "metric": metric_label(metric), "value": r[metric],
                         "lower": r.get(f"{metric}_lower", np.nan), "upper": r.get(f"{metric}_upper", np.nan),
                         "n": int(r["n"]), "kind": kind})
    return pd.DataFrame(rows, columns=["group", "metric", "value", "lower", "upper", "n", "kind"])


def group_rates_chart(groups: pd.DataFrame, *, metrics=("selection_rate", "true_positive_rate"),
                      reference: str | None = None, include_small: bool = True, title: str | None = None) -> alt.FacetChart:
    """Dots with 95% interval bars: one row per group, one panel per metric (rates in [0, 1]).

    Input: a group table (:func:`sightline.fairness.section.group_metrics`), the metrics to show, the
    reference group (drawn orange), whether to include small groups (grey; the card leaves them out).
    """
    shown = groups if include_small else groups[~groups["small"]]
    if len(shown) > MAX_CHART_GROUPS:  # one row per group: keep the chart readable and its picture small
        largest = shown.sort_values("n", ascending=False, kind="stable").index[:MAX_CHART_GROUPS]
        keep = shown.index.isin(largest) | (shown.index == reference)
        title = title or (f"Rates by group with 95% intervals (the {MAX_CHART_GROUPS} largest of {len(shown):,} groups; "
                          "every group is in the table)")
        shown = shown[keep]
    long = group_rates_long(shown, metrics, reference, True)
    order = [str(g) for g in shown.sort_values("n", ascending=False).index]
    n_groups = max(len(order), 1)
    panel = max(180, int(WIDTH / max(len(metrics), 1)) - 20)
    y = alt.Y("group:N", sort=order, title=None, axis=alt.Axis(labelLimit=240))
    color = alt.Color("kind:N", title=None, scale=alt.Scale(domain=list(GROUP_KIND_COLORS), range=list(GROUP_KIND_COLORS.values())),
                      legend=alt.Legend(orient="bottom", labelLimit=300))
    tooltip = ["group:N", "metric:N", alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("lower:Q", title="95% CI low", format=".3f"),
               alt.Tooltip("upper:Q", title="95% CI high", format=".3f"), alt.Tooltip("n:Q", title="rows", format=","), "kind:N"]
    base = alt.Chart(width=panel, height=22 * n_groups + 10)
    bars = base.mark_rule(strokeWidth=2).encode(y=y, x=alt.X("lower:Q", title="value (dot) with 95% interval (bar)"), x2="upper:Q",
                                                color=color, tooltip=tooltip)
    dots = base.mark_circle(size=80, opacity=1).encode(y=y, x="value:Q", color=color, tooltip=tooltip)
    # a dashed line at the reference group's value, so every other group reads as "left or right of it"
    ref_line = base.transform_filter(alt.datum.kind == "reference group").mark_rule(
        strokeDash=[4, 3], color=SECONDARY, opacity=0.7).encode(x="value:Q")
    return (alt.layer(ref_line, bars, dots, data=long)
            .facet(column=alt.Column("metric:N", title=None, sort=[metric_label(m) for m in metrics],
                                     header=alt.Header(labelFontSize=13, labelFontWeight="bold")))
            .resolve_scale(x="independent")
            .properties(title=title or "Rates by group with 95% intervals"))


def gaps_over_time_chart(gaps: pd.DataFrame, over_time: pd.DataFrame, *, tolerance: Mapping[str, float] | None = None,
                         min_group_size: int = 30, include_small: bool = True) -> alt.VConcatChart:
    """Top: the main gaps per week (line, 95% band, dashed tolerance). Bottom: rows per group per
    week (stacked bars), so a widening gap can be read against the group sizes.

    Inputs: :func:`sightline.fairness.section.fairness_over_time` output, tolerances by summary name, the
    minimum group size. Without ``include_small`` (exports), group-weeks under the minimum
    size are merged into one "small groups (merged)" bar.
    """
    tolerance = tolerance or {}
    g = gaps.assign(label=gaps["metric"].map(metric_label))
    metric_order = list(dict.fromkeys(g["label"]))
    palette = [PRIMARY, SECONDARY, "#6a3d9a", "#33a02c"][:len(metric_order)]
    color = alt.Color("label:N", title=None, scale=alt.Scale(domain=metric_order, range=palette),
                      legend=alt.Legend(orient="top", labelLimit=400, symbolOpacity=1))
    tip = [alt.Tooltip("window:T", title="week starting"), alt.Tooltip("label:N", title="gap"),
           alt.Tooltip("value:Q", format=".3f", title="gap (max − min)"), alt.Tooltip("lower:Q", format=".3f", title="95% CI low"),
           alt.Tooltip("upper:Q", format=".3f", title="95% CI high"), alt.Tooltip("group_high:N", title="highest group"),
           alt.Tooltip("group_low:N", title="lowest group"), alt.Tooltip("groups_compared:Q", title="groups compared")]
    x = alt.X("window:T", title="week starting", timeUnit="yearmonthdate")
    base = alt.Chart(g, width=WIDTH, height=200, title="Gap between the highest and lowest group, per week")
    band = base.mark_area(opacity=0.18).encode(x=x, y=alt.Y("lower:Q", title="gap"), y2="upper:Q", color=color)
    line = base.mark_line(point=True).encode(x=x, y="value:Q", color=color, tooltip=tip)
    tol = pd.DataFrame([{"label": metric_label(m), "tolerance": float(tolerance[m])}
                        for m in dict.fromkeys(gaps["metric"]) if m in tolerance])
    layers = [band, line]
    if len(tol):
        layers.append(alt.Chart(tol).mark_rule(strokeDash=[6, 4], color=STATUS_COLORS["red"]).encode(
            y="tolerance:Q", tooltip=[alt.Tooltip("label:N", title="tolerance for"), "tolerance:Q"]))
    top = alt.layer(*layers)
    sizes = over_time[["window", "group", "rows"]].copy()
    if not include_small:
        sizes.loc[sizes["rows"] < min_group_size, "group"] = SMALL_MERGED
        sizes = sizes.groupby(["window", "group"], as_index=False)["rows"].sum()
    totals = sizes.groupby("group")["rows"].sum().sort_values(ascending=False, kind="stable")
    if len(totals) > MAX_COLOR_GROUPS:  # a legend of hundreds of groups is unreadable
        sizes = sizes.assign(group=sizes["group"].where(sizes["group"].isin(totals.index[:MAX_COLOR_GROUPS - 1]), OTHER_MERGED))
        sizes = sizes.groupby(["window", "group"], as_index=False)["rows"].sum()
    bar = max(3, int(WIDTH / max(sizes["window"].nunique(), 1) * 0.6))  # a time axis gives bars no width of their own
    bottom = alt.Chart(sizes, width=WIDTH, height=140, title="Rows per group and week").mark_bar(size=bar).encode(
        x=x, y=alt.Y("rows:Q", title="rows", stack=True),
        color=alt.Color("group:N", title=None, legend=alt.Legend(orient="bottom", columns=4, labelLimit=LEGEND_LABEL_LIMIT)),
        tooltip=[alt.Tooltip("window:T", title="week starting"), "group:N", alt.Tooltip("rows:Q", format=",")])
    return alt.vconcat(top, bottom).resolve_scale(color="independent")


def tradeoff_chart(points: pd.DataFrame, *, constraint_label: str) -> alt.LayerChart:
    """Accuracy against the remaining gap: fairlearn's ThresholdOptimizer solutions (line) and the
    deployed single threshold (orange dot). Input: :func:`sightline.fairness.whatif.tradeoff_curve` points."""
    tip = [alt.Tooltip("label:N", title="rule"), alt.Tooltip("gap:Q", format=".3f", title=constraint_label),
           alt.Tooltip("accuracy:Q", format=".3f"), alt.Tooltip("tolerance:Q", format=".3f", title="allowed gap")]
    base = alt.Chart(points, width=WIDTH, height=260, title="What fairness would cost in accuracy (analysis only)")
    x = alt.X("gap:Q", title=f"{constraint_label} (lower is fairer)")
    y = alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(zero=False))
    curve = base.transform_filter(alt.datum.kind != "deployed").mark_line(point=True, color=PRIMARY).encode(x=x, y=y, tooltip=tip)
    deployed = base.transform_filter(alt.datum.kind == "deployed").mark_point(
        size=160, filled=True, color=SECONDARY, shape="diamond").encode(x=x, y=y, tooltip=tip)
    text = base.transform_filter(alt.datum.kind == "deployed").mark_text(dx=-12, dy=-12, align="right", color=SECONDARY).encode(
        x=x, y=y, text=alt.value("deployed model"))
    return alt.layer(curve, deployed, text)
