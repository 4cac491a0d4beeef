"""Drawing the engine's Altair charts on a page, with long text shortened.

The page and the model card draw the same chart builders (``sightline/charts``). A category
value or a column name can be a megabyte long; the card shortens every string in a chart's spec
(:func:`sightline.charts.chart_spec`) and the page must too, or the browser receives and
measures the whole value.
"""

from __future__ import annotations

import altair as alt

from sightline.charts import chart_spec

# Charts made of several views. Streamlit cannot stretch them: it sets the whole chart's width
# as each plot's width and Vega adds axes and legends on top, so the chart overflows its column
# and cuts off its right end (the latest weeks of a time axis).
COMPOSITIONS = ("vconcat", "hconcat", "concat", "facet", "repeat")


def show(container, chart: alt.TopLevelMixin, **kwargs):
    """Draw ``chart`` in ``container`` (``st``, a column, a tab…) as ``st.altair_chart`` would,
    with every string longer than the label limit shortened; ``kwargs`` go to
    ``st.vega_lite_chart`` (width, height, theme…). A chart of several views (:data:`COMPOSITIONS`)
    is drawn at the size its builder gave it, whatever ``width`` asks."""
    spec = chart_spec(chart)
    if any(k in spec for k in COMPOSITIONS) and kwargs.get("width", "stretch") == "stretch":
        kwargs["width"] = "content"
    return container.vega_lite_chart(spec=spec, **kwargs)
