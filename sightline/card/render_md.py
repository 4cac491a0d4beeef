"""The model card as Markdown (``model_card.md``, and the dashboard's live preview)."""

from __future__ import annotations

import base64

from sightline.card.build import ModelCardDocument
from sightline.card.outline import (STATUS_WORDS, Bullets, Heading, Image, Paragraph, Table, VerdictBox,
                                    card_blocks)


def _escape_cell(text: str) -> str:
    # A pipe ends a Markdown table cell and a newline ends the row.
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(block: Table) -> list[str]:
    out = [f"**{block.caption}**", ""] if block.caption else []
    out.append("| " + " | ".join(_escape_cell(h) for h in block.header) + " |")
    out.append("|" + "|".join("---" for _ in block.header) + "|")
    out += ["| " + " | ".join(_escape_cell(c) for c in row) + " |" for row in block.rows]
    if block.note:
        out += ["", f"*{block.note}*"]
    return out


def _block(block, images: bool, offset: int = 0) -> list[str]:
    if isinstance(block, Heading):
        return ["#" * min(6, block.level + 1 + offset) + " " + block.text]
    if isinstance(block, Paragraph):
        text = block.text.strip()
        if block.muted:
            text = f"*{text}*" if text else ""
        lead = f"**{block.lead}**" if block.lead else ""
        return [" ".join(p for p in (lead, text) if p)]
    if isinstance(block, Bullets):
        return [f"- {item}" for item in block.items]
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, VerdictBox):
        out = [f"> **{STATUS_WORDS.get(block.status, block.status)}.** {block.headline}"]
        if block.detail:
            out += [">", f"> {block.detail}"]
        return out
    if isinstance(block, Image):
        if not images:
            return [f"*Chart: {block.title}*"]
        return [f"![{block.title}](data:image/png;base64,{base64.b64encode(block.png).decode('ascii')})", "", f"*{block.title}*"]
    raise TypeError(f"unknown card block {type(block).__name__}")


def render_markdown(doc: ModelCardDocument, *, images: bool = True, heading_offset: int = 0) -> str:
    """Markdown text of the card. ``images``: charts inline as base64 PNG data URIs (one
    self-contained file); False lists chart titles only (the dashboard preview).
    ``heading_offset`` demotes every heading (2: the title becomes ``###``, for embedding)."""
    t = doc.trail
    lines = ["#" * (1 + heading_offset) + f" {doc.title}", "",
             f"*Generated {t.generated_at} UTC by Sightline {t.library_versions.get('sightline', '?')} · "
             f"audit fingerprint `{t.fingerprint}` · Model Card Toolkit schema 0.0.2*", ""]
    for block in card_blocks(doc, images=images):
        out = _block(block, images, heading_offset)
        if out and out != [""]:
            lines += out + [""]
    return "\n".join(lines).rstrip() + "\n"
