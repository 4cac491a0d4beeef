"""The model card as one self-contained HTML file.

Everything is inside the file: styles in a ``<style>`` element, charts as base64 PNG data URIs,
system fonts only. Nothing refers to the network — no external ``src``/``href``, no
``@import``, no ``url(http…)`` — so the file opens offline and can be archived as it is.
User text that looks like a link is shown as text, never as a hyperlink.
"""

from __future__ import annotations

import base64
import struct
from html import escape as html_escape

from sightline.card.build import ModelCardDocument
from sightline.card.format import moment
from sightline.card.outline import STATUS_WORDS, Bullets, Heading, Image, Pairs, Paragraph, Table, VerdictBox, card_blocks

_CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#d9dee7; --head:#f3f5f9; --accent:#1f5fa8; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); margin: 0; background: #fff; line-height: 1.5; font-size: 15px; }
main { max-width: 1080px; margin: 0 auto; padding: 32px 28px 64px; }
header.card-title { border-bottom: 3px solid var(--accent); margin-bottom: 20px; padding-bottom: 8px; }
header.card-title h1 { margin: 0 0 4px; font-size: 28px; }
.meta { color: var(--muted); font-size: 13px; }
nav.toc { background: var(--head); border: 1px solid var(--line); border-radius: 6px; padding: 10px 18px; margin: 16px 0 24px; }
nav.toc ol { margin: 4px 0; padding-left: 20px; columns: 2; }
nav.toc a { color: var(--accent); text-decoration: none; }
h2 { font-size: 22px; margin: 34px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 18px; margin: 26px 0 8px; color: var(--accent); }
h4 { font-size: 15px; margin: 18px 0 6px; }
p { margin: 6px 0; }
p.muted { color: var(--muted); font-style: italic; font-size: 13px; }
/* Tables fit the page: the card splits tables with many columns into parts before they get here,
   cells wrap between words, and a single word longer than the line breaks. */
.scroll { margin: 8px 0 14px; max-width: 100%; }
table { border-collapse: collapse; font-size: 13px; min-width: 40%; max-width: 100%; }
td, th { overflow-wrap: break-word; }
p.pairs { font-size: 12.5px; color: var(--ink); line-height: 1.6; }
p.pairs span.pair { white-space: normal; }
p.pairs b { font-weight: 600; }
.pairs-caption { font-weight: 600; margin: 10px 0 2px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.mono, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.note { color: var(--muted); font-size: 12px; font-style: italic; }
.verdict { border-left: 6px solid #9e9e9e; background: #f6f6f6; padding: 8px 12px; border-radius: 4px; margin: 8px 0 12px; }
.verdict.green { border-color: #2e7d32; background: #edf7ee; }
.verdict.amber { border-color: #ef8f00; background: #fff5e5; }
.verdict.red { border-color: #c62828; background: #fdecec; }
.verdict .detail { color: var(--muted); font-size: 13px; margin-top: 4px; }
.status { font-weight: 600; }
.status.green { color: #2e7d32; } .status.amber { color: #b36b00; } .status.red { color: #c62828; }
.gate-failed { color: #c62828; font-weight: 600; } .gate-passed { color: #2e7d32; }
figure { margin: 10px 18px 18px 0; display: inline-block; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; }
@media print { nav.toc { display: none; } main { padding: 0; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
"""

_STATUS_CLASS = {"green": "green", "amber": "amber", "red": "red"}
# Characters that could spell a network reference in text a scanner reads ("url(http…",
# "@import", "href=https…"): written as character references, they display the same.
_NEUTRAL = str.maketrans({"(": "&#40;", "@": "&#64;", "=": "&#61;"})


def escape(text) -> str:
    """HTML-escape user or computed text so it is only ever text, never markup or a reference."""
    return html_escape(str(text)).translate(_NEUTRAL)
_STATUS_BY_WORD = {w: s for s, w in STATUS_WORDS.items()}


def _cell(text: str, key: str, col: str) -> str:
    cls = ""
    if key == "verdicts" and col == "Status":
        cls = f' class="status {_STATUS_CLASS.get(_STATUS_BY_WORD.get(text, ""), "")}"'
    elif key == "gates" and col == "Result":
        cls = ' class="gate-failed"' if text.startswith("FAILED") else ' class="gate-passed"' if text.startswith("passed") else ""
    elif col in ("SHA-256",):
        cls = ' class="mono"'
    return f"<td{cls}>{escape(text)}</td>"


def _table(block: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
    body = "".join("<tr>" + "".join(_cell(c, block.key, block.header[i]) for i, c in enumerate(row)) + "</tr>" for row in block.rows)
    caption = f"<caption>{escape(block.caption)}</caption>" if block.caption else ""
    note = f'<p class="note">{escape(block.note)}</p>' if block.note else ""
    return f'<div class="scroll"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}'


def _block(block) -> str:
    if isinstance(block, Heading):
        level = block.level + 1
        return f'<h{level} id="{escape(block.id)}">{escape(block.text)}</h{level}>'
    if isinstance(block, Paragraph):
        lead = f"<strong>{escape(block.lead)}</strong> " if block.lead else ""
        cls = ' class="muted"' if block.muted else ""
        return f"<p{cls}>{lead}{escape(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Pairs):
        caption = f'<p class="pairs-caption">{escape(block.caption)}</p>' if block.caption else ""
        items = " · ".join(f'<span class="pair"><b>{escape(k)}:</b> {escape(v)}</span>' for k, v in block.items)
        return f'{caption}<p class="pairs">{items}</p>'
    if isinstance(block, VerdictBox):
        word = STATUS_WORDS.get(block.status, block.status)
        detail = f'<div class="detail">{escape(block.detail)}</div>' if block.detail else ""
        return (f'<div class="verdict {_STATUS_CLASS.get(block.status, "")}"><strong>{escape(word)}.</strong> '
                f"{escape(block.headline)}{detail}</div>")
    if isinstance(block, Image):
        data = base64.b64encode(block.png).decode("ascii")
        # Shown at its CSS size (the PNG holds `scale` device pixels per CSS pixel, for sharpness),
        # so small charts sit side by side and text in charts matches the page's.
        try:
            width = f' width="{round(struct.unpack(">I", block.png[16:20])[0] / (block.scale or 1.0))}"'
        except struct.error:
            width = ""
        return (f'<figure><img alt="{escape(block.title)}"{width} src="data:image/png;base64,{data}">'
                f"<figcaption>{escape(block.title)}</figcaption></figure>")
    raise TypeError(f"unknown card block {type(block).__name__}")


def render_html(doc: ModelCardDocument) -> str:
    """One self-contained HTML document of the card (UTF-8 text)."""
    blocks = card_blocks(doc, images=True)
    toc = "".join(f'<li><a href="#{escape(b.id)}">{escape(b.text)}</a></li>' for b in blocks if isinstance(b, Heading) and b.level == 1)
    t = doc.trail
    meta = (f"Exported {escape(moment(doc.exported_at))} · analysis run {escape(moment(t.generated_at))} by Sightline "
            f"{escape(t.library_versions.get('sightline', '?'))} · Model Card Toolkit schema 0.0.2")
    body = "\n".join(_block(b) for b in blocks)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(doc.title)}</title><style>{_CSS}</style></head>\n"
        f'<body><main><header class="card-title"><h1>{escape(doc.title)}</h1><div class="meta">{meta}</div></header>\n'
        f'<nav class="toc"><strong>Contents</strong><ol>{toc}</ol></nav>\n{body}\n</main></body></html>\n'
    )
