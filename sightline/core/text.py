"""Bounded labels: long category values and column names shortened for people to read.

Charts, tables and the Markdown/HTML/PDF card show at most :data:`LABEL_LIMIT` characters of a
value or a name (the start, an ellipsis, the end: ``a_very_long_value…_v2``); report.json and
the JSON card keep every value in full. Shortening also bounds the work: a chart engine that
measures a 1 MB label, or a PDF table that wraps it, would otherwise take minutes.

No heavy imports: engine modules use these helpers for the messages they write.
"""

from __future__ import annotations

import re
from typing import Any

LABEL_LIMIT = 60     # characters of one value or name (category value, column name, group label)
TEXT_LIMIT = 300     # characters of one computed text (a chart title, a table cell, a sentence)
PROSE_LIMIT = 2000   # characters of one computed paragraph (a verdict, a dataset description)
ELLIPSIS = "…"
_LONG_WORD = re.compile(r"\S{%d,}" % (LABEL_LIMIT + 1))
_DIGEST = re.compile(r"[0-9a-fA-F]{32,128}[.,;:)]?$")  # an MD5 … SHA-512 hex digest, maybe ending a sentence


def short_label(text: Any, limit: int = LABEL_LIMIT) -> str:
    """``str(text)``, or — when longer than ``limit`` characters — its first two thirds, ``…``
    and its last third, ``limit`` characters in all (the end often tells values apart: ``…_v1``).
    Inputs: any value, the limit (≥ 3). Output: a string of at most ``limit`` characters."""
    text = str(text)
    if len(text) <= limit:
        return text
    tail = max(1, (limit - 1) // 3)
    return text[: limit - 1 - tail] + ELLIPSIS + text[len(text) - tail:]


def _short_word(word: str, limit: int) -> str:
    return word if _DIGEST.match(word) else short_label(word, limit)


def short_words(text: Any, limit: int = TEXT_LIMIT, word_limit: int = LABEL_LIMIT) -> str:
    """A computed text (a sentence or a cell that may quote values) kept readable: the whole at
    most ``limit`` characters (:func:`short_label`), and every run of more than ``word_limit``
    characters without a space shortened the same way — except a hexadecimal digest (SHA-256),
    which an audit trail needs whole. Work is linear in ``limit``, not in the input's length."""
    text = short_label(text, limit)
    if len(text) <= word_limit:
        return text
    pattern = _LONG_WORD if word_limit == LABEL_LIMIT else re.compile(r"\S{%d,}" % (word_limit + 1))
    return pattern.sub(lambda m: _short_word(m.group(0), word_limit), text)


def shorten_spec(spec: Any, limit: int = TEXT_LIMIT) -> Any:
    """A Vega-Lite spec (dict, as ``chart.to_dict()`` gives it) with every string — data values,
    the keys of data records, field names, sort orders, domains, titles — passed through
    :func:`short_words`. One function for all of them keeps a field name equal to its data key
    and a sort order equal to the values it sorts. Strings within the limits are unchanged, so
    a chart without long text gets the very same spec back."""
    if isinstance(spec, str):
        return short_words(spec, limit) if len(spec) > LABEL_LIMIT else spec
    if isinstance(spec, dict):
        return {(shorten_spec(k, limit) if isinstance(k, str) and len(k) > LABEL_LIMIT else k): shorten_spec(v, limit)
                for k, v in spec.items()}
    if isinstance(spec, list):
        return [shorten_spec(v, limit) for v in spec]
    return spec
