"""The open audit and every area's Section, cached at the UI boundary (the engine never caches),
and the background start that computes every area as soon as an audit loads.

An audit is cached by its spec text and the size and modification time of its input files;
Sections by the audit's fingerprint (:func:`components.cached.per_audit`). The per-area results
a page shows beyond its Section live in :mod:`components.cached` (one module per area).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import streamlit as st

from components.cached import explain, per_audit
from sightline.core.errors import MissingInputError
from sightline.core.section import Section, unavailable_section
from sightline.data.audit import Audit, load_audit
from sightline.data.spec import AuditSpec, spec_to_yaml
from sightline.report.registry import AREAS, compute_section, compute_sections, default_workers, import_area_modules

PRECOMPUTE_ENV = "SIGHTLINE_PRECOMPUTE"


def _stamp(spec: AuditSpec) -> tuple:
    """(path, size, mtime) of every file input, so an edited file is reloaded."""
    paths = [s.resolve(spec.base_dir) for s in (spec.current, spec.reference) if s is not None and not s.is_sql]
    if spec.model_path():
        paths.append(spec.model_path())
    out = []
    for p in paths:
        stat = Path(p).stat() if Path(p).exists() else None
        out.append((str(p), stat.st_size if stat else -1, stat.st_mtime_ns if stat else -1))
    return tuple(out)


@st.cache_resource(max_entries=4, show_spinner="Loading the audit…")
def _load(spec_yaml: str, base_dir: str, stamp: tuple, _spec: AuditSpec) -> Audit:
    return load_audit(_spec, model_errors="warn")


def load_audit_cached(spec: AuditSpec) -> Audit:
    """The loaded audit for ``spec`` (cached by spec text and input-file stamps)."""
    return _load(spec_to_yaml(spec), str(spec.base_dir), _stamp(spec), spec)


@st.cache_resource(show_spinner="Starting up: loading the analysis libraries…")
def import_analysis_libraries() -> bool:
    """Import every library the areas use, once per server process, on its first run.

    Why: ~2 s of imports (scikit-learn, SciPy, SHAP with numba) are then paid while the server
    starts rather than inside the first page that computes; and they happen before any page
    starts threads, so two threads never import one package at once (Python's per-module
    import locks can then hand one of them a half-initialised module)."""
    import_area_modules(list(AREAS))
    return True


@per_audit(max_entries=64)
def _section(audit: Audit, area: str) -> Section:
    return compute_section(area, audit)


def section(area: str, audit: Audit) -> Section:
    """One area's Section for ``audit`` (the same object the Overview, pages and card use).

    Explainability is built from the page's cached SHAP result, so SHAP runs once per audit.
    """
    if area == "explainability":
        try:
            return explain.section(audit, explain.result(audit))
        except MissingInputError as exc:
            return unavailable_section(area, str(exc))
    return _section(audit, area)


def sections(audit: Audit, areas, on_done=None, workers: int | None = None) -> dict[str, Section]:
    """:func:`section` of every area in ``areas``; the ones not cached yet are computed
    ``workers`` at a time (default: one per core) in threads
    (:func:`sightline.report.registry.compute_sections`), so a cold Overview uses every core.
    ``on_done(area, section)`` runs in the script's thread as each finishes (safe for ``st`` calls)."""
    return compute_sections(audit, list(areas), lambda area: section(area, audit), workers or default_workers(audit), on_done)


@per_audit(max_entries=4)
def _precompute(audit: Audit, *, workers: int) -> threading.Thread:
    def run() -> None:
        try:
            sections(audit, AREAS, workers=workers)
        except Exception:  # a page that needs the failing area shows the error itself
            logging.getLogger(__name__).exception("background computation of audit %s failed", audit.fingerprint)

    thread = threading.Thread(target=run, name="sightline-precompute", daemon=True)
    thread.start()
    return thread


def precompute(audit: Audit, *, needed: bool = False) -> None:
    """Start computing every area of ``audit`` in a background thread, once per fingerprint.

    Why: at 1M rows the seven areas cost ~9 s CPU together; started when the audit loads, they
    are done or under way by the time someone opens the Overview, a page or the model card, and
    a page that needs an area still being computed waits for that computation (Streamlit's cache
    lock per key) instead of repeating it. Started on load it uses one thread, leaving the other
    cores to the page being viewed. ``needed=True`` (the Overview and the card, which need every
    area) starts it whatever the setting — with a thread per core if it was not running — before
    the page draws anything else. Set ``SIGHTLINE_PRECOMPUTE=0`` to compute only what a page
    asks for (e.g. a server shared by many audits)."""
    if needed:
        _precompute(audit, workers=default_workers(audit))
    elif os.environ.get(PRECOMPUTE_ENV, "1") != "0":
        _precompute(audit, workers=1)
