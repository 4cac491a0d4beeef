"""Sightline dashboard entry point: a router over pages/ plus the data-source sidebar.

Run with ``streamlit run app.py``; it opens on the bundled sample audit. With an ``[auth]``
section in ``.streamlit/secrets.toml`` a visitor sees only the sign-in screen until signed in
(Streamlit's OIDC login); ``SIGHTLINE_MODE=shared`` applies the shared-server rules.
"""

from pathlib import Path

import streamlit as st

from components import access
from components.cache import import_analysis_libraries
from components.router import routed
from components.sidebar import render_sidebar
from sightline.core.deployment import current_deployment
from sightline.core.errors import AccessError

# The tab icon is a file of ours, served by this server: a Material icon or an emoji as page_icon
# makes the browser fetch the picture from a font CDN, which fails offline.
st.set_page_config(page_title="Sightline", page_icon=str(Path(__file__).parent / "static" / "favicon.png"), layout="wide")

try:
    deployment = current_deployment()
    auth_on = access.auth_configured()
except AccessError as exc:  # a broken setting stops the server's pages rather than running them unguarded
    st.error(f"**This Sightline server is misconfigured.** {exc}")
    st.stop()

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

access.apply_shared_settings(deployment)
access.sweep_stale_uploads()
if auth_on and not access.signed_in():
    # Only the sign-in screen exists for a signed-out visitor: no page, no sidebar, no audit.
    # Every page's URL shows it too, so a bookmarked page opens on the sign-in screen.
    access.sign_in_navigation([p.url_path for group in PAGES.values() for p in group]).run()
    st.stop()
page = st.navigation(PAGES)
import_analysis_libraries()  # once per server process, before any page starts threads
access.render_account()
render_sidebar()
access.shared_warning(deployment)
with routed():
    page.run()
