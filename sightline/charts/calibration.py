"""Charts of the Calibration page and the model card's calibration section.

Pure builders: :mod:`sightline.calibration.section` results in, Altair charts out. The reliability
diagram's points are exactly the rows of :func:`sightline.calibration.section.reliability_table`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from sightline.charts import PRIMARY, STATUS_COLORS
from sightline.charts.performance import padded

GREY = STATUS_COLORS["grey"]
SIDE = 340  # the diagram is square so the diagonal sits at 45°

_DIAGONAL = pd.DataFrame({"mean_predicted": [0.0, 1.0], "fraction_positive": [0.0, 1.0]})


def _tooltip(group: bool = False) -> list:
    tips = [alt.Tooltip("bin_lower:Q", title="bin from", format=".3f"), alt.Tooltip("bin_upper:Q", title="bin to", format=".3f"),
            alt.Tooltip("count:Q", title="predictions in bin", format=","),
            alt.Tooltip("mean_predicted:Q", title="mean predicted probability", format=".3f"),
            alt.Tooltip("fraction_positive:Q", title="observed share", format=".3f"),
            alt.Tooltip("gap:Q", title="observed − predicted", format="+.3f")]
    return ([alt.Tooltip("group:N")] if group else []) + tips


def _axes():
    x = alt.X("mean_predicted:Q", title="mean predicted probability", scale=alt.Scale(domain=[0, 1]))
    y = alt.Y("fraction_positive:Q", title="observed share that came true", scale=alt.Scale(domain=[0, 1]))
    return x, y


def reliability_chart(table: pd.DataFrame, *, scheme: str | None = None) -> alt.VConcatChart:
    """Reliability diagram with 95% intervals over a bar chart of the count per bin.

    Input: :func:`sightline.calibration.section.reliability_table` output; ``scheme``, the bin scheme
    in words, for the subtitle. The dashed diagonal is perfect calibration.
    """
    x, y = _axes()
    diagonal = alt.Chart(_DIAGONAL).mark_line(color=GREY, strokeDash=[4, 4]).encode(x="mean_predicted:Q", y="fraction_positive:Q")
    base = alt.Chart(table)
    bars = base.mark_rule(color=PRIMARY, opacity=0.5).encode(x=x, y="lower:Q", y2="upper:Q", tooltip=_tooltip())
    line = base.mark_line(color=PRIMARY).encode(x=x, y=y)
    points = base.mark_circle(color=PRIMARY, opacity=0.9).encode(
        x=x, y=y, size=alt.Size("count:Q", title="predictions", scale=alt.Scale(range=[30, 400]), legend=None),
        tooltip=_tooltip())
    diagram = alt.layer(diagonal, bars, line, points).properties(
        width=SIDE, height=SIDE,
        title=alt.TitleParams("Reliability diagram (dashed: perfectly calibrated)",
                              subtitle=[scheme] if scheme else [], anchor="start"))
    counts = base.mark_rect(color=PRIMARY, opacity=0.6, stroke="white").encode(
        x=alt.X("bin_lower:Q", title="predicted probability", scale=alt.Scale(domain=[0, 1])), x2="bin_upper:Q",
        y=alt.Y("count:Q", title="predictions"), y2=alt.datum(0), tooltip=_tooltip()).properties(width=SIDE, height=90,
                                                                           title="Predictions per bin")
    return padded(alt.vconcat(diagram, counts, spacing=8))


def group_reliability_chart(long: pd.DataFrame, *, column: str) -> alt.LayerChart:
    """Reliability curves of all rows and of each group on one chart (point size = count).

    Input: reliability rows with a ``group`` column (e.g.
    :func:`sightline.calibration.section.overall_and_groups`); ``column``, the grouping column's name.
    """
    x, y = _axes()
    groups = list(dict.fromkeys(long["group"]))
    diagonal = alt.Chart(_DIAGONAL).mark_line(color=GREY, strokeDash=[4, 4]).encode(x="mean_predicted:Q", y="fraction_positive:Q")
    color = alt.Color("group:N", title=column, sort=groups,
                      scale=alt.Scale(domain=groups, range=["#222222", "#1f5fa8", "#e07b39", "#6a9f58", "#b5446e",
                                                            "#8c6bb1", "#c9a227", "#3b9ab2", "#7f7f7f"][:len(groups)]))
    base = alt.Chart(long)
    # typed, not alt.condition's dict, which Altair resolves against every schema on encode
    lines = base.mark_line().encode(x=x, y=y, color=color,
                                    strokeWidth=alt.StrokeWidthValue(**alt.condition("datum.group == 'all rows'", alt.value(3), alt.value(1.5))))
    points = base.mark_circle(opacity=0.85).encode(
        x=x, y=y, color=color, size=alt.Size("count:Q", title="predictions", scale=alt.Scale(range=[15, 300]), legend=None),
        tooltip=_tooltip(group=True))
    return padded(alt.layer(diagonal, lines, points).properties(
        width=SIDE + 60, height=SIDE, title=f"Calibration by {column} (same bins for every group)"))
