"""The model card as Markdown (``model_card.md``, and the dashboard's live preview).

Every text — the title, the written sections, table cells, verdicts, chart titles — is escaped
(:func:`escape`), as the HTML card escapes it: it reads as the same words in any Markdown
renderer and never becomes markup. No raw HTML (``<script>``, ``<img onerror=…>``), no link or
image (``[x](javascript:…)``, ``![x](data:…)``, ``<javascript:…>``), no heading, list, quote or
table a person's text did not already have as words. The only link the file holds is each
chart's own inline PNG.
"""

from __future__ import annotations

import base64
import re

from sightline.card.build import ModelCardDocument
from sightline.card.format import moment
from sightline.card.outline import STATUS_WORDS, Bullets, Heading, Image, Pairs, Paragraph, Table, VerdictBox, card_blocks

# Characters that start inline markup: code spans, emphasis, strikethrough. A backslash makes
# each a literal character (CommonMark escapes any ASCII punctuation).
_INLINE = re.compile(r"([\\`*~])")
# A link or an image needs "](" (inline) or "][" (a reference); a reference needs its definition,
# "[label]: url" at the start of a line, which _LINE_START escapes. "[0.7, 0.9]" stays as it is.
_BRACKET = re.compile(r"\](?=[ \t]*[(\[:])")
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # inside a word, _ emphasises nothing
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # "&lt;" typed as text stays those four characters
# "<" opens raw HTML or an autolink only before a letter, "/", "!" or "?" ("<= 0.3" is text).
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
# A URL scheme that runs code or carries a document: its colon as a character reference, so
# no renderer's link detection can take the text for one (it still reads "javascript:").
_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data)(\s*):(?=\S)")
# What starts a block at the beginning of a line: heading, quote, list item, setext underline,
# thematic break, ordered list number, link reference definition.
_LINE_START = re.compile(r"^[ \t]*(?:([#>+=\-\[])|(\d{1,9})([.)]))")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_inline(text) -> str:
    """``text`` as literal Markdown inline content: no emphasis, code, link, image, raw HTML or
    entity; newlines and control characters become spaces."""
    text = _CONTROL.sub(" ", str(text))
    text = _INLINE.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _BRACKET.sub(r"\\]", text)
    text = _ENTITY.sub("&amp;", text)
    text = _TAG.sub("&lt;", text)
    return _SCHEME.sub(r"\1\2&#58;", text)


def _line(text: str) -> str:
    """One line of escaped text that cannot open a block (its first character escaped)."""
    def start(m: re.Match) -> str:
        if m.group(1):
            return "\\" + m.group(1)
        return m.group(2) + "\\" + m.group(3)
    return _LINE_START.sub(start, text.lstrip(" \t"), count=1)  # leading spaces could open a code block


def escape(text, *, multiline: bool = False, after: bool = False) -> str:
    """User or computed ``text`` as Markdown that renders as exactly these words (see the module
    docstring). ``multiline``: keep line breaks (each line escaped as a line of its own);
    otherwise the text is one line. ``after``: the text follows other words on its first line
    (e.g. a bold lead), so that line cannot open a block and is escaped as inline text only."""
    if not multiline:
        text = escape_inline(str(text).replace("\r", " ").replace("\n", " "))
        return text if after else _line(text)
    lines = [escape_inline(part) for part in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(part if after and i == 0 else _line(part) for i, part in enumerate(lines))


def _heading(text) -> str:
    """Heading content: inline text whose closing "#" (which a heading would drop) is escaped."""
    text = escape_inline(str(text).replace("\r", " ").replace("\n", " ")).strip()
    return text[:-1] + "\\#" if text.endswith("#") else text


def _escape_cell(text: str) -> str:
    # Inline content only; a pipe ends a Markdown table cell and a newline ends the row.
    return escape_inline(str(text).replace("\r", " ").replace("\n", " ")).replace("|", "\\|")


def _table(block: Table) -> list[str]:
    out = [f"**{escape_inline(block.caption)}**", ""] if block.caption else []
    out.append("| " + " | ".join(_escape_cell(h) for h in block.header) + " |")
    out.append("|" + "|".join("---" for _ in block.header) + "|")
    out += ["| " + " | ".join(_escape_cell(c) for c in row) + " |" for row in block.rows]
    if block.note:
        out += ["", f"*{escape_inline(block.note)}*"]
    return out


def _block(block, images: bool, offset: int = 0) -> list[str]:
    if isinstance(block, Heading):
        return ["#" * min(6, block.level + 1 + offset) + " " + _heading(block.text)]
    if isinstance(block, Paragraph):
        text = escape(block.text.strip(), multiline=True, after=bool(block.lead))
        if block.muted:
            text = f"*{text}*" if text else ""
        lead = f"**{escape_inline(block.lead)}**" if block.lead else ""
        return [" ".join(p for p in (lead, text) if p)]
    if isinstance(block, Bullets):
        return [f"- {escape(item)}" for item in block.items]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Pairs):
        text = " · ".join(f"**{escape_inline(k)}:** {escape_inline(v)}" for k, v in block.items)
        return ([f"**{escape_inline(block.caption)}**", ""] if block.caption else []) + [text]
    if isinstance(block, VerdictBox):
        out = [f"> **{escape_inline(STATUS_WORDS.get(block.status, block.status))}.** {escape_inline(block.headline)}"]
        if block.detail:
            out += [">", f"> {escape(block.detail)}"]
        return out
    if isinstance(block, Image):
        if not images:
            return [f"*Chart: {escape_inline(block.title)}*"]
        # The only link in the file: the chart's own PNG, never text from the audit.
        return [f"![{escape_inline(block.title)}](data:image/png;base64,{base64.b64encode(block.png).decode('ascii')})", "",
                f"*{escape_inline(block.title)}*"]
    raise TypeError(f"unknown card block {type(block).__name__}")


def render_markdown(doc: ModelCardDocument, *, images: bool = True, heading_offset: int = 0) -> str:
    """Markdown text of the card. ``images``: charts inline as base64 PNG data URIs (one
    self-contained file); False lists chart titles only (the dashboard preview).
    ``heading_offset`` demotes every heading (2: the title becomes ``###``, for embedding)."""
    t = doc.trail
    lines = ["#" * (1 + heading_offset) + f" {_heading(doc.title)}", "",
             f"*Exported {escape_inline(moment(doc.exported_at))} · analysis run {escape_inline(moment(t.generated_at))} by Sightline "
             f"{escape_inline(t.library_versions.get('sightline', '?'))} · audit fingerprint "
             f"`{escape_inline(t.fingerprint).replace('`', '')}` · Model Card Toolkit schema 0.0.2*", ""]
    for block in card_blocks(doc, images=images):
        out = _block(block, images, heading_offset)
        if out and out != [""]:
            lines += out + [""]
    return "\n".join(lines).rstrip() + "\n"
