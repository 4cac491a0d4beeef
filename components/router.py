"""Every page runs inside app.py's navigation, whatever URL the browser opened.

Streamlit still treats a ``pages/`` folder as a version-1 multipage app: a browser opening
``/drift`` directly runs ``pages/drift.py`` alone, without app.py's sidebar, layout and
navigation. Each page therefore starts with :func:`ensure_routed`, which hands the run to
app.py (whose ``st.navigation`` then runs the same page inside the app) when app.py is not
already the caller.
"""

from __future__ import annotations

import contextvars
import runpy
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

APP = Path(__file__).resolve().parent.parent / "app.py"
# True while app.py's navigation is running a page; a context variable, so concurrent
# sessions (each on its own script thread) never see each other's value.
_ROUTED = contextvars.ContextVar("sightline_routed", default=False)


@contextmanager
def routed():
    """Mark the page run that app.py starts as routed."""
    token = _ROUTED.set(True)
    try:
        yield
    finally:
        _ROUTED.reset(token)


def ensure_routed() -> None:
    """Call first in every page: when the page was opened without app.py, run app.py instead
    (it renders this same page through its navigation) and end this run."""
    if _ROUTED.get():
        return
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()
