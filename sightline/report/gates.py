"""Release gates: thresholds from the audit file checked against the report's metrics.

``gates:`` in audit.yaml sets thresholds such as ``min_roc_auc: 0.85`` or
``max_demographic_parity_difference: 0.1``. :func:`evaluate_gates` reads the matching
:class:`~sightline.core.section.CardMetric` of each Section (by the metric names in
docs/ENGINE.md) — it never recomputes a number — and returns one :class:`GateResult` per gate
(fairness gates: one per sensitive column or intersection). A gate whose metric is absent
(area not computed, input missing, value undefined) is *not evaluated*: ``passed`` is None,
never True.

``python -m sightline report --fail-on AREA,…`` asks :func:`check_areas` for one
:class:`AreaCheck` per named area and exits 1 when any does not pass. An area with gates in the
audit file is decided by those gates alone (they are the contract the team wrote down, so a red
verdict with every gate passed passes, and the line says so). An area without gates is decided by
its verdict: red fails, amber and green pass, and an area that has no result (unavailable, not
computed, not run) is *not evaluated* and fails — an audit that could not check fairness must not
pass a fairness gate.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from sightline.core.errors import SpecError
from sightline.core.section import AMBER, GREEN, RED
from sightline.core.vocabulary import METRICS
from sightline.report.registry import AREAS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateDefinition:
    """One gate key of the audit file: the area it guards, the metric type it reads, where else to
    look for the metric, whether it is checked per slice, and the allowed threshold range. The
    direction is the metric's in :mod:`sightline.core.vocabulary` (``min``: higher is better, the
    value must be ≥ threshold; ``max``: the value must be ≤ threshold)."""

    key: str
    area: str
    metric: str
    fallback_areas: tuple[str, ...] = ()
    per_slice: bool = False
    bounds: tuple[float, float] = (0.0, 1.0)

    @property
    def direction(self) -> str:
        return "min" if METRICS[self.metric].higher_is_better else "max"


GATES: dict[str, GateDefinition] = {g.key: g for g in (
    GateDefinition("min_roc_auc", "performance", "roc_auc"),
    GateDefinition("min_accuracy", "performance", "accuracy"),
    GateDefinition("min_f1", "performance", "f1"),
    GateDefinition("max_ece", "calibration", "expected_calibration_error"),
    GateDefinition("max_brier_score", "calibration", "brier_score", fallback_areas=("performance",)),
    GateDefinition("max_demographic_parity_difference", "fairness", "demographic_parity_difference", per_slice=True),
    GateDefinition("max_equalized_odds_difference", "fairness", "equalized_odds_difference", per_slice=True),
    # The disparate-impact ratio is fairlearn's demographic_parity_ratio (min/max selection rate).
    GateDefinition("min_disparate_impact_ratio", "fairness", "demographic_parity_ratio", per_slice=True),
    GateDefinition("max_drift_share", "drift", "drift_share"),
    GateDefinition("max_p99_latency_ms", "operations", "latency_p99_ms", bounds=(0.0, math.inf)),
)}
PASSED, FAILED, NOT_EVALUATED = "passed", "failed", "not evaluated"


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate. ``passed`` is True, False, or None when it was not evaluated
    (``note`` says why). ``slice`` names the sensitive column for per-group gates."""

    area: str
    name: str
    threshold: float
    value: float | None
    passed: bool | None
    metric: str = ""
    direction: str = "max"
    slice: str = ""
    note: str = ""

    @property
    def status(self) -> str:
        return NOT_EVALUATED if self.passed is None else PASSED if self.passed else FAILED

    @property
    def comparison(self) -> str:
        """The rule in ASCII, e.g. ``roc_auc >= 0.85``."""
        return f"{self.metric} {'>=' if self.direction == 'min' else '<='} {_fmt(self.threshold)}"

    def describe(self) -> str:
        """One ASCII line for logs and CI output, e.g.
        ``fairness: max_demographic_parity_difference [sex] = 0.1823, needs demographic_parity_difference <= 0.1 -> FAILED``."""
        where = f" [{self.slice}]" if self.slice else ""
        head = f"{self.area}: {self.name}{where}"
        if self.passed is None:
            return f"{head} -> NOT EVALUATED ({self.note or 'metric absent'}); needs {self.comparison}"
        return f"{head} = {_fmt(self.value)}, needs {self.comparison} -> {'passed' if self.passed else 'FAILED'}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}"


def _threshold(key: str, value, gate: GateDefinition) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(float(value)):
        raise SpecError(f"'gates.{key}' must be a number, got {value!r} — e.g. {key}: {0.85 if gate.direction == 'min' else 0.1}")
    low, high = gate.bounds
    if not low <= float(value) <= high:
        rng = f"between {low:g} and {high:g}" if math.isfinite(high) else f"at least {low:g}"
        raise SpecError(f"'gates.{key}' must be {rng}, got {value!r}")
    return float(value)


def _area_reason(report, area: str) -> str:
    section = report.sections.get(area)
    if section is None:
        return f"the {area} area was not run"
    if section.verdict.status in ("not_computed", "unavailable"):
        return f"{area}: {section.verdict.headline}"
    return ""


def _metrics(report, areas: tuple[str, ...], metric: str):
    for area in areas:
        section = report.sections.get(area)
        if section is None:
            continue
        found = [m for m in section.metrics if m.type == metric]
        if found:
            return found
    return []


def _result(gate: GateDefinition, threshold: float, value: float | None, slice_: str = "", note: str = "") -> GateResult:
    if value is None or not math.isfinite(value):
        return GateResult(gate.area, gate.key, threshold, None, None, gate.metric, gate.direction, slice_,
                          note or f"{gate.metric} is undefined (NaN)")
    passed = value >= threshold if gate.direction == "min" else value <= threshold
    return GateResult(gate.area, gate.key, threshold, float(value), bool(passed), gate.metric, gate.direction, slice_, note)


def evaluate_gates(report) -> list[GateResult]:
    """Check every gate set in ``report.audit.spec.gates`` against the report's Section metrics.

    Input: a :class:`sightline.report.registry.Report`. Output: one :class:`GateResult` per gate (per
    sensitive column or intersection for fairness gates), in the audit file's order.
    Raises :class:`SpecError` for a threshold that is not a number in range.
    """
    results: list[GateResult] = []
    for key, raw in (report.audit.spec.gates or {}).items():
        gate = GATES.get(key)
        if gate is None:  # spec.py rejects unknown keys; this guards a key added there but not here
            log.warning("gate %r has no definition in sightline.report.gates — ignored", key)
            continue
        threshold = _threshold(key, raw, gate)
        found = _metrics(report, (gate.area, *gate.fallback_areas), gate.metric)
        if gate.per_slice:
            found = [m for m in found if m.slice]
        else:
            found = [m for m in found if m.slice == ""]
        if not found:
            reason = _area_reason(report, gate.area) or f"the {gate.area} results hold no {gate.metric}"
            results.append(_result(gate, threshold, None, note=reason))
            continue
        for m in found:
            results.append(_result(gate, threshold, None if m.value is None else float(m.value), m.slice))
    return results


def failed_gates(results: list[GateResult], areas: list[str] | None = None) -> list[GateResult]:
    """Gates that did not pass (failed, or not evaluated), optionally only of ``areas``.

    A gate that could not be evaluated counts: a CI step that asked for it must not go green
    without the check having run.
    """
    return [g for g in results if (areas is None or g.area in areas) and g.passed is not True]


# -- --fail-on: one pass/fail per area ------------------------------------------------------------
# Areas with metric gates first (their order in GATES), then the areas only their verdict can fail.
FAIL_ON_AREAS: tuple[str, ...] = tuple(dict.fromkeys([*(g.area for g in GATES.values()), *AREAS]))
BY_GATES, BY_VERDICT = "gates", "verdict"


@dataclass(frozen=True)
class AreaCheck:
    """The ``--fail-on`` outcome of one area.

    ``decided_by`` is ``"gates"`` when the audit file sets gates for the area (``gates`` holds
    their results and decides alone) or ``"verdict"`` otherwise. ``verdict`` is the area's verdict
    status (``""`` when the area was not run) and ``headline`` its sentence. ``passed`` is True,
    False, or None when the area could not be evaluated (counts as not passed).
    """

    area: str
    decided_by: str
    verdict: str
    headline: str
    passed: bool | None
    gates: tuple[GateResult, ...] = ()

    @property
    def status(self) -> str:
        return NOT_EVALUATED if self.passed is None else PASSED if self.passed else FAILED

    def describe(self) -> str:
        """One line saying what decided and why, e.g.
        ``fairness: verdict is red -> FAILED (no gates for fairness in the audit file, so the verdict decides): By sex: …``."""
        if self.decided_by == BY_GATES:
            tally = {}
            for g in self.gates:
                tally[g.status] = tally.get(g.status, 0) + 1
            counts = ", ".join(f"{n} {s if s != FAILED else 'FAILED'}" for s, n in tally.items())
            gates = f"{len(self.gates)} gate{'s' if len(self.gates) != 1 else ''}"
            if self.passed:
                why = f"verdict {self.verdict}, but the gates decide" if self.verdict == RED else f"verdict {self.verdict}"
                return f"{self.area}: {gates} passed ({why})"
            return f"{self.area}: {gates}: {counts} -> {self.status.upper()} (verdict {self.verdict or 'none'})"
        rule = f"no gates for {self.area} in the audit file, so the verdict decides"
        if not self.verdict:
            return f"{self.area}: NOT EVALUATED ({self.headline}); an area that was not checked does not pass --fail-on"
        if self.passed is None:
            return (f"{self.area}: verdict is {self.verdict} -> NOT EVALUATED ({rule}; an area that could not be checked "
                    f"does not pass --fail-on): {self.headline}")
        if self.passed:
            return f"{self.area}: verdict is {self.verdict} -> passed ({rule}; only red fails)"
        return f"{self.area}: verdict is {self.verdict} -> FAILED ({rule}): {self.headline}"

    def lines(self) -> list[tuple[str, str]]:
        """(status, text) lines for CI output: one per gate that did not pass when gates decide and
        failed, else the one :meth:`describe` line."""
        if self.decided_by == BY_GATES and self.passed is not True:
            return [(g.status, g.describe()) for g in self.gates if g.passed is not True]
        return [(self.status, self.describe())]

    def to_dict(self) -> dict:
        """JSON-safe form for report.json's ``fail_on.checks``."""
        return {"area": self.area, "decided_by": self.decided_by, "verdict": self.verdict or None, "status": self.status,
                "message": self.describe(),
                "gates": [{"name": g.name, "slice": g.slice, "metric": g.metric, "direction": g.direction,
                           "threshold": g.threshold, "value": g.value, "status": g.status, "note": g.note} for g in self.gates]}


def check_areas(report, areas: list[str], results: list[GateResult] | None = None) -> list[AreaCheck]:
    """The ``--fail-on`` decision for each of ``areas`` (names from :data:`FAIL_ON_AREAS`).

    Inputs: a :class:`sightline.report.registry.Report` (its sections' verdicts and the audit's
    ``gates:``), the area names, and optionally the :func:`evaluate_gates` results already
    computed for it. Output: one :class:`AreaCheck` per area, in the order given. An area whose
    gates are set in the audit file passes when every one of them passed (whatever its verdict);
    any other area passes when its verdict is green or amber, fails when it is red, and is not
    evaluated when it has no result. Raises :class:`SpecError` for a bad gate threshold.
    """
    results = evaluate_gates(report) if results is None else results
    checks = []
    for area in areas:
        section = report.sections.get(area)
        verdict = section.verdict.status if section is not None else ""
        headline = section.verdict.headline if section is not None else f"the {area} area was not run"
        gates = tuple(g for g in results if g.area == area)
        if gates:
            passed = True if all(g.passed is True for g in gates) else None if not any(g.passed is False for g in gates) else False
            checks.append(AreaCheck(area, BY_GATES, verdict, headline, passed, gates))
        elif verdict in (GREEN, AMBER):
            checks.append(AreaCheck(area, BY_VERDICT, verdict, headline, True))
        elif verdict == RED:
            checks.append(AreaCheck(area, BY_VERDICT, verdict, headline, False))
        else:  # unavailable, not_computed, or not run: nothing was checked
            checks.append(AreaCheck(area, BY_VERDICT, verdict, headline, None))
    return checks
