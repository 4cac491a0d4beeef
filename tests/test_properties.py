"""No input ends in an internal error.

Hypothesis generates small prediction logs and audit files — numeric, categorical, all-missing
and constant columns, 0–3 rows (some up to 60), one column in two roles, a feature that is also
sensitive, markup / unicode / very long names and values, every task, optional timestamp,
model version, latency, id and reference — writes them as real files (CSV or Parquet) and an
audit.yaml, and runs them the way ``python -m sightline report`` does: load the audit, compute
every area, write report.json and the card (JSON, Markdown, HTML; charts and PDF for a subset).

Each run must end in one of three ways:
- a result;
- an ``unavailable`` section that says why (the area could not be computed on this input);
- a clear input error: a :class:`SightlineInputError` (the CLI's exit 2).

Never an internal error: an exception that is not a SightlineInputError, a section that
:func:`sightline.report.registry.compute_section` recorded as ``internal_error`` (the CLI's exit 3), a
chart that cannot be drawn, or a card that cannot be written.

Runs are reproducible (``derandomize=True``). The default profile keeps this file to ~2–3
minutes on two cores; ``SIGHTLINE_HYPOTHESIS_PROFILE=deep`` explores more.
"""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sightline.core.errors import SightlineInputError
from sightline.core.section import UNAVAILABLE

_COMMON = dict(deadline=None, derandomize=True, print_blob=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
# CI does not shrink: a failing example of these sizes is readable as generated (see Case's repr),
# and shrinking one through whole report runs takes longer than the rest of the file.
settings.register_profile("sightline-ci", max_examples=300, phases=[Phase.explicit, Phase.generate], **_COMMON)
settings.register_profile("sightline-deep", max_examples=1000, **_COMMON)
PROFILE = settings.get_profile("sightline-" + os.environ.get("SIGHTLINE_HYPOTHESIS_PROFILE", "ci"))
# The slow path (every chart as PNG, the PDF, the CLI itself with its chart process) on fewer runs.
SLOW_PROFILE = settings(PROFILE, max_examples=max(4, PROFILE.max_examples // 15))

# -- names and values that have broken renderers and parsers elsewhere -------------------
NASTY_TEXT = [
    "<script>alert(1)</script>", "é", "Ünïcødé ñ", "😀", "👩‍👩‍👧 family", "a=b & c", "x" * 400,
    "[click](javascript:alert(1))", "| pipe | cell |", "*bold* _it_ `code`", "# heading", "line\nbreak",
    "tab\there", "quote \" ' `", "comma, here", "  padded  ", "&amp; &lt;", "{braces}", "%s %d", "\\back\\slash",
    "shap_x", "1", "None", "true",
]
PLAIN_NAMES = ["age", "income", "region", "score_x", "group", "city", "n"]
CATEGORY_VALUES = ["a", "b", "c", "<b>bold</b>", "é", "😀", "a=b & c", "v" * 300, "[x](javascript:alert(1))", "| x |", "A"]
COLUMN_KINDS = ["int", "float", "float_with_gaps", "category", "category_with_gaps", "missing", "constant_number",
                "constant_text", "bool", "mixed", "huge_numbers", "infinite", "ids"]


@dataclass(frozen=True)
class Case:
    """One generated audit: the tables, the audit mapping and the file format."""

    audit: dict
    current: pd.DataFrame
    reference: pd.DataFrame | None
    fmt: str  # "csv" | "parquet"

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        ref = "none" if self.reference is None else f"{len(self.reference)} rows"
        return (f"Case(fmt={self.fmt!r}, audit={self.audit!r},\n  current ({len(self.current)} rows):\n"
                f"{self.current.to_dict(orient='list')!r},\n  reference: {ref}"
                + ("" if self.reference is None else f"\n{self.reference.to_dict(orient='list')!r}") + ")")


def _column(kind: str, n: int, rng: np.random.Generator) -> list:
    """``n`` values of one kind (None is a missing value)."""
    if kind == "int":
        return rng.integers(-5, 90, n).tolist()
    if kind == "float":
        return rng.normal(10, 5, n).round(3).tolist()
    if kind == "float_with_gaps":
        return [None if rng.random() < 0.4 else float(v) for v in rng.normal(0, 1, n).round(3)]
    if kind == "category":
        return rng.choice(CATEGORY_VALUES[: int(rng.integers(1, len(CATEGORY_VALUES) + 1))], n).tolist()
    if kind == "category_with_gaps":
        return [None if rng.random() < 0.4 else str(v) for v in rng.choice(CATEGORY_VALUES, n)]
    if kind == "missing":
        return [None] * n
    if kind == "constant_number":
        return [7.0] * n
    if kind == "constant_text":
        return ["<script>same</script>"] * n
    if kind == "bool":
        return rng.integers(0, 2, n).astype(bool).tolist()
    if kind == "mixed":  # numbers and text in one column (written as text)
        return [str(v) if rng.random() < 0.5 else "txt é" for v in rng.integers(0, 9, n)]
    if kind == "huge_numbers":
        return [float(v) for v in rng.choice([1e300, -1e300, 0.0, 1e-300, 123456789012.0], n)]
    if kind == "infinite":
        return [float(v) for v in rng.choice([np.inf, -np.inf, 1.0, np.nan, 2.5], n)]
    if kind == "ids":  # one value per row: an identifier, not a group
        return [f"user-{i}-é" for i in range(n)]
    raise AssertionError(kind)


BINARY_LABELS = [(0, 1), ("no", "yes"), ("<b>neg</b>", "é pos 😀"), (">50K", "<=50K"), (False, True)]
MULTI_LABELS = [("a", "b", "c"), ("<i>x</i>", "y & z", "😀", "w"), (1, 2, 3)]


def _labels(task: str, pool: tuple, n: int, rng: np.random.Generator, gaps: bool) -> list:
    if task == "regression":
        values = rng.normal(50, 20, n).round(2).tolist()
    else:
        values = [pool[i] for i in rng.integers(0, len(pool), n)]
    return [None if gaps and rng.random() < 0.3 else v for v in values]


def _rows(draw) -> int:
    """1–3 rows most often, 4–80 often, 0 now and then (Hypothesis starts from, and shrinks
    towards, the first branch)."""
    size = draw(st.integers(0, 9))
    return draw(st.integers(1, 3)) if size < 6 else draw(st.integers(4, 80)) if size < 9 else 0


@st.composite
def cases(draw) -> Case:
    """A random small audit (see the module docstring)."""
    task = draw(st.sampled_from(["binary", "binary", "multiclass", "regression"]))
    # Mostly 1–3 rows; some empty logs (a clear input error); some large enough for every area
    # (the surrogate explainer needs 53 rows with an output).
    n = _rows(draw)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    names = draw(st.lists(st.sampled_from(NASTY_TEXT + PLAIN_NAMES), min_size=9, max_size=9, unique=True))
    feature_kinds = draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=1, max_size=3))
    if draw(st.integers(0, 9)) == 9:  # now and then no feature at all
        feature_kinds = []
    target, prediction, score, ts, version, latency, rid = (f"{names[i]}_{role}" if names[i] in PLAIN_NAMES else names[i]
                                                            for i, role in enumerate(
                                                                ["target", "pred", "score", "ts", "ver", "lat", "id"]))
    features = [f"f{i}_{names[7] if i == 0 else names[8]}" if i < 2 else f"f{i}" for i in range(len(feature_kinds))]

    pool = draw(st.sampled_from(BINARY_LABELS if task == "binary" else MULTI_LABELS))
    label_gaps = draw(st.booleans())
    prediction_gaps = draw(st.integers(0, 3)) == 3
    with_score = task != "regression" and draw(st.booleans())  # multiclass: the predicted class's confidence
    with_shap = draw(st.sampled_from([None, None, "values", "values_and_base", "gaps"]))
    with_prediction = task != "binary" or not with_score or draw(st.booleans())
    optional = draw(st.fixed_dictionaries({
        "timestamp": st.sampled_from([None, "dates", "same_date", "garbage"]),
        "model_version": st.sampled_from([None, "one", "two"]),
        "latency_ms": st.sampled_from([None, "normal", "negative_and_gaps"]),
        "id": st.sampled_from([None, "unique", "duplicated", "shadow"]),
    }))
    duplicate = draw(st.sampled_from(["none", "none", "prediction_is_target", "feature_is_sensitive",
                                      "feature_is_target", "score_is_feature", "sensitive_only"]))
    list_features = draw(st.booleans())

    def table(rows: int, r: np.random.Generator) -> pd.DataFrame:
        data: dict[str, list] = {}
        data[target] = _labels(task, pool, rows, r, label_gaps)
        if with_prediction:
            data[prediction] = _labels(task, pool, rows, r, prediction_gaps)
        if with_score:
            kind = r.choice(["uniform", "constant", "gaps", "edges"])
            s = r.random(rows).round(4)
            s = {"uniform": s, "constant": np.full(rows, 0.5), "edges": r.choice([0.0, 1.0], rows),
                 "gaps": np.where(r.random(rows) < 0.4, np.nan, s)}[kind]
            data[score] = [None if np.isnan(v) else float(v) for v in s]
        for name, kind in zip(features, feature_kinds):
            data[name] = _column(kind, rows, r)
        if with_shap:  # SHAP values logged by the serving system, one column per feature
            for name in features:
                values = r.normal(0, 0.3, rows).round(4)
                data["shap_" + name] = [None if with_shap == "gaps" and r.random() < 0.5 else float(v) for v in values]
            if with_shap == "values_and_base":
                data["shap_base_value"] = [-0.4] * rows
        if optional["timestamp"] == "dates":
            data[ts] = [str(pd.Timestamp("2026-01-01") + pd.Timedelta(hours=int(h))) for h in r.integers(0, 24 * 60, rows)]
        elif optional["timestamp"] == "same_date":
            data[ts] = ["2026-03-01 12:00:00"] * rows
        elif optional["timestamp"] == "garbage":
            data[ts] = [str(v) for v in r.choice(["2026-01-02", "not a date", "<script>"], rows)]
        if optional["model_version"]:
            choices = ["v1"] if optional["model_version"] == "one" else ["v1", "<b>v2</b> é"]
            data[version] = r.choice(choices, rows).tolist()
        if optional["latency_ms"] == "normal":
            data[latency] = r.gamma(2, 20, rows).round(2).tolist()
        elif optional["latency_ms"] == "negative_and_gaps":
            data[latency] = [None if r.random() < 0.3 else float(v) for v in r.normal(0, 50, rows).round(2)]
        if optional["id"] == "unique":
            data[rid] = [f"req-{i}" for i in range(rows)]
        elif optional["id"] == "duplicated":
            data[rid] = ["req-<same>"] * rows
        elif optional["id"] == "shadow":  # each request scored twice (by two versions when logged)
            data[rid] = [f"req-{i // 2}" for i in range(rows)]
            if optional["model_version"] == "two":
                data[version] = ["v1" if i % 2 == 0 else "<b>v2</b> é" for i in range(rows)]
        return pd.DataFrame(data, columns=list(data))

    current = table(n, rng)
    reference = None
    if draw(st.booleans()):
        ref_rows = _rows(draw)
        reference = table(ref_rows, np.random.default_rng(seed + 1))
        change = draw(st.sampled_from(["none", "none", "drop_feature", "feature_as_text"]))
        if features and change == "drop_feature":  # the reference lacks a feature
            reference = reference.drop(columns=[features[-1]])
        elif features and change == "feature_as_text":  # numbers in one table, words in the other
            reference[features[0]] = [None if v is None else f"w{v}" for v in reference[features[0]]]

    columns: dict = {"target": target}
    if with_prediction:
        columns["prediction"] = prediction
    if with_score:
        columns["score"] = score
    for role, name in (("timestamp", ts), ("model_version", version), ("latency_ms", latency), ("id", rid)):
        if optional[role]:
            columns[role] = name
    sensitive: list[str] = []
    features_listed = features
    if features and duplicate == "feature_is_sensitive":
        sensitive = [features[0]]
    elif features and duplicate == "sensitive_only":
        sensitive = features[-1:]
        features_listed = features[:-1]
    if duplicate == "prediction_is_target":
        columns["prediction"] = target
    if features and duplicate == "feature_is_target":
        features_listed = [target] + features
    if with_score and duplicate == "score_is_feature":
        features_listed = features + [score]
    if draw(st.integers(0, 3)) > 0 and features:  # one more sensitive column, maybe shared with a feature
        sensitive.append(draw(st.sampled_from(features)))
    sensitive = list(dict.fromkeys(sensitive))
    if list_features or duplicate in ("feature_is_target", "score_is_feature", "sensitive_only"):
        columns["features"] = features_listed
    if sensitive:
        columns["sensitive"] = sensitive

    audit: dict = {
        "name": draw(st.sampled_from(["Plain", "<script>alert('name')</script> é 😀", "a=b & c " * 40])),
        "version": "1.0",
        "task": task,
        "current": "log." + ("csv" if draw(st.booleans()) else "parquet"),
        "columns": columns,
        "fairness": {"min_group_size": draw(st.sampled_from([1, 2, 30]))},
        "card": {"overview": draw(st.sampled_from(NASTY_TEXT)),
                 "owners": [{"name": "<b>owner</b>", "contact": "javascript:alert(1)"}],
                 "limitations": [draw(st.sampled_from(NASTY_TEXT))]},
    }
    if task == "binary":
        audit["positive_label"] = pool[draw(st.integers(0, 1))]
    if sensitive and draw(st.booleans()):
        audit["fairness"]["reference_groups"] = {sensitive[0]: draw(st.sampled_from(CATEGORY_VALUES + [7.0]))}
    if optional["model_version"] == "two" and draw(st.booleans()):
        audit["primary_version"] = "<b>v2</b> é"
    if draw(st.booleans()):
        audit["slices"] = {"min_size": draw(st.sampled_from([1, 2, 5])), "max_order": draw(st.integers(1, 3)),
                           "n_bins": draw(st.sampled_from([2, 5, 20]))}
    if draw(st.booleans()):
        audit["drift"] = {"window": draw(st.sampled_from(["day", "week", "month"])),
                          "method": draw(st.sampled_from([None, "psi", "jensenshannon"]))}
        audit["calibration"] = {"n_bins": draw(st.sampled_from([2, 10])), "strategy": draw(st.sampled_from(["uniform", "quantile"]))}
        audit["explain"] = {"sample_size": 50, "background_size": 10}
    if draw(st.booleans()):
        audit["gates"] = {"min_accuracy": 0.5, "max_ece": 0.2, "max_drift_share": 0.5, "max_p99_latency_ms": 100}
    if reference is not None:
        audit["reference"] = "reference." + audit["current"].rsplit(".", 1)[1]
    return Case(audit=audit, current=current, reference=reference, fmt=audit["current"].rsplit(".", 1)[1])


# -- writing and running -----------------------------------------------------------------
def _write_table(df: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
        return
    out = df.copy()
    for col in out.columns:  # Parquet needs one type per column: text columns stay text
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, str)).any():
            out[col] = out[col].map(lambda v: None if v is None else str(v))
    out.to_parquet(path, index=False)


def write_case(case: Case, folder: Path) -> Path:
    """The case as real files in ``folder``; returns the audit file."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_table(case.current, folder / case.audit["current"])
    if case.reference is not None:
        _write_table(case.reference, folder / case.audit["reference"])
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump(case.audit, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def assert_no_internal_error(report) -> None:
    """Every section is a result or an explained ``unavailable`` — none recorded a bug."""
    for area, section in report.sections.items():
        assert "internal_error" not in section.report, f"{area}: {section.report['internal_error']}"
        if section.verdict.status == UNAVAILABLE:
            assert section.verdict.headline.strip(), f"{area} is unavailable without a reason"


def run_like_cli(audit_path: Path, out: Path, *, charts: bool = False, pdf: bool = False) -> str:
    """What ``python -m sightline report`` does, in this process: "input error" when the input
    is refused (the CLI's exit 2), else "done". Anything else raised is an internal error."""
    from sightline.card import assemble_card
    from sightline.card.build import chart_outlines, render_graphics
    from sightline.card.export import card_bytes
    from sightline.charts import chart_spec
    from sightline.data.audit import load_audit
    from sightline.data.spec import load_spec
    from sightline.report.gates import evaluate_gates
    from sightline.report.registry import build_report, report_json

    try:
        audit = load_audit(load_spec(audit_path))
    except SightlineInputError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip(), repr(str(exc))
        return "input error"
    report = build_report(audit, workers=1)
    assert_no_internal_error(report)
    document = json.loads(report_json(report))
    assert set(document["verdicts"]) == set(report.sections)
    for section in report.sections.values():  # every chart's Vega-Lite spec can be built
        for chart in section.charts:
            chart_spec(chart.chart)
    graphics = render_graphics(report) if charts else chart_outlines(report)
    assert not graphics[1], f"charts that could not be drawn: {graphics[1]}"
    try:
        doc = assemble_card(report, graphics=graphics)
    except SightlineInputError:  # a malformed card: section or gate threshold (exit 2)
        return "input error"
    for fmt in ("json", "md", "html") + (("pdf",) if pdf else ()):
        assert card_bytes(doc, fmt)
    evaluate_gates(report)
    return "done"


def cli(*argv: str) -> tuple[int, str]:
    """``sightline.cli.main`` in this process: (exit status, stderr)."""
    from sightline.cli import main

    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        status = main(list(argv))
    return status, err.getvalue()


@PROFILE
@given(case=cases())
def test_any_small_audit_ends_in_a_result_or_a_clear_input_error(case, tmp_path_factory):
    folder = tmp_path_factory.mktemp("case")
    path = write_case(case, folder)
    status, err = cli("validate", str(path))
    assert status in (0, 2), err
    run_like_cli(path, folder / "out")


@SLOW_PROFILE
@given(case=cases())
def test_the_cli_with_charts_and_pdf_never_exits_3(case, tmp_path_factory):
    folder = tmp_path_factory.mktemp("case")
    path = write_case(case, folder)
    outcome = run_like_cli(path, folder / "direct", charts=True, pdf=True)
    status, err = cli("report", str(path), "--out", str(folder / "out"), "--quiet", "--workers", "1",
                      "--fail-on", "performance,calibration,fairness,drift,operations")
    assert status in (0, 1, 2), err
    assert (status == 2) == (outcome == "input error"), (status, outcome, err)
    if status == 2:
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    else:
        assert {p.name for p in (folder / "out").iterdir()} >= {"report.json", "model_card.json", "model_card.md",
                                                                 "model_card.html", "model_card.pdf"}


# -- three crashes found by hand before these tests existed -----------------------------------
def _known_case(tmp_path: Path, log: pd.DataFrame, columns: dict, **extra) -> Path:
    case = Case(audit={"name": "known crash", "version": "1", "task": "binary", "positive_label": 1,
                       "current": "log.csv", "columns": columns, **extra},
                current=log, reference=None, fmt="csv")
    return write_case(case, tmp_path)


def _binary_log(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(4)
    return pd.DataFrame({"y": y, "pred": (score >= 0.5).astype(int), "score": score,
                         "x": rng.normal(40, 10, n).round(1), "sex": rng.choice(["F", "M"], n)})


def _report_exits_without_bug(path: Path, out: Path) -> tuple[int, dict | None]:
    status, err = cli("report", str(path), "--out", str(out), "--quiet", "--workers", "1")
    assert status != 3, err
    assert "internal error" not in err, err
    report = json.loads((out / "report.json").read_text()) if status in (0, 1) else None
    return status, report


@pytest.mark.parametrize("feature", ["x", "accuracy", "n", "too_small", "slice", "share"])
def test_400_rows_one_feature_one_sensitive_column_exits_0(tmp_path, feature):
    """Slices once ended in ``InvalidIndexError: Reindexing only valid with uniquely valued
    Index objects`` (exit 3) on a 400-row log with one feature and one sensitive column: the
    slice table holds each sliced column's values in a column of its name, which clashed with
    the table's own columns (``accuracy``, ``tp``, ``share``; ``n`` and ``too_small`` failed
    differently)."""
    log = _binary_log(400).rename(columns={"x": feature})
    path = _known_case(tmp_path, log, {"target": "y", "prediction": "pred", "score": "score",
                                       "features": [feature], "sensitive": ["sex"]}, fairness={"min_group_size": 30})
    status, report = _report_exits_without_bug(path, tmp_path / "out")
    assert status == 0
    assert report["verdicts"]["slices"]["status"] in ("green", "amber", "red")
    tables = report["slices"]["tables"]
    assert set(tables) == {"sex", feature}
    # The value column keeps the feature's name unless the table has one already; the table's
    # own columns keep their meaning (n: rows per slice, adding up to the labelled rows).
    value_column = feature if feature == "x" else f"{feature} (value)"
    rows = tables[feature]
    assert all(value_column in r for r in rows)
    assert sum(r["n"] for r in rows) == 400
    assert sum(r["n"] for r in tables["sex"]) == 400
    assert {r["sex"]: r["n"] for r in tables["sex"]} == log["sex"].value_counts().to_dict()


def test_400_rows_feature_that_is_also_sensitive_exits_0(tmp_path):
    path = _known_case(tmp_path, _binary_log(400), {"target": "y", "prediction": "pred", "score": "score",
                                                      "features": ["sex"], "sensitive": ["sex"]})
    status, report = _report_exits_without_bug(path, tmp_path / "out")
    assert status == 0
    for area in ("slices", "explainability", "fairness"):
        assert "internal_error" not in report[area], area


def test_one_row_log_exits_without_internal_error(tmp_path):
    """A 1-row log once ended in exit 3 (explainability)."""
    path = _known_case(tmp_path, _binary_log(400).iloc[[1]], {"target": "y", "prediction": "pred", "score": "score",
                                                               "features": ["x", "sex"], "sensitive": ["sex"]})
    status, report = _report_exits_without_bug(path, tmp_path / "out")
    if report is not None:
        explain = report["explainability"]
        assert report["verdicts"]["explainability"]["status"] == UNAVAILABLE, explain
        assert report["verdicts"]["explainability"]["headline"].strip()


def test_all_missing_feature_exits_without_internal_error(tmp_path):
    """An all-NaN feature once ended in exit 3 (explainability)."""
    log = _binary_log(400)
    log["x"] = np.nan
    path = _known_case(tmp_path, log, {"target": "y", "prediction": "pred", "score": "score",
                                       "features": ["x"], "sensitive": ["sex"]})
    status, report = _report_exits_without_bug(path, tmp_path / "out")
    assert status == 0
    assert report["verdicts"]["explainability"]["status"] == UNAVAILABLE
    assert "'x'" in report["verdicts"]["explainability"]["headline"]


def test_all_missing_feature_beside_a_real_one_still_explains_the_real_one(tmp_path):
    log = _binary_log(400)
    log["empty"] = np.nan
    path = _known_case(tmp_path, log, {"target": "y", "prediction": "pred", "score": "score",
                                       "features": ["x", "empty", "sex"], "sensitive": ["sex"]})
    status, report = _report_exits_without_bug(path, tmp_path / "out")
    assert status == 0
    assert report["verdicts"]["explainability"]["status"] != UNAVAILABLE, report["explainability"]


# -- other crashes the properties found ------------------------------------------------------
def test_discovered_slice_whose_name_and_value_hold_equals_and_ampersand(tmp_path):
    """Discovered slices were re-read from their text "column=value", which splits wrongly when
    the column or the value holds "=" or " & " (KeyError, exit 3). They are now kept by code."""
    n = 400
    rng = np.random.default_rng(3)
    group = np.where(np.arange(n) < 100, "x & y=z", "plain")
    y = rng.integers(0, 2, n)
    pred = np.where(group == "x & y=z", 1 - y, y)  # every prediction wrong in the odd group
    pred[rng.choice(np.flatnonzero(group == "plain"), 30, replace=False)] ^= 1
    log = pd.DataFrame({"y": y, "pred": pred, "a=b & c": group, "sex": rng.choice(["F", "M"], n)})
    path = _known_case(tmp_path, log, {"target": "y", "prediction": "pred", "features": ["a=b & c"], "sensitive": ["sex"]})
    status, report = _report_exits_without_bug(path, tmp_path / "out")
    assert status == 0
    found = report["slices"]["discovered"]["metrics"]
    worst = next(r for r in found if r["slice"] == "a=b & c=x & y=z")
    assert worst["n"] == 100 and worst["accuracy"] == 0.0  # hand count: 100 rows, all wrong
    assert report["slices"]["settings"]["columns"] == ["sex", "a=b & c"]


def _surrogate_case(tmp_path, rows: int, score=None):
    log = _binary_log(rows, seed=5)
    if score is not None:
        log["score"] = score
    path = _known_case(tmp_path, log, {"target": "y", "prediction": "pred", "score": "score", "features": ["x", "sex"]})
    return _report_exits_without_bug(path, tmp_path / "out")


def test_surrogate_needs_forty_training_rows(tmp_path):
    """With fewer than 2 × 20 training rows (scikit-learn's smallest leaf) the trees cannot split:
    the surrogate was a constant whose SHAP values are all 0. 52 rows leave 39 to train on
    (13 held out), 53 leave 40."""
    from sightline.explain.surrogate import MIN_TRAIN_ROWS

    assert MIN_TRAIN_ROWS == 40
    status, report = _surrogate_case(tmp_path / "52", 52)
    assert status == 0 and report["verdicts"]["explainability"]["status"] == UNAVAILABLE
    assert "52 row(s)" in report["verdicts"]["explainability"]["headline"]
    status, report = _surrogate_case(tmp_path / "53", 53)
    assert status == 0 and report["verdicts"]["explainability"]["status"] != UNAVAILABLE
    assert report["explainability"]["surrogate_fidelity"]["train_rows"] == 40
    assert report["explainability"]["surrogate_fidelity"]["held_out_rows"] == 13


def test_constant_scores_give_no_ranking_instead_of_nan_shares(tmp_path):
    """Every logged score equal: the surrogate is a constant and every SHAP value 0; the verdict
    says so instead of ranking inputs by 0/0 shares."""
    status, report = _surrogate_case(tmp_path, 200, score=0.3)
    assert status == 0
    verdict = report["verdicts"]["explainability"]
    assert verdict["status"] == "amber" and "every SHAP value is 0" in verdict["headline"]
    assert "nan" not in verdict["headline"].lower()
    explain = report["explainability"]
    assert explain["no_importance"] is True and explain["dominant_feature"] is None
    assert all(r["mean_abs_shap"] < 1e-20 for r in explain["global_importance"])  # 0, or the trees' rounding


def test_multiclass_missing_prediction_counts_as_wrong_in_slices_and_versions(tmp_path):
    """A labelled multiclass row without a prediction: the label arrays held ``pd.NA``, whose
    comparison raises (slices, the Simpson check and the version comparison ended in exit 3).
    It now counts as a wrong prediction, as Performance counts it."""
    log = pd.DataFrame({
        "y": ["a", "b", "b", "c"] * 2,
        "p": ["a", None, "b", "a", "a", "b", None, "c"],
        "ver": ["v1"] * 4 + ["v2"] * 4,
        "rid": ["r0", "r1", "r2", "r3"] * 2,  # both versions scored the same four requests
        "f": ["x", "y", "x", "y"] * 2,
    })
    case = Case(audit={"name": "mc", "task": "multiclass", "current": "log.csv", "primary_version": "v1",
                       "columns": {"target": "y", "prediction": "p", "model_version": "ver", "id": "rid", "features": ["f"]},
                       "fairness": {"min_group_size": 1}},
                current=log, reference=None, fmt="csv")
    status, report = _report_exits_without_bug(write_case(case, tmp_path), tmp_path / "out")
    assert status == 0
    # v1: a=a right, b/missing wrong, b=b right, c/a wrong → 2 of 4
    assert report["performance"]["overall"]["accuracy"]["value"] == 0.5
    assert report["slices"]["overall"]["accuracy"]["value"] == 0.5
    assert {r["slice"]: r["accuracy"] for r in report["slices"]["tables"]["f"]} == {"f=x": 1.0, "f=y": 0.0}
    simpson = report["slices"]["simpson"]
    assert simpson["paired"] and simpson["overall"] == {"v1": {"value": 0.5, "n": 4}, "v2": {"value": 0.75, "n": 4}}
    for area in ("slices", "operations"):
        assert "internal_error" not in report[area], area


def test_misspelt_fail_on_area_is_a_clear_input_error_before_any_work(tmp_path):
    """``--fail-on perfomance`` silently switched the performance gates off (exit 0)."""
    status, err = cli("report", str(tmp_path / "never-read.yaml"), "--out", str(tmp_path / "out"), "--fail-on", "perfomance,drift")
    assert status == 2
    assert "'perfomance' is not an area with gates" in err and "performance,calibration" in err
    assert not (tmp_path / "out").exists()
