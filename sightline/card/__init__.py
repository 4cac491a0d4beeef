"""Model cards: build the Model Card Toolkit JSON from a Report and render it as Markdown,
self-contained HTML and PDF. The numbers are the Sections' own; nothing is recomputed.

Entry points: :func:`build_model_card` (the JSON mapping), :func:`assemble_card` (everything the
renderers need), :func:`write_card_files` (all four files, used by the CLI).
"""

from sightline.card.build import ModelCardDocument, assemble_card, build_model_card, render_graphics
from sightline.card.export import card_bytes, write_card_files
from sightline.card.fields import CardFields, fields_from_model_card, fields_from_spec, spec_with_fields

__all__ = [
    "CardFields", "ModelCardDocument", "assemble_card", "build_model_card", "card_bytes", "fields_from_model_card",
    "fields_from_spec", "render_graphics", "spec_with_fields", "write_card_files",
]
