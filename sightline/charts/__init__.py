"""Pure Altair chart builders: a result in, an ``alt.Chart`` out.

Pages render them with ``st.altair_chart``; the model card renders the very same chart to PNG
(:func:`chart_png`). One module per area; shared styling lives here. Long values and names are
shortened in every rendered spec (:mod:`sightline.core.text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sightline.core.text import shorten_spec

if TYPE_CHECKING:  # altair is imported by the builders; this package's helpers only annotate with it
    import altair as alt

# Status colours used across charts so "red" means the same thing everywhere.
STATUS_COLORS = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828", "grey": "#9e9e9e"}
PRIMARY = "#1f5fa8"
SECONDARY = "#e07b39"
WIDTH = 640


def chart_spec(chart: alt.TopLevelMixin) -> dict:
    """The Vega-Lite spec of an Altair chart as a dict, without schema validation.

    ``to_json()`` first validates the whole spec against the Vega-Lite JSON schema: 0.02–0.04 s
    CPU a chart (10–15 % of a card's chart time) for the same dict. The builders' specs are
    validated in the tests instead (``tests/test_card.py`` validates every chart of the sample
    card), so an invalid builder still fails CI.

    Every string longer than :data:`~sightline.core.text.LABEL_LIMIT` characters (a 1 MB
    category value, a 10,000-character column name) is shortened, the same way wherever it
    appears (:func:`~sightline.core.text.shorten_spec`): vl-convert measures every label,
    and a long one took minutes. A chart without long text gets the very same dict.
    """
    return shorten_spec(chart.to_dict(validate=False))


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """PNG bytes of an Altair chart, rendered locally by vl-convert (no network, no browser).

    ``scale``: device pixels per CSS pixel. The cost (~0.1–0.4 s a chart) is vl-convert's
    Vega run and text measurement; it barely depends on ``scale`` or on the rows behind the chart.
    """
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart_spec(chart), scale=scale)


def chart_svg(chart: alt.TopLevelMixin) -> str:
    """SVG text of an Altair chart (vl-convert)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart_spec(chart))
