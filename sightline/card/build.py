"""Assemble the model card from a Report: the Model Card Toolkit JSON and everything the
Markdown, HTML and PDF renderers show.

Nothing is recomputed here: metrics are the Sections' :class:`CardMetric` objects, charts are
the Sections' Altair charts rendered to PNG, tables are the Sections' tables. What is added:
the qualitative fields (from the audit file or the dashboard form), small-group suppression,
the gate results and the reproducibility trail.
"""

from __future__ import annotations

import base64
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from sightline.card.fields import NOTES_MARKER, TRAIL_MARKER, CardFields, fields_from_spec, is_uri, sign_off_text
from sightline.card.format import readable_pairs
from sightline.card.png import spec_png
from sightline.card.privacy import Suppression, suppress_metrics, suppress_table
from sightline.card.trail import AuditTrail, audit_trail
from sightline.charts import chart_spec
from sightline.core.section import AMBER, GREEN, NOT_COMPUTED, RED, UNAVAILABLE, CardMetric, Verdict
from sightline.report.gates import GateResult, evaluate_gates
from sightline.report.registry import AREA_TITLES

log = logging.getLogger(__name__)

SCHEMA_VERSION = "0.0.2"
# PNG resolution: 1.5 device pixels per CSS pixel (~140 dpi at the PDF's chart width) keeps
# charts sharp on screen and paper while a card with a dozen charts stays a few MB.
CHART_SCALE = 1.5


@dataclass(frozen=True)
class Graphic:
    """One chart of the card: ``area``, unique ``name`` (``area.chart``), ``title``, PNG bytes
    rendered at ``scale`` device pixels per CSS pixel."""

    area: str
    name: str
    title: str
    png: bytes
    scale: float = CHART_SCALE


@dataclass(frozen=True)
class AreaCard:
    """One analysis area as the card shows it (after small-group suppression)."""

    area: str
    title: str
    verdict: Verdict
    metrics: tuple[CardMetric, ...]
    tables: dict
    provenance: tuple[tuple[str, str], ...]
    graphics: tuple[Graphic, ...]

    @property
    def computed(self) -> bool:
        return self.verdict.status not in (NOT_COMPUTED, UNAVAILABLE)


@dataclass(frozen=True)
class DatasetCard:
    role: str
    name: str
    description: str


@dataclass(frozen=True)
class Factors:
    """What the card evaluates the model across (Mitchell et al.'s "Factors"): the sensitive
    attributes declared in the audit file, their reference groups, whether intersections were
    compared, the smallest group reported, columns refused as groups (identifiers), and per area
    the columns its per-group results are sliced by."""

    sensitive: tuple[str, ...] = ()
    reference_groups: tuple[tuple[str, str], ...] = ()
    intersections: bool = False
    min_group_size: int = 0
    refused: tuple[str, ...] = ()
    by_area: tuple[tuple[str, tuple[str, ...]], ...] = ()


def utc_now() -> str:
    """Now, in UTC, as ISO text to the second (the card's export time)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class ModelCardDocument:
    """Everything a renderer needs. ``card`` is the schema-valid JSON mapping."""

    card: dict
    fields: CardFields
    areas: tuple[AreaCard, ...]
    gates: tuple[GateResult, ...]
    trail: AuditTrail
    privacy: Suppression
    datasets: tuple[DatasetCard, ...]
    input_format: str
    output_format: str
    model_architecture: str
    model_path: str
    chart_failures: tuple[str, ...] = ()
    whole_log: dict | None = None  # exact whole-log figures of a sampled log (sightline/scale.py)
    exported_at: str = ""  # when this card was exported (ISO, UTC); the analysis time is trail.generated_at
    factors: Factors = Factors()
    log_sample_note: str = ""  # how a log too large for memory was sampled, or ""

    @property
    def title(self) -> str:
        return f"Model card: {self.fields.name}" + (f" (version {self.fields.version})" if self.fields.version else "")


# -- charts --------------------------------------------------------------------------------
def render_graphic(area: str, chart, scale: float = CHART_SCALE) -> Graphic | str:
    """One Section :class:`Chart` of ``area`` as a :class:`Graphic`, or — when it cannot be
    rendered — the text the card lists it under (``"area.name (ErrorType)"``), logged."""

    name = f"{area}.{chart.name}"
    try:
        return Graphic(area, name, chart.title, spec_png(chart_spec(chart.chart), scale), scale)
    except Exception as exc:  # a broken chart spec must not stop the export
        log.warning("chart %s could not be rendered: %s", name, exc)
        return f"{name} ({type(exc).__name__})"


def render_graphics(report, scale: float = CHART_SCALE) -> tuple[tuple[Graphic, ...], tuple[str, ...]]:
    """Every Section chart as PNG (vl-convert, local). Output: (graphics, names that failed).

    A chart that cannot be rendered is logged and listed, never fatal: the rest of the card
    still exports. Cost: roughly 0.1–0.4 s CPU per chart, almost all inside vl-convert (its
    Vega run and text measurement; the PNG scale and the rows behind a chart barely matter).
    One chart after another on purpose: vl-convert 1.x holds the GIL and one engine lock for a
    whole conversion, so threads measured no faster (:mod:`sightline.card.prerender` uses a
    second process instead).
    """
    results = [render_graphic(area, chart, scale) for area, section in report.sections.items() for chart in section.charts]
    return tuple(r for r in results if isinstance(r, Graphic)), tuple(r for r in results if isinstance(r, str))


def chart_outlines(report) -> tuple[tuple[Graphic, ...], tuple[str, ...]]:
    """Every Section chart of ``report`` as a :class:`Graphic` without an image (``png=b""``),
    in :func:`render_graphics` order: what a preview that lists charts by title needs, free."""
    return tuple(Graphic(area, f"{area}.{chart.name}", chart.title, b"") for area, section in report.sections.items()
                 for chart in section.charts), ()


# -- JSON pieces -----------------------------------------------------------------------------
def metric_value_text(value) -> str:
    """A metric value as the card's string: the shortest text that reads back to the same float
    (``repr``), so ``float(card value) == CardMetric.value`` exactly; NaN as ``"NaN"``."""
    if value is None:
        return "NaN"
    value = float(value)
    return "NaN" if math.isnan(value) else repr(value)


def performance_metric(m: CardMetric) -> dict:
    """One ``quantitative_analysis.performance_metrics`` entry."""
    entry = {"type": m.type, "value": metric_value_text(m.value), "slice": m.slice}
    if m.lower is not None and m.upper is not None and not (math.isnan(float(m.lower)) or math.isnan(float(m.upper))):
        entry["confidence_interval"] = {"lower_bound": metric_value_text(m.lower), "upper_bound": metric_value_text(m.upper)}
    return entry


def model_architecture(audit, fields: CardFields) -> str:
    """The audit file's ``card.model_architecture``, else the loaded estimator's steps
    (e.g. ``Pipeline: ColumnTransformer → HistGradientBoostingClassifier``), else ""."""
    if fields.model_architecture:
        return fields.model_architecture
    model = audit.model
    if model is None:
        return ""
    steps = getattr(model, "steps", None)
    if steps:
        return f"{type(model).__name__}: " + " → ".join(type(step).__name__ for _, step in steps)
    return type(model).__name__


def io_formats(audit) -> tuple[str, str]:
    """(input format, output format) in words, from the spec's column roles."""
    spec, feats = audit.spec, list(audit.features)
    shown = ", ".join(feats[:20]) + (f", … ({len(feats) - 20} more)" if len(feats) > 20 else "")
    inp = f"Tabular rows with {len(feats)} features: {shown}." if feats else "Tabular rows."
    cols = spec.columns
    if spec.task == "binary":
        out = (f"Binary classification. {cols.score or 'score'}: probability that {cols.target or 'the label'} is "
               f"{spec.positive_label!s}; {cols.prediction or 'prediction'}: the predicted class "
               f"(positive when the score ≥ {spec.threshold:g}).")
    elif spec.task == "multiclass":
        out = f"Multiclass classification: {cols.prediction or 'prediction'} is the predicted class of {cols.target or 'the label'}."
    else:
        out = f"Regression: {cols.prediction or 'prediction'} estimates {cols.target or 'the target'}."
    return inp, out


def datasets(trail: AuditTrail, audit, fields: CardFields) -> tuple[DatasetCard, ...]:
    """The evaluation data (the current log) and the reference data, each with rows, span and SHA-256."""
    out = []
    for item in trail.inputs:
        if item["role"] == "current":
            text = (f"Evaluation data: the prediction log, {item['rows']:,} rows × {item['columns']} columns"
                    + (f", logged {trail.start[:10]} to {trail.end[:10]}" if trail.start else "")
                    + f"; {trail.primary_rows:,} rows of the audited model version"
                    + (f" {trail.primary_version}" if trail.primary_version else "")
                    + f", {trail.labelled_rows:,} with labels ({trail.label_coverage:.1%}). SHA-256 {item['sha256']}."
                    + (f" {audit.log_sample.sentence()} Row counts of the audited version above are the sample's."
                       if getattr(audit, "log_sample", None) is not None else ""))
        elif item["role"] == "reference":
            text = (f"Training data: the reference data set (the training or validation baseline the log is compared with), "
                    f"{item['rows']:,} rows × {item['columns']} columns. SHA-256 {item['sha256']}.")
        else:
            continue
        if fields.data_notes and not out:
            text += NOTES_MARKER + fields.data_notes
        out.append(DatasetCard(item["role"], item["name"], text))
    return tuple(out)


def _owners(fields: CardFields) -> list[dict]:
    return [{k: v for k, v in (("name", o.name), ("contact", o.contact)) if v} for o in fields.owners]


def _licenses(fields: CardFields) -> list[dict]:
    return [{"identifier": lic.identifier} if lic.identifier else {"custom_text": lic.custom_text} for lic in fields.licenses]


def _citations(fields: CardFields) -> list[dict]:
    out = [{k: v for k, v in (("style", c.style), ("citation", c.citation)) if v} for c in fields.citations]
    # The schema's references must be URIs; free-text references are kept, as citations.
    out += [{"citation": r} for r in fields.references if not is_uri(r)]
    return out


def generated_documentation(doc_fields: CardFields, areas, gates, privacy: Suppression, trail: AuditTrail,
                            exported_at: str = "") -> str:
    """``model_details.documentation``: the person's text, the sign-off (when one is recorded),
    then Sightline's export time, verdicts, gates, privacy note and audit trail after
    :data:`TRAIL_MARKER` (so a card read back stops there)."""
    lines = [TRAIL_MARKER]
    if exported_at:
        lines.append(f"Exported: {exported_at} (the analysis ran at {trail.generated_at}).")
    lines.append("Verdicts:")
    for a in areas:
        lines.append(f"- {a.title}: {a.verdict.status} — {a.verdict.headline}")
    lines.append("Gates:" if gates else "Gates: none set in the audit file.")
    lines += [f"- {g.describe()}" for g in gates]
    lines.append(f"Privacy: {privacy.sentence()}")
    lines += trail.lines()
    head = "\n\n".join(p for p in (doc_fields.documentation.strip(), sign_off_text(doc_fields)) if p)
    return (head + "\n\n" if head else "") + "\n".join(lines)


def _drop_empty(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if v not in ("", None, [], {})}


# -- assembly --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardBasis:
    """The report-derived half of a card: everything except the written sections. Computing it
    reads the Sections and the log (the trail summarises 1M rows in ~0.5 s); the dashboard caches
    it per audit so that typing in the form only re-does the cheap half."""

    areas: tuple[AreaCard, ...]
    gates: tuple[GateResult, ...]
    trail: AuditTrail
    privacy: Suppression
    graphics: tuple[Graphic, ...]
    chart_failures: tuple[str, ...]
    input_format: str
    output_format: str


def unique_metrics(metrics) -> list[CardMetric]:
    """The first metric of each (type, slice) pair, in area order.

    Two areas can report the same number for the same slice (slices and fairness both give
    ``accuracy`` for ``sex=Male``; performance and calibration both give the Brier score), with
    intervals from different methods. A filed card lists each pair once, from the first area
    (performance, slices, calibration, … as in ``sightline.report.registry.AREAS``); each area's own
    section of the card still shows all of its metrics.
    """
    seen, out = set(), []
    for m in metrics:
        if (m.type, m.slice) not in seen:
            seen.add((m.type, m.slice))
            out.append(m)
    return out


def card_basis(report, graphics: tuple[tuple[Graphic, ...], tuple[str, ...]] | None = None) -> CardBasis:
    """Suppressed metrics and tables per area, gate results, the audit trail and the charts of
    ``report``. ``graphics`` as returned by :func:`render_graphics` (rendered here when None)."""
    audit = report.audit
    graphics, failed = graphics if graphics is not None else render_graphics(report)
    min_size = audit.spec.fairness.min_group_size
    areas, dropped_metrics, dropped_rows = [], 0, 0
    for area, section in report.sections.items():
        metrics, n_dropped = suppress_metrics(section.metrics, min_size)
        dropped_metrics += n_dropped
        tables = {}
        for name, table in (section.tables or {}).items():
            if isinstance(table, pd.Series):
                table = table.to_frame()
            if not isinstance(table, pd.DataFrame):
                log.warning("table %s.%s is a %s, not a DataFrame — left out of the card", area, name, type(table).__name__)
                continue
            kept, n_rows = suppress_table(table, min_size)
            dropped_rows += n_rows
            tables[name] = kept
        areas.append(AreaCard(area, AREA_TITLES.get(area, area.replace("_", " ").title()), section.verdict, metrics,
                              tables, tuple(readable_pairs(section.provenance)), tuple(g for g in graphics if g.area == area)))
    inp, out = io_formats(audit)
    return CardBasis(tuple(areas), tuple(evaluate_gates(report)), audit_trail(report),
                     Suppression(min_size, dropped_metrics, dropped_rows), tuple(graphics), tuple(failed), inp, out)


def card_factors(audit, areas) -> Factors:
    """The :class:`Factors` of ``audit``: its ``columns.sensitive`` and ``fairness:`` settings,
    and for each area the columns named in its per-group metric slices (``col=value``, ``a=x & b=y``)."""
    fair = audit.spec.fairness
    by_area = []
    for a in areas:
        columns: dict[str, None] = {}
        for m in a.metrics:
            if "=" in m.slice:
                columns[" & ".join(part.split("=", 1)[0].strip() for part in m.slice.split(" & "))] = None
        if columns:
            by_area.append((a.title, tuple(columns)))
    return Factors(tuple(audit.spec.columns.sensitive), tuple((str(k), str(v)) for k, v in dict(fair.reference_groups or {}).items()),
                   bool(fair.intersections), int(fair.min_group_size), tuple(str(c) for c in (getattr(audit, "refused_groups", None) or {})),
                   tuple(by_area))


def assemble_card(report, *, fields: CardFields | None = None,
                  graphics: tuple[tuple[Graphic, ...], tuple[str, ...]] | None = None,
                  basis: CardBasis | None = None, exported_at: str | None = None) -> ModelCardDocument:
    """The whole card of ``report``.

    Inputs: the :class:`sightline.report.registry.Report`; ``fields`` (default: from the audit file) for
    the written sections; ``graphics`` as returned by :func:`render_graphics` (pass them to
    reuse rendered PNGs — the only expensive step) or a whole ``basis`` from :func:`card_basis`
    of the same report; ``exported_at`` (ISO, UTC; default: now) is when the card is exported, which
    the card states beside the time the analysis ran (``report.generated_at``).
    Output: a :class:`ModelCardDocument`.
    Raises :class:`SpecError` for a malformed ``card:`` section or gate threshold.
    """
    audit = report.audit
    exported_at = exported_at or utc_now()
    fields = fields if fields is not None else fields_from_spec(audit.spec)
    basis = basis if basis is not None else card_basis(report, graphics)
    areas, gates, trail, privacy, graphics = basis.areas, basis.gates, basis.trail, basis.privacy, basis.graphics
    data = datasets(trail, audit, fields)
    inp, out = basis.input_format, basis.output_format
    arch = model_architecture(audit, fields)
    path = fields.path or (audit.spec.model or "")

    sensitive = list(audit.spec.columns.sensitive)
    card = {
        "schema_version": SCHEMA_VERSION,
        "model_details": _drop_empty({
            "name": fields.name or audit.spec.name,
            "overview": fields.overview,
            "documentation": generated_documentation(fields, areas, gates, privacy, trail, exported_at),
            "owners": _owners(fields),
            "version": _drop_empty({"name": fields.version, "date": fields.version_date}),
            "licenses": _licenses(fields),
            "references": [{"reference": r} for r in fields.references if is_uri(r)],
            "citations": _citations(fields),
            "path": path,
        }),
        "model_parameters": _drop_empty({
            "model_architecture": arch,
            "data": [_drop_empty({"name": d.name, "description": d.description,
                                  "sensitive": {"sensitive_data": sensitive} if sensitive and d.role == "current" else None})
                     for d in data],
            "input_format": inp,
            "output_format": out,
        }),
        "quantitative_analysis": {
            "performance_metrics": [performance_metric(m) for m in unique_metrics(m for a in areas for m in a.metrics)],
            "graphics": _drop_empty({
                "description": (f"{len(graphics)} chart(s) from Sightline's analyses, as PNG; the same charts the dashboard shows."
                                if graphics else "No charts: no analysis produced one."),
                "collection": [{"name": f"{g.name}: {g.title}", "image": base64.b64encode(g.png).decode("ascii")} for g in graphics],
            }),
        },
        "considerations": _drop_empty({
            "users": [{"description": u} for u in fields.users],
            "use_cases": [{"description": u} for u in fields.use_cases],
            "limitations": [{"description": u} for u in fields.limitations],
            "tradeoffs": [{"description": u} for u in fields.tradeoffs],
            "ethical_considerations": [_drop_empty({"name": r.name, "mitigation_strategy": r.mitigation_strategy})
                                       for r in fields.ethical_considerations],
        }),
    }
    return ModelCardDocument(card=card, fields=fields, areas=tuple(areas), gates=gates, trail=trail, privacy=privacy,
                             datasets=data, input_format=inp, output_format=out, model_architecture=arch,
                             model_path=path, chart_failures=basis.chart_failures,
                             whole_log=getattr(report, "whole_log", None), exported_at=exported_at,
                             factors=card_factors(audit, areas),
                             log_sample_note=audit.log_sample.sentence() if getattr(audit, "log_sample", None) is not None else "")


def build_model_card(report, *, fields: CardFields | None = None) -> dict:
    """The Model Card Toolkit v0.0.2 JSON mapping of ``report`` (see :func:`assemble_card`)."""
    return assemble_card(report, fields=fields).card


# -- readiness -------------------------------------------------------------------------------
REQUIRED_FIELDS = {"overview": "overview", "owners": "owners", "users": "intended users", "use_cases": "use cases",
                   "limitations": "limitations", "tradeoffs": "trade-offs", "ethical_considerations": "ethical considerations"}


def card_readiness(doc: ModelCardDocument) -> Verdict:
    """Is the card ready to file, and what should its reviewer look at first?

    Red when a release gate fails or an analysis area reports a problem; amber when a written
    section is empty, an area has no result or the card is not signed off; green only when none
    of these holds. The headline gives the most serious reason; the detail lists the others."""

    missing = [label for key, label in REQUIRED_FIELDS.items() if not getattr(doc.fields, key)]
    absent = [a.title for a in doc.areas if not a.computed]
    red = [a.title for a in doc.areas if a.verdict.status == RED]
    failed = [g for g in doc.gates if g.passed is False]
    unchecked = [g for g in doc.gates if g.passed is None]
    reasons: list[tuple[str, str]] = []
    if failed:
        names = ", ".join(f"{g.name}" + (f" [{g.slice}]" if g.slice else "") for g in failed[:3])
        reasons.append((RED, f"{len(failed)} release gate(s) fail ({names}{'…' if len(failed) > 3 else ''}); "
                             "python -m sightline report --fail-on would stop a CI run."))
    if red:
        reasons.append((RED, f"{len(red)} analysis area(s) report a problem ({', '.join(red)}): the card records them for the "
                             "reviewer's decision."))
    if missing:
        reasons.append((AMBER, f"{len(missing)} written section(s) of the card are empty: {', '.join(missing)} — fill them in on the form."))
    if absent:
        reasons.append((AMBER, f"{len(absent)} analysis area(s) have no result: {', '.join(absent)} (the card says why)."))
    if unchecked:
        reasons.append((AMBER, f"{len(unchecked)} release gate(s) could not be evaluated."))
    if not doc.fields.signed_off:
        reasons.append((AMBER, "Not signed off yet: record the approver, date and decision under Sign-off."))
    detail = " ".join(text for _, text in reasons[1:])
    detail = (detail + " " if detail else "") + doc.privacy.sentence()
    if reasons:
        return Verdict(reasons[0][0], reasons[0][1], detail)
    f = doc.fields
    return Verdict(GREEN, f"Signed off ({f.decision}, by {f.approver} on {f.approval_date}); all {len(doc.areas)} analysis areas "
                          "have results without a problem and every written section is filled.", detail)
