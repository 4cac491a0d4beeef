"""The model card's fast paths change no picture: charts rendered in a child process
(ChartPrerenderer) are byte for byte the in-process ones, the palette PNG keeps every colour,
and PDF table text sits exactly where fpdf2's cell() would put it.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import altair as alt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sightline.card.build import render_graphics
from sightline.card.png import compact_png
from sightline.card.prerender import ChartPrerenderer
from sightline.core.section import GREEN, Chart, Section, Verdict
from sightline.report.registry import Report


def _bars(title: str, n: int = 3) -> alt.Chart:
    data = pd.DataFrame({"k": [f"group {i}" for i in range(n)], "v": np.arange(1, n + 1) / n})
    return alt.Chart(data, title=title, width=200, height=100).mark_bar().encode(x="k:N", y="v:Q", color="k:N")


class _Unrenderable:
    """A chart whose spec vl-convert rejects (an unknown mark)."""

    def to_dict(self, validate=True):
        return {"mark": "no-such-mark", "data": {"values": [{"a": 1}]}}


def _report() -> Report:
    ok = Verdict(GREEN, "fine")
    sections = {
        "performance": Section(area="performance", verdict=ok, charts=(
            Chart("bars", "Bars", _bars("Bars")), Chart("broken", "Broken", _Unrenderable()),
            Chart("more", "More bars", _bars("More bars", 5)))),
        "calibration": Section(area="calibration", verdict=ok),  # no charts
        "drift": Section(area="drift", verdict=ok, charts=(Chart("bars", "Drift bars", _bars("Drift bars", 4)),)),
    }
    return Report(audit=None, sections=sections, generated_at="2026-02-14T10:00:00+00:00")


def _key(graphics):
    return [(g.area, g.name, g.title, g.png, g.scale) for g in graphics[0]], graphics[1]


@pytest.fixture(scope="module")
def report():
    return _report()


@pytest.fixture(scope="module")
def in_process(report):
    return render_graphics(report)


def test_in_process_rendering_lists_the_broken_chart(in_process):
    assert [g.name for g in in_process[0]] == ["performance.bars", "performance.more", "drift.bars"]
    assert in_process[1] == ("performance.broken (ValueError)",)
    assert all(g.png[:8] == b"\x89PNG\r\n\x1a\n" for g in in_process[0])


def test_prerendered_charts_are_the_in_process_charts(report, in_process):
    with ChartPrerenderer() as charts:
        for area, section in report.sections.items():
            charts.submit(area, section)
        got = charts.graphics(report)
    assert _key(got) == _key(in_process)  # same bytes, order, titles, scale and failure list


def test_charts_never_submitted_are_rendered_in_process(report, in_process):
    with ChartPrerenderer() as charts:
        charts.submit("drift", report.sections["drift"])
        got = charts.graphics(report)
    assert _key(got) == _key(in_process)


def test_without_a_child_process_everything_renders_in_process(report, in_process, monkeypatch):
    import concurrent.futures

    def no_processes(*args, **kwargs):
        raise OSError("no processes here")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_processes)
    charts = ChartPrerenderer()
    for area, section in report.sections.items():
        charts.submit(area, section)
    assert _key(charts.graphics(report)) == _key(in_process)


def _quantized_rgb(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        q = im.convert("RGBA").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        return np.asarray(q.convert("RGBA"))


def test_palette_png_keeps_every_colour_and_drops_the_alpha_of_opaque_charts():
    import vl_convert as vlc

    from sightline.charts import chart_spec

    raw = vlc.vegalite_to_png(chart_spec(_bars("Colours", 6)), scale=1.5)
    small = compact_png(raw)
    assert b"tRNS" not in small and len(small) < len(raw)
    with Image.open(io.BytesIO(small)) as im:
        assert im.mode == "P"
        got = np.asarray(im.convert("RGBA"))
    expected = _quantized_rgb(raw)
    assert np.array_equal(got[..., :3], expected[..., :3])  # the palette quantisation's colours, pixel for pixel
    assert (got[..., 3] == 255).all() and (expected[..., 3] >= 254).all()


def test_palette_png_keeps_real_transparency():
    im = Image.new("RGBA", (40, 20), (255, 255, 255, 255))
    im.paste((200, 30, 30, 0), (0, 0, 20, 20))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    with Image.open(io.BytesIO(compact_png(buf.getvalue()))) as out:
        alpha = np.asarray(out.convert("RGBA"))[..., 3]
    assert alpha[:, :20].max() == 0 and alpha[:, 20:].min() == 255


def _text_origins(pdf) -> list[tuple[str, str]]:
    """The (x, y) of every text object on the current page of an uncompressed fpdf2 document."""
    return re.findall(r"BT ([\d.]+) ([\d.]+) Td", bytes(pdf.pages[pdf.page].contents).decode("latin-1"))


def test_pdf_table_text_is_where_cell_would_put_it():
    from sightline.card.render_pdf import CELL_PAD, CELL_PAD_Y, _Writer

    doc = SimpleNamespace(fields=SimpleNamespace(name="m"), title="Model card: m", exported_at="2026-02-15T08:00:00+00:00",
                          trail=SimpleNamespace(library_versions={}, generated_at="2026-02-14T10:00:00+00:00"))
    cells, widths, size = ["accuracy", "0.8125 [0.7,\u00a00.9] and a note long enough to wrap onto more lines", ""], [30.0, 40.0, 20.0], 8.0
    fast, slow = _Writer(doc), _Writer(doc)  # the same fonts and page set-up
    for writer in (fast, slow):
        writer.pdf.set_compression(False)
        writer.pdf.add_page()
    fast._row(cells, widths, size, colors={0: (198, 40, 40)})  # draws its text with text()

    pdf = slow.pdf  # the same row drawn with cell(), as the renderer used to
    lh, x, y0 = size * 0.45, pdf.l_margin, pdf.get_y()
    for j, (text, w) in enumerate(zip(cells, widths)):
        style = "B" if j == 0 else ""
        pdf.set_font(slow.family, style, size)
        for k, line in enumerate(slow.wrap(text, w - 2 * CELL_PAD, size, style)):
            pdf.set_xy(x + CELL_PAD, y0 + CELL_PAD_Y + k * lh)
            pdf.cell(w - 2 * CELL_PAD, lh, line)
        x += w
    got, expected = _text_origins(fast.pdf), _text_origins(pdf)
    assert len(got) >= 3 and got == expected
