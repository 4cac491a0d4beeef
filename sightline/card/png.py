"""The card's chart pictures: a Vega-Lite spec to a small palette PNG.

Kept apart from :mod:`sightline.card.build` and free of heavy imports (only Pillow and
vl-convert, inside the functions) because :mod:`sightline.card.prerender` runs
:func:`spec_png` in a child process, which should start in a fraction of a second.
"""

from __future__ import annotations

import io


def compact_png(png: bytes) -> bytes:
    """The same picture as a 256-colour palette PNG: charts have few colours, and this makes
    them about ten times smaller (a card with 30 charts stays well under a few MB).

    Input and output: PNG bytes. An opaque picture gets an RGB palette (no ``tRNS`` chunk).
    """
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as im:
        rgba = im.convert("RGBA")
        quantized = rgba.quantize(colors=256, method=PILImage.Quantize.FASTOCTREE, dither=PILImage.Dither.NONE)
        if rgba.getextrema()[3][0] == 255:
            # vl-convert paints charts on white, so they are opaque. The octree's averaging leaves
            # some palette entries at alpha 254, and that tRNS chunk made fpdf2 build a soft mask
            # for every chart (~10 ms each, 12 % of the PDF's bytes). The colours stay the same.
            quantized.putpalette(quantized.getpalette("RGB"), "RGB")
        out = io.BytesIO()
        quantized.save(out, format="PNG")
    return out.getvalue()


def spec_png(spec: dict, scale: float) -> bytes:
    """The card's PNG of one Vega-Lite spec (a dict, as :func:`sightline.charts.chart_spec`
    gives it): rendered by vl-convert at ``scale`` device pixels per CSS pixel, then
    :func:`compact_png`. Byte for byte what the card gets from the chart in-process."""
    import vl_convert as vlc

    return compact_png(vlc.vegalite_to_png(spec, scale=scale))


def warm_up() -> None:
    """Start vl-convert's engine (~0.7 s CPU the first time in a process) with a tiny chart."""
    import vl_convert as vlc

    vlc.vegalite_to_svg({"mark": "point", "data": {"values": [{"a": 1}]},
                         "encoding": {"x": {"field": "a", "type": "quantitative"}}})
