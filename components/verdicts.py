"""Verdict badges: green / amber / red with one plain sentence, as every page opens with."""

from __future__ import annotations

from collections.abc import Sequence

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


# Most urgent first: what a stakeholder should read first on the Overview.
SEVERITY = (RED, AMBER, GREEN, UNAVAILABLE, NOT_COMPUTED)
# Each area's page, as app.py registers it (st.page_link takes the same path).
AREA_PAGES = {"performance": "pages/performance.py", "slices": "pages/slices.py", "calibration": "pages/calibration.py",
              "explainability": "pages/explainability.py", "fairness": "pages/fairness.py", "drift": "pages/drift.py",
              "operations": "pages/operations.py"}
# status -> (singular, plural, Markdown colour) of the status line
_COUNT_WORDS = {RED: ("problem", "problems", "red"), AMBER: ("warning", "warnings", "orange"), GREEN: ("fine", "fine", "green"),
                UNAVAILABLE: ("not available", "not available", "gray"), NOT_COMPUTED: ("not built yet", "not built yet", "gray")}


def by_severity(statuses: dict[str, str]) -> list[str]:
    """Area names of ``statuses`` (area -> verdict status) ordered red, amber, green, unavailable,
    not computed; areas of one status keep their given order."""
    return sorted(statuses, key=lambda area: SEVERITY.index(statuses[area]))


def status_line(statuses: dict[str, str], titles: dict[str, str], pending: Sequence[str] = (), colour: bool = False) -> str:
    """One sentence counting the areas by verdict, naming them, e.g.
    "3 problems (Slices, Fairness, Drift), 3 warnings (…), 1 fine (Explainability)".

    Inputs: ``statuses`` area -> status of the computed areas; ``titles`` area -> display name;
    ``pending`` areas still computing (named last; zero counts are left out until none is).
    ``colour`` wraps each count in Streamlit's Markdown colour. Every area green and none
    pending: "All N areas are fine"."""
    names = {s: [titles[a] for a in by_severity(statuses) if statuses[a] == s] for s in SEVERITY}
    if statuses and not pending and len(names[GREEN]) == len(statuses):
        return (f":green[**All {len(statuses)} areas are fine**]" if colour else f"All {len(statuses)} areas are fine") + ": no problems, no warnings."
    parts = []
    for status in SEVERITY:
        # "0 problems" is said only once every area is in: until then it could still change.
        if names[status] or (status in (RED, AMBER) and not pending):
            one, many, hue = _COUNT_WORDS[status]
            count = f"{len(names[status])} {one if len(names[status]) == 1 else many}"
            parts.append((f":{hue}[**{count}**]" if colour else count) + (f" ({', '.join(names[status])})" if names[status] else ""))
    if pending:
        parts.append(f"{len(pending)} still computing ({', '.join(titles[a] for a in pending)})")
    return ", ".join(parts) + "."


def render_area_row(section: Section, title: str, page: str) -> None:
    """One Overview row: the area's verdict box (status word and headline) and a link to its page."""
    box, link = st.columns([6, 1], vertical_alignment="center")
    with box:
        render_verdict(section, title=title, detail=False)
    link.page_link(page, label="Open page", icon=":material/arrow_forward:", help=f"The {title} page: the numbers behind this verdict")
