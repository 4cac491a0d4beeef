"""Charts of the Operations page and card: latency percentiles over time, latency distribution,
throughput and invalid predictions. Pure builders: an :class:`~sightline.operations.section.OperationsResult`
in, an Altair chart out."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sightline.charts import PRIMARY, SECONDARY, STATUS_COLORS, WIDTH

# Versions keep one colour everywhere: the primary first.
VERSION_COLORS = [PRIMARY, SECONDARY, "#6a51a3", "#2ca25f", "#8c6d31", "#636363"]
PERCENTILE_COLORS = {"p50": "#9ecae1", "p90": "#4292c6", "p95": "#2171b5", "p99": "#08306b"}
TIME_FORMAT = {"hour": "%d %b %H:%M", "day": "%d %b", "week": "%d %b"}


def inline(frame: pd.DataFrame) -> dict:
    """A frame as inline chart data ``{"values": records}``: times as ISO text, NaN as null.
    Inline data is not subject to Altair's 5,000-row guard, which hourly windows of a long log
    exceed (the card renders these charts to PNG outside Streamlit). A plain dict gives the same
    Vega-Lite spec as ``alt.InlineData(values=records)`` without validating every record against
    the schema when it is built (~0.1 s CPU for a year of daily windows); whole chart specs are
    still validated by ``Chart.to_dict()`` and in the tests."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
    out = out.astype(object).where(out.notna(), None)
    records = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in out.to_dict(orient="records")]
    return {"values": records}


def keep_height(chart):
    """Stretch to the container's width but keep the chart's own plot height: Streamlit's default
    autosize ("fit") squeezes the plot to make room for titles and legends."""
    return chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


def version_scale(versions) -> alt.Scale:
    """Colour scale with the primary version first (blue), then the others."""
    versions = list(versions)
    return alt.Scale(domain=versions, range=VERSION_COLORS[: len(versions)])


def _window_title(window: str) -> str:
    return {"hour": "hour starting", "day": "day", "week": "week starting (Monday)"}[window]


def latency_over_time_chart(result, height: int = 170) -> alt.FacetChart:
    """Latency p50/p90/p95/p99 per window, one panel per model version, log scale; incident
    windows marked with red dots on the p99 line.

    Input: :class:`~sightline.operations.section.OperationsResult` (its ``latency_windows``).
    """
    windows = result.latency_windows
    cols = {"p50_ms": "p50", "p90_ms": "p90", "p95_ms": "p95", "p99_ms": "p99"}
    long = windows.melt(id_vars=["window", "model_version", "n", "incident"], value_vars=list(cols),
                        var_name="percentile", value_name="latency_ms")
    long["percentile"] = long["percentile"].map(cols)
    long["incident"] = long["incident"].astype(bool)
    base = alt.Chart().encode(x=alt.X("window:T", title=_window_title(result.window), axis=alt.Axis(format=TIME_FORMAT[result.window])))
    tooltip = [alt.Tooltip("window:T", title="window", format="%Y-%m-%d %H:%M"), alt.Tooltip("model_version:N", title="version"),
               alt.Tooltip("percentile:N"), alt.Tooltip("latency_ms:Q", title="latency (ms)", format=",.1f"),
               alt.Tooltip("n:Q", title="requests timed", format=",")]
    lines = base.mark_line(strokeWidth=1.5).encode(
        y=alt.Y("latency_ms:Q", title="latency (ms, log)", scale=alt.Scale(type="log")),
        color=alt.Color("percentile:N", title="percentile", scale=alt.Scale(domain=list(PERCENTILE_COLORS), range=list(PERCENTILE_COLORS.values()))),
        tooltip=tooltip,
    )
    dots = base.transform_filter("datum.incident && datum.percentile == 'p99'").mark_point(
        color=STATUS_COLORS["red"], filled=True, size=70).encode(y="latency_ms:Q", tooltip=tooltip + [alt.Tooltip("incident:N", title="incident")])
    order = list(result.versions)
    return (alt.layer(lines, dots, data=inline(long)).properties(width=WIDTH, height=height)
            .facet(row=alt.Row("model_version:N", title=None, sort=order, header=alt.Header(labelFontWeight="bold", labelAngle=0, labelAlign="left")))
            .properties(title=alt.TitleParams("Latency percentiles per window (red dots: incidents)", anchor="start")))


def latency_distribution_chart(result, height: int = 220) -> alt.LayerChart:
    """Share of requests per logarithmic latency bin, one colour per version, with each
    version's p99 as a dashed rule. Input: an OperationsResult with a ``histogram``."""
    hist = result.histogram.copy()
    scale = version_scale(result.versions)
    bars = alt.Chart(hist).mark_rect(opacity=0.5).encode(
        x=alt.X("low_ms:Q", title="latency (ms, log scale)", scale=alt.Scale(type="log")),
        x2="high_ms:Q",
        y=alt.Y("share:Q", title="share of requests", axis=alt.Axis(format="%"), stack=None),
        y2=alt.datum(0),
        color=alt.Color("model_version:N", title="version", scale=scale),
        tooltip=[alt.Tooltip("model_version:N", title="version"), alt.Tooltip("low_ms:Q", title="from (ms)", format=",.1f"),
                 alt.Tooltip("high_ms:Q", title="to (ms)", format=",.1f"), alt.Tooltip("count:Q", title="requests", format=","),
                 alt.Tooltip("share:Q", format=".1%")],
    )
    p99 = result.latency.reset_index()[["model_version", "p50_ms", "p99_ms"]]
    rules = alt.Chart(p99).mark_rule(strokeDash=[5, 3], strokeWidth=1.5).encode(
        x="p99_ms:Q", color=alt.Color("model_version:N", title="version", scale=scale),
        tooltip=[alt.Tooltip("model_version:N", title="version"), alt.Tooltip("p50_ms:Q", title="p50 (ms)", format=",.1f"),
                 alt.Tooltip("p99_ms:Q", title="p99 (ms)", format=",.1f")])
    return keep_height(alt.layer(bars, rules).properties(
        width=WIDTH, height=height, title=alt.TitleParams("Latency distribution per version (dashed: p99)", anchor="start")))


def throughput_chart(result, height: int = 200) -> alt.Chart:
    """Requests per window and version (windows without traffic show as 0)."""
    data = result.throughput.copy()
    versions = list(result.versions)
    # a shadow version serves the same traffic: dashes keep it visible on top of the primary
    dashes = alt.Scale(domain=versions, range=[[1, 0]] + [[6, 4]] * (len(versions) - 1))
    return keep_height(alt.Chart(inline(data)).mark_line(interpolate="step-after", strokeWidth=1.5).encode(
        strokeDash=alt.StrokeDash("model_version:N", title="version", scale=dashes),
        x=alt.X("window:T", title=_window_title(result.window), axis=alt.Axis(format=TIME_FORMAT[result.window])),
        y=alt.Y("requests:Q", title=f"requests per {result.window}"),
        color=alt.Color("model_version:N", title="version", scale=version_scale(result.versions)),
        tooltip=[alt.Tooltip("window:T", title="window", format="%Y-%m-%d %H:%M"), alt.Tooltip("model_version:N", title="version"),
                 alt.Tooltip("requests:Q", format=","), alt.Tooltip("requests_per_minute:Q", title="per minute", format=",.2f")],
    ).properties(width=WIDTH, height=height, title=alt.TitleParams(f"Requests per {result.window}", anchor="start")))


def invalid_rate_chart(result, height: int = 200) -> alt.Chart:
    """Share of empty or invalid predictions per window and version."""
    data = result.invalid_windows.copy()
    return keep_height(alt.Chart(inline(data)).mark_line(point=True, strokeWidth=1.5).encode(
        x=alt.X("window:T", title=_window_title(result.window), axis=alt.Axis(format=TIME_FORMAT[result.window])),
        y=alt.Y("rate:Q", title="invalid predictions", axis=alt.Axis(format=".1%")),
        color=alt.Color("model_version:N", title="version", scale=version_scale(result.versions)),
        tooltip=[alt.Tooltip("window:T", title="window", format="%Y-%m-%d %H:%M"), alt.Tooltip("model_version:N", title="version"),
                 alt.Tooltip("rows:Q", format=","), alt.Tooltip("invalid:Q", format=","), alt.Tooltip("rate:Q", format=".2%"),
                 alt.Tooltip("missing_prediction:Q", title="missing prediction"), alt.Tooltip("missing_score:Q", title="missing score"),
                 alt.Tooltip("score_out_of_range:Q", title="score outside [0, 1]")],
    ).properties(width=WIDTH, height=height, title=alt.TitleParams("Empty or invalid predictions per window", anchor="start")))

