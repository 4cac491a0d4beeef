"""Charts of the Slices page (pure builders: a result in, an Altair chart out)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sightline.charts import PRIMARY, SECONDARY, STATUS_COLORS, WIDTH
from sightline.core.vocabulary import METRICS

ROW_HEIGHT = 22
MAX_BARS = 40
STATUS_ORDER = ["worse", "in line", "better", "too small"]
STATUS_RANGE = [STATUS_COLORS["red"], PRIMARY, STATUS_COLORS["green"], STATUS_COLORS["grey"]]


def slice_status(table: pd.DataFrame, metric: str, overall: float) -> pd.Series:
    """Per slice: worse / better than overall (its 95% CI lies wholly on the bad / good side of
    the overall value), in line, or too small. A metric with no good direction (selection
    rate) is never called worse or better."""
    info = METRICS[metric]
    lower, upper = table[f"{metric}_lower"], table[f"{metric}_upper"]
    above, below = lower > overall, upper < overall
    if info.higher_is_better is None:
        worse, better = pd.Series(False, index=table.index), pd.Series(False, index=table.index)
    elif info.higher_is_better:
        worse, better = below, above
    else:
        worse, better = above, below
    status = np.select([table["too_small"].to_numpy(bool), worse.to_numpy(bool), better.to_numpy(bool)],
                       ["too small", "worse", "better"], default="in line")
    return pd.Series(status, index=table.index)


def slice_labels(table: pd.DataFrame) -> pd.Series:
    """Short bar labels: when every row slices the same columns (the chart title names them),
    just the values ("Female · Black · 37–45"); otherwise the full description."""
    cols = table["columns"].unique() if "columns" in table else []
    if len(cols) == 1 and all(c in table for c in str(cols[0]).split(" & ")):
        names = [_value_column(table, n) for n in str(cols[0]).split(" & ")]
        return table[names].astype(str).agg(" · ".join, axis=1)
    return table["description"]


def _value_column(table: pd.DataFrame, name: str) -> str:
    # A sliced column named like a table column (``accuracy``, ``n``…) holds its values under
    # "name (value)" (the slice table renames it so); the last such name is the values'.
    while f"{name} (value)" in table:
        name = f"{name} (value)"
    return name


def _metric_format(metric: str) -> str:
    return ".1%" if METRICS[metric].percent else ".3f"


def slice_metric_chart(table: pd.DataFrame, metric: str, overall: float, *, title: str | None = None,
                       max_bars: int = MAX_BARS) -> alt.Chart:
    """Horizontal bars of ``metric`` per slice with 95% CI whiskers and the overall value as a
    dashed line; bars coloured by :func:`slice_status`.

    Input: a table from :func:`sightline.slices.section.slice_table` (rows in the order to draw; at
    most ``max_bars`` are drawn), the metric name, the overall value.
    """
    info = METRICS[metric]
    fmt = _metric_format(metric)
    big = table[~table["too_small"]]
    # Many slices: draw the first ``max_bars`` large enough to judge (the table keeps them all).
    data = (big if len(table) > max_bars and len(big) else table).head(max_bars).copy()
    data["status"] = slice_status(data, metric, overall)
    data["overall"] = overall
    data["label"] = slice_labels(data)
    data = data[["label", "description", "n", "status", "overall", metric, f"{metric}_lower", f"{metric}_upper",
                 f"{metric}_gap", f"{metric}_impact"]].rename(columns={
                     metric: "value", f"{metric}_lower": "lower", f"{metric}_upper": "upper",
                     f"{metric}_gap": "gap", f"{metric}_impact": "impact"})
    data = data.replace({np.inf: np.nan, -np.inf: np.nan})
    order = data["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    tooltip = [alt.Tooltip("description:N", title="slice"), alt.Tooltip("n:Q", title="rows", format=","),
               alt.Tooltip("value:Q", title=info.label, format=fmt),
               alt.Tooltip("lower:Q", title="95% CI from", format=fmt), alt.Tooltip("upper:Q", title="95% CI to", format=fmt),
               alt.Tooltip("gap:Q", title="gap to overall", format="+" + fmt),
               alt.Tooltip("impact:Q", title="impact on overall", format="+" + fmt), alt.Tooltip("status:N", title="reading")]
    base = alt.Chart(data)
    bars = base.mark_bar(opacity=0.85).encode(
        y=y, x=alt.X("value:Q", title=f"{info.label} (bars; whiskers = 95% CI; dashed = overall)", axis=alt.Axis(format=fmt)),
        color=alt.Color("status:N", scale=alt.Scale(domain=STATUS_ORDER, range=STATUS_RANGE), title="vs overall",
                        legend=alt.Legend(orient="bottom", direction="horizontal")),
        tooltip=tooltip)
    whiskers = base.mark_rule(color="#333333").encode(y=y, x="lower:Q", x2="upper:Q", tooltip=tooltip)
    rule = alt.Chart(pd.DataFrame({"overall": [overall]})).mark_rule(strokeDash=[6, 4], color="#000000", size=1.5).encode(
        x="overall:Q", tooltip=[alt.Tooltip("overall:Q", title=f"overall {info.label}", format=fmt)])
    # Height as a step per slice: a fixed pixel height would include axes and legend under
    # Streamlit's "fit" sizing and squash a chart of few slices to nothing.
    props = {"width": WIDTH - 200, "height": alt.Step(ROW_HEIGHT)}
    if title is not False:
        props["title"] = title or f"{info.label} per slice"
    return alt.layer(bars, whiskers, rule).properties(**props)  # one call: each one copies the whole chart


def worst_slices_chart(slices: pd.DataFrame, overall_error: float, *, regression: bool = False, top: int = 15) -> alt.Chart:
    """Error per discovered worst slice (best-ranked first) against the overall error.

    Input: :attr:`sightline.slices.finder.SliceSearch.slices` and its ``overall_error``.
    """
    label = "Mean absolute error" if regression else "Error rate"
    fmt = ".3g" if regression else ".0%"
    data = slices.head(top)[["description", "n", "error_rate", "rest_error_rate", "lift", "p_adjusted", "sentence"]].copy()
    order = data["description"].tolist()
    y = alt.Y("description:N", sort=order, title=None, axis=alt.Axis(labelLimit=380))
    tooltip = [alt.Tooltip("sentence:N", title="finding"), alt.Tooltip("n:Q", title="rows", format=","),
               alt.Tooltip("error_rate:Q", title=label, format=fmt),
               alt.Tooltip("rest_error_rate:Q", title="rest of the data", format=fmt),
               alt.Tooltip("lift:Q", title="× overall", format=".2f"),
               alt.Tooltip("p_adjusted:Q", title="p (adjusted)", format=".2g")]
    bars = alt.Chart(data).mark_bar(
        color=STATUS_COLORS["red"], opacity=0.85).encode(
        y=y, x=alt.X("error_rate:Q", title=f"{label} in the slice (dashed = overall)", axis=alt.Axis(format=fmt)),
        tooltip=tooltip)
    text = bars.mark_text(align="left", dx=4, color="#333333").encode(text=alt.Text("lift:Q", format=".1f"))
    text = text.transform_calculate(label="format(datum.lift, '.1f') + '×'").encode(text="label:N")
    rule = alt.Chart(pd.DataFrame({"overall": [overall_error]})).mark_rule(strokeDash=[6, 4], color="#000000", size=1.5).encode(
        x="overall:Q", tooltip=[alt.Tooltip("overall:Q", title=f"overall {label.lower()}", format=fmt)])
    return alt.layer(bars, text, rule).properties(
        width=WIDTH - 260, height=alt.Step(ROW_HEIGHT),
        title=f"Worst slices found: {label.lower()} (label = times overall)")


def simpson_chart(slices: pd.DataFrame, version_a: str, version_b: str, overall: dict, *, metric: str = "accuracy",
                  column: str | None = None) -> alt.Chart:
    """Both versions' metric per large slice of one column (dots joined by a line), with the
    overall values on top: crossing lines show where the overall winner loses.

    Input: :attr:`sightline.slices.simpson.SimpsonResult.slices`, the versions, its ``overall``.
    """
    info = METRICS.get(metric, METRICS["accuracy"])
    fmt = _metric_format(metric)
    rows = slices[slices["large"]]
    if column is not None:
        rows = rows[rows["column"] == column]
    top = pd.DataFrame([{"slice": "OVERALL", "n_a": overall[version_a]["n"], "n_b": overall[version_b]["n"],
                         "metric_a": overall[version_a]["value"], "metric_b": overall[version_b]["value"]}])
    wide = pd.concat([top, rows[["slice", "n_a", "n_b", "metric_a", "metric_b"]]], ignore_index=True)
    long = pd.concat([wide.assign(version=version_a, value=wide["metric_a"], n=wide["n_a"]),
                      wide.assign(version=version_b, value=wide["metric_b"], n=wide["n_b"])], ignore_index=True)
    order = wide["slice"].tolist()
    y = alt.Y("slice:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    base = alt.Chart(long)
    line = alt.Chart(wide).mark_rule(color="#bbbbbb", size=2).encode(
        y=y, x="metric_a:Q", x2="metric_b:Q")
    dots = base.mark_point(filled=True, size=90).encode(
        y=y, x=alt.X("value:Q", title=info.label, scale=alt.Scale(zero=False), axis=alt.Axis(format=fmt)),
        color=alt.Color("version:N", scale=alt.Scale(domain=[version_a, version_b], range=[PRIMARY, SECONDARY]),
                        legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["slice:N", "version:N", alt.Tooltip("value:Q", title=info.label, format=fmt),
                 alt.Tooltip("n:Q", title="rows", format=",")])
    title = f"{info.label} of both versions" + (f" by {column}" if column else " per large slice")
    return alt.layer(line, dots).properties(width=WIDTH - 220, height=alt.Step(ROW_HEIGHT), title=title)
