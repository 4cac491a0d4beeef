"""Charts of the Model versions page and card. Pure builders: a
:class:`~sightline.versions.section.VersionComparison` in, an Altair chart out."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sightline.charts import PRIMARY, SECONDARY, STATUS_COLORS, WIDTH
from sightline.charts.operations import inline, keep_height
from sightline.core.vocabulary import metric_name

EFFECT_COLORS = {"better": STATUS_COLORS["green"], "worse": STATUS_COLORS["red"],
                 "no significant difference": STATUS_COLORS["grey"], "changed": "#1f5fa8"}


def metric_effects(comp) -> pd.DataFrame:
    """The metrics table with a plain ``effect`` (better / worse / no significant difference)
    and a display ``label``; the data behind :func:`metric_difference_chart`."""
    m = comp.metrics.copy()
    direction = m["higher_is_better"]

    def effect(row) -> str:
        if not row["significant"]:
            return "no significant difference"
        if row["higher_is_better"] is None or pd.isna(row["higher_is_better"]):
            return "changed"  # e.g. selection rate: neither direction is better
        return "better" if (row["difference"] > 0) == bool(row["higher_is_better"]) else "worse"

    m["effect"] = m.apply(effect, axis=1) if len(m) else []
    m["label"] = [metric_name(n) + ("" if d is None or pd.isna(d) else " (↑ better)" if d else " (↓ better)")
                  for n, d in zip(m["metric"], direction)]
    return m


def metric_difference_chart(comp, height_per_metric: int = 30) -> alt.LayerChart:
    """Dot-and-whisker: each metric's difference (candidate − baseline) with its 95% CI and a
    zero line; green where the candidate is significantly better, red where worse."""
    m = metric_effects(comp)
    m = m[np.isfinite(m["difference"].astype(float))]
    order = m["label"].tolist()
    tooltip = [alt.Tooltip("label:N", title="metric"), alt.Tooltip("baseline:Q", title=comp.baseline, format=".4f"),
               alt.Tooltip("candidate:Q", title=comp.candidate, format=".4f"),
               alt.Tooltip("difference:Q", format="+.4f"), alt.Tooltip("lower:Q", title="95% CI from", format="+.4f"),
               alt.Tooltip("upper:Q", title="95% CI to", format="+.4f"), alt.Tooltip("n:Q", title="requests", format=","),
               alt.Tooltip("method:N")]
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=240))
    color = alt.Color("effect:N", title="candidate is",
                      scale=alt.Scale(domain=list(EFFECT_COLORS), range=list(EFFECT_COLORS.values())))
    base = alt.Chart(m)
    whiskers = base.mark_rule(strokeWidth=2).encode(y=y, x=alt.X("lower:Q", title=f"difference ({comp.candidate} − {comp.baseline}), 95% CI"),
                                                    x2="upper:Q", color=color, tooltip=tooltip)
    dots = base.mark_point(filled=True, size=80).encode(y=y, x="difference:Q", color=color, tooltip=tooltip)
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#555", strokeDash=[4, 3]).encode(x="x:Q")
    return keep_height(alt.layer(zero, whiskers, dots).properties(
        width=WIDTH, height=max(120, height_per_metric * len(m)),
        title=alt.TitleParams("Metric differences with 95% confidence intervals", anchor="start")))


def disagreement_band_chart(comp, height: int = 200) -> alt.LayerChart:
    """Share of requests where the versions' predictions differ, per band of the baseline's
    score, with Wilson 95% intervals; the dashed line is the overall disagreement rate."""
    bands = comp.by_band.copy()
    overall = 1 - comp.agreement["rate"]
    tooltip = [alt.Tooltip("band:N", title=f"{comp.baseline} score"), alt.Tooltip("n:Q", title="requests", format=","),
               alt.Tooltip("disagreements:Q", format=",.0f"), alt.Tooltip("rate:Q", title="disagreement", format=".1%"),
               alt.Tooltip("lower:Q", title="95% CI from", format=".1%"), alt.Tooltip("upper:Q", title="95% CI to", format=".1%")]
    x = alt.X("band:N", title=f"{comp.baseline} score band", sort=bands["band"].tolist(), axis=alt.Axis(labelAngle=0))
    bars = alt.Chart(bands).mark_bar(color=SECONDARY, opacity=0.8).encode(
        x=x, y=alt.Y("rate:Q", title="predictions differ", axis=alt.Axis(format="%")), tooltip=tooltip)
    whiskers = alt.Chart(bands).mark_rule(color="#333").encode(x=x, y="lower:Q", y2="upper:Q", tooltip=tooltip)
    line = alt.Chart(pd.DataFrame({"y": [overall]})).mark_rule(strokeDash=[5, 3], color="#555").encode(y="y:Q")
    return keep_height(alt.layer(bars, whiskers, line).properties(
        width=WIDTH, height=height, title=alt.TitleParams("Where they disagree: by score band (dashed: overall)", anchor="start")))


def disagreement_slice_chart(comp, top: int = 12) -> alt.LayerChart:
    """The slices (single features and two-feature intersections, at least the minimum size)
    where the versions disagree most, with Wilson 95% intervals and the overall rate dashed."""
    slices = comp.by_slice[~comp.by_slice["small"]].head(top).copy()
    overall = 1 - comp.agreement["rate"] if comp.agreement else float(comp.by_slice["rate"].mean())
    order = slices["slice"].tolist()
    tooltip = [alt.Tooltip("slice:N"), alt.Tooltip("n:Q", title="requests", format=","),
               alt.Tooltip("disagreements:Q", format=",.0f"), alt.Tooltip("rate:Q", title="disagreement", format=".1%"),
               alt.Tooltip("lower:Q", title="95% CI from", format=".1%"), alt.Tooltip("upper:Q", title="95% CI to", format=".1%"),
               alt.Tooltip("lift:Q", title="× overall", format=".1f")]
    y = alt.Y("slice:N", title=None, sort=order, axis=alt.Axis(labelLimit=380))
    bars = alt.Chart(slices).mark_bar(color=SECONDARY, opacity=0.8).encode(
        y=y, x=alt.X("rate:Q", title="predictions differ", axis=alt.Axis(format="%")), tooltip=tooltip)
    whiskers = alt.Chart(slices).mark_rule(color="#333").encode(y=y, x="lower:Q", x2="upper:Q", tooltip=tooltip)
    line = alt.Chart(pd.DataFrame({"x": [overall]})).mark_rule(strokeDash=[5, 3], color="#555").encode(x="x:Q")
    return keep_height(alt.layer(bars, whiskers, line).properties(
        width=WIDTH - 180, height=max(100, 26 * len(slices)),
        title=alt.TitleParams("Where they disagree: slices with the most disagreement (dashed: overall)", anchor="start")))


def score_scatter_chart(comp, threshold: float | None = 0.5, size: int = 340) -> alt.LayerChart:
    """Each shared request's baseline score against the candidate's (a seeded sample), coloured
    by whether their predictions agree; the diagonal is 'same score', the lines the threshold."""
    data = comp.scatter.assign(predictions=np.where(comp.scatter["agree"], "agree", "differ"))
    points = alt.Chart(data).mark_circle(size=14, opacity=0.45).encode(
        x=alt.X("baseline_score:Q", title=f"{comp.baseline} score", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("candidate_score:Q", title=f"{comp.candidate} score", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("predictions:N", scale=alt.Scale(domain=["agree", "differ"], range=[PRIMARY, STATUS_COLORS["red"]]),
                        title="predictions"),
        tooltip=[alt.Tooltip("baseline_score:Q", title=comp.baseline, format=".3f"),
                 alt.Tooltip("candidate_score:Q", title=comp.candidate, format=".3f"), "predictions:N"])
    diag = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})).mark_line(color="#777", strokeDash=[4, 3]).encode(x="x:Q", y="y:Q")
    layers = [points, diag]
    if threshold is not None:
        t = pd.DataFrame({"t": [threshold]})
        layers += [alt.Chart(t).mark_rule(color="#999").encode(x="t:Q"), alt.Chart(t).mark_rule(color="#999").encode(y="t:Q")]
    return alt.layer(*layers).properties(width=size, height=size, title=alt.TitleParams(
        f"Scores on the same requests ({len(data):,} shown)", anchor="start"))


def agreement_over_time_chart(comp, height: int = 180) -> alt.Chart:
    """Agreement rate of the two versions per window (label-free, every shared request)."""
    data = comp.by_window.copy()
    window = comp.provenance.get("agreement_window", "day")
    return keep_height(alt.Chart(inline(data)).mark_line(point=True, color=PRIMARY).encode(
        x=alt.X("window:T", title=f"{window} (the log's own clock)", axis=alt.Axis(format="%d %b")),
        y=alt.Y("agreement:Q", title="same prediction", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("window:T", format="%Y-%m-%d %H:%M"), alt.Tooltip("n:Q", title="shared requests", format=","),
                 alt.Tooltip("agreement:Q", format=".1%")],
    ).properties(width=WIDTH, height=height, title=alt.TitleParams(f"Agreement per {window}", anchor="start")))


def latency_comparison_chart(comp, height: int = 200) -> alt.Chart:
    """Latency percentiles of both versions on the same requests, side by side (ms)."""
    lat = comp.latency.reset_index()
    long = lat.melt(id_vars=["model_version", "n"], value_vars=["p50_ms", "p90_ms", "p95_ms", "p99_ms"],
                    var_name="percentile", value_name="latency_ms")
    long["percentile"] = long["percentile"].str.replace("_ms", "")
    order = [comp.baseline, comp.candidate]
    return keep_height(alt.Chart(long).mark_bar().encode(
        x=alt.X("percentile:N", title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("model_version:N", sort=order),
        y=alt.Y("latency_ms:Q", title="latency (ms)"),
        color=alt.Color("model_version:N", title="version", sort=order,
                        scale=alt.Scale(domain=order, range=[PRIMARY, SECONDARY])),
        tooltip=[alt.Tooltip("model_version:N", title="version"), "percentile:N",
                 alt.Tooltip("latency_ms:Q", title="latency (ms)", format=",.1f"), alt.Tooltip("n:Q", title="requests", format=",")],
    ).properties(width=WIDTH // 2, height=height, title=alt.TitleParams("Latency on the same requests", anchor="start")))
