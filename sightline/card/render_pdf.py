"""The model card as a PDF a reviewer can file: title page, contents, sections, tables, charts.

Made with fpdf2 alone (no system packages). Text uses Source Sans Pro, a Unicode TrueType
font shipped inside the ``font-source-sans-pro`` pip package (SIL OFL 1.1), so "—", "≥", "×"
and accented names print as written; a character the font lacks becomes "?" instead of
vanishing. Without that package the core Helvetica font is used and text is reduced to
Latin-1 ("≥" → ">="). Charts are the Sections' PNGs (vl-convert).
"""

from __future__ import annotations

import io
import logging
import struct
from datetime import datetime
from pathlib import Path

from sightline.card.build import ModelCardDocument
from sightline.card.format import moment
from sightline.card.outline import GATE_WORDS, STATUS_WORDS, Bullets, Heading, Image, Pairs, Paragraph, Table, VerdictBox, card_blocks, summary_blocks
from sightline.core.text import short_words

log = logging.getLogger(__name__)

FONT = "CardSans"
ACCENT = (31, 95, 168)
INK = (29, 35, 48)
MUTED = (91, 100, 117)
LINE = (217, 222, 231)
HEAD_FILL = (243, 245, 249)
STATUS_RGB = {"green": (46, 125, 50), "amber": (200, 110, 0), "red": (198, 40, 40)}
STATUS_FILL = {"green": (237, 247, 238), "amber": (255, 245, 229), "red": (253, 236, 236)}
_LATIN1 = {"—": "-", "–": "-", "≥": ">=", "≤": "<=", "×": "x", "→": "->", "…": "...", "•": "*", "≈": "~",
           "“": '"', "”": '"', "‘": "'", "’": "'", "∞": "inf", "±": "+/-", "·": "-", "✓": "v", "✗": "x"}
TABLE_SIZES = (8.0, 7.0, 6.0)  # font sizes tried before a wide table is split into column groups
APPENDIX_TABLE_SIZES = (7.0, 6.5, 6.0)  # the appendices are reference material: set smaller
CHART_SHRINK = 0.8  # charts print at 80% of their screen size: ~8 pt text, a third fewer pages
CHART_GAP = 4.0  # mm between two charts set side by side
CELL_PAD, CELL_PAD_Y = 1.2, 0.8  # mm inside table cells
NATURAL_CAP = 80  # mm: wider cell text wraps
BOLD_COLUMNS = {("verdicts", "Status"), ("gates", "Result")}  # drawn bold and coloured


def _font_files() -> dict[str, str] | None:
    """Regular/bold/italic TTF paths from the font-source-sans-pro package, or None."""
    import importlib.util

    spec = importlib.util.find_spec("font_source_sans_pro")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "files"
    files = {"": "SourceSansPro-Regular.ttf", "B": "SourceSansPro-Bold.ttf", "I": "SourceSansPro-It.ttf", "BI": "SourceSansPro-BoldIt.ttf"}
    paths = {style: folder / name for style, name in files.items()}
    return {s: str(p) for s, p in paths.items()} if all(p.exists() for p in paths.values()) else None


def _png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG header."""
    return struct.unpack(">II", png[16:24])


def _card_pdf_class():
    from fpdf import FPDF

    class CardPDF(FPDF):
        """FPDF with the card's running footer and a Unicode-or-Latin-1 text filter."""

        card_title = ""
        unicode_font = False
        glyphs: frozenset = frozenset()

        def safe(self, text) -> str:
            text = str(text)
            if self.unicode_font:
                return "".join(ch if ord(ch) in self.glyphs or ch in "\n\t" else "?" for ch in text)
            for k, v in _LATIN1.items():
                text = text.replace(k, v)
            return text.encode("latin-1", "replace").decode("latin-1")

        def footer(self):
            if self.page_no() == 1:
                return
            self.set_y(-12)
            self.set_font(FONT if self.unicode_font else "helvetica", "", 8)
            self.set_text_color(*MUTED)
            self.cell(0, 6, self.safe(f"{self.card_title} · page {self.page_no()} of {{nb}}"), align="C")
            self.set_text_color(*INK)

    return CardPDF


class _Writer:
    """Writes card blocks into an FPDF document."""

    def __init__(self, doc: ModelCardDocument):
        self.doc = doc
        pdf = _card_pdf_class()(orientation="portrait", unit="mm", format="A4")
        pdf.set_margins(16, 16, 16)
        pdf.set_auto_page_break(True, margin=18)
        pdf.card_title = f"Model card: {doc.fields.name}"
        pdf.set_title(doc.title)
        pdf.set_author("Sightline")
        pdf.set_creator(f"Sightline {doc.trail.library_versions.get('sightline', '')}")
        # The card's export time (the document was created then); the analysis time is on the title page.
        pdf.set_creation_date(datetime.fromisoformat(doc.exported_at or doc.trail.generated_at))
        fonts = _font_files()
        if fonts:
            for style, path in fonts.items():
                pdf.add_font(FONT, style, path)
            pdf.unicode_font = True
            # fpdf2 keys fonts by lower-case family + style; the regular face has every glyph the others have.
            pdf.glyphs = frozenset(pdf.fonts[FONT.lower()].cmap)
            self.family = FONT
        else:
            log.warning("font-source-sans-pro is not installed: the PDF uses Helvetica and Latin-1 text")
            self.family = "helvetica"
        self.pdf = pdf
        self._widths_memo: dict = {}
        self.sizes = TABLE_SIZES

    # -- primitives ------------------------------------------------------------------------
    def font(self, size: float, style: str = "", color=INK) -> None:
        self.pdf.set_font(self.family, style, size)
        self.pdf.set_text_color(*color)

    def need(self, height: float) -> None:
        """Start a new page when less than ``height`` mm remain."""
        if self.pdf.get_y() + height > self.pdf.h - self.pdf.b_margin:
            self.pdf.add_page()

    def heading(self, block: Heading) -> None:
        pdf = self.pdf
        size = {1: 16, 2: 13, 3: 11}.get(block.level, 11)
        self.need(40 if block.level == 1 else 45)  # a heading never ends a page: keep it with what follows
        pdf.ln(4 if block.level == 1 else 2)
        pdf.start_section(pdf.safe(block.text), level=block.level - 1)
        self.font(size, "B", ACCENT if block.level <= 2 else INK)
        pdf.multi_cell(0, size * 0.5, pdf.safe(block.text), new_x="LMARGIN", new_y="NEXT")
        if block.level == 1:
            y = pdf.get_y() + 0.5
            pdf.set_draw_color(*ACCENT)
            pdf.set_line_width(0.5)
            pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
            pdf.set_line_width(0.2)
            pdf.ln(2)
        pdf.ln(1)

    def paragraph(self, block: Paragraph) -> None:
        pdf = self.pdf
        size = 8.5 if block.muted else 10
        pdf.set_x(pdf.l_margin)
        if block.lead:
            self.font(size, "B")
            pdf.write(size * 0.5, pdf.safe(block.lead + (" " if block.text else "")))
        if block.text:
            self.font(size, "I" if block.muted else "", MUTED if block.muted else INK)
            pdf.write(size * 0.5, pdf.safe(block.text))
        pdf.ln(size * 0.5 + 1.5)

    def pairs(self, block: Pairs) -> None:
        """Settings set as one flowing paragraph of bold names and values, in a small size."""
        pdf, size = self.pdf, 7.5
        if block.caption:
            self.need(14)
            self.font(9, "B")
            pdf.multi_cell(0, 5, pdf.safe(block.caption), new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(pdf.l_margin)
        for i, (key, value) in enumerate(block.items):
            self.font(size, "B")
            pdf.write(size * 0.48, pdf.safe(("  ·  " if i else "") + key + ": "))
            self.font(size, "", INK)
            pdf.write(size * 0.48, pdf.safe(value))
        pdf.ln(size * 0.48 + 2)
        self.font(10)

    def bullets(self, block: Bullets) -> None:
        pdf = self.pdf
        self.font(10)
        for item in block.items:
            pdf.set_x(pdf.l_margin + 2)
            pdf.cell(4, 5, "•" if pdf.unicode_font else "-")
            pdf.multi_cell(pdf.epw - 6, 5, pdf.safe(item), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.6)
        pdf.ln(1)

    def verdict(self, block: VerdictBox) -> None:
        pdf = self.pdf
        word = STATUS_WORDS.get(block.status, block.status)
        text = f"{word}. {block.headline}"
        w = pdf.epw - 6
        self.font(10, "B")
        h1 = pdf.multi_cell(w, 5, pdf.safe(text), dry_run=True, output="HEIGHT")
        h2 = 0
        if block.detail:
            self.font(8.5)
            h2 = pdf.multi_cell(w, 4.2, pdf.safe(block.detail), dry_run=True, output="HEIGHT")
        total = h1 + h2 + 4
        self.need(total + 2)
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_fill_color(*STATUS_FILL.get(block.status, (246, 246, 246)))
        pdf.rect(x, y, pdf.epw, total, style="F")
        pdf.set_fill_color(*STATUS_RGB.get(block.status, (158, 158, 158)))
        pdf.rect(x, y, 2.2, total, style="F")
        pdf.set_xy(x + 5, y + 2)
        self.font(10, "B", STATUS_RGB.get(block.status, INK))
        pdf.multi_cell(w, 5, pdf.safe(text), new_x="LEFT", new_y="NEXT")
        if block.detail:
            self.font(8.5, "", MUTED)
            pdf.multi_cell(w, 4.2, pdf.safe(block.detail), new_x="LEFT", new_y="NEXT")
        pdf.set_xy(pdf.l_margin, y + total + 2)
        self.font(10)

    def _image_size(self, block: Image) -> tuple[float, float] | None:
        """(width, height) in mm of a chart as printed, or None when its PNG cannot be read."""
        pdf = self.pdf
        try:
            wpx, hpx = _png_size(block.png)
        except struct.error:
            return None
        # CSS pixels = wpx / scale; 1 CSS px = 0.2646 mm.
        w = min(pdf.epw, wpx / (block.scale or 1.0) * 0.2646 * CHART_SHRINK)
        h = w * hpx / wpx
        max_h = (pdf.h - pdf.t_margin - pdf.b_margin - 12) * 0.75
        if h > max_h:
            w, h = w * max_h / h, max_h
        return w, h

    def side_by_side(self, first: Image, second: Image) -> bool:
        """True when two charts fit next to each other on a line."""
        a, b = self._image_size(first), self._image_size(second)
        return a is not None and b is not None and a[0] + b[0] + CHART_GAP <= self.pdf.epw

    def image(self, block: Image, beside: Image | None = None) -> None:
        """One chart with its caption, or two side by side (``beside``: the right one)."""
        pdf = self.pdf
        items = [block] + ([beside] if beside is not None else [])
        sizes = [self._image_size(b) for b in items]
        if any(size is None for size in sizes):
            for b, size in zip(items, sizes):
                if size is None:
                    self.paragraph(Paragraph(f"Chart {b.title} could not be read.", muted=True))
                else:
                    self.image(b)
            return
        self.font(8.5, "I", MUTED)
        caption_h = max(pdf.multi_cell(w, 4.5, pdf.safe(b.title), dry_run=True, output="HEIGHT") for b, (w, _) in zip(items, sizes))
        self.need(max(h for _, h in sizes) + caption_h + 3)
        x, y = pdf.l_margin, pdf.get_y()
        bottom = y
        for b, (w, h) in zip(items, sizes):
            pdf.image(io.BytesIO(b.png), x=x, y=y, w=w, h=h)
            pdf.set_xy(x, y + h)
            self.font(8.5, "I", MUTED)
            pdf.multi_cell(w, 4.5, pdf.safe(b.title), new_x="LEFT", new_y="NEXT")
            bottom = max(bottom, pdf.get_y())
            x += w + CHART_GAP
        pdf.set_xy(pdf.l_margin, bottom + 2)
        self.font(10)

    # -- tables ----------------------------------------------------------------------------
    # Drawn by hand with cell(): fpdf2's table() re-measures every cell several times, which made
    # a card with a few thousand cells take seconds. Widths are memoised per (text, style, size).
    def width(self, text: str, size: float, style: str = "") -> float:
        key = (text, size, style)
        w = self._widths_memo.get(key)
        if w is None:
            self.pdf.set_font(self.family, style, size)
            w = self._widths_memo[key] = self.pdf.get_string_width(text)
        return w

    def wrap(self, text: str, avail: float, size: float, style: str = "") -> list[str]:
        """Greedy word wrap of ``text`` into lines no wider than ``avail`` mm (long words are cut)."""
        avail += 0.05  # measured widths are floats: do not wrap a cell that was sized to fit it exactly
        if self.width(text, size, style) <= avail:
            return [text]
        lines, line = [], ""
        for word in text.split(" "):  # not split(): a no-break space must hold its words together
            trial = f"{line} {word}" if line else word
            if self.width(trial, size, style) <= avail:
                line = trial
                continue
            if line:
                lines.append(line)
            # Measure at most a line's worth of characters at a time: measuring the whole rest of
            # a very long word for every line it fills would be quadratic in its length.
            probe = max(2, int(avail / max(self.width("i", size, style), 1e-3)) + 2)
            while len(word) > 1:
                piece = word[:probe]
                w = self.width(piece, size, style)
                if w <= avail:
                    if len(piece) == len(word):
                        break
                    cut = len(piece)
                else:
                    cut = max(1, int(len(piece) * avail / w))
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
        return lines or [""]

    def _col_widths(self, header, rows, size: float, key: str = "") -> tuple[list[float], list[float]]:
        """(natural, minimal) column widths in mm at font ``size``: natural fits the longest cell
        (capped at 80 mm), minimal fits the longest word, so text wraps but words do not break."""
        natural, minimal = [], []
        for j, h in enumerate(header):
            cells = [r[j] for r in rows]
            style = "B" if (key, h) in BOLD_COLUMNS else ""
            nat = max([self.width(h, size, "B")] + [self.width(c, size, style) for c in cells])
            low = max([self.width(w, size, "B") for w in h.split(" ")] + [self.width(w, size, style) for c in cells for w in c.split(" ")] + [0])
            natural.append(min(nat + 2 * CELL_PAD, NATURAL_CAP))
            minimal.append(min(low + 2 * CELL_PAD, 45))
        return natural, minimal

    def _fit(self, header, rows, key: str = "") -> tuple[float, list[float]] | None:
        for size in self.sizes:
            natural, minimal = self._col_widths(header, rows, size, key)
            if sum(natural) <= self.pdf.epw:
                capped = [j for j, n in enumerate(natural) if n >= NATURAL_CAP]
                if capped:  # long text wraps: give it the rest of the line rather than a narrow column
                    extra = (self.pdf.epw - sum(natural)) / len(capped)
                    natural = [n + extra if j in capped else n for j, n in enumerate(natural)]
                return size, natural
            if sum(minimal) <= self.pdf.epw:
                spare = self.pdf.epw - sum(minimal)
                want = [n - m for n, m in zip(natural, minimal)]
                total = sum(want) or 1
                return size, [m + spare * w / total for m, w in zip(minimal, want)]
        return None

    def table(self, block: Table) -> None:
        pdf = self.pdf
        header = [pdf.safe(h) for h in block.header]
        rows = [[pdf.safe(c) for c in r] for r in block.rows]
        if not header:
            return
        fitted = self._fit(header, rows, block.key)
        if fitted is not None:
            self._draw_table(pdf.safe(block.caption), header, rows, *fitted, key=block.key)
        else:
            # Too wide for the page even at 6 pt: split into column groups, repeating the first column.
            size = self.sizes[-1]
            natural, _ = self._col_widths(header, rows, size, block.key)
            groups, current, used = [], [], natural[0]
            for j in range(1, len(header)):
                if current and used + natural[j] > pdf.epw:
                    groups.append(current)
                    current, used = [], natural[0]
                current.append(j)
                used += natural[j]
            if current:
                groups.append(current)
            for i, cols in enumerate(groups, 1):
                idx = [0] + cols
                caption = pdf.safe(f"{block.caption} (columns {cols[0] + 1}–{cols[-1] + 1} of {len(header)}, part {i} of {len(groups)})")
                sub_h = [header[k] for k in idx]
                sub_r = [[r[k] for k in idx] for r in rows]
                fit = self._fit(sub_h, sub_r, block.key) or (size, [min(natural[k], pdf.epw / len(idx)) for k in idx])
                self._draw_table(caption, sub_h, sub_r, *fit, key=block.key)
        if block.note:
            self.paragraph(Paragraph(block.note, muted=True))

    def _cell_color(self, key: str, column: str, text: str):
        if key == "verdicts" and column == "Status":
            status = next((s for s, w in STATUS_WORDS.items() if w == text), "")
            return STATUS_RGB.get(status)
        if key == "gates" and column == "Result":
            return (STATUS_RGB["red"] if text.startswith(GATE_WORDS["failed"]) else
                    STATUS_RGB["green"] if text.startswith(GATE_WORDS["passed"]) else MUTED)
        return None

    def _row(self, cells, widths, size, style="", fill=None, colors=None) -> None:
        pdf = self.pdf
        lh = size * 0.45
        styles = ["B" if (colors or {}).get(j) else style for j in range(len(cells))]
        wrapped = [self.wrap(c, w - 2 * CELL_PAD, size, st) for c, w, st in zip(cells, widths, styles)]
        height = max(len(lines) for lines in wrapped) * lh + 2 * CELL_PAD_Y
        x0, y0 = pdf.l_margin, pdf.get_y()
        pdf.set_draw_color(*LINE)
        if fill:
            pdf.set_fill_color(*fill)
        x = x0
        for j, (lines, w) in enumerate(zip(wrapped, widths)):
            pdf.rect(x, y0, w, height, style="DF" if fill else "D")
            color = (colors or {}).get(j)
            pdf.set_font(self.family, "B" if color else style, size)
            pdf.set_text_color(*(color or INK))
            # text() on the baseline cell(w, lh, line) would use (c_margin in, half a line plus
            # 0.3 em down): the same page, and ~6x cheaper than cell() over thousands of cells.
            baseline = 0.5 * lh + 0.3 * pdf.font_size
            for k, line in enumerate(lines):
                if line:
                    pdf.text(x + CELL_PAD + pdf.c_margin, y0 + CELL_PAD_Y + k * lh + baseline, line)
            x += w
        pdf.set_xy(x0, y0 + height)

    def _row_height(self, cells, widths, size, style="") -> float:
        # Colored cells are bold: measure everything bold to be safe (a slightly taller row at worst).
        return max(len(self.wrap(c, w - 2 * CELL_PAD, size, "B" if style == "B" else "")) for c, w in zip(cells, widths)) * size * 0.45 + 2 * CELL_PAD_Y

    def _draw_table(self, caption, header, rows, size, widths, key="") -> None:
        pdf = self.pdf
        bottom = pdf.h - pdf.b_margin
        head_h = self._row_height(header, widths, size, "B")
        # Keep the caption, the header and the first few rows together on one page.
        first = sum(self._row_height(r, widths, size) for r in rows[:3])
        self.need((6 if caption else 0) + head_h + first + 2)
        if caption:
            self.font(9, "B")
            pdf.multi_cell(0, 5, caption, new_x="LMARGIN", new_y="NEXT")
        self._row(header, widths, size, "B", HEAD_FILL)
        for r in rows:
            if pdf.get_y() + self._row_height(r, widths, size) > bottom:
                pdf.add_page()
                self._row(header, widths, size, "B", HEAD_FILL)  # repeat the header on every page
            colors = {j: c for j, h in enumerate(header) if (c := self._cell_color(key, h, r[j]))}
            self._row(r, widths, size, colors=colors)
        pdf.ln(3)
        self.font(10)

    # -- pages -----------------------------------------------------------------------------
    def title_page(self) -> None:
        pdf, doc, t = self.pdf, self.doc, self.doc.trail
        pdf.add_page()
        pdf.ln(18)
        self.font(11, "B", ACCENT)
        pdf.cell(0, 6, "MODEL CARD", new_x="LMARGIN", new_y="NEXT")
        self.font(26, "B")
        pdf.multi_cell(0, 12, pdf.safe(doc.fields.name), new_x="LMARGIN", new_y="NEXT")
        self.font(13, "", MUTED)
        version = f"Version {doc.fields.version}" if doc.fields.version else "Unversioned"
        if doc.fields.version_date:
            version += f", released {doc.fields.version_date}"
        pdf.cell(0, 8, pdf.safe(version), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        self.font(9, "", MUTED)
        for line in (f"Card exported {moment(doc.exported_at)}",
                     f"Analysis run {moment(t.generated_at)} by Sightline {t.library_versions.get('sightline', '?')} · "
                     f"audit fingerprint {t.fingerprint} · Model Card Toolkit schema 0.0.2",
                     "Inputs: " + ", ".join(f"{short_words(i['name'])} ({i['role']})" for i in t.inputs)):
            pdf.multi_cell(0, 4.8, pdf.safe(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(8)
        self.heading(Heading(1, "Summary", "summary"))
        for block in summary_blocks(doc):
            self.write(block)
        if doc.fields.overview:
            self.write(Paragraph(doc.fields.overview, lead="Overview."))

    def toc(self, pdf, outline) -> None:
        pdf.set_xy(pdf.l_margin, pdf.t_margin)
        self.font(16, "B", ACCENT)
        pdf.cell(0, 10, "Contents", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        for item in outline:
            if item.level > 1:
                continue
            size = 10.5 if item.level == 0 else 9.5
            self.font(size, "B" if item.level == 0 else "", INK if item.level == 0 else MUTED)
            indent = 6 * item.level
            link = pdf.add_link(page=item.page_number)
            label = str(item.page_number)
            text_w = pdf.epw - indent - 14
            pdf.set_x(pdf.l_margin + indent)
            pdf.cell(text_w, 6, pdf.safe(item.name), link=link)
            pdf.cell(14, 6, label, align="R", link=link, new_x="LMARGIN", new_y="NEXT")

    def write(self, block) -> None:
        if isinstance(block, Heading):
            if block.level == 1:
                self.need(70)
                self.sizes = APPENDIX_TABLE_SIZES if block.text.startswith("Appendix") else TABLE_SIZES
            self.heading(block)
        elif isinstance(block, Paragraph):
            self.paragraph(block)
        elif isinstance(block, Bullets):
            self.bullets(block)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, Pairs):
            self.pairs(block)
        elif isinstance(block, VerdictBox):
            self.verdict(block)
        elif isinstance(block, Image):
            self.image(block)
        else:
            raise TypeError(f"unknown card block {type(block).__name__}")

    def render(self) -> bytes:
        pdf = self.pdf
        self.title_page()
        pdf.add_page()
        # The placeholder reserves this page for the contents and starts the next one itself.
        pdf.insert_toc_placeholder(self.toc, pages=1, allow_extra_pages=True)
        blocks = card_blocks(self.doc, images=True)
        # The title page already holds the summary: skip it in the body.
        i = next(i for i, b in enumerate(blocks) if i > 0 and isinstance(b, Heading) and b.level == 1)
        while i < len(blocks):
            block, following = blocks[i], blocks[i + 1] if i + 1 < len(blocks) else None
            if isinstance(block, Image) and isinstance(following, Image) and self.side_by_side(block, following):
                self.image(block, following)
                i += 2
                continue
            self.write(block)
            i += 1
        return bytes(pdf.output())


def render_pdf(doc: ModelCardDocument) -> bytes:
    """PDF bytes of the card (A4): title page with the verdict summary, contents, then every section."""
    return _Writer(doc).render()
