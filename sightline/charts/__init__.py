"""Pure Altair chart builders: a result in, an ``alt.Chart`` out.

Pages render them with ``st.altair_chart``; the model card renders the very same chart to PNG
(:func:`chart_png`). One module per area; shared styling lives here.
"""

from __future__ import annotations

import altair as alt

# Status colours used across charts so "red" means the same thing everywhere.
STATUS_COLORS = {"green": "#2e7d32", "amber": "#ef8f00", "red": "#c62828", "grey": "#9e9e9e"}
PRIMARY = "#1f5fa8"
SECONDARY = "#e07b39"
WIDTH = 640


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """PNG bytes of an Altair chart, rendered locally by vl-convert (no network, no browser)."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_json(), scale=scale)


def chart_svg(chart: alt.TopLevelMixin) -> str:
    """SVG text of an Altair chart (vl-convert)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())
