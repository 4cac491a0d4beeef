"""Every ``st.cache_*`` wrapper of the app, at the UI boundary (the engine never caches).

Keys are data fingerprints and settings: an audit is cached by its spec text and the size
and modification time of its input files; results by the audit's fingerprint. Results are
immutable, so ``cache_resource`` hands out the same object without copying 1M-row frames.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from sightline.audit import Audit, load_audit
from sightline.report import compute_section
from sightline.sections import Section
from sightline.spec import AuditSpec, spec_to_yaml


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


@st.cache_resource(max_entries=64, show_spinner=False)
def _section(area: str, fingerprint: str, _audit: Audit) -> Section:
    return compute_section(area, _audit)


def section(area: str, audit: Audit) -> Section:
    """One area's Section for ``audit`` (the same object the Overview, pages and card use)."""
    return _section(area, audit.fingerprint, audit)
