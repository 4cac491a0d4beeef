"""Sightline dashboard entry point: a router over pages/ plus the data-source sidebar.

Run with ``streamlit run app.py``; it opens on the bundled sample audit.
"""

import streamlit as st

from components.cache import import_analysis_libraries
from components.router import routed
from components.sidebar import render_sidebar

st.set_page_config(page_title="Sightline", page_icon=":material/visibility:", layout="wide")

PAGES = {
    "Audit": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/data.py", title="Data & audit file", icon=":material/folder_open:"),
    ],
    "Evaluation": [
        st.Page("pages/performance.py", title="Performance", icon=":material/target:"),
        st.Page("pages/slices.py", title="Slices", icon=":material/splitscreen:"),
        st.Page("pages/calibration.py", title="Calibration", icon=":material/straighten:"),
    ],
    "Responsible AI": [
        st.Page("pages/explainability.py", title="Explainability", icon=":material/manage_search:"),
        st.Page("pages/fairness.py", title="Fairness", icon=":material/balance:"),
    ],
    "Monitoring": [
        st.Page("pages/drift.py", title="Drift", icon=":material/waves:"),
        st.Page("pages/operations.py", title="Operations", icon=":material/speed:"),
        st.Page("pages/versions.py", title="Model versions", icon=":material/compare_arrows:"),
    ],
    "Report": [
        st.Page("pages/model_card.py", title="Model card", icon=":material/description:"),
    ],
}

page = st.navigation(PAGES)
import_analysis_libraries()  # once per server process, before any page starts threads
render_sidebar()
with routed():
    page.run()
