"""The reproducibility record every card carries: inputs, hashes, span, versions, settings.

A reviewer must be able to say exactly what a card was computed on and regenerate it: the
input files (name, rows, columns, SHA-256), the model artifact's hash, the time span of the
log, Sightline's and its libraries' versions, every setting and threshold of the audit and
each area's provenance (sample sizes, methods), and when the card was generated.
"""

from __future__ import annotations

from dataclasses import dataclass

from sightline.data.spec import SECTION_KEYS
from sightline.data.summary import data_summary
from sightline.report.registry import AREA_TITLES, library_versions


@dataclass(frozen=True)
class AuditTrail:
    """Plain values, ready for any renderer. ``inputs`` rows: role, name, rows, columns, sha256.
    ``settings``/``provenance`` are flat ``[(key, value text)]`` lists."""

    generated_at: str
    fingerprint: str
    inputs: tuple[dict, ...]
    model_sha256: str | None
    start: str | None
    end: str | None
    days: float | None
    current_rows: int
    primary_rows: int
    labelled_rows: int
    label_coverage: float
    primary_version: str | None
    versions: dict
    library_versions: dict
    settings: tuple[tuple[str, str], ...]
    provenance: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (area, [(key, value)])

    def lines(self) -> list[str]:
        """The trail as plain text lines (for the JSON card's documentation field)."""
        out = [f"Generated: {self.generated_at} (Sightline {self.library_versions.get('sightline', '?')}); audit fingerprint {self.fingerprint}."]
        for i in self.inputs:
            size = f"{i['rows']:,} rows x {i['columns']} columns, " if i.get("rows") is not None else ""
            out.append(f"Input {i['role']}: {i['name']} ({size}SHA-256 {i['sha256']}).")
        if self.start:
            out.append(f"Time span of the log: {self.start} to {self.end} ({self.days:g} days).")
        out.append(f"Rows: {self.current_rows:,} logged; {self.primary_rows:,} of the audited version"
                   + (f" {self.primary_version}" if self.primary_version else "")
                   + f"; {self.labelled_rows:,} labelled ({self.label_coverage:.1%}).")
        out.append("Library versions: " + ", ".join(f"{k} {v}" for k, v in self.library_versions.items()) + ".")
        out.append("Settings: " + "; ".join(f"{k} = {v}" for k, v in self.settings) + ".")
        for area, items in self.provenance:
            if items:
                out.append(f"{AREA_TITLES.get(area, area)} provenance: " + "; ".join(f"{k} = {v}" for k, v in items) + ".")
        return out


def _value_text(value, limit: int = 240) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (list, tuple)):
        text = ", ".join(_value_text(v, limit) for v in value) or "[]"
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {_value_text(v, limit)}" for k, v in value.items()) or "{}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def flatten(mapping: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested mapping to ``[("a.b", "value text")]`` (lists joined; long values shortened)."""
    out: list[tuple[str, str]] = []
    for key, value in (mapping or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.extend(flatten(value, name + "."))
        else:
            out.append((name, _value_text(value)))
    return out


def audit_settings(spec) -> list[tuple[str, str]]:
    """Every setting the numbers depend on: task, label, threshold, column roles, fairness, and
    the slices / calibration / explain / drift / gates sections as written in the audit file."""
    out = [("task", spec.task)]
    if spec.positive_label is not None:
        out.append(("positive_label", str(spec.positive_label)))
    out.append(("threshold", f"{spec.threshold:g}"))
    if spec.primary_version:
        out.append(("primary_version", spec.primary_version))
    out += [(f"columns.{k}", v) for k, v in spec.columns.roles().items()]
    if spec.columns.sensitive:
        out.append(("columns.sensitive", ", ".join(spec.columns.sensitive)))
    fair = spec.fairness
    out.append(("fairness.min_group_size", str(fair.min_group_size)))
    if fair.reference_groups:
        out.append(("fairness.reference_groups", _value_text(dict(fair.reference_groups))))
    if fair.tolerance:
        out.append(("fairness.tolerance", _value_text(dict(fair.tolerance))))
    out.append(("fairness.intersections", str(fair.intersections).lower()))
    for key in SECTION_KEYS:
        out += flatten(dict(getattr(spec, key) or {}), f"{key}.")
    return out


def audit_trail(report) -> AuditTrail:
    """The reproducibility record of ``report`` (a :class:`sightline.report.registry.Report`)."""
    audit = report.audit
    summary = data_summary(audit)
    model = audit.input_file("model")
    return AuditTrail(
        generated_at=report.generated_at,
        fingerprint=audit.fingerprint,
        inputs=tuple(dict(i) for i in summary.inputs),
        model_sha256=model.sha256 if model else None,
        start=summary.start, end=summary.end, days=summary.days,
        current_rows=summary.current_rows, primary_rows=summary.primary_rows,
        labelled_rows=summary.labelled_rows, label_coverage=summary.label_coverage,
        primary_version=summary.primary_version, versions=dict(summary.versions),
        library_versions=library_versions(),
        settings=tuple(audit_settings(getattr(audit, "written_spec", audit.spec))) + tuple(
            (f"grouping refused: {col}", f"{n:,} distinct values (an identifier, not a group): left out of fairness, "
                                         "calibration and slices")
            for col, n in (getattr(audit, "refused_groups", None) or {}).items()),
        provenance=tuple((area, tuple(flatten(s.provenance))) for area, s in report.sections.items()),
    )
