"""The model card as a document a reviewer files: Mitchell et al. (2019)'s sections in order in
every format, readable metric names and rounded numbers before the appendices, a sign-off that
round-trips from the audit file into every format, the export time beside the analysis time,
and tables that fit the HTML page.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from html import unescape

import pytest

from sightline.card.build import assemble_card, card_readiness
from sightline.card.export import card_bytes
from sightline.card.fields import SIGNOFF_MARKER, fields_from_model_card, fields_from_spec, spec_with_fields
from sightline.card.outline import Table, _split
from sightline.card.rationale import RATIONALE
from sightline.card.render_html import render_html
from sightline.card.render_md import render_markdown
from sightline.card.validate import schema_errors
from sightline.core.errors import SpecError
from sightline.core.section import AMBER, RED
from sightline.core.vocabulary import METRICS
from sightline.data.spec import spec_from_dict, spec_from_yaml, spec_to_yaml
from sightline.report.registry import Report
from tests.card.test_card import FULL_FIELDS, _sections, tiny_audit  # noqa: F401  (a fixture)

# Mitchell et al. (2019), "Model Cards for Model Reporting", section 4, in the paper's order, with the
# card's summary before and its appendices after.
ORDER = ["Summary", "Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
         "Quantitative analyses", "Ethical considerations", "Caveats and recommendations", "Sign-off",
         "Appendix A. Detailed tables", "Appendix B. Methods and settings per area", "Appendix C. Provenance"]
SIGNED = FULL_FIELDS.replace(approver="Jane Doe, Head of Model Risk", approval_date="2026-09-01",
                             decision="approved with conditions", decision_notes="Fix the serving incident first.\nReview in Q4.")
ANALYSED, EXPORTED = "2026-02-14T10:00:00+00:00", "2026-03-01T09:30:00+00:00"
SNAKE_METRICS = re.compile(r"(?<![\w.])(" + "|".join(sorted((re.escape(k) for k in METRICS if "_" in k), key=len, reverse=True))
                           + r")(?![\w])")
SCIENTIFIC = re.compile(r"(?<![0-9A-Za-z.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![0-9A-Za-z])")


@pytest.fixture(scope="module")
def report(tiny_audit):  # noqa: F811
    return Report(audit=tiny_audit, sections=_sections(), generated_at=ANALYSED)


@pytest.fixture(scope="module")
def signed_doc(report):
    return assemble_card(report, fields=SIGNED, exported_at=EXPORTED)


@pytest.fixture(scope="module")
def sample_doc(sample_audit):
    from sightline.report.registry import build_report

    return assemble_card(build_report(sample_audit), graphics=((), ()))


def _pdf_text(pdf: bytes, first_page: int = 1) -> str:
    """The PDF's text as pdftotext (poppler) reads it, from ``first_page`` on."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-layout", "-f", str(first_page), "-", "-"], input=pdf, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def _in_order(text: str, titles: list[str]) -> list[str]:
    """The titles found in ``text`` in the given order, each after the previous one."""
    found, at = [], 0
    for title in titles:
        i = text.find(title, at)
        if i >= 0:
            found.append(title)
            at = i + len(title)
    return found


def _html_text(html: str) -> str:
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'src="data:[^"]*"', "", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _body(text: str, marker: str) -> str:
    """``text`` before the appendices (their first heading, ``marker``)."""
    assert marker in text
    return text[:text.index(marker)]


# -- order ---------------------------------------------------------------------------------------
def test_the_sections_follow_mitchell_et_al_in_every_format(signed_doc):
    md = render_markdown(signed_doc)
    assert [t for t in ORDER if f"\n## {t}\n" in md] == ORDER
    assert _in_order(md, [f"\n## {t}\n" for t in ORDER]) == [f"\n## {t}\n" for t in ORDER]
    html = render_html(signed_doc)
    assert _in_order(html, [f">{t}</h2>" for t in ORDER]) == [f">{t}</h2>" for t in ORDER]
    pdf_body = _pdf_text(card_bytes(signed_doc, "pdf"), first_page=3)  # after the title page and the contents
    assert _in_order(pdf_body, ORDER[1:]) == ORDER[1:]


def test_the_order_check_can_fail():
    assert _in_order("Metrics … Factors", ["Factors", "Metrics"]) == ["Factors"]


def test_json_stays_schema_valid_and_holds_the_sign_off(signed_doc):
    card = json.loads(card_bytes(signed_doc, "json"))
    assert schema_errors(card) == []
    assert set(card) <= {"schema_version", "model_details", "model_parameters", "quantitative_analysis", "considerations"}
    doc_text = card["model_details"]["documentation"]
    assert SIGNOFF_MARKER in doc_text and "Approver: Jane Doe, Head of Model Risk" in doc_text
    assert doc_text.index(SIGNOFF_MARKER) < doc_text.index("--- Audit trail")
    assert fields_from_model_card(card) == SIGNED  # the sign-off reads back, notes with their line break
    training = [d for d in card["model_parameters"]["data"] if d["description"].startswith("Training data")]
    assert training == []  # the tiny audit has no reference data set, so no training data is claimed


# -- readable body -------------------------------------------------------------------------------
def test_the_checks_for_raw_keys_and_scientific_notation_can_fail():
    assert SCIENTIFIC.findall("diff -4.152e-05, p 1.199e-72 and 1E+3") == ["-4.152e-05", "1.199e-72", "1E+3"]
    assert not SCIENTIFIC.search("SHA-256 dd484a5085f07c3242d677ae6ecf08b9a97c93c2a4e6bc2cc834db3e829224a2")
    assert SNAKE_METRICS.findall("roc_auc, expected_calibration_error; education_num") == ["roc_auc", "expected_calibration_error"]


def test_the_sample_body_reads_without_raw_keys_or_scientific_notation(sample_doc):
    # The PDF from page 3 on: the title page and the contents come before the body.
    # The HTML after its table of contents (which names the appendices too).
    html = render_html(sample_doc)
    html = html[html.index("</nav>"):].replace('<h2 id="appendix-a-detailed-tables">', "APPENDIX-A", 1)
    for name, text in (("md", render_markdown(sample_doc, images=False)), ("html", _html_text(html)),
                       ("pdf", _pdf_text(card_bytes(sample_doc, "pdf"), first_page=3))):
        body = _body(text, {"md": "## Appendix A. Detailed tables", "html": "APPENDIX-A", "pdf": "Appendix A. Detailed tables"}[name])
        assert "Expected calibration error (ECE)" in body, name  # metrics are named by their labels
        assert SNAKE_METRICS.findall(body) == [], name
        assert SCIENTIFIC.findall(body) == [], name
    md = render_markdown(sample_doc, images=False)
    appendix = md[md.index("## Appendix A. Detailed tables"):]
    assert "< 0.001" in appendix  # the worst slices' adjusted p-values, which used to print as 1.199e-72
    assert "versions.challenger-2.0.agreement_window" not in md  # settings are named in words


def test_metrics_section_gives_a_reason_for_every_metric_on_the_sample(sample_doc):
    md = render_markdown(sample_doc, images=False)
    section = md[md.index("\n## Metrics\n"):md.index("\n## Evaluation data\n")]
    keys = {m.type for a in sample_doc.areas for m in a.metrics}
    assert keys and keys <= set(RATIONALE)  # no metric falls back to the generic sentence
    for key in keys:
        assert f"| {METRICS[key].label} | " in section, key


def test_factors_name_the_sensitive_attributes_and_the_slices(sample_doc):
    md = render_markdown(sample_doc, images=False)
    section = md[md.index("\n## Factors\n"):md.index("\n## Metrics\n")]
    assert "**Sensitive attributes:** sex, race" in section and "sex = Male, race = White" in section
    assert "| Fairness | sex, race, race & sex |" in section
    assert "fewer than 30 rows" in section


def test_training_data_is_the_reference_data_set(sample_doc, sample_audit):
    md = render_markdown(sample_doc, images=False)
    section = md[md.index("\n## Training data\n"):md.index("\n## Quantitative analyses\n")]
    rows = len(sample_audit.reference)
    assert "reference.parquet" in section and f"{rows:,} rows" in section
    data = sample_doc.card["model_parameters"]["data"]
    assert any(d["name"] == "reference.parquet" and d["description"].startswith("Training data") for d in data)


def test_the_readiness_leads_with_the_red_areas(sample_doc):
    verdict = card_readiness(sample_doc)
    red = [a.title for a in sample_doc.areas if a.verdict.status == RED]
    assert red and verdict.status == RED
    assert verdict.headline.startswith(f"{len(red)} analysis area(s) report a problem ({', '.join(red)})")
    assert "Not signed off yet" in verdict.detail


def test_an_unsigned_card_with_everything_else_done_is_amber(signed_doc):
    from dataclasses import replace

    unsigned = replace(signed_doc, fields=signed_doc.fields.replace(approver="", approval_date="", decision=""))
    assert card_readiness(unsigned).status == AMBER and "Not signed off yet" in card_readiness(unsigned).headline + \
        card_readiness(unsigned).detail


# -- sign-off ------------------------------------------------------------------------------------
SIGN_OFF = {"approver": "Jane Doe, Head of Model Risk", "date": "2026-09-01", "decision": "Approved with conditions",
            "notes": "Fix the serving incident first."}


def test_the_sign_off_goes_from_the_audit_file_into_every_format(report, tmp_path):
    spec = spec_from_dict({"name": "Łódź credit model", "task": "binary", "positive_label": "yes", "current": "log.csv",
                           "card": {"overview": "Scores applications.", "sign_off": SIGN_OFF}})
    fields = fields_from_spec(spec)
    assert (fields.approver, fields.approval_date, fields.decision, fields.decision_notes) == \
        ("Jane Doe, Head of Model Risk", "2026-09-01", "approved with conditions", "Fix the serving incident first.")
    again = spec_from_yaml(spec_to_yaml(spec_with_fields(spec, fields)), base_dir=tmp_path)
    assert fields_from_spec(again) == fields  # and back into an audit file
    doc = assemble_card(report, fields=fields, exported_at=EXPORTED)
    md = render_markdown(doc)
    section = md[md.index("\n## Sign-off\n"):md.index("\n## Appendix A")]
    assert "| Approver | Jane Doe, Head of Model Risk |" in section and "| Date | 2026-09-01 |" in section
    assert "| Decision | Approved with conditions |" in section and "| Notes | Fix the serving incident first. |" in section
    assert "**Sign-off:** Approved with conditions by Jane Doe, Head of Model Risk on 2026-09-01." in md  # the summary
    html = _html_text(render_html(doc))
    assert "Jane Doe, Head of Model Risk" in html and "Approved with conditions" in html
    pdf = _pdf_text(card_bytes(doc, "pdf"))
    assert "Jane Doe, Head of Model Risk" in pdf and "Approved with conditions" in pdf and "2026-09-01" in pdf
    assert fields_from_model_card(json.loads(card_bytes(doc, "json"))) == fields


def test_an_unsigned_card_says_how_to_sign_it(report):
    md = render_markdown(assemble_card(report, fields=FULL_FIELDS))
    assert "**Sign-off:** Not signed off yet." in md and "under card.sign_off in the audit file" in md


@pytest.mark.parametrize("sign_off, words", [
    ({"decision": "maybe"}, "'card.sign_off.decision' must be one of approved, approved with conditions, rejected, deferred"),
    ({"date": "1 September"}, "'card.sign_off.date' must be a date written YYYY-MM-DD"),
    ({"approved_by": "x"}, "'card.sign_off' has unknown key(s) approved_by"),
    ("Jane", "'card.sign_off' must be a mapping with approver, date, decision and notes"),
])
def test_a_bad_sign_off_is_named(sign_off, words):
    spec = spec_from_dict({"task": "regression", "current": "x.csv", "card": {"sign_off": sign_off}})
    with pytest.raises(SpecError, match=re.escape(words)):
        fields_from_spec(spec)


# -- times ---------------------------------------------------------------------------------------
def test_the_export_time_is_stated_apart_from_the_analysis_time(report, signed_doc):
    pypdf = pytest.importorskip("pypdf")
    md = render_markdown(signed_doc)
    assert "**Card exported:** 2026-03-01 09:30 UTC" in md and "**Analysis run:** 2026-02-14 10:00 UTC" in md
    assert md.splitlines()[2].startswith("*Exported 2026-03-01 09:30 UTC · analysis run 2026-02-14 10:00 UTC")
    assert "Exported 2026-03-01 09:30 UTC" in render_html(signed_doc)
    pdf = card_bytes(signed_doc, "pdf")
    assert "Card exported 2026-03-01 09:30 UTC" in _pdf_text(pdf) and "Analysis run 2026-02-14 10:00 UTC" in _pdf_text(pdf)
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.creation_date.isoformat().startswith("2026-03-01T09:30")
    assert f"Exported: {EXPORTED} (the analysis ran at {ANALYSED})." in signed_doc.card["model_details"]["documentation"]
    now = assemble_card(report, fields=SIGNED)  # by default, the moment of export
    assert now.exported_at != ANALYSED and now.exported_at[:4] >= "2026"


# -- tables that fit -----------------------------------------------------------------------------
def test_wide_tables_are_split_into_parts_that_cover_every_column():
    header = ("Slice", "n") + tuple(f"Metric {i}" for i in range(9))
    rows = (("sex=Female", "3,487") + tuple("0.842 [0.835, 0.849]" for _ in range(9)),)
    parts = _split(Table(header, rows, "Per slice"), keep=2, per_part=4)
    assert len(parts) == 3 and [len(p.header) for p in parts] == [5, 5, 5]
    assert all(p.header[:2] == ("Slice", "n") for p in parts)
    assert [h for p in parts for h in p.header[2:]] == list(header[2:])
    assert parts[0].caption == "Per slice (part 1 of 3)"
    assert _split(Table(header[:4], tuple(r[:4] for r in rows)), keep=2, per_part=4)[0].header == header[:4]


def test_the_html_card_fits_a_1280_pixel_window(signed_doc, sample_doc, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert any(len(t.columns) >= 14 for a in signed_doc.areas for t in a.tables.values())  # the tiny card's 20-column table
    overflow = """() => {
        const main = document.querySelector('main').getBoundingClientRect();
        const out = [];
        for (const el of document.querySelectorAll('table, figure img, p, .verdict')) {
            const r = el.getBoundingClientRect();
            if (r.right > main.right + 1) out.push(el.tagName + ' ' + (el.textContent || '').slice(0, 60));
        }
        return {scroll: document.documentElement.scrollWidth, width: window.innerWidth, out};
    }"""
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for name, doc in (("tiny", signed_doc), ("sample", sample_doc)):
                path = tmp_path / f"{name}.html"
                path.write_text(render_html(doc), encoding="utf-8")
                page.goto(path.as_uri())
                result = page.evaluate(overflow)
                assert result["scroll"] <= result["width"], (name, result)
                assert result["out"] == [], (name, result["out"][:5])
            browser.close()
    except playwright.Error as exc:  # no browser on this machine
        pytest.skip(f"Chromium could not start: {exc}")
