"""The full report: every area's Section for one audit, and its ``report.json`` form.

Areas are registered by name with the function that computes them; an area whose module is
not there yet reports "not computed yet" instead of a fake value. An area that lacks an input
(e.g. drift without a reference) reports why, and the other areas still run.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable

import numpy as np
import pandas as pd

import sightline.charts as chart_pkg
from sightline import __version__
from sightline.core.errors import SightlineInputError
from sightline.core.section import NOT_COMPUTED, Section, unavailable_section
from sightline.data.audit import Audit
from sightline.data.scale import whole_log_figures
from sightline.data.summary import data_summary

log = logging.getLogger(__name__)

# area -> "module:function"; each function takes an Audit and returns a Section.
AREAS: dict[str, str] = {
    "performance": "sightline.performance.section:performance_section",
    "slices": "sightline.slices.section:slices_section",
    "calibration": "sightline.calibration.section:calibration_section",
    "explainability": "sightline.explain.section:explain_section",
    "fairness": "sightline.fairness.section:fairness_section",
    "drift": "sightline.drift.section:drift_section",
    "operations": "sightline.report.compose:operations_section",
}
AREA_TITLES = {
    "performance": "Performance", "slices": "Slices", "calibration": "Calibration", "explainability": "Explainability",
    "fairness": "Fairness", "drift": "Drift", "operations": "Operations",
}


def section_function(area: str) -> Callable[[Audit], Section] | None:
    """The registered function of an area, or None when its module does not exist yet."""
    module_name, func_name = AREAS[area].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return getattr(module, func_name, None)


def compute_section(area: str, audit: Audit) -> Section:
    """One area's Section; a missing input becomes an ``unavailable`` Section naming it."""
    try:
        func = section_function(area)
        if func is None:
            return unavailable_section(area, f"{AREA_TITLES[area]} is not computed yet in this version of Sightline.", NOT_COMPUTED)
        return func(audit)
    except SightlineInputError as exc:  # a missing input, or a bad setting of this area only
        return unavailable_section(area, str(exc))
    except Exception as exc:  # a bug in one area must not take the other areas down with it
        log.error("internal error while computing %s: %s", area, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        section = unavailable_section(area, f"{AREA_TITLES[area]} could not be computed (internal error: {type(exc).__name__}: {exc}).")
        return Section(area=area, verdict=section.verdict, report={**section.report, "internal_error": f"{type(exc).__name__}: {exc}"})


@dataclass(frozen=True)
class Report:
    """Everything behind a model card: summary, validation findings, one Section per area."""

    audit: Audit
    sections: dict[str, Section]
    whole_log: dict | None = None  # exact whole-log figures when the log was sampled (sightline/scale.py)
    generated_at: str = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0).isoformat())


# Slowest first, so two workers finish together (measured at 1M rows, benchmarks/results.md).
_COST_ORDER = ("explainability", "drift", "slices", "operations", "fairness", "performance", "calibration")


# Packages the areas import lazily. Two threads importing the same package at the same moment
# can deadlock on Python's per-module import locks (seen with altair → narwhals), so they are
# imported once on the calling thread before any area runs in a thread.
_SHARED_IMPORTS = ("altair", "scipy.stats", "scipy.special", "sklearn.metrics", "sklearn.isotonic", "sklearn.ensemble",
                   "threadpoolctl", "sightline.charts")
_AREA_IMPORTS = {"explainability": ("shap",)}


def import_area_modules(areas: list[str]) -> None:
    """Import every package the ``areas`` use (seconds on a fresh process; nothing after)."""
    import pkgutil


    names = list(_SHARED_IMPORTS) + [f"sightline.charts.{m.name}" for m in pkgutil.iter_modules(chart_pkg.__path__)]
    names += [AREAS[a].split(":")[0] for a in areas if a in AREAS]
    names += [m for a in areas for m in _AREA_IMPORTS.get(a, ())]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional package: the area says so itself when it runs
            log.debug("could not pre-import %s", name)


def compute_sections(audit: Audit, areas: list[str], compute: Callable[[str], Section], workers: int = 1,
                     on_done: Callable[[str, Section], None] | None = None) -> dict[str, Section]:
    """``compute(area)`` for every area, ``workers`` at a time (threads), in ``areas`` order;
    ``on_done(area, section)`` is called in the calling thread as each one finishes.

    Threads are safe here: every area is a pure function of the frozen audit; the audit's lazily
    built row subsets are built first, once, so two areas never build them at the same time.
    numpy, pandas, scikit-learn and SHAP release the GIL in their heavy loops, so two threads
    use two cores for most of the work.
    """
    done: dict[str, Section] = {}
    if workers <= 1 or len(areas) <= 1:
        for area in areas:
            done[area] = compute(area)
            if on_done:
                on_done(area, done[area])
        return done
    from concurrent.futures import ThreadPoolExecutor, as_completed

    import_area_modules(areas)
    _ = audit.primary, audit.versions, audit.primary_version
    ordered = sorted(areas, key=lambda a: _COST_ORDER.index(a) if a in _COST_ORDER else len(_COST_ORDER))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sightline-area") as pool:
        futures = {pool.submit(compute, area): area for area in ordered}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if on_done:
                on_done(futures[future], done[futures[future]])
    return {area: done[area] for area in areas}


# Rows of the in-memory log above which areas run one at a time: each area holds up to ~0.3 GB
# of temporaries per million rows (drift's binned columns the most), so two at once take a
# 5M-row log past 4 GB (measured: 4.2 GB with two threads, 3.3 GB with one).
THREADED_MAX_ROWS = 2_500_000


def default_workers(audit: Audit | None = None) -> int:
    """Threads for computing areas: the machine's cores, at most 4 (memory grows with each);
    one when ``audit``'s in-memory log has more than :data:`THREADED_MAX_ROWS` rows."""
    import os

    if audit is not None and len(audit.current) > THREADED_MAX_ROWS:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def build_report(audit: Audit, areas: list[str] | None = None, progress: Callable[[str], None] | None = None,
                 workers: int = 1, on_section: Callable[[str, Section], None] | None = None) -> Report:
    """Compute every area (or the ones named) for an audit, ``workers`` areas at a time.
    ``progress`` is told each area's name when it starts; ``on_section(area, section)`` gets each
    finished Section (the CLI hands it to the chart renderer)."""
    def compute(area: str) -> Section:
        if progress:
            progress(area)
        return compute_section(area, audit)

    sections = compute_sections(audit, list(areas or AREAS), compute, workers, on_section)
    whole_log = None
    if audit.log_sample is not None:

        if progress:
            progress("whole log")
        whole_log = whole_log_figures(audit)
    return Report(audit=audit, sections=sections, whole_log=whole_log)


def library_versions() -> dict[str, str]:
    """Versions of Sightline and the libraries its numbers depend on (for reproducibility)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"sightline": __version__}
    for pkg in ("pandas", "numpy", "scipy", "scikit-learn", "fairlearn", "shap", "evidently", "altair", "duckdb", "skops"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def report_to_dict(report: Report) -> dict:
    """The report.json document (see README, "report.json")."""
    audit = report.audit
    return {
        "sightline_version": __version__,
        "generated_at": report.generated_at,
        "audit": {"name": audit.spec.name, "version": audit.spec.version, "task": audit.spec.task,
                  "positive_label": audit.spec.positive_label, "fingerprint": audit.fingerprint},
        "library_versions": library_versions(),
        "data": data_summary(audit).to_dict(),
        **({"whole_log": report.whole_log} if report.whole_log else {}),
        "validation": [{"level": f.level, "subject": f.subject, "message": f.message} for f in audit.findings],
        "verdicts": {area: {"status": s.verdict.status, "headline": s.verdict.headline, "detail": s.verdict.detail}
                     for area, s in report.sections.items()},
        **{area: {**s.report, "provenance": s.provenance} if s.provenance else s.report
           for area, s in report.sections.items()},
    }


def to_jsonable(obj: Any) -> Any:
    """Recursively turn numpy/pandas values into JSON-safe ones (NaN and inf become None)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return to_jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (pd.Timestamp, datetime, date)):
        return obj.isoformat()
    if obj is pd.NaT or (not isinstance(obj, (str, bytes)) and pd.api.types.is_scalar(obj) and pd.isna(obj)):
        return None
    return obj


def report_json(report: Report, extra: dict | None = None) -> str:
    """report.json text: indented, keys in a stable order; ``extra`` top-level keys after the
    report's own (e.g. the CLI's ``fail_on`` outcome)."""
    return json.dumps(to_jsonable({**report_to_dict(report), **(extra or {})}), indent=2, ensure_ascii=False)
