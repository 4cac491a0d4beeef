"""Render the card's charts in a second process while the report is still being computed.

vl-convert, the local Vega renderer behind every card chart, holds the GIL and one engine lock
for a whole conversion (~0.1–0.4 s CPU a chart, whatever the rows behind it). In the report's
own process the 20–30 charts of a card therefore cost 5–7 s that nothing else can overlap. A
child process has an engine and a core of its own: hand it each Section as soon as it is
computed, and its charts render while the next Section computes.

Usage (``python -m sightline report``)::

    with ChartPrerenderer() as charts:
        sections = {}
        for area in AREAS:
            sections[area] = compute_section(area, audit)
            charts.submit(area, sections[area])
        report = Report(audit, sections)
        graphics = charts.graphics(report)
    write_card_files(report, out, doc=assemble_card(report, graphics=graphics))

:meth:`ChartPrerenderer.graphics` returns exactly what
:func:`sightline.card.build.render_graphics` returns for the same report: the same PNG bytes
(:func:`sightline.card.png.spec_png` on the same spec), the same order, the same failure list.
A chart that was not submitted, or that failed in the child for any reason, is rendered in
the calling process; where no child process can be started, everything is.

Cost: the child's start (~0.2 s CPU for Python and Pillow, plus vl-convert's engine start,
~0.7 s, which the parent then no longer pays) on the other core, and ~150 MB while it lives.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future

from sightline.card.build import CHART_SCALE, Graphic, render_graphic
from sightline.card.png import spec_png, warm_up
from sightline.charts import chart_spec

log = logging.getLogger(__name__)


class ChartPrerenderer:
    """Renders Section charts to PNG in one child process (``spawn``: a fresh interpreter that
    imports only :mod:`sightline.card.png`). ``scale``: device pixels per CSS pixel, as in
    :func:`~sightline.card.build.render_graphics`. Use it as a context manager, or call
    :meth:`close`, so the child always ends."""

    def __init__(self, scale: float = CHART_SCALE):
        self.scale = scale
        self._jobs: dict[tuple[str, int], tuple[object, Future]] = {}
        self._submitted: list[Future] = []  # every job, kept for progress() while _jobs empties
        self._pool = None
        try:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self._pool.submit(warm_up)  # the engine starts while the first Section computes
        except Exception as exc:  # no child process here (a sandbox, a frozen app…): render in-process
            log.info("charts will render in-process: no child process (%s)", exc)
            self._pool = None

    def submit(self, area: str, section) -> None:
        """Queue every chart of ``section`` (of ``area``); returns at once. Safe to call with a
        Section without charts, or after the child has gone (the charts then render at the end)."""
        if self._pool is None:
            return

        for i, chart in enumerate(section.charts):
            try:
                job = self._pool.submit(spec_png, chart_spec(chart.chart), self.scale)
            except Exception as exc:  # a spec that cannot be built, or a child that died: in-process later
                log.debug("chart %s.%s not sent to the child: %s", area, chart.name, exc)
                continue
            self._jobs[(area, i)] = (chart, job)
            self._submitted.append(job)

    def progress(self) -> tuple[int, int]:
        """(charts rendered so far, charts submitted) — for a progress line while the child works."""
        jobs = list(self._submitted)
        return sum(job.done() for job in jobs), len(jobs)

    def graphics(self, report) -> tuple[tuple[Graphic, ...], tuple[str, ...]]:
        """(graphics, names that failed) of every chart of ``report``, in section order — the
        output of ``render_graphics(report, scale)``. Waits for the child, then ends it."""
        results = []
        for area, section in report.sections.items():
            for i, chart in enumerate(section.charts):
                results.append(self._take(area, i, chart))
        self.close()
        return tuple(r for r in results if isinstance(r, Graphic)), tuple(r for r in results if isinstance(r, str))

    def _take(self, area: str, i: int, chart) -> Graphic | str:
        chart_obj, job = self._jobs.pop((area, i), (None, None))
        if job is not None and chart_obj is chart:
            try:
                return Graphic(area, f"{area}.{chart.name}", chart.title, job.result(), self.scale)
            except Exception as exc:  # a broken chart fails again below and is listed the usual way
                log.debug("chart %s.%s failed in the child (%s): rendering it here", area, chart.name, exc)
        return render_graphic(area, chart, self.scale)

    def close(self) -> None:
        """End the child process (pending charts are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._jobs.clear()

    def __enter__(self) -> ChartPrerenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
