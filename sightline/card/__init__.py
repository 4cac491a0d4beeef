"""Model cards: build the Model Card Toolkit JSON from a Report and render it as Markdown,
self-contained HTML and PDF. The numbers are the Sections' own; nothing is recomputed.

Entry points: :func:`build_model_card` (the JSON mapping), :func:`assemble_card` (everything the
renderers need), :func:`write_card_files` (all four files, used by the CLI),
:class:`~sightline.card.prerender.ChartPrerenderer` (charts rendered while the report computes).

The names below are imported on first use, so that importing one light submodule
(:mod:`sightline.card.png` in the chart-rendering child process) does not load pandas and the
whole engine.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "CardFields": "fields", "fields_from_model_card": "fields", "fields_from_spec": "fields", "spec_with_fields": "fields",
    "ModelCardDocument": "build", "assemble_card": "build", "build_model_card": "build", "render_graphics": "build",
    "card_bytes": "export", "write_card_files": "export", "ChartPrerenderer": "prerender",
}

__all__ = [
    "CardFields", "ChartPrerenderer", "ModelCardDocument", "assemble_card", "build_model_card", "card_bytes",
    "fields_from_model_card", "fields_from_spec", "render_graphics", "spec_with_fields", "write_card_files",
]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sightline.card' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sightline.card.{_EXPORTS[name]}"), name)
