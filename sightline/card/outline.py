"""The card's reading order as neutral blocks, so Markdown, HTML and PDF say exactly the same.

:func:`card_blocks` turns a :class:`ModelCardDocument` into a list of headings, paragraphs,
bullet lists, tables, verdict boxes and images; each renderer only decides how a block looks.

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
from sightline.card.format import EMPTY, display_table, metrics_tables, number, rows_of
from sightline.core.text import PROSE_LIMIT, short_label, short_words
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
    """A URL-fragment id for a heading (``Quantitative analysis`` → ``quantitative-analysis``)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _missing(key: str) -> Paragraph:
    return Paragraph(f"Not provided — fill it in on the dashboard's Model card page, or under card.{key} in the audit file.", muted=True)


def _cells(rows) -> tuple[tuple[str, ...], ...]:
    """Computed table rows with every cell shortened (a value to 60 characters, a cell to 300)."""
    return tuple(tuple(short_words(c) for c in r) for r in rows)


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
    return VerdictBox(verdict.status, short_words(verdict.headline, PROSE_LIMIT), short_words(verdict.detail, PROSE_LIMIT))


def _title_case(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def summary_blocks(doc: ModelCardDocument) -> list:
    """Verdict per area and the gate tally: what a stakeholder reads first."""
    rows = tuple((a.title, STATUS_WORDS.get(a.verdict.status, a.verdict.status), short_words(a.verdict.headline, PROSE_LIMIT))
                 for a in doc.areas)
    blocks: list = [Table(("Area", "Status", "Finding"), rows, key="verdicts")]
    if doc.gates:
        tally = {}
        for g in doc.gates:
            tally[g.status] = tally.get(g.status, 0) + 1
        blocks.append(Paragraph(", ".join(f"{n} {GATE_WORDS[s]}" for s, n in tally.items()) + ".", lead="Release gates:"))
    return blocks


def gate_blocks(doc: ModelCardDocument) -> list:
    if not doc.gates:
        return [Paragraph("No gates are set, so python -m sightline report --fail-on AREA fails a CI step when that area's "
                          "verdict is red or it has no result. Thresholds under gates: in the audit file (e.g. min_roc_auc: 0.85, "
                          "max_demographic_parity_difference: 0.1) decide their area instead.", muted=True)]
    rows = tuple((g.area, g.name + (f" [{g.slice}]" if g.slice else ""), g.comparison,
                  number(g.value) if g.value is not None else EMPTY, GATE_WORDS[g.status] + (f" — {g.note}" if g.note else ""))
                 for g in doc.gates)
    return [Table(("Area", "Gate", "Rule", "Value", "Result"), _cells(rows), key="gates"),
            Paragraph("A gate whose metric is absent is not evaluated and does not count as passed; "
                      "with --fail-on it fails the CI step. Under --fail-on, an area with gates here is decided by them alone, "
                      "any other area by its verdict (red fails).", muted=True)]


def details_blocks(doc: ModelCardDocument) -> list:
    f = doc.fields
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
        sha = doc.trail.model_sha256
        blocks.append(Paragraph(short_words(doc.model_path, PROSE_LIMIT) + (f" (SHA-256 {sha})" if sha else ""), lead="Model artifact:"))
    if doc.model_architecture:
        blocks.append(Paragraph(short_words(doc.model_architecture, PROSE_LIMIT), lead="Architecture:"))
    blocks.append(Paragraph(short_words(doc.input_format, PROSE_LIMIT), lead="Input:"))
    blocks.append(Paragraph(short_words(doc.output_format, PROSE_LIMIT), lead="Output:"))
    return blocks


def use_blocks(doc: ModelCardDocument) -> list:
    f = doc.fields
    blocks: list = [Heading(2, "Intended users", "intended-users")]
    blocks.append(Bullets(f.users) if f.users else _missing("users"))
    blocks += [Heading(2, "Use cases", "use-cases")]
    blocks.append(Bullets(f.use_cases) if f.use_cases else _missing("use_cases"))
    return blocks


def data_blocks(doc: ModelCardDocument) -> list:
    blocks: list = []
    for d in doc.datasets:
        blocks.append(Paragraph(short_words(d.description, PROSE_LIMIT), lead=f"{short_words(d.name)}:"))
    if doc.trail.versions and len(doc.trail.versions) > 1:
        versions = list(doc.trail.versions.items())
        more = f" and {len(versions) - 20:,} more" if len(versions) > 20 else ""
        blocks.append(Paragraph(", ".join(f"{short_label(v)} ({n:,} rows)" for v, n in versions[:20]) + more
                                + f". The card describes {short_label(doc.trail.primary_version)}.", lead="Model versions in the log:"))
    if doc.whole_log:

        w = doc.whole_log
        blocks.append(Paragraph(f"DuckDB counted all {w['rows']:,} rows in place ({w['seconds']:.1f} s); the analyses "
                                f"below use a {w['sample_rows']:,}-row random sample. Exact rates beside the sample's:",
                                lead="Whole log:"))
        blocks.append(_table(whole_log_rates(w), "Whole log (exact) vs the sample", "whole_log"))
    return blocks


def area_blocks(doc: ModelCardDocument, images: bool = True) -> list:
    """One subsection per analysis area: verdict, metrics, charts, tables, provenance."""
    blocks: list = []
    for a in doc.areas:
        blocks.append(Heading(2, a.title, anchor(a.title)))
        blocks.append(_verdict(a.verdict))
        if not a.computed:
            continue
        for title, table in metrics_tables(a.metrics):
            blocks.append(_table(table, f"Metrics — {title.lower()} (value [95% interval])", key="metrics"))
        if a.graphics:
            for g in a.graphics:
                title = short_words(g.title)
                blocks.append(Image(title, g.png, short_words(g.name), g.scale) if images else
                              Paragraph(f"Chart: {title} (in the HTML and PDF cards, and on the {a.title} page).", muted=True))
        for name, table in a.tables.items():
            if len(table):
                blocks.append(_table(table, _title_case(name)))
        if a.provenance:
            blocks.append(Paragraph("", lead="How these numbers were obtained:"))
            blocks.append(Table(("Setting", "Value"), tuple((short_words(k), short_words(v, PROSE_LIMIT)) for k, v in a.provenance),
                                key="provenance"))
    if doc.chart_failures:
        blocks.append(Paragraph("Some charts could not be rendered: " + short_words(", ".join(doc.chart_failures), PROSE_LIMIT)
                                + ".", muted=True))
    return blocks


def consideration_blocks(doc: ModelCardDocument) -> list:
    f = doc.fields
    blocks: list = [Heading(2, "Limitations", "limitations"), Bullets(f.limitations) if f.limitations else _missing("limitations"),
                    Heading(2, "Trade-offs", "trade-offs"), Bullets(f.tradeoffs) if f.tradeoffs else _missing("tradeoffs"),
                    Heading(2, "Ethical considerations", "ethical-considerations")]
    if f.ethical_considerations:
        blocks.append(Table(("Risk", "Mitigation strategy"),
                            tuple((r.name, r.mitigation_strategy or "none stated") for r in f.ethical_considerations), key="risks"))
    else:
        blocks.append(_missing("ethical_considerations"))
    return blocks


def trail_blocks(doc: ModelCardDocument) -> list:
    t = doc.trail
    blocks: list = [Paragraph(f"{t.generated_at} UTC by Sightline {t.library_versions.get('sightline', '?')}; "
                              f"audit fingerprint {t.fingerprint} (a hash of the audit file and every input's SHA-256).",
                              lead="Generated:")]
    rows = tuple((i["role"], i["name"], number(i.get("rows")), number(i.get("columns")), i["sha256"]) for i in t.inputs)
    blocks.append(Table(("Role", "File", "Rows", "Columns", "SHA-256"), _cells(rows), caption="Inputs", key="inputs"))
    if t.start:
        blocks.append(Paragraph(f"{t.start} to {t.end} ({t.days:g} days).", lead="Time span of the log:"))
    blocks.append(Paragraph(f"{t.current_rows:,} logged; {t.primary_rows:,} of the audited version"
                            + (f" {short_label(t.primary_version)}" if t.primary_version else "")
                            + f"; {t.labelled_rows:,} with labels ({t.label_coverage:.1%}).", lead="Rows:"))
    blocks.append(Table(("Setting", "Value"), _cells(t.settings), caption="Settings and thresholds (audit file)", key="settings"))
    blocks.append(Table(("Package", "Version"), tuple(t.library_versions.items()), caption="Library versions", key="versions"))
    blocks.append(Paragraph("Each area's sample sizes and methods are listed under that area above. Regenerating the card "
                            "from the same inputs and settings gives the same numbers.", muted=True))
    return blocks


def card_blocks(doc: ModelCardDocument, images: bool = True) -> list:
    """The whole card in reading order (without the document title, which each format sets itself)."""
    blocks: list = []

    def section(title: str, body: list) -> None:
        blocks.append(Heading(1, title, anchor(title)))
        blocks.extend(body)

    section("Summary", summary_blocks(doc))
    section("Release gates", gate_blocks(doc))
    section("Model details", details_blocks(doc))
    section("Intended use", use_blocks(doc))
    section("Evaluation data", data_blocks(doc))
    section("Quantitative analysis", area_blocks(doc, images=images))
    section("Considerations", consideration_blocks(doc))
    section("Privacy", [Paragraph(short_words(doc.privacy.sentence(), PROSE_LIMIT))])
    section("Reproducibility and audit trail", trail_blocks(doc))
    return blocks
