"""The model card's cached results: the Report behind it (every area's cached Section), its
charts as PNG (rendered in a child process) and its report-derived half."""

from __future__ import annotations

import threading

from components import cache
from components.cached import per_audit, whole_log
from sightline.card.build import CardBasis, Graphic, card_basis, chart_outlines, render_graphics
from sightline.card.prerender import ChartPrerenderer
from sightline.data.audit import Audit
from sightline.report.registry import AREAS, Report

Graphics = tuple[tuple[Graphic, ...], tuple[str, ...]]


@per_audit(max_entries=4)
def report(audit: Audit) -> Report:
    """The Report behind the model card: every area's cached Section (the very objects the pages
    show), built once per audit fingerprint so ``generated_at`` holds."""
    return Report(audit=audit, sections=cache.sections(audit, AREAS), whole_log=whole_log.figures(audit))


# The card's PNGs render in a child process (sightline/card/prerender.py), started once the card
# page has been drawn: vl-convert holds the GIL for a whole conversion, so in-process rendering
# (~9 s for 23 charts at 1M rows) would freeze the page and every other session. The page shows
# the card at once; the downloads wait for the charts.
@per_audit(max_entries=4)
def _charts(audit: Audit, *, rep: Report) -> dict:
    renderer = ChartPrerenderer()
    for area, section in rep.sections.items():
        renderer.submit(area, section)
    box = {"lock": threading.Lock(), "renderer": renderer}
    box["lock"].acquire()  # held until the charts are in: graphics() waits on it

    def collect() -> None:  # takes the PNGs as they come and ends the child process when done
        try:
            box["graphics"] = renderer.graphics(rep)
        finally:
            box["lock"].release()

    threading.Thread(target=collect, name="sightline-card-charts", daemon=True).start()
    return box


def charts_progress(audit: Audit, rep: Report) -> tuple[int, int]:
    """(charts rendered, charts in the card) of ``rep``; starts rendering them on first call."""
    box = _charts(audit, rep=rep)
    if "graphics" in box:
        drawn, failed = box["graphics"]
        return len(drawn) + len(failed), len(drawn) + len(failed)
    return box["renderer"].progress()


def graphics(audit: Audit, rep: Report) -> Graphics:
    """Every Section chart of ``rep`` as PNG — (graphics, names that failed), as
    :func:`sightline.card.build.render_graphics` returns them — waiting for the child process."""
    box = _charts(audit, rep=rep)
    with box["lock"]:
        if "graphics" not in box:  # the collector failed: render here, in-process
            box["graphics"] = render_graphics(rep)
    return box["graphics"]


@per_audit(max_entries=4)
def _outline(audit: Audit, *, rep: Report) -> CardBasis:
    return card_basis(rep, chart_outlines(rep))


def outline(audit: Audit, rep: Report) -> CardBasis:
    """:func:`card_basis` with every chart named but not yet drawn (for the on-screen preview,
    which lists charts by title)."""
    return _outline(audit, rep=rep)


@per_audit(max_entries=4)
def _basis(audit: Audit, *, rep: Report, drawn: Graphics) -> CardBasis:
    return card_basis(rep, drawn)


def basis(audit: Audit, rep: Report) -> CardBasis:
    """The report-derived half of the model card (suppressed metrics and tables, gates, audit
    trail, charts), cached by fingerprint so edits in the card form only redo the written half."""
    return _basis(audit, rep=rep, drawn=graphics(audit, rep))
