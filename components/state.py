"""Session state of the dashboard: which audit is open. Keys are named constants."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

from components.access import scrub
from components.cache import load_audit_cached, precompute
from sightline.core.errors import SightlineInputError
from sightline.data.audit import Audit, sample_audit_path
from sightline.data.spec import AuditSpec, load_spec

SPEC_KEY = "sightline.spec"            # the active AuditSpec
UPLOAD_DIR_KEY = "sightline.upload_dir"  # access.UploadFolder: the files now in the upload boxes (copies, never originals)
OPEN_UPLOAD_KEY = "sightline.open_upload"  # access.UploadFolder the open audit reads its uploaded files from
UPLOAD_GENERATION_KEY = "sightline.upload_generation"  # int in the upload boxes' keys: bumping it empties them
NOTICE_KEY = "sightline.notice"        # one-shot message shown after a data-source change


def sample_spec() -> AuditSpec:
    """The bundled sample audit's spec."""
    return load_spec(sample_audit_path())


def command_line_audit() -> Path | None:
    """The audit file named on the command line (``streamlit run app.py -- audit.yaml``), if any."""
    # Only an audit file counts: under a test runner sys.argv holds the runner's own arguments.
    if Path(sys.argv[0]).name != "app.py" or len(sys.argv) < 2 or Path(sys.argv[1]).suffix.lower() not in (".yaml", ".yml"):
        return None
    return Path(sys.argv[1]).expanduser().resolve()


def active_spec() -> AuditSpec:
    """The spec of the open audit: the one named on the command line, else the bundled sample,
    until the user opens another."""
    if SPEC_KEY not in st.session_state:
        named = command_line_audit()
        try:
            st.session_state[SPEC_KEY] = load_spec(named) if named else sample_spec()
        except SightlineInputError as exc:
            st.error(f"**{named} could not be opened.** {exc} — showing the bundled sample instead.")
            st.session_state[SPEC_KEY] = sample_spec()
    return st.session_state[SPEC_KEY]


def upload_folders() -> list[Path]:
    """This session's upload folders (the upload boxes' and the open audit's)."""
    return [st.session_state[k].path for k in (UPLOAD_DIR_KEY, OPEN_UPLOAD_KEY) if k in st.session_state]


def open_spec(spec: AuditSpec, notice: str | None = None) -> None:
    """Make ``spec`` the open audit (pages reload it through the cache).

    Upload folders the new audit does not read from are deleted; when it was opened from the
    uploaded files, their folder becomes the open audit's and the upload boxes are emptied (so
    their files are not written again into a new folder)."""
    uploading = st.session_state.pop(UPLOAD_DIR_KEY, None)
    previous = st.session_state.pop(OPEN_UPLOAD_KEY, None)
    for folder in (uploading, previous):
        if folder is not None and folder.holds(spec) and OPEN_UPLOAD_KEY not in st.session_state:
            st.session_state[OPEN_UPLOAD_KEY] = folder
        elif folder is not None:
            folder.remove()
    if uploading is not None:
        st.session_state[UPLOAD_GENERATION_KEY] = st.session_state.get(UPLOAD_GENERATION_KEY, 0) + 1
    st.session_state[SPEC_KEY] = spec
    if notice:
        st.session_state[NOTICE_KEY] = notice


def current_audit() -> Audit | None:
    """The open audit, loaded through the cache; shows the load error and returns None on bad input."""
    spec = active_spec()
    try:
        audit = load_audit_cached(spec)
    except SightlineInputError as exc:
        st.error(f"**The audit could not be loaded.** {scrub(str(exc))}")
        st.caption("Fix the input on the **Data** page, or open the bundled sample there.")
        return None
    precompute(audit)
    return audit


def require_audit() -> Audit:
    """The open audit, or stop the page with an explanation when it cannot be loaded."""
    audit = current_audit()
    if audit is None:
        st.stop()
    if audit.log_sample is not None:
        st.info(audit.log_sample.sentence(), icon=":material/data_thresholding:")
    return audit
