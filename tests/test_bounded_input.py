"""Bounded work on any input.

- A sensitive or slice column with too many distinct values is refused for grouping, named in a
  validation finding, and left out of fairness, calibration and slices; the other areas run.
- Calibration per group is one grouped computation; its numbers equal a per-group reference.
- Long category values and column names are shortened in charts and in the Markdown, HTML and PDF
  card (bounded time), while report.json keeps them in full.
- ``model_card.md`` escapes markup: no script, no raw HTML, no link or image from user text.
"""

from __future__ import annotations

import io
import json
import re
import time
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from sightline.calibration.section import calibration_by_group
from sightline.card.build import assemble_card
from sightline.card.export import write_card_files
from sightline.card.fields import CardFields, Citation, License, Owner, Risk
from sightline.card.render_html import render_html
from sightline.card.render_md import escape, render_markdown
from sightline.charts import chart_spec
from sightline.core.section import NOT_COMPUTED, UNAVAILABLE
from sightline.core.text import LABEL_LIMIT, short_label, short_words
from sightline.data.audit import load_audit
from sightline.data.spec import spec_from_dict
from sightline.data.validation import IDENTIFIER_MIN_ROWS, MAX_GROUPS, refused_group_columns, too_many_groups
from sightline.report.registry import build_report, report_json
from sightline.stats.reliability import errors_from_table, reliability_table


# -- the grouping cap --------------------------------------------------------------------------
def test_cap_rule_by_hand():
    assert not too_many_groups(MAX_GROUPS, 10 * MAX_GROUPS)          # 1,000 groups in 10,000 rows: groups
    assert too_many_groups(MAX_GROUPS + 1, 10 * MAX_GROUPS)          # 1,001: refused
    assert too_many_groups(51, 100) and not too_many_groups(50, 100)  # more than half the rows distinct
    assert not too_many_groups(99, IDENTIFIER_MIN_ROWS - 1)          # too few rows to call it an identifier


def _spec(folder, columns: dict, **more) -> object:
    return spec_from_dict({"name": "bounded", "task": "binary", "positive_label": 1, "current": "log.parquet",
                           "columns": columns, **more}, base_dir=folder, source_file=str(folder / "audit.yaml"))


def test_slice_and_sensitive_columns_are_judged_as_documented(tmp_path):
    n = 150
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "score": rng.random(n), "rid": [f"r{i}" for i in range(n)],
                          "amount": rng.normal(size=n), "sex": rng.choice(["F", "M"], n)})
    frame.to_parquet(tmp_path / "log.parquet")
    spec = _spec(tmp_path, {"target": "y", "score": "score", "features": ["amount", "sex", "rid"], "sensitive": ["sex", "rid"]},
                 slices={"columns": ["rid", "amount", "sex"]})
    refused = refused_group_columns(spec, frame)
    # rid: 150 distinct in 150 rows (> half) → refused, named by both settings; amount is numeric
    # (slices bin it) and sex has 2 values: kept.
    assert refused == {"rid": (150, ("columns.sensitive", "slices.columns"))}
    audit = load_audit(spec)
    assert audit.spec.columns.sensitive == ("sex",) and audit.sensitive == ["sex"]  # what the pages group by
    assert list(audit.spec.slices["columns"]) == ["amount", "sex"]
    assert audit.written_spec.columns.sensitive == ("sex", "rid")  # the file's own spec is untouched
    assert audit.refused_groups == {"rid": 150}
    finding = next(f for f in audit.findings if f.subject == "column 'rid'")
    assert "'rid' has 150 distinct values" in finding.message and "columns.sensitive and slices.columns" in finding.message
    assert "rid" in audit.features  # still a feature: drift and explainability use it


def test_a_small_log_keeps_its_columns(tmp_path):
    frame = pd.DataFrame({"y": [0, 1] * 20, "score": np.linspace(0, 1, 40), "who": [f"p{i}" for i in range(40)]})
    frame.to_parquet(tmp_path / "log.parquet")
    audit = load_audit(_spec(tmp_path, {"target": "y", "score": "score", "features": [], "sensitive": ["who"]}))
    assert audit.spec.columns.sensitive == ("who",) and audit.refused_groups == {}
    assert audit.spec_as_written is None


@pytest.fixture(scope="module")
def uid_audit(tmp_path_factory):
    """200,000 rows, a sensitive column with one value per row (uid) beside a real one (sex)."""
    folder = tmp_path_factory.mktemp("uid")
    n = 200_000
    rng = np.random.default_rng(0)
    score = rng.random(n)
    frame = pd.DataFrame({"uid": [f"u{i:07d}" for i in range(n)], "sex": rng.choice(["F", "M"], n),
                          "age": rng.integers(18, 90, n), "y": (rng.random(n) < score).astype(int), "score": score,
                          "ts": pd.date_range("2026-01-01", periods=n, freq="min")})
    frame["pred"] = (frame["score"] >= 0.5).astype(int)
    frame.to_parquet(folder / "log.parquet")
    spec = _spec(folder, {"target": "y", "prediction": "pred", "score": "score", "timestamp": "ts",
                          "features": ["age", "sex"], "sensitive": ["uid", "sex"]})
    return load_audit(spec)


def test_identifier_sensitive_column_is_refused_and_every_area_runs(uid_audit):
    messages = [f.message for f in uid_audit.findings]
    assert any("'uid' has 200,000 distinct values: an identifier, not a group" in m and "remove it from columns.sensitive"
               in m.lower() for m in messages), messages
    start = time.perf_counter()
    report = build_report(uid_audit)
    elapsed = time.perf_counter() - start
    assert elapsed < 90, f"the report took {elapsed:.0f} s"  # main took > 400 s: calibration and fairness per uid
    for area, section in report.sections.items():
        assert section.verdict.status not in (NOT_COMPUTED,), (area, section.verdict.headline)
    fair, cal = report.sections["fairness"].report, report.sections["calibration"].report
    assert fair["status"] == "computed" and list(fair["columns"]) == ["sex"]
    assert list(cal["groups"]) == ["sex"]
    doc = json.loads(report_json(report))
    assert list(doc["data"]["sensitive"]) == ["sex"] and doc["data"]["refused_groups"] == {"uid": 200_000}
    assert any("'uid' has 200,000 distinct values" in v["message"] for v in doc["validation"])


def test_fairness_without_any_group_column_says_why(tmp_path):
    n = 300
    frame = pd.DataFrame({"y": [0, 1] * (n // 2), "score": np.linspace(0, 1, n), "uid": [f"u{i}" for i in range(n)]})
    frame.to_parquet(tmp_path / "log.parquet")
    audit = load_audit(_spec(tmp_path, {"target": "y", "score": "score", "features": [], "sensitive": ["uid"]}))
    report = build_report(audit, areas=["fairness", "performance", "calibration"])
    fair = report.sections["fairness"]
    assert fair.verdict.status in (UNAVAILABLE, NOT_COMPUTED)
    assert "'uid' has 300 distinct values, an identifier, not a group" in fair.verdict.headline
    assert report.sections["performance"].verdict.status not in (UNAVAILABLE, NOT_COMPUTED)
    assert report.sections["calibration"].report["groups"] == {}


# -- calibration per group: one grouped computation, the numbers of a per-group loop ------------
def test_grouped_calibration_equals_each_group_on_its_own():
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(7)
    n = 6000
    p = rng.random(n)
    y = (rng.random(n) < p ** 1.3).astype(float)
    groups = rng.choice([f"g{i}" for i in range(300)] + ["big"] * 300, n)
    summary, long = calibration_by_group(y, p, sensitive_features=groups, min_group_size=40)
    sizes = pd.Series(groups).value_counts()
    assert list(summary["n"]) == sorted(sizes, reverse=True)
    for g in ["big", summary.index[-1], summary.index[150]]:
        mask = groups == g
        frac, mean = calibration_curve(y[mask], p[mask], n_bins=10, strategy="uniform")  # independent reference
        rows = long[long["group"] == g]
        np.testing.assert_allclose(rows["fraction_positive"], frac, rtol=0, atol=1e-12)
        np.testing.assert_allclose(rows["mean_predicted"], mean, rtol=0, atol=1e-12)
        ece, mce = errors_from_table(reliability_table(y[mask], p[mask], n_bins=10))
        assert summary.loc[g, "expected_calibration_error"] == pytest.approx(ece, abs=1e-12)
        assert summary.loc[g, "maximum_calibration_error"] == pytest.approx(mce, abs=1e-12)
        assert summary.loc[g, "brier_score"] == pytest.approx(np.mean((p[mask] - y[mask]) ** 2), abs=1e-12)
        assert bool(summary.loc[g, "reliable"]) == (mask.sum() >= 40)
    assert np.isfinite(summary.loc["big", "ece_lower"]) and np.isnan(summary.iloc[-1]["ece_lower"])


# -- long values and names -------------------------------------------------------------------
def test_short_label_by_hand():
    assert short_label("abc") == "abc"
    text = "a" * 50 + "MIDDLE" + "z" * 50
    out = short_label(text)
    assert len(out) == LABEL_LIMIT and out == "a" * 40 + "…" + "z" * 19  # 40 + 1 + 19 characters
    assert len(short_words("x" * 1_000_000)) == LABEL_LIMIT
    assert short_words("How far each feature moved (PSI) and what evidently's test says") == \
        "How far each feature moved (PSI) and what evidently's test says"  # prose is left alone


def test_chart_spec_shortens_every_long_string_consistently():
    import altair as alt

    name, value = "c" * 10_000, "v" * 1_000_000
    data = pd.DataFrame({name: [value, "b"], "n": [1, 2]})
    chart = alt.Chart(data, title=f"By {name}").mark_bar().encode(
        x=alt.X(f"{name}:N", sort=[value, "b"]), y="n:Q")
    spec = chart_spec(chart)
    text = json.dumps(spec)
    assert len(text) < 5_000  # nothing long left
    records = next(iter(spec["datasets"].values()))
    key = short_label(name)
    assert records[0][key] == short_label(value) and spec["encoding"]["x"]["field"] == key  # field = data key
    assert spec["encoding"]["x"]["sort"] == [short_label(value), "b"]


@pytest.fixture(scope="module")
def long_audit(tmp_path_factory):
    """400 rows; a 1 MB value in a sensitive column and in a feature; 10,000-character column names."""
    folder = tmp_path_factory.mktemp("long")
    n = 400
    rng = np.random.default_rng(0)
    big_s, big_f, name_f, name_s = "S" * 1_000_000, "F" * 1_000_000, "n" * 10_000, "g" * 10_000
    score = rng.random(n)
    frame = pd.DataFrame({"segment": np.where(np.arange(n) % 2 == 0, big_s, "short"),
                          "region": np.where(np.arange(n) % 3 == 0, big_f, np.where(np.arange(n) % 3 == 1, "north", "south")),
                          name_f: rng.normal(size=n), name_s: rng.choice(["p", "q"], n),
                          "y": (rng.random(n) < score).astype(int), "score": score,
                          "ts": pd.date_range("2026-01-01", periods=n, freq="h")})
    frame["pred"] = (frame["score"] >= 0.5).astype(int)
    frame.to_parquet(folder / "log.parquet")
    spec = _spec(folder, {"target": "y", "prediction": "pred", "score": "score", "timestamp": "ts",
                          "features": ["region", name_f, "segment"], "sensitive": ["segment", name_s]})
    return load_audit(spec)


def test_long_values_and_names_render_in_bounded_time_and_stay_whole_in_report_json(long_audit, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    start = time.perf_counter()
    report = build_report(long_audit)
    written = write_card_files(report, tmp_path)
    elapsed = time.perf_counter() - start
    assert elapsed < 120, f"report and card took {elapsed:.0f} s"  # main: > 300 s in the charts and the PDF
    assert written == ["model_card.json", "model_card.md", "model_card.html", "model_card.pdf"]
    assert not report.sections["fairness"].verdict.status == NOT_COMPUTED
    full = report_json(report)
    assert "S" * 1_000_000 in full and "F" * 1_000_000 in full and "n" * 10_000 in full  # kept whole
    long_run = re.compile(r"([SFng])\1{%d,}" % LABEL_LIMIT)
    for name in ("model_card.md", "model_card.html"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert not long_run.search(text), name
        assert short_label("S" * 1_000_000) in text and short_label("n" * 10_000) in text, name
        assert re.search(r"F{10,}…F{10,}", text), name  # the feature's value, shortened inside "region=…"
    pdf = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO((tmp_path / "model_card.pdf").read_bytes())).pages)
    assert not long_run.search(pdf.replace("\n", ""))
    assert "S" * 30 in pdf and re.search(r"S{10,}(…|\.\.\.)", pdf)


# -- Markdown card escaping ------------------------------------------------------------------
PAYLOADS = ("<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "[click](javascript:alert(1))",
            "![x](data:text/html;base64,PHNjcmlwdD4=)", "<javascript:alert(1)>", "[v](vbscript:msgbox(1))",
            "<a href='javascript:alert(1)'>a</a>", "<iframe src=//evil.example></iframe>", "<!-- hidden -->",
            "[r]: javascript:alert(1)", "# not a heading", "- not a list", "`code`", "**not bold**")


class _Elements(HTMLParser):
    """Every element and attribute of an HTML fragment."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _markdown_html(md: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(md)


def _assert_inert(html: str, code_spans: int = 0) -> None:
    parser = _Elements()
    parser.feed(html)
    assert sum(tag == "code" for tag, _ in parser.tags) == code_spans  # the card's own: its fingerprint
    allowed = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
               "blockquote", "strong", "em", "img", "code"}
    for tag, attrs in parser.tags:
        assert tag in allowed, (tag, attrs)
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        assert "href" not in attrs, (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,"), attrs  # a chart, never user text


def test_escape_turns_each_payload_into_its_own_words():
    from html import unescape

    for payload in PAYLOADS:
        for text in (escape(payload), escape(payload, multiline=True)):
            html = _markdown_html(text)
            _assert_inert(html)
            assert unescape(re.sub(r"</?p>", "", html)).strip() == payload.strip()
    assert escape("race & sex >50K, score <= 0.5, [0.7, 0.9], snake_case") == "race & sex >50K, score <= 0.5, [0.7, 0.9], snake_case"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    """A small audit whose group values are markup."""
    folder = tmp_path_factory.mktemp("hostile")
    n = 240
    rng = np.random.default_rng(1)
    score = rng.random(n)
    frame = pd.DataFrame({"grp": np.array(["<script>alert(1)</script>", "[x](javascript:alert(1))", '<img src=x onerror=alert(1)>'])[
        np.arange(n) % 3], "y": (rng.random(n) < score).astype(int), "score": score})
    frame.to_parquet(folder / "log.parquet")
    audit = load_audit(_spec(folder, {"target": "y", "score": "score", "features": ["grp"], "sensitive": ["grp"]},
                             fairness={"min_group_size": 30}))
    return build_report(audit, areas=["performance", "fairness", "calibration"])


def test_markdown_card_escapes_fields_and_category_values(hostile_report):
    evil = " ".join(PAYLOADS)
    fields = CardFields(
        name="<script>alert('title')</script> [t](javascript:alert(1))", version="1<img src=x onerror=alert(1)>",
        overview=evil, documentation="line one\n# heading?\n<script>alert(2)</script>\n\n    indented code?",
        owners=(Owner("<b>Eve</b>", "[mail](javascript:alert(1))"),), licenses=(License(custom_text=evil),),
        references=("javascript:alert(1)", "https://example.org/ok"), citations=(Citation(evil, "<i>APA</i>"),),
        users=PAYLOADS, use_cases=PAYLOADS, limitations=PAYLOADS, tradeoffs=PAYLOADS,
        ethical_considerations=(Risk(evil, "[fix](vbscript:msgbox(1))"),), data_notes=evil)
    doc = assemble_card(hostile_report, fields=fields)
    md = render_markdown(doc)
    html = _markdown_html(md)
    _assert_inert(html, code_spans=1)
    images = sum(len(a.graphics) for a in doc.areas)
    assert images and html.count("<img ") == images  # the charts' pictures, and no other image
    from html import unescape

    text = unescape(html)
    for payload in ("<script>alert(1)</script>", "[click](javascript:alert(1))", "<img src=x onerror=alert(1)>"):
        assert payload in text  # shown as the very words, not dropped
    # The HTML card escapes the same fields (its own test covers more); both agree on the words.
    card_html = render_html(doc)
    assert "<script>" not in card_html and "<img src=x" not in card_html


def test_an_intersection_of_too_many_groups_is_left_out_with_a_note(tmp_path):
    from sightline.fairness import fairness_result

    n, k = 8000, 40  # two columns of 40 values each: ~1,600 combinations present, more than MAX_GROUPS
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.integers(0, k, n).astype(str), "b": rng.integers(0, k, n).astype(str),
                          "y": rng.integers(0, 2, n), "score": rng.random(n)})
    frame.to_parquet(tmp_path / "log.parquet")
    present = len(frame[["a", "b"]].drop_duplicates())
    assert present > MAX_GROUPS
    audit = load_audit(_spec(tmp_path, {"target": "y", "score": "score", "features": [], "sensitive": ["a", "b"]},
                             fairness={"min_group_size": 5}))
    result = fairness_result(audit, n_resamples=0)
    assert list(result.columns) == ["a", "b"]  # each column on its own, no "a & b"
    assert any(f"has {present:,} groups, more than {MAX_GROUPS:,}" in note for note in result.notes)


def test_the_rates_chart_draws_the_largest_groups_and_the_reference():
    from sightline.charts.fairness import MAX_CHART_GROUPS, group_rates_chart
    from sightline.fairness.groups import group_metrics

    rng = np.random.default_rng(2)
    groups = np.repeat([f"g{i:03d}" for i in range(100)], np.arange(100) + 31)  # g099 largest, g000 smallest
    y, pred = rng.integers(0, 2, len(groups)), rng.integers(0, 2, len(groups))
    table = group_metrics(y, pred, sensitive_features=pd.Series(groups, name="grp"), min_group_size=30)
    spec = chart_spec(group_rates_chart(table, reference="g000", include_small=False))
    drawn = {r["group"] for r in next(iter(spec["datasets"].values()))}
    assert len(drawn) == MAX_CHART_GROUPS + 1
    assert "g000" in drawn and {f"g{i:03d}" for i in range(100 - MAX_CHART_GROUPS, 100)} <= drawn
