"""The sidebar every page shares: which audit is open, and a one-click way back to the sample."""

from __future__ import annotations

import streamlit as st

from components import state


def render_sidebar() -> None:
    """Show the open audit's name and size, its load status, and the sample shortcut."""
    spec = state.active_spec()
    with st.sidebar:
        st.markdown(f"**Open audit:** {spec.name}" + (f" · v{spec.version}" if spec.version else ""))
        st.caption(f"Log: `{spec.current.describe()}`" + (f" · reference: `{spec.reference.describe()}`" if spec.reference else ""))
        notice = st.session_state.pop(state.NOTICE_KEY, None)
        if notice:
            st.success(notice)
        if st.button("Open the bundled sample", key="sidebar_open_sample", help="Adult income classifier: 12 weeks of logged predictions"):
            state.open_spec(state.sample_spec(), "Opened the bundled sample audit.")
            st.rerun()
        st.page_link("pages/data.py", label="Load other data…", icon=":material/folder_open:")
