"""Cached results of an audit, one module per area, around one generic helper: :func:`per_audit`.

Caching lives at this UI boundary (the engine never caches). A result is keyed by the audit's
fingerprint (a hash of its spec text and input files) and the settings it was computed with;
the audit itself is passed unhashed. Results are immutable, so ``cache_resource`` hands out
the same object without copying million-row frames; ``copies=True`` (``cache_data``) hands
out a fresh copy on every call, for a DataFrame a page may change. Where the area's cached
Section already holds a result (``Section.results``), the wrapper returns that one instead of
computing it again (:mod:`components.cache`).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from typing import Any

import streamlit as st

from sightline.data.audit import Audit


def per_audit(max_entries: int, *, copies: bool = False, spinner: str | bool = False) -> Callable[[Callable], Callable]:
    """Decorator: cache ``compute(audit, *settings, **objects)`` by the audit's fingerprint and ``settings``.

    ``settings`` (positional): hashable values — strings, numbers, None, tuples — that with the
    audit fix the result. ``objects`` (``compute``'s keyword-only parameters): passed on unhashed,
    for objects the fingerprint and settings already determine (the explanations a Section is
    built from, the Report behind the card) or that do not change the result (a worker count).
    ``max_entries``: results kept for this computation (least recently used dropped first).
    ``copies``: ``st.cache_data`` instead of ``st.cache_resource``. ``spinner``: Streamlit's
    ``show_spinner`` (text shown while computing, or False).
    The decorated function takes ``compute``'s arguments; ``.clear()`` empties its cache.
    """
    def decorate(compute: Callable) -> Callable:
        unhashed = {name for name, p in inspect.signature(compute).parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}

        def run(fingerprint: str, settings: tuple, _audit: Audit, _objects: dict) -> Any:
            return compute(_audit, *settings, **_objects)

        # Streamlit tells caches apart by module, qualified name and source: every `run` has the same
        # source, so the name carries the computation's, with a hash of its source (so that an edited
        # computation is not answered from entries the old one made).
        digest = hashlib.sha256(inspect.getsource(compute).encode()).hexdigest()[:12]
        run.__module__, run.__qualname__ = compute.__module__, f"{compute.__qualname__}[{digest}]"
        cached = (st.cache_data if copies else st.cache_resource)(max_entries=max_entries, show_spinner=spinner)(run)

        @functools.wraps(compute)
        def call(audit: Audit, *settings: Any, **objects: Any) -> Any:
            if objects.keys() - unhashed:  # a setting passed by keyword would not be part of the key
                raise TypeError(f"{compute.__qualname__}: pass {', '.join(sorted(objects.keys() - unhashed))} positionally "
                                "(keyword arguments are reserved for unhashed objects)")
            return cached(audit.fingerprint, settings, audit, objects)

        call.clear = cached.clear
        return call

    return decorate
