"""The card's reading order as neutral blocks, so Markdown, HTML and PDF say exactly the same.

:func:`card_blocks` turns a :class:`ModelCardDocument` into a list of headings, paragraphs,
bullet lists, tables, setting lists, verdict boxes and images; each renderer only decides how a
block looks. The order is Mitchell et al. (2019)'s: a one-page summary, then Model details,
Intended use, Factors, Metrics, Evaluation data, Training data, Quantitative analyses, Ethical
considerations, Caveats and recommendations, a Sign-off, and the appendices (detailed tables,
methods and settings per area, provenance). The body before the appendices names metrics by
their labels and rounds every number (:mod:`sightline.card.format`); identifiers, hashes and
settings as written live in the appendices.

Everything the audit computed (table cells and headers, verdicts, chart titles, settings) is
shortened here, once for every format (:mod:`sightline.core.text`: a value or a name to 60
characters, a cell to 300, a paragraph to 2,000); report.json and the JSON card keep every value
in full. The written sections (overview, use cases, limitations …) are the person's own text,
bounded by the audit file's size, and are shown as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sightline.card.build import ModelCardDocument
from sightline.card.format import EMPTY, display_table, metrics_tables, moment, number, plain_numbers, rows_of, setting_label
from sightline.card.rationale import metric_rationale
from sightline.core.text import PROSE_LIMIT, short_label, short_words
from sightline.core.vocabulary import metric, metric_label
from sightline.data.scale_tables import whole_log_rates

STATUS_WORDS = {"green": "Healthy", "amber": "Needs attention", "red": "Problem",
                "not_computed": "Not computed", "unavailable": "Unavailable"}
GATE_WORDS = {"passed": "passed", "failed": "FAILED", "not evaluated": "not evaluated"}


@dataclass(frozen=True)
class Heading:
    level: int  # 1 = a main section of the card, 2 = an area or subsection, 3 = a part of an area
    text: str
    id: str = ""


@dataclass(frozen=True)
class Paragraph:
    text: str
    lead: str = ""       # bold words before the text, e.g. "Overview."
    muted: bool = False  # a hint or placeholder, shown smaller / in italics


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    note: str = ""
    key: str = ""  # "metrics", "gates", "sha" … lets a renderer pick column styles


@dataclass(frozen=True)
class Pairs:
    """Settings as ``(name, value)`` pairs, set compactly (one flowing paragraph)."""

    items: tuple[tuple[str, str], ...]
    caption: str = ""


@dataclass(frozen=True)
class VerdictBox:
    status: str
    headline: str
    detail: str = ""


@dataclass(frozen=True)
class Image:
    title: str
    png: bytes = field(repr=False)
    name: str = ""
    scale: float = 1.5  # device pixels per CSS pixel of the PNG


def anchor(text: str) -> str:
    """A URL-fragment id for a heading (``Quantitative analyses`` → ``quantitative-analyses``)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# The main sections, in Mitchell et al. (2019)'s order; the appendices follow them.
SUMMARY = "Summary"
MITCHELL_SECTIONS = ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
                     "Quantitative analyses", "Ethical considerations", "Caveats and recommendations", "Sign-off")
APPENDICES = ("Appendix A. Detailed tables", "Appendix B. Methods and settings per area", "Appendix C. Provenance")
# Per-slice metric tables show at most this many metrics side by side (each cell holds a value and
# its interval); more are split into parts that repeat the slice and n, so every part fits a page.
METRICS_PER_PART = 6
# Other computed tables wider than this are split the same way, repeating their first column.
COLUMNS_PER_PART = 8
# About the characters one line of an A4 page (8 pt) or of the HTML card holds: a table whose
# columns need more is split, so no format has to shrink it or scroll it sideways.
LINE_CHARACTERS = 120
# A per-slice metrics table longer than this moves to Appendix A; the body keeps the verdict, the
# overall metrics and the charts, which show the same slices at a glance.
BODY_SLICE_ROWS = 16


def _missing(key: str, what: str = "") -> Paragraph:
    return Paragraph(f"Not provided{what} — fill it in on the dashboard's Model card page, or under card.{key} in the audit file.",
                     muted=True)


def _cells(rows) -> tuple[tuple[str, ...], ...]:
    """Computed table rows with every cell shortened (a value to 60 characters, a cell to 300)."""
    return tuple(tuple(short_words(c) for c in r) for r in rows)


def _width(table: Table, j: int) -> int:
    """Characters column ``j`` needs on one line (its longest cell or header word, plus padding)."""
    cells = [len(r[j]) for r in table.rows] + [max((len(w) for w in table.header[j].split()), default=0)]
    return min(max(cells), 40) + 3  # longer cells wrap


def _split(table: Table, keep: int, per_part: int, budget: int = LINE_CHARACTERS) -> list[Table]:
    """``table`` as parts that each fit a page: at most ``per_part`` columns after the first ``keep``
    (repeated in each part) and about ``budget`` characters a line; the parts are balanced."""
    extra = list(range(keep, len(table.header)))
    base = sum(_width(table, j) for j in range(keep))
    groups: list[list[int]] = [[]]
    for j in extra:
        used = base + sum(_width(table, k) for k in groups[-1])
        if groups[-1] and (len(groups[-1]) >= per_part or used + _width(table, j) > budget):
            groups.append([])
        groups[-1].append(j)
    if len(groups) <= 1:
        return [table]
    # Balance: the same number of columns in each part (the greedy pass may leave one alone at the end).
    size = -(-len(extra) // len(groups))
    groups = [extra[i:i + size] for i in range(0, len(extra), size)]
    parts = []
    for i, cols in enumerate(groups, 1):
        idx = list(range(keep)) + cols
        caption = f"{table.caption} (part {i} of {len(groups)})" if table.caption else f"Part {i} of {len(groups)}"
        parts.append(Table(tuple(table.header[j] for j in idx), tuple(tuple(r[j] for j in idx) for r in table.rows),
                           caption, table.note if i == len(groups) else "", table.key))
    return parts


def _table(df, caption: str = "", key: str = "") -> Table:
    shown, hidden, hidden_cols = display_table(df)
    header, rows = rows_of(shown)
    left_out = [f"{hidden:,} more row(s)" if hidden else "", f"{hidden_cols:,} more column(s)" if hidden_cols else ""]
    left_out = " and ".join(p for p in left_out if p)
    cells, names = _cells(rows), tuple(short_words(h) for h in header)
    shortened = cells != tuple(tuple(r) for r in rows) or names != tuple(header)
    note = f"{left_out} not shown here; every value is in report.json." if left_out else (
        "Long values are shortened (…); report.json has them in full." if shortened else "")
    return Table(names, cells, short_words(caption), note, key)


def _verdict(verdict) -> VerdictBox:
    return VerdictBox(verdict.status, _prose(verdict.headline), _prose(verdict.detail))


def _prose(text: str) -> str:
    """A computed sentence (a verdict) for the body: shortened, numbers never in scientific notation."""
    return short_words(plain_numbers(text), PROSE_LIMIT)


def _title_case(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _sign_off_sentence(doc: ModelCardDocument) -> str:
    f = doc.fields
    if f.signed_off:
        return f"{f.decision[:1].upper() + f.decision[1:]} by {f.approver} on {f.approval_date}."
    return "Not signed off yet."


def summary_blocks(doc: ModelCardDocument) -> list:
    """Verdict per area, the gate tally and the sign-off: what a stakeholder reads first."""
    rows = tuple((a.title, STATUS_WORDS.get(a.verdict.status, a.verdict.status), _prose(a.verdict.headline)) for a in doc.areas)
    blocks: list = [Table(("Area", "Status", "Finding"), rows, key="verdicts")]
    if doc.gates:
        tally = {}
        for g in doc.gates:
            tally[g.status] = tally.get(g.status, 0) + 1
        blocks.append(Paragraph(", ".join(f"{n} {GATE_WORDS[s]}" for s, n in tally.items()) + ".", lead="Release gates:"))
    blocks.append(Paragraph(_sign_off_sentence(doc), lead="Sign-off:"))
    return blocks


def _gate_rule(g) -> str:
    return f"{metric_label(g.metric) if g.metric else g.name} {'≥' if g.direction == 'min' else '≤'} {number(float(g.threshold))}"


def gate_blocks(doc: ModelCardDocument) -> list:
    """The release gates in words (the rules as written in the audit file are in Appendix C)."""
    if not doc.gates:
        return [Paragraph("No release gates are set, so python -m sightline report --fail-on AREA fails a CI step when that "
                          "area's verdict is red or it has no result. Thresholds under gates: in the audit file decide their "
                          "area instead.", muted=True)]
    titles = {a.area: a.title for a in doc.areas}
    rows = tuple((titles.get(g.area, _title_case(g.area)), _gate_rule(g), g.slice or "overall",
                  number(g.value) if g.value is not None else EMPTY, GATE_WORDS[g.status] + (f" — {g.note}" if g.note else ""))
                 for g in doc.gates)
    return [Table(("Area", "Rule", "Group", "Value", "Result"), _cells(rows), key="gates"),
            Paragraph("A gate whose metric is absent is not evaluated and does not count as passed; with --fail-on it fails "
                      "the CI step. Under --fail-on, an area with gates is decided by them alone, any other area by its "
                      "verdict (red fails).", muted=True)]


def details_blocks(doc: ModelCardDocument) -> list:
    f, t = doc.fields, doc.trail
    blocks: list = [Paragraph(f.overview, lead="Overview.") if f.overview else _missing("overview")]
    if f.documentation:
        blocks.append(Paragraph(f.documentation, lead="Documentation."))
    owners = [o.name + (f" ({o.contact})" if o.contact else "") for o in f.owners]
    blocks.append(Paragraph("; ".join(owners) if owners else "not provided", lead="Owners:", muted=not owners))
    version = (f.version or "unversioned") + (f", released {f.version_date}" if f.version_date else "")
    blocks.append(Paragraph(version, lead="Version:"))
    if f.licenses:
        blocks.append(Paragraph("; ".join(lic.text for lic in f.licenses), lead="Licenses:"))
    if f.references:
        blocks.append(Paragraph("", lead="References:"))
        blocks.append(Bullets(f.references))
    if f.citations:
        blocks.append(Paragraph("", lead="Citations:"))
        blocks.append(Bullets(tuple((f"[{c.style}] " if c.style else "") + c.citation for c in f.citations)))
    if doc.model_path:
        blocks.append(Paragraph(short_words(doc.model_path, PROSE_LIMIT) + (" (its SHA-256 is in Appendix C)" if t.model_sha256 else ""),
                                lead="Model artifact:"))
    if doc.model_architecture:
        blocks.append(Paragraph(short_words(doc.model_architecture, PROSE_LIMIT), lead="Architecture:"))
    blocks.append(Paragraph(short_words(doc.input_format, PROSE_LIMIT), lead="Input:"))
    blocks.append(Paragraph(short_words(doc.output_format, PROSE_LIMIT), lead="Output:"))
    blocks.append(Paragraph(moment(doc.exported_at) or EMPTY, lead="Card exported:"))
    blocks.append(Paragraph(f"{moment(t.generated_at)} by Sightline {t.library_versions.get('sightline', '?')} "
                            f"(audit fingerprint {t.fingerprint}).", lead="Analysis run:"))
    return blocks


def use_blocks(doc: ModelCardDocument) -> list:
    f = doc.fields
    blocks: list = [Heading(2, "Intended users", "intended-users")]
    blocks.append(Bullets(f.users) if f.users else _missing("users"))
    blocks += [Heading(2, "Use cases", "use-cases")]
    blocks.append(Bullets(f.use_cases) if f.use_cases else _missing("use_cases"))
    return blocks


def factor_blocks(doc: ModelCardDocument) -> list:
    """The attributes and slices the model is evaluated across."""
    fa = doc.factors
    blocks: list = []
    if fa.sensitive:
        text = f"{', '.join(fa.sensitive)}, declared in the audit file; each group is compared with the others"
        if fa.reference_groups:
            text += " and with its reference group (" + ", ".join(f"{c} = {v}" for c, v in fa.reference_groups) + ")"
        text += (". Intersections of these attributes are compared too." if fa.intersections and len(fa.sensitive) > 1 else ".")
        blocks.append(Paragraph(short_words(text, PROSE_LIMIT), lead="Sensitive attributes:"))
    else:
        blocks.append(Paragraph("None declared, so no group of people is compared — list them under columns.sensitive "
                                "in the audit file.", lead="Sensitive attributes:", muted=True))
    if fa.by_area:
        rows = tuple((title, ", ".join(short_label(c) for c in cols[:30]) + (f" and {len(cols) - 30} more" if len(cols) > 30 else ""))
                     for title, cols in fa.by_area)
        blocks.append(Table(("Area", "Results reported per group of"), _cells(rows), caption="Slices evaluated", key="factors"))
    if fa.min_group_size:
        blocks.append(Paragraph(f"Groups and slices with fewer than {fa.min_group_size:,} rows are not reported: their numbers "
                                "would be unstable and could identify people.", lead="Smallest group:"))
    if fa.refused:
        blocks.append(Paragraph(", ".join(short_label(c) for c in fa.refused) + " — too many distinct values to be groups "
                                "(identifiers), so left out of every per-group result.", lead="Not used as groups:"))
    return blocks


def metric_keys(doc: ModelCardDocument) -> list[tuple[str, str]]:
    """(metric key, title of the first area reporting it) for every metric on the card, in area order."""
    seen: dict[str, str] = {}
    for a in doc.areas:
        for m in a.metrics:
            seen.setdefault(m.type, a.title)
    return list(seen.items())


def metric_blocks(doc: ModelCardDocument) -> list:
    """Each reported metric with what it measures and why it is on this card."""
    rows = tuple((metric_label(key), metric(key).help or EMPTY, metric_rationale(key, title)) for key, title in metric_keys(doc))
    blocks: list = []
    if doc.trail.settings:
        task = dict(doc.trail.settings).get("task", "")
        threshold = dict(doc.trail.settings).get("threshold", "")
        if task == "binary" and threshold:
            blocks.append(Paragraph(f"A prediction is positive when its score is at least {threshold}; metrics that count "
                                    "decisions (accuracy, precision, recall, rates per group) depend on it, the ranking and "
                                    "probability metrics do not.", lead="Decision threshold:"))
    blocks.append(Paragraph("Values are shown with their 95% interval where one was computed (the method for each is in "
                            "Appendix B), so a gap between groups is read with its uncertainty.", lead="Uncertainty:"))
    if rows:
        blocks.append(Table(("Metric", "What it measures", "Why it is reported"), _cells(rows), key="rationale"))
    else:
        blocks.append(Paragraph("No analysis produced a metric.", muted=True))
    return blocks


def _input(doc: ModelCardDocument, role: str) -> dict | None:
    return next((i for i in doc.trail.inputs if i["role"] == role), None)


def evaluation_blocks(doc: ModelCardDocument) -> list:
    t, f = doc.trail, doc.fields
    blocks: list = []
    log = _input(doc, "current")
    if log is not None:
        text = (f"the prediction log {short_words(log['name'])}, {number(log.get('rows'))} rows × {number(log.get('columns'))} columns"
                + (f", logged {t.start[:10]} to {t.end[:10]}" if t.start else "")
                + f"; {t.primary_rows:,} rows of the audited model version"
                + (f" {short_label(t.primary_version)}" if t.primary_version else "")
                + f", {t.labelled_rows:,} of them with labels ({t.label_coverage:.1%}).")
        blocks.append(Paragraph(text, lead="Data:"))
    if doc.log_sample_note:
        blocks.append(Paragraph(short_words(doc.log_sample_note, PROSE_LIMIT) + " Row counts above are the sample's.", lead="Sample:"))
    if f.data_notes:
        blocks.append(Paragraph(f.data_notes, lead="Notes:"))
    if t.versions and len(t.versions) > 1:
        versions = list(t.versions.items())
        more = f" and {len(versions) - 20:,} more" if len(versions) > 20 else ""
        blocks.append(Paragraph(", ".join(f"{short_label(v)} ({n:,} rows)" for v, n in versions[:20]) + more
                                + f". The card describes {short_label(t.primary_version)}.", lead="Model versions in the log:"))
    if doc.whole_log:
        w = doc.whole_log
        blocks.append(Paragraph(f"DuckDB counted all {w['rows']:,} rows in place ({w['seconds']:.1f} s); the analyses "
                                f"use a {w['sample_rows']:,}-row random sample. Exact rates beside the sample's:",
                                lead="Whole log:"))
        blocks.append(_table(whole_log_rates(w), "Whole log (exact) vs the sample", "whole_log"))
    return blocks


def training_blocks(doc: ModelCardDocument) -> list:
    ref = _input(doc, "reference")
    if ref is None:
        return [Paragraph("The audit names no reference data set, so the training data is not described and drift cannot be "
                          "measured — add reference: (the training or validation data) to the audit file.", muted=True)]
    return [Paragraph(f"the reference data set {short_words(ref['name'])}, {number(ref.get('rows'))} rows × "
                      f"{number(ref.get('columns'))} columns: the training or validation data the model was built on, and the "
                      "baseline production is compared with (drift, importance shift, naive baselines).", lead="Data:")]


def area_blocks(doc: ModelCardDocument, images: bool = True) -> list:
    """One subsection per analysis area: verdict, metrics, charts. Detailed tables and methods are in the appendices."""
    blocks: list = [Heading(2, "Release gates", "release-gates")] + gate_blocks(doc)
    for a in doc.areas:
        blocks.append(Heading(2, a.title, anchor(a.title)))
        blocks.append(_verdict(a.verdict))
        if not a.computed:
            continue
        for title, table in metrics_tables(a.metrics):
            if title.startswith("Per") and len(table) > BODY_SLICE_ROWS:
                continue  # in Appendix A
            blocks.extend(_metric_tables(a, title, table))
        for g in a.graphics:
            title = short_words(g.title)
            blocks.append(Image(title, g.png, short_words(g.name), g.scale) if images else
                          Paragraph(f"Chart: {title} (in the HTML and PDF cards, and on the {a.title} page).", muted=True))
        if any(len(t) for t in a.tables.values()) or _long_slice_table(a):
            blocks.append(Paragraph("Detailed tables: Appendix A; how the numbers were obtained: Appendix B.", muted=True))
    if doc.chart_failures:
        blocks.append(Paragraph("Some charts could not be rendered: " + short_words(", ".join(doc.chart_failures), PROSE_LIMIT)
                                + ".", muted=True))
    return blocks


def _metric_tables(a, title: str, table) -> list[Table]:
    full = _table(table, f"{a.title} metrics — {title.lower()}", key="metrics")
    keep = 2 if "n" in full.header[:2] else 1
    return _split(full, keep, METRICS_PER_PART) if title.startswith("Per") else [full]


def _long_slice_table(a):
    """The area's per-slice metrics table when it is too long for the body, else None."""
    return next((t for title, t in metrics_tables(a.metrics) if title.startswith("Per") and len(t) > BODY_SLICE_ROWS), None)


def ethics_blocks(doc: ModelCardDocument) -> list:
    f = doc.fields
    if not f.ethical_considerations:
        return [_missing("ethical_considerations")]
    return [Table(("Risk", "Mitigation strategy"), tuple((r.name, r.mitigation_strategy or "none stated") for r in f.ethical_considerations),
                  key="risks")]


def caveat_blocks(doc: ModelCardDocument) -> list:
    f = doc.fields
    blocks: list = [Heading(2, "Limitations", "limitations"), Bullets(f.limitations) if f.limitations else _missing("limitations"),
                    Heading(2, "Trade-offs", "trade-offs"), Bullets(f.tradeoffs) if f.tradeoffs else _missing("tradeoffs")]
    open_items = [a for a in doc.areas if a.verdict.status in ("red", "amber")]
    failed = [g for g in doc.gates if g.passed is False]
    blocks.append(Heading(2, "Recommendations", "recommendations"))
    if open_items or failed:
        items = [f"{a.title} ({STATUS_WORDS[a.verdict.status].lower()}): {_prose(a.verdict.headline)}"
                 for a in sorted(open_items, key=lambda a: a.verdict.status != "red")]
        items += [f"Release gate failed: {a}" for a in (f"{_gate_rule(g)} ({g.slice or 'overall'})" for g in failed)]
        blocks.append(Paragraph("Resolve or accept each finding below before release; the sign-off records the decision.",
                                lead="Open findings:"))
        blocks.append(Bullets(tuple(items)))
    else:
        blocks.append(Paragraph("No analysis area reports a problem or a warning; keep monitoring with the same audit file.",
                                lead="Open findings:"))
    blocks.append(Paragraph(short_words(doc.privacy.sentence(), PROSE_LIMIT), lead="Privacy:"))
    return blocks


def sign_off_blocks(doc: ModelCardDocument) -> list:
    f = doc.fields
    rows = (("Approver", f.approver or "—"), ("Date", f.approval_date or "—"),
            ("Decision", f.decision[:1].upper() + f.decision[1:] if f.decision else "—"))
    blocks: list = [Table(("Field", "Entry"), rows + ((("Notes", f.decision_notes),) if f.decision_notes else ()), key="signoff")]
    if not f.signed_off:
        blocks.append(Paragraph("Not signed off yet — record the approver, date (YYYY-MM-DD) and decision ("
                                "approved, approved with conditions, rejected or deferred) on the dashboard's Model card page, "
                                "or under card.sign_off in the audit file.", muted=True))
    return blocks


def appendix_table_blocks(doc: ModelCardDocument) -> list:
    blocks: list = [Paragraph("The tables behind each area's verdict and charts; every value is also in report.json.", muted=True)]
    for a in doc.areas:
        tables = [(name, t) for name, t in a.tables.items() if len(t)]
        long_slices = _long_slice_table(a) if a.computed else None
        if not a.computed or not (tables or long_slices is not None):
            continue
        blocks.append(Heading(2, a.title, "appendix-a-" + anchor(a.title)))
        if long_slices is not None:
            blocks.extend(_metric_tables(a, "Per slice / group", long_slices))
        for name, table in tables:
            blocks.extend(_split(_table(table, _title_case(name)), 1, COLUMNS_PER_PART))
    return blocks


def appendix_method_blocks(doc: ModelCardDocument) -> list:
    blocks: list = []
    for a in doc.areas:
        if a.provenance:
            blocks.append(Heading(2, a.title, "appendix-b-" + anchor(a.title)))
            blocks.append(Pairs(tuple((short_words(k), short_words(v, PROSE_LIMIT)) for k, v in a.provenance)))
    return blocks or [Paragraph("No area recorded its methods.", muted=True)]


def provenance_blocks(doc: ModelCardDocument) -> list:
    t = doc.trail
    blocks: list = [Paragraph(f"card exported {moment(doc.exported_at) or EMPTY}; analysis run {moment(t.generated_at)} "
                              f"({t.generated_at}) by Sightline {t.library_versions.get('sightline', '?')}; audit fingerprint "
                              f"{t.fingerprint} (a hash of the audit file and every input's SHA-256).", lead="Times:")]
    rows = tuple((i["role"], i["name"], number(i.get("rows")), number(i.get("columns")), i["sha256"]) for i in t.inputs)
    blocks.append(Table(("Role", "File", "Rows", "Columns", "SHA-256"), _cells(rows), caption="Inputs", key="inputs"))
    if t.start:
        blocks.append(Paragraph(f"{moment(t.start)} to {moment(t.end)} ({number(float(t.days or 0))} days).", lead="Time span of the log:"))
    blocks.append(Paragraph(f"{t.current_rows:,} logged; {t.primary_rows:,} of the audited version"
                            + (f" {short_label(t.primary_version)}" if t.primary_version else "")
                            + f"; {t.labelled_rows:,} with labels ({t.label_coverage:.1%}).", lead="Rows:"))
    blocks.append(Pairs(tuple((short_words(setting_label(k)), short_words(v, PROSE_LIMIT)) for k, v in t.settings),
                        caption="Settings and thresholds (audit file)"))
    if doc.gates:
        rows = tuple((g.area, g.name + (f" [{g.slice}]" if g.slice else ""), g.comparison,
                      number(g.value) if g.value is not None else EMPTY, GATE_WORDS[g.status] + (f" — {g.note}" if g.note else ""))
                     for g in doc.gates)
        blocks.append(Table(("Area", "Gate", "Rule", "Value", "Result"), _cells(rows), caption="Release gates as written", key="gates"))
    blocks.append(Pairs(tuple(t.library_versions.items()), caption="Library versions"))
    blocks.append(Paragraph("Regenerating the card from the same inputs and settings gives the same numbers.", muted=True))
    return blocks


def card_blocks(doc: ModelCardDocument, images: bool = True) -> list:
    """The whole card in reading order (without the document title, which each format sets itself)."""
    blocks: list = []
    bodies = (summary_blocks(doc), details_blocks(doc), use_blocks(doc), factor_blocks(doc), metric_blocks(doc),
              evaluation_blocks(doc), training_blocks(doc), area_blocks(doc, images=images), ethics_blocks(doc),
              caveat_blocks(doc), sign_off_blocks(doc), appendix_table_blocks(doc), appendix_method_blocks(doc),
              provenance_blocks(doc))
    for title, body in zip((SUMMARY, *MITCHELL_SECTIONS, *APPENDICES), bodies):
        blocks.append(Heading(1, title, anchor(title)))
        blocks.extend(body)
    return blocks
