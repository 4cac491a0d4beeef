"""AppTest of the Overview: the status line counts the Sections' verdicts, the areas come most
urgent first with a link to their page each, and every figure names its rows or equals the page's.

Statuses are computed here through the engine (``sightline.report.registry.build_report``), the
figures from the log files with pandas, never copied from the app."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from components.state import SPEC_KEY
from components.verdicts import AREA_PAGES, SEVERITY, by_severity, status_line
from sightline.core.section import AMBER, GREEN, NOT_COMPUTED, RED, UNAVAILABLE
from sightline.data.audit import load_audit
from sightline.report.registry import AREA_TITLES, AREAS, build_report
from sightline.stats.windows import window_codes

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
WORDS = {RED: "problem", AMBER: "warning", GREEN: "fine", UNAVAILABLE: "not available", NOT_COMPUTED: "not built yet"}


def run_overview(spec=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=400)
    if spec is not None:
        at.session_state[SPEC_KEY] = spec
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def in_order(node):
    """Every element under ``node`` in the order the page shows them."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from in_order(children[key])


def area_rows(at: AppTest) -> list[tuple[str, str, object]]:
    """(area title, status word's alert type, the page link after it) per verdict row, top to bottom."""
    rows, titles = [], {f"**{t} — ": t for t in AREA_TITLES.values()}
    for el in in_order(at.main):
        if el.type in ("error", "warning", "success", "info"):
            title = next((t for prefix, t in titles.items() if str(el.value).startswith(prefix)), None)
            if title:
                rows.append([title, el.type, None])
        elif el.type == "page_link" and rows and rows[-1][2] is None:
            rows[-1][2] = el
    return [tuple(r) for r in rows]


def status_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("##### "))


def count_of(text: str, status: str) -> int:
    """The count the status line gives for ``status`` (0 when it does not mention it)."""
    found = re.search(rf"\*\*(\d+) {WORDS[status]}", text)
    return int(found.group(1)) if found else 0


@pytest.fixture(scope="module")
def sample_overview():
    return run_overview()


@pytest.fixture(scope="module")
def sample_statuses(sample_spec):
    report = build_report(load_audit(sample_spec))
    return {area: s.verdict.status for area, s in report.sections.items()}


def test_the_status_line_counts_the_sections_verdicts(sample_overview, sample_statuses):
    text = status_text(sample_overview)
    counts = Counter(sample_statuses.values())
    assert counts[RED] and counts[AMBER], "the sample has red and amber areas; the check below needs both"
    for status in SEVERITY:
        assert count_of(text, status) == counts[status], (status, text)
    for status in (RED, AMBER, GREEN):  # the areas are named beside their count, most urgent first
        names = ", ".join(AREA_TITLES[a] for a in AREAS if sample_statuses[a] == status)
        assert not names or f"({names})" in text, (names, text)
    assert "computing" not in text


def test_areas_come_most_urgent_first_each_with_a_link_to_its_page(sample_overview, sample_statuses):
    rows = area_rows(sample_overview)
    assert [r[0] for r in rows] == [AREA_TITLES[a] for a in sorted(AREAS, key=lambda a: SEVERITY.index(sample_statuses[a]))]
    box = {RED: "error", AMBER: "warning", GREEN: "success", UNAVAILABLE: "info", NOT_COMPUTED: "info"}
    title_area = {t: a for a, t in AREA_TITLES.items()}
    app_py = (ROOT / "app.py").read_text()
    for title, kind, link in rows:
        area = title_area[title]
        assert kind == box[sample_statuses[area]], title
        assert link is not None, f"{title} has no link"
        page = AREA_PAGES[area]
        assert link.proto.page == Path(page).stem and link.proto.page_script_hash, (title, link.proto)
        assert f'st.Page("{page}"' in app_py, f"{page} is not a page app.py registers"


def test_each_link_opens_its_page():
    # What the link points at is a page of the navigation: switching to it runs that page.
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page(AREA_PAGES["calibration"])
    at.run()
    assert not at.exception and at.title[0].value == "Calibration"


def test_figures_name_their_rows_and_equal_the_pages(sample_overview, sample_spec):
    log = pd.read_parquet(ROOT / "sample_data" / "predictions.parquet")
    primary = log[log["model_version"] == "champion-1.0"]
    labelled = primary[primary["income"].notna()]
    metrics = {m.label: m.value for m in sample_overview.metric}
    assert metrics["Logged predictions"] == f"{len(log):,}"
    assert metrics["Label coverage (champion-1.0)"] == f"{len(labelled) / len(primary):.1%}"
    captions = " ".join(c.value for c in sample_overview.caption)
    # the same two counts the Performance page opens with ("Metrics use 10,750 of 12,971 predictions")
    assert f"{len(labelled):,} of the {len(primary):,} predictions of champion-1.0 have their label" in captions
    # and the all-versions share the validation note quotes, named as such
    assert f"All versions together: {log['income'].notna().sum():,} of {len(log):,} ({log['income'].notna().mean():.1%})" in captions
    # sensitive groups: every row of the primary version, and the labelled rows Calibration and Fairness count
    for col in ("sex", "race"):
        line = next(c.value for c in sample_overview.caption if c.value.startswith(f"`{col}`:"))
        for group, n in primary[col].value_counts().items():
            assert f"{group} ({n:,} rows, {labelled[col].value_counts()[group]:,} labelled)" in line, (group, line)


def test_sensitive_labelled_counts_equal_the_sections_group_sizes(sample_audit):
    from sightline.data.summary import data_summary
    from sightline.report.registry import compute_section

    summary = data_summary(sample_audit)
    for area, metric in (("calibration", "expected_calibration_error"), ("fairness", "selection_rate")):
        sizes = {m.slice: m.n for m in compute_section(area, sample_audit).metrics if m.type == metric and "=" in m.slice and "&" not in m.slice}
        assert sizes, area
        for slice_, n in sizes.items():
            col, group = slice_.split("=", 1)
            assert summary.sensitive_labelled[col][group] == n, (area, slice_)


def test_the_late_label_note_counts_the_weeks_without_labels(sample_overview):
    log = pd.read_parquet(ROOT / "sample_data" / "predictions.parquet")
    primary = log[log["model_version"] == "champion-1.0"]
    codes, starts = window_codes(pd.to_datetime(primary["ts"]), "week")
    has_label = pd.Series(primary["income"].notna().to_numpy()).groupby(codes).any().sort_index()
    trailing = 0
    for any_label in has_label[::-1]:
        if any_label:
            break
        trailing += 1
    assert trailing == 2  # the sample's last two weeks await labels
    first = pd.Timestamp(starts[len(starts) - trailing]).strftime("%d %b")
    captions = [c.value for c in sample_overview.caption]
    assert any(c.startswith(f"Labels arrive late: the last {trailing} weeks (from {first})") and "Drift page estimates" in c for c in captions), captions


@pytest.fixture(scope="module")
def labelled_spec(sample_spec, tmp_path_factory):
    """The sample's first 2,000 labelled rows: one where every prediction has its label."""
    log = pd.read_parquet(ROOT / "sample_data" / "predictions.parquet")
    log = log[log["income"].notna()].head(2000)
    path = tmp_path_factory.mktemp("labelled") / "labelled.parquet"
    log.to_parquet(path, index=False)
    return sample_spec.replace(current=sample_spec.current.__class__(path=str(path)))


def test_a_fully_labelled_audit_has_no_late_label_note_and_its_own_counts(labelled_spec):
    at = run_overview(labelled_spec)
    assert not any("Labels arrive late" in c.value or "await" in c.value for c in at.caption)
    statuses = {a: s.verdict.status for a, s in build_report(load_audit(labelled_spec)).sections.items()}
    text = status_text(at)
    for status in SEVERITY:
        assert count_of(text, status) == Counter(statuses.values())[status], (status, text)
    assert [r[0] for r in area_rows(at)] == [AREA_TITLES[a] for a in by_severity({a: statuses[a] for a in AREAS})]


def test_status_line_words():
    titles = {"a": "A", "b": "B", "c": "C"}
    assert status_line({"a": GREEN, "b": GREEN, "c": GREEN}, titles) == "All 3 areas are fine: no problems, no warnings."
    assert status_line({"a": RED, "b": RED, "c": GREEN}, titles) == "2 problems (A, B), 0 warnings, 1 fine (C)."
    assert status_line({"a": AMBER, "c": UNAVAILABLE}, titles) == "0 problems, 1 warning (A), 1 not available (C)."
    # while areas are still computing, no zero count is claimed: it could still change
    assert status_line({"b": GREEN}, titles, pending=["a", "c"]) == "1 fine (B), 2 still computing (A, C)."
    assert status_line({}, titles, pending=["a", "b", "c"]) == "3 still computing (A, B, C)."
    assert by_severity({"a": GREEN, "b": UNAVAILABLE, "c": RED, "d": AMBER, "e": RED}) == ["c", "e", "d", "a", "b"]
