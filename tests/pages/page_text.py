"""What an AppTest page says in words, for page tests that look for a sentence."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def page_text(at: AppTest) -> str:
    """Every markdown, caption and alert (error, warning, info, success) of the last run, one per line."""
    kinds = (at.markdown, at.caption, at.error, at.warning, at.info, at.success)
    return "\n".join(str(e.value) for kind in kinds for e in kind)
