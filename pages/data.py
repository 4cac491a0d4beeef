"""Data & audit file: open the sample, upload files, point at a path or SQL, map columns, save audit.yaml."""

import streamlit as st

from components import data_source, router, state
from sightline.core.deployment import current_deployment
from sightline.data.spec import spec_to_yaml

router.ensure_routed()

st.title("Data & audit file")
spec = state.active_spec()
st.markdown(f"Open audit: **{spec.name}** — log `{spec.current.describe()}`"
            + (f", reference `{spec.reference.describe()}`" if spec.reference else ", no reference")
            + (f", model `{spec.model}`" if spec.model else ", no model"))

c1, c2 = st.columns([1, 3])
if c1.button("Open the bundled sample", type="primary", key="data_open_sample"):
    state.open_spec(state.sample_spec(), "Opened the bundled sample audit.")
    st.rerun()
c2.download_button("Download this audit.yaml", spec_to_yaml(spec), file_name="audit.yaml", mime="application/x-yaml",
                   help="The audit file of what is open now: reload it here, or run it headless with python -m sightline report.")

st.subheader("Open other data")
shared = current_deployment().shared  # app.py has already refused a misconfigured deployment
upload_tab, path_tab, sql_tab = st.tabs(["Upload files", "Data folders on this server" if shared else "Path on this server",
                                         "SQL (named connections)" if shared else "SQL (DuckDB or SQLAlchemy)"])
with upload_tab:
    data_source.upload_panel()
with path_tab:
    data_source.path_panel()
with sql_tab:
    data_source.sql_panel()

st.subheader("Checks of the open audit")
audit = state.current_audit()
if audit is not None:
    data_source.findings_panel(audit.findings)
    with st.expander("Prediction log"):
        data_source.preview_table(audit.current)
    if audit.reference is not None:
        with st.expander("Reference data"):
            data_source.preview_table(audit.reference)
    with st.expander("audit.yaml"):
        st.code(spec_to_yaml(spec), language="yaml")
