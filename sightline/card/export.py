"""Write the model card in every format: ``model_card.json``, ``.md``, ``.html``, ``.pdf``.

``python -m sightline report`` calls :func:`write_card_files`; the dashboard's download buttons
use :func:`card_bytes` on the same :class:`ModelCardDocument`, so both give identical cards.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sightline.card.build import ModelCardDocument, assemble_card
from sightline.card.render_html import render_html
from sightline.card.render_md import render_markdown
from sightline.card.render_pdf import render_pdf
from sightline.card.validate import validate_model_card

log = logging.getLogger(__name__)

FILE_NAMES = {"json": "model_card.json", "md": "model_card.md", "html": "model_card.html", "pdf": "model_card.pdf"}
MIME_TYPES = {"json": "application/json", "md": "text/markdown", "html": "text/html", "pdf": "application/pdf"}


def card_json(doc: ModelCardDocument) -> str:
    """The card JSON text, validated against the Model Card Toolkit schema v0.0.2 first
    (an invalid card is a bug and raises ``ValueError`` rather than being written)."""
    validate_model_card(doc.card)
    return json.dumps(doc.card, indent=2, ensure_ascii=False) + "\n"


def card_bytes(doc: ModelCardDocument, fmt: str) -> bytes:
    """The card in one format (``json``, ``md``, ``html`` or ``pdf``) as bytes (text is UTF-8)."""
    if fmt == "json":
        return card_json(doc).encode("utf-8")
    if fmt == "md":
        return render_markdown(doc).encode("utf-8")
    if fmt == "html":
        return render_html(doc).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(doc)
    raise ValueError(f"unknown card format {fmt!r} — use one of {', '.join(FILE_NAMES)}")


def write_card_files(report, out_dir, doc: ModelCardDocument | None = None) -> list[str]:
    """Write the four card files of ``report`` into ``out_dir`` (created if missing).

    Output: the file names written, in the order json, md, html, pdf. Pass ``doc`` to reuse an
    assembled card (its charts are the expensive part).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = doc if doc is not None else assemble_card(report)
    written = []
    for fmt, name in FILE_NAMES.items():
        (out / name).write_bytes(card_bytes(doc, fmt))
        written.append(name)
    return written
