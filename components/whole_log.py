"""The Overview's panel for a sampled log: exact whole-log counts beside the sample's figures."""

from __future__ import annotations

import streamlit as st

from components.cached import whole_log
from sightline.data.audit import Audit
from sightline.data.scale_tables import largest_gap, whole_log_counts, whole_log_rates


def render_whole_log(audit: Audit) -> None:
    """Show the whole-log figures of a sampled audit (nothing for a log that was read whole)."""
    if audit.log_sample is None:
        return
    figures = whole_log.figures(audit)
    st.subheader("Whole log, counted in place")
    st.caption(f"DuckDB scanned all {figures['rows']:,} rows of `{figures['source']}` without loading them "
               f"({figures['seconds']:.1f} s); only these counts came back. The pages analyse a "
               f"{figures['sample_rows']:,}-row random sample — the table shows how close its figures are to the exact ones.")
    rates = whole_log_rates(figures)
    if not rates.empty:
        gap = largest_gap(figures)
        st.markdown(f"Largest difference between sample and whole log: **{gap:.4f}** (absolute, over every rate and group).")
        st.dataframe(rates, hide_index=True, width="stretch", column_config={
            "whole_log": st.column_config.NumberColumn("whole log (exact)", format="%.4f",
                                                       help="Over every labelled row of the primary version"),
            "sample": st.column_config.NumberColumn("sample", format="%.4f", help="The same figure on the sample the pages use"),
            "difference": st.column_config.NumberColumn("sample − whole", format="%+.4f"),
            "rows": st.column_config.NumberColumn("labelled rows (whole log)", format="localized")})
    counts = whole_log_counts(figures)
    if not counts.empty:
        with st.expander("Rows per model version and per week (whole log)"):
            st.dataframe(counts, hide_index=True, width="stretch")
    if figures.get("latency"):
        with st.expander("Latency percentiles over every row (ms)"):
            st.dataframe(figures["latency"], hide_index=True, width="stretch")
