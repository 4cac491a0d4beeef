"""Charts of the Overview page."""

from __future__ import annotations

import altair as alt
import pandas as pd

from sightline.charts import PRIMARY, WIDTH


def label_coverage_chart(coverage: pd.DataFrame, version: str | None = None) -> alt.Chart:
    """Bars of logged rows per window, the labelled part darker.

    Input: :func:`sightline.data.summary.label_coverage_by_window` output
    (window, rows, labelled, coverage); ``version``: the model version the rows are of, named in
    the title (None: the log has one model).
    """
    title = "Predictions per week and label arrival" + (f" (model {version})" if version else "")
    long = coverage.assign(awaiting=coverage["rows"] - coverage["labelled"]).melt(
        id_vars=["window", "coverage"], value_vars=["labelled", "awaiting"], var_name="label", value_name="count")
    long["label"] = long["label"].map({"labelled": "label arrived", "awaiting": "awaiting label"})
    return (
        alt.Chart(long, title=title, width=WIDTH, height=220)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(window):O", title="week starting", axis=alt.Axis(format="%b %d", labelAngle=0)),
            y=alt.Y("count:Q", title="logged predictions", stack=True),
            color=alt.Color("label:N", scale=alt.Scale(domain=["label arrived", "awaiting label"], range=[PRIMARY, "#c5d5ea"]), title=None),
            tooltip=[alt.Tooltip("window:T", title="week"), "label:N", alt.Tooltip("count:Q", format=","),
                     alt.Tooltip("coverage:Q", title="label coverage", format=".0%")],
        )
    )
