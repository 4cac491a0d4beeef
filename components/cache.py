"""Every ``st.cache_*`` wrapper of the app, at the UI boundary (the engine never caches).

Keys are data fingerprints and settings: an audit is cached by its spec text and the size
and modification time of its input files; results by the audit's fingerprint. Results are
immutable, so ``cache_resource`` hands out the same object without copying 1M-row frames.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from sightline.core.section import Section
from sightline.data.audit import Audit, load_audit
from sightline.data.spec import AuditSpec, spec_to_yaml
from sightline.report.registry import compute_section


def _stamp(spec: AuditSpec) -> tuple:
    """(path, size, mtime) of every file input, so an edited file is reloaded."""
    paths = [s.resolve(spec.base_dir) for s in (spec.current, spec.reference) if s is not None and not s.is_sql]
    if spec.model_path():
        paths.append(spec.model_path())
    out = []
    for p in paths:
        stat = Path(p).stat() if Path(p).exists() else None
        out.append((str(p), stat.st_size if stat else -1, stat.st_mtime_ns if stat else -1))
    return tuple(out)


@st.cache_resource(max_entries=4, show_spinner="Loading the audit…")
def _load(spec_yaml: str, base_dir: str, stamp: tuple, _spec: AuditSpec) -> Audit:
    return load_audit(_spec, model_errors="warn")


def load_audit_cached(spec: AuditSpec) -> Audit:
    """The loaded audit for ``spec`` (cached by spec text and input-file stamps)."""
    return _load(spec_to_yaml(spec), str(spec.base_dir), _stamp(spec), spec)


@st.cache_resource(max_entries=64, show_spinner=False)
def _section(area: str, fingerprint: str, _audit: Audit) -> Section:
    return compute_section(area, _audit)


def section(area: str, audit: Audit) -> Section:
    """One area's Section for ``audit`` (the same object the Overview, pages and card use).

    Explainability is built from the page's cached SHAP result, so SHAP runs once per audit.
    """
    if area == "explainability":
        from sightline.core.errors import MissingInputError
        from sightline.core.section import unavailable_section

        try:
            return explain_section(audit, explain_result(audit))
        except MissingInputError as exc:
            return unavailable_section(area, str(exc))
    return _section(area, audit.fingerprint, audit)


def sections(audit: Audit, areas, on_done=None, workers: int | None = None) -> dict[str, Section]:
    """:func:`section` of every area in ``areas``; the ones not cached yet are computed
    ``workers`` at a time (default: one per core) in threads
    (:func:`sightline.report.registry.compute_sections`), so a cold Overview uses every core.
    ``on_done(area, section)`` runs in the script's thread as each finishes (safe for ``st`` calls)."""
    from sightline.report.registry import compute_sections, default_workers

    return compute_sections(audit, list(areas), lambda area: section(area, audit), workers or default_workers(audit), on_done)


@st.cache_resource(show_spinner="Starting up: loading the analysis libraries…")
def import_analysis_libraries() -> bool:
    """Import every library the areas use, once per server process, on its first run.

    Why: ~2 s of imports (scikit-learn, SciPy, SHAP with numba) are then paid while the server
    starts rather than inside the first page that computes; and they happen before any page
    starts threads, so two threads never import one package at once (Python's per-module
    import locks can then hand one of them a half-initialised module)."""
    from sightline.report.registry import AREAS, import_area_modules

    import_area_modules(list(AREAS))
    return True


# --- background start -------------------------------------------------------
PRECOMPUTE_ENV = "SIGHTLINE_PRECOMPUTE"


@st.cache_resource(max_entries=4, show_spinner=False)
def _precompute(fingerprint: str, _workers: int, _audit: Audit):
    import logging
    import threading

    from sightline.report.registry import AREAS

    def run() -> None:
        try:
            sections(_audit, AREAS, workers=_workers)
        except Exception:  # a page that needs the failing area shows the error itself
            logging.getLogger(__name__).exception("background computation of audit %s failed", fingerprint)

    thread = threading.Thread(target=run, name="sightline-precompute", daemon=True)
    thread.start()
    return thread


def precompute(audit: Audit, *, needed: bool = False) -> None:
    """Start computing every area of ``audit`` in a background thread, once per fingerprint.

    Why: at 1M rows the seven areas cost ~9 s CPU together; started when the audit loads, they
    are done or under way by the time someone opens the Overview, a page or the model card, and
    a page that needs an area still being computed waits for that computation (Streamlit's cache
    lock per key) instead of repeating it. Started on load it uses one thread, leaving the other
    cores to the page being viewed. ``needed=True`` (the Overview and the card, which need every
    area) starts it whatever the setting — with a thread per core if it was not running — before
    the page draws anything else. Set ``SIGHTLINE_PRECOMPUTE=0`` to compute only what a page
    asks for (e.g. a server shared by many audits)."""
    import os

    from sightline.report.registry import default_workers

    if needed:
        _precompute(audit.fingerprint, default_workers(audit), audit)
    elif os.environ.get(PRECOMPUTE_ENV, "1") != "0":
        _precompute(audit.fingerprint, 1, audit)


# --- operations and model versions ---------------------------------
@st.cache_resource(max_entries=16, show_spinner=False)
def _operations(fingerprint: str, window: str, factor: float, min_requests: int, _audit: Audit):
    from sightline.operations.section import operations_result

    return operations_result(_audit, window, factor=factor, min_requests=min_requests)


def operations(audit: Audit, window: str, factor: float, min_requests: int):
    """Latency, throughput and invalid predictions of ``audit`` in ``window``s (an OperationsResult),
    cached by fingerprint and settings."""
    return _operations(audit.fingerprint, window, float(factor), int(min_requests), audit)


@st.cache_resource(max_entries=16, show_spinner=False)
def _version_comparison(fingerprint: str, candidate: str, _audit: Audit):
    from sightline.versions.section import compare_versions

    return compare_versions(_audit, candidate)


def version_comparison(audit: Audit, candidate: str):
    """``candidate`` compared with the primary version (a VersionComparison), cached by fingerprint."""
    return _version_comparison(audit.fingerprint, candidate, audit)


# --- fairness --------------------------------------------------------------
@st.cache_resource(max_entries=8, show_spinner=False)
def _fairness(fingerprint: str, _audit: Audit):
    from sightline.fairness.section import fairness_result

    return fairness_result(_audit)


def fairness(audit: Audit):
    """Group tables, summaries and gaps over time of ``audit`` (a FairnessResult), cached by fingerprint."""
    return _fairness(audit.fingerprint, audit)


@st.cache_resource(max_entries=8, show_spinner=False)
def _fairness_whatif_inputs(fingerprint: str, _audit: Audit):
    from sightline.fairness.whatif import whatif_inputs

    return whatif_inputs(_audit)


def fairness_whatif_inputs(audit: Audit):
    """Labels, scores and sensitive columns for the threshold what-if (None without scores), cached."""
    return _fairness_whatif_inputs(audit.fingerprint, audit)


@st.cache_resource(max_entries=32, show_spinner=False)
def _fairness_tradeoff(fingerprint: str, column: str, constraint: str, _audit: Audit):
    from sightline.fairness.whatif import tradeoff_curve

    inputs = fairness_whatif_inputs(_audit)
    return tradeoff_curve(inputs.y_true, inputs.y_score, sensitive_features=inputs.features(column),
                          constraint=constraint, threshold=inputs.threshold,
                          min_group_size=_audit.spec.fairness.min_group_size)


def fairness_tradeoff(audit: Audit, column: str, constraint: str):
    """fairlearn ThresholdOptimizer accuracy-vs-gap points for one column and constraint (a Tradeoff), cached."""
    return _fairness_tradeoff(audit.fingerprint, column, constraint, audit)


# --- slices ----------------------------------------------------------
@st.cache_resource(max_entries=8, show_spinner=False)
def _slice_data(fingerprint: str, n_bins: int, _audit: Audit):
    from sightline.slices.section import slice_data as build

    return build(_audit, n_bins=n_bins)


def slice_data(audit: Audit, n_bins: int):
    """Labelled primary rows, outcomes and encoded slice columns (a SliceData), cached by
    fingerprint and bin count. Raises MissingInputError without labels."""
    return _slice_data(audit.fingerprint, int(n_bins), audit)


@st.cache_data(max_entries=64, show_spinner=False)
def _slice_table(fingerprint: str, n_bins: int, columns: tuple, min_size: int, _audit: Audit):
    return slice_data(_audit, n_bins).table(list(columns), min_size=min_size)


def slice_table(audit: Audit, columns, *, min_size: int, n_bins: int):
    """Metrics per slice of the intersection of ``columns`` (a DataFrame), cached by fingerprint and settings."""
    return _slice_table(audit.fingerprint, int(n_bins), tuple(columns), int(min_size), audit)


# -- Calibration page: the reliability diagram for the bin scheme and group column the user picks.
@st.cache_resource(max_entries=32, show_spinner=False)
def _calibration_view(fingerprint: str, n_bins: int, strategy: str, column: str | None, _audit: Audit):
    from sightline.calibration.section import calibration_result

    return calibration_result(_audit, n_bins=n_bins, strategy=strategy, group_columns=(column,) if column else ())


def calibration_view(audit: Audit, *, n_bins: int, strategy: str, column: str | None):
    """:class:`sightline.calibration.section.CalibrationResult` for the chosen bins and group column (cached)."""
    return _calibration_view(audit.fingerprint, n_bins, strategy, column, audit)


# -- Drift page: the log in the windows the user picks, and one feature's distributions.
@st.cache_resource(max_entries=16, show_spinner=False)
def _drift_over_time(fingerprint: str, window: str, psi_threshold: float, _audit: Audit):
    import dataclasses

    from sightline.drift.section import drift_over_time, drift_settings

    settings = dataclasses.replace(drift_settings(_audit), psi_threshold=psi_threshold)
    return drift_over_time(_audit, window, settings)


def drift_over_time(audit: Audit, *, window: str, psi_threshold: float):
    """:class:`sightline.drift.section.DriftOverTime` for the chosen window and PSI threshold (cached);
    the drift section's own result when the settings are the audit's (no second computation)."""
    results = section("drift", audit).results
    if results.get("over_time_settings") == (window, float(psi_threshold)):
        return results["over_time"]
    return _drift_over_time(audit.fingerprint, window, float(psi_threshold), audit)


@st.cache_data(max_entries=64, show_spinner=False)
def _drift_distribution(fingerprint: str, column: str, _audit: Audit):
    from sightline.drift.reference import column_distribution

    return column_distribution(_audit, column)


def drift_distribution(audit: Audit, column: str):
    """Reference vs production shares per bin of one column (a DataFrame, cached)."""
    return _drift_distribution(audit.fingerprint, column, audit)


# -- Explainability page: SHAP explanations, their Section, one row's explanation.
@st.cache_resource(max_entries=8, show_spinner=False)
def _explain_section(fingerprint: str, settings: tuple, _audit: Audit, _result) -> Section:
    from sightline.explain.section import section_from_result

    return section_from_result(_audit, _result)


def explain_section(audit: Audit, result) -> Section:
    """The explainability Section built from an already computed result (cached)."""
    return _explain_section(audit.fingerprint, result.settings.key(), audit, result)


@st.cache_resource(max_entries=256, show_spinner=False)
def _explain_row(fingerprint: str, settings: tuple, row_id: str, _audit: Audit, _result):
    from sightline.explain.section import explain_row, find_row

    return explain_row(_result, _audit, find_row(_audit, row_id))


def explain_row(audit: Audit, result, row_id: str):
    """:class:`sightline.explain.section.LocalExplanation` of the logged prediction ``row_id`` (cached)."""
    return _explain_row(audit.fingerprint, result.settings.key(), str(row_id).strip(), audit, result)


@st.cache_data(max_entries=8, show_spinner=False)
def _confident_errors(fingerprint: str, n: int, _audit: Audit):
    from sightline.explain.section import confident_errors

    return confident_errors(_audit, n)


def confident_errors(audit: Audit, n: int = 10):
    """The most confident wrong predictions (a DataFrame, cached)."""
    return _confident_errors(audit.fingerprint, n, audit)


# -- Explainability: SHAP runs OUTSIDE the cached
# function so its progress bar can update (Streamlit cannot replay elements drawn inside a
# cached function on blocks created outside it). The cache holds one box per fingerprint +
# settings; the lock makes concurrent sessions wait for the first computation instead of
# repeating it.
@st.cache_resource(max_entries=8, show_spinner=False)
def _explain_box(fingerprint: str, settings: tuple) -> dict:
    import threading

    return {"lock": threading.Lock()}


def explain_result(audit: Audit, progress=None):
    """:class:`sightline.explain.section.ExplainResult` of the audit, cached by fingerprint and
    ``explain:`` settings; ``progress(fraction, text)`` is called while SHAP runs (first visit only)."""
    from sightline.explain.section import explain_audit, explain_settings

    settings = explain_settings(audit.spec)
    box = _explain_box(audit.fingerprint, settings.key())
    if "result" not in box and box["lock"].locked() and progress:
        progress(0.0, "Explaining the predictions (started in the background when the audit loaded)…")
    with box["lock"]:
        if "result" not in box:
            box["result"] = explain_audit(audit, settings, progress=progress)
    return box["result"]


# -- Model card page: the Report behind the card and its charts as PNG.
@st.cache_resource(max_entries=4, show_spinner=False)
def _card_report(fingerprint: str, _audit: Audit):
    from sightline.report.registry import AREAS, Report

    return Report(audit=_audit, sections=sections(_audit, AREAS), whole_log=whole_log(_audit))


def card_report(audit: Audit):
    """The :class:`sightline.report.registry.Report` behind the model card: every area's cached Section
    (the very objects the pages show), built once per audit fingerprint so ``generated_at`` holds."""
    return _card_report(audit.fingerprint, audit)


# The card's PNGs render in a child process (sightline/card/prerender.py), started once the card
# page has been drawn: vl-convert holds the GIL for a whole conversion, so in-process rendering
# (~9 s for 23 charts at 1M rows) would freeze the page and every other session. The page shows
# the card at once; the downloads wait for the charts.
@st.cache_resource(max_entries=4, show_spinner=False)
def _card_charts(fingerprint: str, _report) -> dict:
    import threading

    from sightline.card.prerender import ChartPrerenderer

    renderer = ChartPrerenderer()
    for area, section in _report.sections.items():
        renderer.submit(area, section)
    box = {"lock": threading.Lock(), "renderer": renderer}
    box["lock"].acquire()  # held until the charts are in: card_graphics waits on it

    def collect() -> None:  # takes the PNGs as they come and ends the child process when done
        try:
            box["graphics"] = renderer.graphics(_report)
        finally:
            box["lock"].release()

    threading.Thread(target=collect, name="sightline-card-charts", daemon=True).start()
    return box


def card_charts_progress(audit: Audit, report) -> tuple[int, int]:
    """(charts rendered, charts in the card) of ``report``; starts rendering them on first call."""
    box = _card_charts(audit.fingerprint, report)
    if "graphics" in box:
        drawn, failed = box["graphics"]
        return len(drawn) + len(failed), len(drawn) + len(failed)
    return box["renderer"].progress()


def card_graphics(audit: Audit, report):
    """Every Section chart of ``report`` as PNG — (graphics, names that failed), as
    :func:`sightline.card.render_graphics` returns them — waiting for the child process."""
    box = _card_charts(audit.fingerprint, report)
    with box["lock"]:
        if "graphics" not in box:  # the collector failed: render here, in-process
            from sightline.card import render_graphics

            box["graphics"] = render_graphics(report)
    return box["graphics"]


@st.cache_resource(max_entries=4, show_spinner=False)
def _card_outline(fingerprint: str, _report):
    from sightline.card.build import card_basis as build
    from sightline.card.build import chart_outlines

    return build(_report, chart_outlines(_report))


def card_outline(audit: Audit, report):
    """:func:`card_basis` with every chart named but not yet drawn (for the on-screen preview,
    which lists charts by title), cached by fingerprint."""
    return _card_outline(audit.fingerprint, report)


@st.cache_resource(max_entries=4, show_spinner=False)
def _card_basis(fingerprint: str, _report, _graphics):
    from sightline.card.build import card_basis as build

    return build(_report, _graphics)


def card_basis(audit: Audit, report):
    """The report-derived half of the model card (suppressed metrics and tables, gates, audit
    trail, charts), cached by fingerprint so edits in the card form only redo the written half."""
    return _card_basis(audit.fingerprint, report, card_graphics(audit, report))


# -- Logs too large for memory: exact whole-log figures pushed down to DuckDB.
@st.cache_data(max_entries=4, show_spinner="Counting every row of the log with DuckDB…")
def _whole_log(fingerprint: str, _audit: Audit) -> dict | None:
    from sightline.data.scale import whole_log_figures

    return whole_log_figures(_audit)


def whole_log(audit: Audit) -> dict | None:
    """:func:`sightline.data.scale.whole_log_figures` of the audit (None unless its log was sampled)."""
    return _whole_log(audit.fingerprint, audit) if audit.log_sample is not None else None
