"""Model card: schema validity, numbers identical to the Sections', privacy, self-contained HTML,
a real PDF, the Markdown render, the round trip of the written sections, reproducibility.

Most tests use a tiny synthetic audit with hand-made Sections (fast, and every number known);
the last ones build the card of the bundled sample.
"""

from __future__ import annotations

import base64
import io
import json
import re

import altair as alt
import jsonschema
import pandas as pd
import pytest

from sightline.card.build import assemble_card, build_model_card, card_readiness, metric_value_text
from sightline.card.export import card_bytes, write_card_files
from sightline.card.fields import (
    TRAIL_MARKER,
    CardFields,
    Citation,
    License,
    Owner,
    Risk,
    card_mapping,
    fields_from_model_card,
    fields_from_spec,
    spec_with_fields,
)
from sightline.card.format import number
from sightline.card.render_html import render_html
from sightline.card.render_md import render_markdown
from sightline.card.validate import SCHEMA_PATH
from sightline.core.errors import SpecError
from sightline.core.section import AMBER, GREEN, CardMetric, Chart, Section, Verdict, unavailable_section
from sightline.data.audit import load_audit
from sightline.data.spec import spec_from_dict, spec_from_yaml, spec_to_yaml
from sightline.report.registry import Report

MIN_GROUP = 30


def _validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _errors(card) -> list[str]:
    return [e.message for e in _validator().iter_errors(card)]


@pytest.fixture(scope="module")
def tiny_audit(tmp_path_factory):
    """40 logged rows of a binary task with one sensitive column; no model, no reference."""
    folder = tmp_path_factory.mktemp("tiny")
    n = 40
    frame = pd.DataFrame({
        "ts": pd.date_range("2026-01-05", periods=n, freq="D").astype(str),
        "x": range(n),
        "group": ["A"] * 32 + ["B"] * 8,
        "y": ["yes", "no"] * 20,
        "score": [0.9, 0.2] * 20,
        "pred": ["yes", "no"] * 20,
    })
    frame.to_csv(folder / "log.csv", index=False)
    spec = spec_from_dict({
        "name": "Łódź credit model", "version": "2.1", "task": "binary", "positive_label": "yes", "current": "log.csv",
        "columns": {"target": "y", "prediction": "pred", "score": "score", "timestamp": "ts", "features": ["x", "group"],
                    "sensitive": ["group"]},
        "fairness": {"min_group_size": MIN_GROUP},
        "gates": {"min_roc_auc": 0.9, "max_demographic_parity_difference": 0.05, "max_drift_share": 0.3},
        "card": {"overview": "Scores applications — approve when score ≥ 0.5 (3× faster than manual review).",
                 "use_cases": ["Ranking applications for review."], "limitations": ["Few rows | tiny sample."]},
    }, base_dir=folder, source_file=str(folder / "audit.yaml"))
    return load_audit(spec)


def _chart(title: str) -> alt.Chart:
    data = pd.DataFrame({"k": ["a", "b"], "v": [1, 2]})
    return alt.Chart(data, title=title, width=200, height=100).mark_bar().encode(x="k:N", y="v:Q")


class _Unrenderable:
    """Stands in for a broken chart: vl-convert cannot render its spec (an unknown mark)."""

    def to_dict(self, validate=True):
        return {"mark": "no-such-mark", "data": {"values": [{"a": 1}]}}


def _sections() -> dict[str, Section]:
    perf = Section(
        area="performance", verdict=Verdict(AMBER, "Accuracy 0.8125 — below the baseline ≥ 0.85."),
        report={"accuracy": 0.8125},
        metrics=(CardMetric("accuracy", 0.8125, "", 0.7, 0.9, 40), CardMetric("roc_auc", 0.9321, "", None, None, 40),
                 CardMetric("accuracy", 0.84375, "group=A", 0.68, 0.93, 32),
                 CardMetric("accuracy", 0.625, "group=B", 0.3, 0.86, 8)),  # n=8 < 30: must be suppressed
        charts=(Chart("bars", "Accuracy by group", _chart("Accuracy by group")), Chart("broken", "Broken", _Unrenderable())),
        provenance={"rows": 40, "bootstrap": {"resamples": 200, "seed": 0}},
        tables={"by_group": pd.DataFrame({"group": ["A", "B"], "n": [32, 8], "accuracy": [0.84375, 0.625]}),
                "wide": pd.DataFrame([[i * j for j in range(20)] for i in range(3)], columns=[f"c{j}" for j in range(20)])},
    )
    fair = Section(
        area="fairness", verdict=Verdict(GREEN, "Selection rates are within tolerance."),
        metrics=(CardMetric("selection_rate", 0.5, "group=A", n=32), CardMetric("selection_rate", 0.5, "group=B", n=8),
                 CardMetric("demographic_parity_difference", 0.0, "group", n=40)),
    )
    return {"performance": perf, "fairness": fair,
            "drift": unavailable_section("drift", "Drift needs a reference data set — add 'reference:' to the audit")}


@pytest.fixture(scope="module")
def tiny_report(tiny_audit):
    return Report(audit=tiny_audit, sections=_sections(), generated_at="2026-02-14T10:00:00+00:00")


@pytest.fixture(scope="module")
def tiny_doc(tiny_report):
    return assemble_card(tiny_report)


FULL_FIELDS = CardFields(
    name="Łódź credit model", version="2.1", version_date="2026-02-01",
    overview="Scores applications.", documentation="Trained on 2025 applications; retrained monthly.",
    owners=(Owner("Risk team", "risk@example.org"), Owner("Jane Doe")),
    licenses=(License(identifier="Apache-2.0"), License(custom_text="Internal use only, see the data agreement.")),
    references=("https://example.org/paper", "https://doi.org/10.24432/C5XW20"),
    citations=(Citation("Doe, J. (2026). Credit scoring.", "APA"), Citation("Sightline sample card")),
    path="s3://models/credit/2.1/model.skops", model_architecture="Logistic regression on 12 features",
    data_notes="Applications from the EU only.",
    users=("Credit analysts",), use_cases=("Ranking applications for review.", "Out of scope: automatic rejection."),
    limitations=("Few rows.",), tradeoffs=("A lower threshold finds more good applicants but doubles the review load.",),
    ethical_considerations=(Risk("Group B is small.", "Groups under 30 rows are never reported."), Risk("Proxy features.", "")),
)


# -- the JSON card ------------------------------------------------------------------------------
def test_minimal_card_is_schema_valid(tiny_doc):
    assert _errors(tiny_doc.card) == []
    assert tiny_doc.card["schema_version"] == "0.0.2"
    assert tiny_doc.card["model_details"]["name"] == "Łódź credit model"


def test_card_with_every_optional_field_is_schema_valid(tiny_report):
    card = build_model_card(tiny_report, fields=FULL_FIELDS)
    assert _errors(card) == []
    details, params, cons = card["model_details"], card["model_parameters"], card["considerations"]
    assert set(details) == {"name", "overview", "documentation", "owners", "version", "licenses", "references", "citations", "path"}
    assert details["version"] == {"name": "2.1", "date": "2026-02-01"}
    assert details["licenses"] == [{"identifier": "Apache-2.0"}, {"custom_text": "Internal use only, see the data agreement."}]
    assert details["owners"][1] == {"name": "Jane Doe"}
    assert set(params) == {"model_architecture", "data", "input_format", "output_format"}
    assert params["data"][0]["sensitive"] == {"sensitive_data": ["group"]}
    assert set(cons) == {"users", "use_cases", "limitations", "tradeoffs", "ethical_considerations"}
    assert cons["ethical_considerations"][1] == {"name": "Proxy features."}
    graphics = card["quantitative_analysis"]["graphics"]["collection"]
    assert graphics and base64.b64decode(graphics[0]["image"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert any("confidence_interval" in m for m in card["quantitative_analysis"]["performance_metrics"])


def test_schema_check_can_fail(tiny_doc):
    bad = json.loads(json.dumps(tiny_doc.card))
    bad["quantitative_analysis"]["performance_metrics"][0]["value"] = 0.81  # the schema wants a string
    bad["extra"] = 1
    bad["model_details"]["version"] = {"date": "14 February"}
    assert len(_errors(bad)) == 3


def test_card_numbers_are_the_sections_metrics(tiny_report, tiny_doc):
    kept = [m for s in tiny_report.sections.values() for m in s.metrics if m.n is None or m.n >= MIN_GROUP]
    entries = tiny_doc.card["quantitative_analysis"]["performance_metrics"]
    assert len(entries) == len(kept) == 5
    for entry, m in zip(entries, kept):
        assert (entry["type"], entry["slice"]) == (m.type, m.slice)
        assert float(entry["value"]) == m.value  # exact: the string reads back to the same float
        if m.lower is not None:
            assert float(entry["confidence_interval"]["lower_bound"]) == m.lower
            assert float(entry["confidence_interval"]["upper_bound"]) == m.upper
        else:
            assert "confidence_interval" not in entry


def test_metric_value_text_round_trips_exactly():
    for value in (0.1 + 0.2, 1 / 3, 1e-12, 12345.678, 0.0):
        assert float(metric_value_text(value)) == value
    assert metric_value_text(float("nan")) == "NaN"


def test_small_groups_are_suppressed_everywhere(tiny_doc):
    entries = tiny_doc.card["quantitative_analysis"]["performance_metrics"]
    assert not any(e["slice"] == "group=B" for e in entries)
    assert tiny_doc.privacy.metrics == 2 and tiny_doc.privacy.table_rows == 1
    perf = next(a for a in tiny_doc.areas if a.area == "performance")
    assert list(perf.tables["by_group"]["group"]) == ["A"]
    sentence = tiny_doc.privacy.sentence()
    assert "2 metric values and 1 table row" in sentence and "fewer than 30 rows" in sentence
    md = render_markdown(tiny_doc)
    assert "group=B" not in md and sentence in md
    assert "group=B" not in render_html(tiny_doc)


def test_sections_are_not_modified(tiny_report):
    assert len(tiny_report.sections["performance"].tables["by_group"]) == 2
    assert len(tiny_report.sections["performance"].metrics) == 4


def test_trail_documents_inputs_settings_and_gates(tiny_audit, tiny_doc):
    doc_text = tiny_doc.card["model_details"]["documentation"]
    assert doc_text.startswith(TRAIL_MARKER)
    sha = tiny_audit.inputs[0].sha256
    assert sha in doc_text and "log.csv" in doc_text and "2026-02-14T10:00:00+00:00" in doc_text
    assert "fairness.min_group_size = 30" in doc_text and "gates.min_roc_auc = 0.9" in doc_text
    assert "pandas" in doc_text and "bootstrap.resamples = 200" in doc_text
    assert "Time span of the log: 2026-01-05" in doc_text
    data = tiny_doc.card["model_parameters"]["data"][0]
    assert data["name"] == "log.csv" and sha in data["description"] and "40 rows" in data["description"]


def test_gate_results_are_in_every_format(tiny_doc):
    by_name = {g.name: g for g in tiny_doc.gates}
    assert by_name["min_roc_auc"].passed is True and by_name["min_roc_auc"].value == 0.9321
    assert by_name["max_demographic_parity_difference"].passed is True
    assert by_name["max_drift_share"].passed is None  # drift unavailable: not evaluated, not passed
    assert "max_drift_share" in tiny_doc.card["model_details"]["documentation"]
    md = render_markdown(tiny_doc)
    assert "| drift | max_drift_share | drift_share <= 0.3 | — | not evaluated" in md
    assert "not evaluated" in render_html(tiny_doc)


def test_unavailable_areas_say_why(tiny_doc):
    md = render_markdown(tiny_doc)
    assert "> **Unavailable.** Drift needs a reference data set" in md
    assert card_readiness(tiny_doc).status == AMBER


def test_broken_chart_is_listed_not_fatal(tiny_doc):
    assert tiny_doc.chart_failures and tiny_doc.chart_failures[0].startswith("performance.broken")
    assert len(tiny_doc.card["quantitative_analysis"]["graphics"]["collection"]) == 1
    assert "Some charts could not be rendered: performance.broken" in render_markdown(tiny_doc)


# -- Markdown, HTML, PDF ---------------------------------------------------------------------------
SECTION_TITLES = ["Summary", "Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
                  "Quantitative analyses", "Ethical considerations", "Caveats and recommendations", "Sign-off",
                  "Appendix A. Detailed tables", "Appendix B. Methods and settings per area", "Appendix C. Provenance"]


def test_markdown_has_every_section_and_escapes_tables(tiny_doc):
    md = render_markdown(tiny_doc)
    for title in SECTION_TITLES:
        assert f"\n## {title}\n" in md
    assert "Few rows \\| tiny sample." in md or "- Few rows | tiny sample." in md  # bullet, not a table cell
    assert "0.812 [0.700,\u00a00.900]" in md  # value and 95% interval of the overall accuracy, rounded
    assert "data:image/png;base64," in md
    assert "data:image/png" not in render_markdown(tiny_doc, images=False)
    assert "6 more column(s) not shown here" in md  # the 20-column table is cut at 14 columns


EXTERNAL = [
    re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"url\(\s*['\"]?\s*(?:https?:)?//", re.I),
    re.compile(r"<(?:script|link|iframe|object|embed)\b", re.I),
]


def test_html_is_self_contained(tiny_report):
    fields = FULL_FIELDS.replace(overview='A model. See <a href="https://evil.example">here</a> and url(http://x).')
    html = render_html(assemble_card(tiny_report, fields=fields))
    for pattern in EXTERNAL:
        assert not pattern.search(html), pattern.pattern
    assert html.count('src="data:image/png;base64,') == 1
    assert "&lt;a href&#61;" in html and "evil.example" in html  # user text is escaped: shown, never markup
    for title in SECTION_TITLES:
        assert f">{title}</h2>" in html


def test_pdf_opens_and_has_the_sections(tiny_doc):
    pypdf = pytest.importorskip("pypdf")
    pdf = card_bytes(tiny_doc, "pdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 4  # title page, contents, body
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Łódź credit model" in text
    assert "≥ 0.5" in text and "3×" in text and "—" in text  # Unicode survives (a TrueType font is embedded)
    for title in ["Contents"] + SECTION_TITLES:
        assert title in text, title
    contents = reader.pages[1].extract_text()
    assert "Quantitative analyses" in contents and "Appendix C. Provenance" in contents
    assert [o.title for o in reader.outline if not isinstance(o, list)][:4] == ["Summary", "Model details", "Intended use", "Factors"]
    assert reader.metadata.title.startswith("Model card: Łódź credit model")


def test_pdf_without_unicode_font_falls_back_to_latin1(tiny_doc, monkeypatch):
    pypdf = pytest.importorskip("pypdf")
    import sightline.card.render_pdf as render_pdf

    monkeypatch.setattr(render_pdf, "_font_files", lambda: None)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(render_pdf.render_pdf(tiny_doc))).pages)
    assert ">= 0.5" in text and "Model details" in text


def test_write_card_files(tiny_report, tmp_path):
    written = write_card_files(tiny_report, tmp_path / "out")
    assert written == ["model_card.json", "model_card.md", "model_card.html", "model_card.pdf"]
    card = json.loads((tmp_path / "out" / "model_card.json").read_text(encoding="utf-8"))
    assert _errors(card) == []
    assert (tmp_path / "out" / "model_card.pdf").read_bytes()[:5] == b"%PDF-"


# -- the written sections: audit file and round trip --------------------------------------------------
def test_round_trip_of_the_written_sections_through_a_card(tiny_report):
    card = json.loads(json.dumps(build_model_card(tiny_report, fields=FULL_FIELDS)))
    assert fields_from_model_card(card) == FULL_FIELDS


def test_round_trip_through_the_audit_file(tiny_audit):
    spec = spec_with_fields(tiny_audit.spec, FULL_FIELDS)
    again = spec_from_yaml(spec_to_yaml(spec), base_dir=spec.base_dir)
    assert fields_from_spec(again) == FULL_FIELDS
    assert again.current == tiny_audit.spec.current and again.gates == tiny_audit.spec.gates


def test_free_text_references_become_citations(tiny_report):
    fields = FULL_FIELDS.replace(references=("https://example.org/a", "Becker & Kohavi 1996"))
    card = build_model_card(tiny_report, fields=fields)
    assert card["model_details"]["references"] == [{"reference": "https://example.org/a"}]
    assert {"citation": "Becker & Kohavi 1996"} in card["model_details"]["citations"]
    assert _errors(card) == []


def test_loose_audit_file_forms_are_normalised():
    fields = fields_from_spec(spec_from_dict({
        "task": "regression", "current": "x.csv", "version": 3,
        "card": {"owners": ["Team A"], "licenses": ["MIT", "Ask legal first"], "users": "Analysts",
                 "ethical_considerations": ["Unstated risk"], "version_date": "2026-01-31",
                 "use_cases": [{"description": "Planning"}]}}))
    assert fields.owners == (Owner("Team A"),) and fields.users == ("Analysts",) and fields.version == "3"
    assert fields.licenses == (License(identifier="MIT"), License(custom_text="Ask legal first"))
    assert fields.ethical_considerations == (Risk("Unstated risk"),) and fields.use_cases == ("Planning",)
    assert card_mapping(fields)["licenses"] == ["MIT", {"custom_text": "Ask legal first"}]


@pytest.mark.parametrize("card, words", [
    ({"owners": 5}, "'card.owners' must be a list"),
    ({"version_date": "June 2026"}, "'card.version_date' must be a date written YYYY-MM-DD"),
    ({"overview": ["a", "b"]}, "'card.overview' must be text"),
])
def test_bad_card_sections_are_named(card, words):
    spec = spec_from_dict({"task": "regression", "current": "x.csv", "card": card})
    with pytest.raises(SpecError, match=re.escape(words)):
        fields_from_spec(spec)


def test_reading_something_that_is_not_a_card():
    with pytest.raises(SpecError, match="not a model card"):
        fields_from_model_card({"name": "x"})


def test_number_formatting():
    assert [number(v) for v in (0.91234, 12480, 12480.0, float("nan"), None, 3, 1e-5, -4.152e-05, 2.831, 211.26, 0.0005001)] == \
        ["0.912", "12,480", "12,480", "—", "—", "3", "0.000", "0.000", "2.83", "211.3", "0.001"]
    assert [number(v, p_value=True) for v in (1.199e-72, 0.0009999, 0.001, 0.7512)] == ["< 0.001", "< 0.001", "0.001", "0.751"]
    assert number(True) == "yes" and number("roc_auc") == "ROC AUC"  # a metric key in a cell reads as its label


# -- the bundled sample -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample_report(sample_audit):
    from sightline.report.registry import build_report

    return build_report(sample_audit)


@pytest.fixture(scope="module")
def sample_doc(sample_report):
    return assemble_card(sample_report)


def test_sample_card_is_valid_and_holds_the_sections_numbers(sample_report, sample_doc):
    assert _errors(sample_doc.card) == []
    min_size = sample_report.audit.spec.fairness.min_group_size
    kept = [m for s in sample_report.sections.values() for m in s.metrics if m.n is None or m.n >= min_size]
    first = {}
    for m in kept:  # the card lists each (type, slice) once, from the first area that reports it
        first.setdefault((m.type, m.slice), m)
    expected = [(m.type, m.slice, m.value) for m in first.values()]
    got = [(e["type"], e["slice"], float(e["value"])) for e in sample_doc.card["quantitative_analysis"]["performance_metrics"]]
    assert len(got) == len(expected) > 0
    assert len({(t, s) for t, s, _ in got}) == len(got)  # no (type, slice) pair twice
    for (t1, s1, v1), (t2, s2, v2) in zip(got, expected):
        assert (t1, s1) == (t2, s2)
        assert v1 == v2 or (v1 != v1 and v2 != v2)  # equal, or both NaN
    names = {g["name"] for g in sample_doc.card["quantitative_analysis"]["graphics"]["collection"]}
    assert len(names) == sum(len(s.charts) for s in sample_report.sections.values()) - len(sample_doc.chart_failures)
    # The sample's written sections come from its audit file.
    assert sample_doc.card["considerations"]["limitations"][0]["description"] == sample_report.audit.spec.card["limitations"][0]


def test_every_sample_card_chart_is_a_valid_vega_lite_spec(sample_report):
    # The card renders chart_spec() (no schema validation, for speed): validate each spec here once.
    from sightline.charts import chart_spec

    charts = [c.chart for s in sample_report.sections.values() for c in s.charts]
    assert charts
    for chart in charts:
        assert json.loads(chart.to_json()) == chart_spec(chart)  # to_json() validates against the schema


def test_sample_card_lists_every_input_hash(sample_report, sample_doc):
    doc_text = sample_doc.card["model_details"]["documentation"]
    for item in sample_report.audit.inputs:
        assert item.sha256 in doc_text
    assert sample_doc.trail.model_sha256 in render_markdown(sample_doc)


def test_regenerating_from_the_same_inputs_gives_the_same_numbers(sample_audit, sample_doc):
    from sightline.data.audit import load_audit as reload
    from sightline.report.registry import build_report

    # A fresh load and a fresh report; charts are left out (graphics=((), ())): only numbers are compared.
    again = assemble_card(build_report(reload(sample_audit.spec)), graphics=((), ()))
    assert again.card["quantitative_analysis"]["performance_metrics"] == sample_doc.card["quantitative_analysis"]["performance_metrics"]
