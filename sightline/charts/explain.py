"""Charts of the Explainability area: importance bar, beeswarm, dependence, waterfall,
importance per group and reference-vs-current importance.

Pure builders: an engine result in (see :mod:`sightline.explain.section`), an Altair chart out. The
beeswarm and dependence charts hold one point per explained row (up to 10 × sample size):
Streamlit ships them as Arrow without limit; to render them to PNG outside Streamlit, wrap the
call in ``with alt.data_transformers.disable_max_rows():`` (Altair refuses > 5,000 rows by default).
The page draws them from :func:`drawn_rows` (at most :data:`MAX_DRAWN_ROWS` rows), so the browser
stays quick; every number (importance, shares) still comes from all explained rows.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sightline.charts import PRIMARY, SECONDARY, WIDTH

POSITIVE_COLOR, NEGATIVE_COLOR = "#c62828", "#1f5fa8"  # pushes the output up / down
CATEGORY_GREY = "#8c8c8c"


def _fit_width(chart):
    """Stretch to the container's width but keep the chart's own height: Streamlit's default
    autosize ("fit") squeezes the plot to make room for titles, hiding bar labels."""
    return chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


def importance_bar(importance: pd.DataFrame, *, title: str = "Which inputs drive the predictions",
                   subtitle: str | list[str] = "", top: int = 20) -> alt.Chart:
    """Horizontal bars of mean |SHAP| per feature, largest on top.

    Input: :func:`sightline.explain.section.global_importance` output (feature, mean_abs_shap, share).
    """
    data = importance.head(top).copy()
    order = data["feature"].tolist()
    base = alt.Chart(data, title=alt.Title(title, subtitle=subtitle or alt.Undefined), width=WIDTH,
                     height=max(120, 22 * len(data)))
    bars = base.mark_bar(color=PRIMARY).encode(
        x=alt.X("mean_abs_shap:Q", title="mean |SHAP value| (average push on the output)"),
        y=alt.Y("feature:N", sort=order, title=None),
        tooltip=[alt.Tooltip("feature:N"), alt.Tooltip("mean_abs_shap:Q", title="mean |SHAP|", format=".4f"),
                 alt.Tooltip("share:Q", title="share of total", format=".1%")],
    )
    labels = base.mark_text(align="left", dx=3, fontSize=11, color="#333").encode(
        x="mean_abs_shap:Q", y=alt.Y("feature:N", sort=order), text=alt.Text("share:Q", format=".0%"))
    return _fit_width(bars + labels)


# Rows drawn in the beeswarm (one dot per row and input) and the dependence plot: beyond a few
# hundred the clouds look the same, while the browser's drawing time grows with every dot.
MAX_DRAWN_ROWS = 500


def drawn_rows(values: pd.DataFrame, data: pd.DataFrame, max_rows: int = MAX_DRAWN_ROWS,
               seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded simple random subset of at most ``max_rows`` explained rows to draw.

    Inputs: rows × features SHAP values and the same rows' feature values (same index).
    Output: both restricted to the same rows, in their original order (all rows when there are
    no more than ``max_rows``).
    """
    if len(values) <= max_rows:
        return values, data
    positions = np.sort(np.random.default_rng(seed).choice(len(values), size=max_rows, replace=False))
    return values.iloc[positions], data.iloc[positions]


def _value_text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.map(lambda v: "missing" if pd.isna(v) else f"{v:,.4g}")
    return values.astype("string").fillna("missing")


def beeswarm_frame(values: pd.DataFrame, data: pd.DataFrame, features: list[str], seed: int = 0) -> pd.DataFrame:
    """Long table behind :func:`beeswarm_chart`: feature, shap, value (text), value_rank (0–1
    within the feature for numeric features, NaN for categorical) and a density-scaled jitter
    in [-0.45, 0.45] (wider where more rows share similar SHAP values, like shap's beeswarm)."""
    rng = np.random.default_rng(seed)
    parts = []
    for f in features:
        shap_values = values[f].to_numpy(dtype=float)
        raw = data[f]
        numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
        rank = raw.rank(pct=True).to_numpy(dtype=float) if numeric else np.full(len(raw), np.nan)
        counts, edges = np.histogram(shap_values, bins=40)
        density = counts[np.clip(np.searchsorted(edges, shap_values, side="right") - 1, 0, len(counts) - 1)]
        width = 0.45 * np.sqrt(density / max(1, counts.max()))
        parts.append(pd.DataFrame({"feature": f, "shap": shap_values, "value": _value_text(raw).to_numpy(),
                                   "value_rank": rank, "jitter": rng.uniform(-1, 1, len(raw)) * width}))
    return pd.concat(parts, ignore_index=True)


def beeswarm_chart(values: pd.DataFrame, data: pd.DataFrame, features: list[str], *, subtitle: str | list[str] = "",
                   seed: int = 0) -> alt.LayerChart:
    """One row of dots per feature (top first): each dot is one explained prediction, placed at
    its SHAP value; numeric features coloured from low (blue) to high (red) value, categorical
    ones grey (hover for the value)."""
    long = beeswarm_frame(values, data, features, seed)
    height = max(160, 34 * len(features))
    base = alt.Chart(long, width=WIDTH, height=height,
                     title=alt.Title("How each input pushes individual predictions", subtitle=subtitle or alt.Undefined))
    enc = {
        "x": alt.X("shap:Q", title="SHAP value (← lowers the output · raises it →)"),
        "y": alt.Y("feature:N", sort=list(features), title=None),
        "yOffset": alt.YOffset("jitter:Q", scale=alt.Scale(domain=[-0.5, 0.5])),
        "tooltip": [alt.Tooltip("feature:N"), alt.Tooltip("value:N", title="input value"),
                    alt.Tooltip("shap:Q", title="SHAP value", format=".3f")],
    }
    numeric = base.transform_filter("isValid(datum.value_rank)").mark_circle(size=12, opacity=0.6).encode(
        color=alt.Color("value_rank:Q", title="input value", scale=alt.Scale(scheme="blueorange", domain=[0, 1]),
                        legend=alt.Legend(values=[0, 1], labelExpr="datum.value == 0 ? 'low' : 'high'", gradientLength=80)),
        **enc)
    categorical = base.transform_filter("!isValid(datum.value_rank)").mark_circle(size=12, opacity=0.45, color=CATEGORY_GREY).encode(**enc)
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#555", strokeDash=[3, 3]).encode(x="x:Q")
    return _fit_width(alt.layer(categorical, numeric, zero))


def dependence_chart(values: pd.DataFrame, data: pd.DataFrame, feature: str, color_by: str | None = None, *,
                     max_categories: int = 8) -> alt.LayerChart:
    """SHAP value of ``feature`` against its value, coloured by ``color_by``: how the model's use
    of the feature changes with it (and whether that depends on the second feature)."""
    raw = data[feature]
    numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
    frame = pd.DataFrame({"shap": values[feature].to_numpy(dtype=float)})
    frame["x"] = raw.to_numpy(dtype=float) if numeric else raw.astype("string").fillna("missing").to_numpy()
    rng = np.random.default_rng(0)
    frame["jitter"] = rng.uniform(-0.35, 0.35, len(frame))
    tooltip = [alt.Tooltip("x:Q" if numeric else "x:N", title=feature), alt.Tooltip("shap:Q", title=f"SHAP of {feature}", format=".3f")]
    color = alt.value(PRIMARY)
    if color_by and color_by != feature:
        second = data[color_by]
        if pd.api.types.is_numeric_dtype(second) and not pd.api.types.is_bool_dtype(second):
            frame["color"] = second.to_numpy(dtype=float)
            # colour range from the 2nd to the 98th percentile, so a few outliers do not wash out the rest
            lo, hi = np.nanpercentile(frame["color"], [2, 98]) if frame["color"].notna().any() else (0.0, 1.0)
            color = alt.Color("color:Q", title=color_by,
                              scale=alt.Scale(scheme="blueorange", domain=[float(lo), float(hi if hi > lo else lo + 1)], clamp=True))
            tooltip.append(alt.Tooltip("color:Q", title=color_by))
        else:
            text = second.astype("string").fillna("missing")
            keep = text.value_counts().index[:max_categories]
            frame["color"] = text.where(text.isin(keep), "other").to_numpy()
            color = alt.Color("color:N", title=color_by, scale=alt.Scale(scheme="tableau10"))
            tooltip.append(alt.Tooltip("color:N", title=color_by))
    title = alt.Title(f"How the model uses {feature}",
                      subtitle=f"each dot is one prediction; above 0 the value of {feature} raised the output, below 0 it lowered it")
    base = alt.Chart(frame, width=WIDTH, height=300, title=title)
    if numeric:
        x = alt.X("x:Q", title=feature, scale=alt.Scale(zero=False))
        points = base.mark_circle(size=18, opacity=0.6).encode(x=x, y=alt.Y("shap:Q", title=f"SHAP value of {feature}"),
                                                                color=color, tooltip=tooltip)
    else:
        order = frame.groupby("x")["shap"].mean().sort_values().index.tolist()
        points = base.mark_circle(size=18, opacity=0.6).encode(
            x=alt.X("x:N", title=feature, sort=order, axis=alt.Axis(labelAngle=-35, labelOverlap=False, labelLimit=160)),
            xOffset=alt.XOffset("jitter:Q", scale=alt.Scale(domain=[-0.5, 0.5])),
            y=alt.Y("shap:Q", title=f"SHAP value of {feature}"), color=color, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#555", strokeDash=[3, 3]).encode(y="y:Q")
    return _fit_width(alt.layer(points, zero))


def waterfall_frame(local, max_features: int = 10) -> pd.DataFrame:
    """Steps of a waterfall: label, contribution, start, end (cumulative from the base value),
    the ``max_features`` largest contributions by size, the rest summed as one step."""
    values, data = local.values, local.data
    top = values.index[:max_features]
    rows = [{"label": f"{f} = {_value_text(pd.Series([data[f]])).iloc[0]}", "contribution": float(values[f])} for f in top]
    rest = values.index[max_features:]
    if len(rest):
        rows.append({"label": f"{len(rest)} other inputs", "contribution": float(values[rest].sum())})
    frame = pd.DataFrame(rows)
    frame["end"] = local.base_value + frame["contribution"].cumsum()
    frame["start"] = frame["end"] - frame["contribution"]
    frame["direction"] = np.where(frame["contribution"] >= 0, "raises", "lowers")
    return frame


def waterfall_chart(local, *, max_features: int = 10, output_label: str = "model output",
                    explained_by: str = "") -> alt.LayerChart:
    """One prediction explained: from the base value (the average output), each input's SHAP
    value moves the output up (red) or down (blue) until it reaches this prediction's output."""
    steps = waterfall_frame(local, max_features)
    order = steps["label"].tolist()
    title = alt.Title(f"Why prediction {local.row_id} came out as it did{explained_by}",
                      subtitle=f"starts at the average {output_label} {local.base_value:.3f}, ends at this row's {local.output:.3f}")
    base = alt.Chart(steps, width=WIDTH, height=max(140, 26 * len(steps)), title=title)
    bars = base.mark_bar().encode(
        x=alt.X("start:Q", title=output_label, scale=alt.Scale(zero=False)), x2="end:Q",
        y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=280)),
        color=alt.Color("direction:N", scale=alt.Scale(domain=["raises", "lowers"], range=[POSITIVE_COLOR, NEGATIVE_COLOR]),
                        title="effect"),
        tooltip=[alt.Tooltip("label:N", title="input"), alt.Tooltip("contribution:Q", title="SHAP value", format="+.3f"),
                 alt.Tooltip("end:Q", title="running total", format=".3f")],
    )
    text = base.mark_text(align="left", dx=4, fontSize=11, color="#333").encode(
        x=alt.X("max_end:Q"), y=alt.Y("label:N", sort=order), text=alt.Text("contribution:Q", format="+.3f"),
    ).transform_calculate(max_end="max(datum.start, datum.end)")
    marks = pd.DataFrame({"x": [local.base_value, local.output], "what": ["average (base value)", "this prediction"]})
    rules = alt.Chart(marks).mark_rule(strokeDash=[4, 3]).encode(
        x="x:Q", color=alt.Color("what:N", scale=alt.Scale(domain=["average (base value)", "this prediction"], range=["#777", "#111"]),
                                 title=None), tooltip=[alt.Tooltip("what:N"), alt.Tooltip("x:Q", format=".3f")])
    return _fit_width(alt.layer(bars, text, rules).resolve_scale(color="independent"))


def group_importance_chart(table: pd.DataFrame, column: str, *, top: int = 10) -> alt.Chart:
    """Heatmap: share of each group's total importance per feature (columns: groups, rows:
    the ``top`` features overall). Groups too small to trust are faded and marked."""
    overall = table.groupby("feature")["mean_abs_shap"].mean().sort_values(ascending=False)
    features = overall.index[:top].tolist()
    data = table[table["feature"].isin(features)].copy()
    data["group_label"] = data["group"] + " (n=" + data["n"].astype(str) + ")" + np.where(data["small"], " — too few", "")
    data["dark"] = data["share"] > 0.55 * data["share"].max()  # white text on the darkest cells
    groups = data.drop_duplicates("group").sort_values("n", ascending=False)["group_label"].tolist()
    base = alt.Chart(data, width=min(WIDTH, 110 * len(groups)), height=26 * len(features),
                     title=alt.Title(f"Does the model lean on different inputs for different {column} groups?",
                                     subtitle="share of each group's total importance (columns add up to 100% over all inputs)"))
    cells = base.mark_rect().encode(
        x=alt.X("group_label:N", sort=groups, title=column,
                axis=alt.Axis(labelAngle=0 if len(groups) <= 3 else -30, labelLimit=220, labelOverlap=False)),
        y=alt.Y("feature:N", sort=features, title=None),
        color=alt.Color("share:Q", title="share", scale=alt.Scale(scheme="blues"), legend=alt.Legend(format=".0%")),
        opacity=alt.condition("datum.small", alt.value(0.35), alt.value(1.0)),
        tooltip=[alt.Tooltip("group:N", title=column), alt.Tooltip("n:Q", title="rows in sample"), alt.Tooltip("feature:N"),
                 alt.Tooltip("share:Q", title="share of importance", format=".1%"),
                 alt.Tooltip("mean_abs_shap:Q", title="mean |SHAP|", format=".4f"), alt.Tooltip("rank:Q")],
    )
    text = base.mark_text(fontSize=10).encode(
        x=alt.X("group_label:N", sort=groups), y=alt.Y("feature:N", sort=features), text=alt.Text("share:Q", format=".0%"),
        color=alt.condition("datum.dark", alt.value("white"), alt.value("#222")))
    return _fit_width(cells + text)


def importance_shift_chart(shift: pd.DataFrame, *, top: int = 15) -> alt.Chart:
    """Paired bars per feature: share of total importance in the reference data and in the
    current log — has what drives the model shifted?"""
    data = shift.head(top)
    order = data["feature"].tolist()
    long = data.melt(id_vars=["feature", "change"], value_vars=["reference_share", "current_share"],
                     var_name="data", value_name="share")
    long["data"] = long["data"].map({"reference_share": "reference", "current_share": "current"})
    return _fit_width(alt.Chart(long, width=WIDTH, height=30 * len(data),
                     title=alt.Title("What drives the model: reference data vs current log",
                                     subtitle="share of total importance per input; a big change means the model now relies on "
                                              "different inputs")).mark_bar().encode(
        x=alt.X("share:Q", title="share of total importance", axis=alt.Axis(format=".0%")),
        y=alt.Y("feature:N", sort=order, title=None),
        yOffset=alt.YOffset("data:N", sort=["reference", "current"]),
        color=alt.Color("data:N", scale=alt.Scale(domain=["reference", "current"], range=["#9bb7d9", SECONDARY]), title=None),
        tooltip=[alt.Tooltip("feature:N"), alt.Tooltip("data:N"), alt.Tooltip("share:Q", format=".1%"),
                 alt.Tooltip("change:Q", title="change (current − reference)", format="+.1%")],
    ))
