"""Verdict badges: green / amber / red with one plain sentence, as every page opens with."""

from __future__ import annotations

import streamlit as st

from sightline.core.section import AMBER, GREEN, NOT_COMPUTED, RED, UNAVAILABLE, Section, Verdict

_STYLE = {
    GREEN: (":material/check_circle:", "Healthy", st.success),
    AMBER: (":material/warning:", "Needs attention", st.warning),
    RED: (":material/error:", "Problem", st.error),
    NOT_COMPUTED: (":material/hourglass_empty:", "Not computed yet", st.info),
    UNAVAILABLE: (":material/info:", "Unavailable", st.info),
}


def status_label(status: str) -> str:
    """Icon and word for a status in Markdown, e.g. ':material/warning: Needs attention'."""
    icon, word, _ = _STYLE[status]
    return f"{icon} {word}"


def render_verdict(verdict: Verdict | Section, title: str | None = None, detail: bool = True) -> None:
    """The page-opening verdict box: status word, headline, and (``detail``) the detail in small print."""
    if isinstance(verdict, Section):
        verdict = verdict.verdict
    icon, word, box = _STYLE[verdict.status]
    prefix = f"**{title} — {word}.** " if title else f"**{word}.** "
    box(prefix + verdict.headline, icon=icon)
    if detail and verdict.detail:
        st.caption(verdict.detail)
