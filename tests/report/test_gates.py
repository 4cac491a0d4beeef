"""Release gates: thresholds from the audit file against the Sections' metrics, and the CI exit status."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

import sightline.cli as cli_module
from sightline.core.errors import SpecError
from sightline.core.section import AMBER, GREEN, NOT_COMPUTED, RED, UNAVAILABLE, CardMetric, Section, Verdict, unavailable_section
from sightline.data.spec import SECTION_KEYS
from sightline.report.gates import BY_GATES, BY_VERDICT, FAIL_ON_AREAS, GATES, check_areas, evaluate_gates, failed_gates
from sightline.report.registry import AREAS, Report, build_report, compute_section, default_workers

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_AUDIT = ROOT / "sample_data" / "audit.yaml"


def _report(gates: dict, sections: dict) -> SimpleNamespace:
    """The two things evaluate_gates reads: report.audit.spec.gates and report.sections."""
    return SimpleNamespace(audit=SimpleNamespace(spec=SimpleNamespace(gates=gates)), sections=sections)


def _section(area: str, *metrics: CardMetric) -> Section:
    return Section(area=area, verdict=Verdict(AMBER, "x"), metrics=metrics)


SECTIONS = {
    "performance": _section("performance", CardMetric("roc_auc", 0.85), CardMetric("accuracy", 0.8),
                            CardMetric("roc_auc", 0.6, "sex=Female", n=400), CardMetric("brier_score", 0.12)),
    "calibration": _section("calibration", CardMetric("expected_calibration_error", 0.031)),
    "fairness": _section("fairness", CardMetric("demographic_parity_difference", 0.17, "sex"),
                         CardMetric("demographic_parity_difference", 0.04, "race"),
                         CardMetric("demographic_parity_ratio", 0.36, "sex"),
                         CardMetric("selection_rate", 0.1, "sex=Female", n=300)),
    "drift": unavailable_section("drift", "Drift needs a reference data set — add 'reference:' to the audit"),
    "operations": _section("operations", CardMetric("latency_p99_ms", 211.0), CardMetric("latency_p50_ms", 40.0)),
}


def test_every_gate_key_of_the_audit_file_has_a_definition():
    assert set(SECTION_KEYS["gates"]) == set(GATES)


def test_min_and_max_gates_compare_as_written():
    results = evaluate_gates(_report({"min_roc_auc": 0.85, "min_accuracy": 0.81, "max_ece": 0.03, "max_p99_latency_ms": 250},
                                     SECTIONS))
    got = {g.name: (g.value, g.passed) for g in results}
    assert got == {
        "min_roc_auc": (0.85, True),          # equal to the threshold passes
        "min_accuracy": (0.8, False),         # 0.80 < 0.81
        "max_ece": (0.031, False),            # 0.031 > 0.03
        "max_p99_latency_ms": (211.0, True),  # 211 ms <= 250 ms
    }
    # the overall value is used, never the slice "sex=Female" (0.6)
    assert next(g for g in results if g.name == "min_roc_auc").slice == ""


def test_fairness_gates_check_every_sensitive_column():
    results = evaluate_gates(_report({"max_demographic_parity_difference": 0.1, "min_disparate_impact_ratio": 0.8}, SECTIONS))
    got = [(g.name, g.slice, g.value, g.passed) for g in results]
    assert got == [("max_demographic_parity_difference", "sex", 0.17, False),
                   ("max_demographic_parity_difference", "race", 0.04, True),
                   ("min_disparate_impact_ratio", "sex", 0.36, False)]
    assert results[0].describe() == ("fairness: max_demographic_parity_difference [sex] = 0.17, "
                                     "needs demographic_parity_difference <= 0.1 -> FAILED")


def test_a_gate_without_its_metric_is_not_evaluated_and_not_passed():
    results = evaluate_gates(_report({"max_drift_share": 0.3, "min_f1": 0.5, "max_equalized_odds_difference": 0.1}, SECTIONS))
    assert [(g.name, g.passed, g.value) for g in results] == [("max_drift_share", None, None), ("min_f1", None, None),
                                                                ("max_equalized_odds_difference", None, None)]
    assert "Drift needs a reference data set" in results[0].note
    assert results[1].note == "the performance results hold no f1"
    assert results[0].describe().startswith("drift: max_drift_share -> NOT EVALUATED (drift: Drift needs a reference")
    assert failed_gates(results) == results  # a CI step that asked for a gate must not pass unchecked
    assert failed_gates(results, ["operations"]) == []


def test_brier_gate_falls_back_to_the_performance_section():
    sections = {**SECTIONS, "calibration": unavailable_section("calibration", "needs scores")}
    (gate,) = evaluate_gates(_report({"max_brier_score": 0.1}, sections))
    assert (gate.area, gate.value, gate.passed) == ("calibration", 0.12, False)


def test_nan_metric_is_not_evaluated():
    sections = {"performance": _section("performance", CardMetric("roc_auc", float("nan")))}
    (gate,) = evaluate_gates(_report({"min_roc_auc": 0.7}, sections))
    assert gate.passed is None and "NaN" in gate.note


@pytest.mark.parametrize("gates, words", [
    ({"min_roc_auc": "high"}, "'gates.min_roc_auc' must be a number, got 'high'"),
    ({"max_ece": True}, "'gates.max_ece' must be a number"),
    ({"min_accuracy": 1.5}, "'gates.min_accuracy' must be between 0 and 1, got 1.5"),
    ({"max_p99_latency_ms": -5}, "'gates.max_p99_latency_ms' must be at least 0"),
])
def test_bad_thresholds_are_named(gates, words):
    with pytest.raises(SpecError) as err:
        evaluate_gates(_report(gates, SECTIONS))
    assert words in str(err.value)


def test_no_gates_no_results():
    assert evaluate_gates(_report({}, SECTIONS)) == []


# -- --fail-on: one decision per area ----------------------------------------------------------------
def _verdict_section(area: str, status: str, *metrics: CardMetric) -> Section:
    return Section(area=area, verdict=Verdict(status, f"{area} headline"), metrics=metrics)


def _reported(gates: dict, statuses: dict[str, str]) -> SimpleNamespace:
    sections = {a: (unavailable_section(a, f"{a} lacks an input", s) if s in (UNAVAILABLE, NOT_COMPUTED) else _verdict_section(a, s))
                for a, s in statuses.items()}
    return _report(gates, sections)


def test_fail_on_accepts_every_area_of_the_report():
    assert set(FAIL_ON_AREAS) == set(AREAS)
    assert {g.area for g in GATES.values()} <= set(FAIL_ON_AREAS)


def test_without_gates_the_verdict_decides_red_fails_and_no_result_is_not_evaluated():
    statuses = {"performance": AMBER, "slices": RED, "explainability": GREEN, "drift": UNAVAILABLE, "calibration": NOT_COMPUTED}
    checks = check_areas(_reported({}, statuses), [*statuses, "operations"])
    got = {c.area: (c.decided_by, c.verdict, c.passed, c.status) for c in checks}
    assert got == {
        "performance": (BY_VERDICT, AMBER, True, "passed"),
        "slices": (BY_VERDICT, RED, False, "failed"),
        "explainability": (BY_VERDICT, GREEN, True, "passed"),
        "drift": (BY_VERDICT, UNAVAILABLE, None, "not evaluated"),
        "calibration": (BY_VERDICT, NOT_COMPUTED, None, "not evaluated"),
        "operations": (BY_VERDICT, "", None, "not evaluated"),  # the area was not run at all
    }
    by_area = {c.area: c for c in checks}
    assert by_area["slices"].describe() == ("slices: verdict is red -> FAILED (no gates for slices in the audit file, "
                                            "so the verdict decides): slices headline")
    assert by_area["drift"].lines() == [("not evaluated", by_area["drift"].describe())]
    assert "drift lacks an input" in by_area["drift"].describe() and "does not pass --fail-on" in by_area["drift"].describe()
    assert "was not run" in by_area["operations"].describe()
    assert by_area["performance"].describe().startswith("performance: verdict is amber -> passed")


def test_explicit_gates_decide_their_area_whatever_the_verdict():
    sections = {
        # red verdict, every gate passes -> passes, and says the gates decided
        "fairness": Section(area="fairness", verdict=Verdict(RED, "gap"), metrics=(
            CardMetric("demographic_parity_difference", 0.17, "sex"), CardMetric("demographic_parity_difference", 0.04, "race"))),
        # green verdict, its gate fails -> fails
        "performance": _verdict_section("performance", GREEN, CardMetric("roc_auc", 0.8)),
        # green verdict, its gate's metric is absent -> not evaluated
        "operations": _verdict_section("operations", GREEN),
        "drift": _verdict_section("drift", RED),
    }
    report = _report({"max_demographic_parity_difference": 0.2, "min_roc_auc": 0.85, "max_p99_latency_ms": 500}, sections)
    checks = {c.area: c for c in check_areas(report, ["fairness", "performance", "operations", "drift"])}
    assert [(a, c.decided_by, c.passed) for a, c in checks.items()] == [
        ("fairness", BY_GATES, True), ("performance", BY_GATES, False), ("operations", BY_GATES, None), ("drift", BY_VERDICT, False)]
    assert checks["fairness"].describe() == "fairness: 2 gates passed (verdict red, but the gates decide)"
    assert checks["performance"].lines() == [("failed", "performance: min_roc_auc = 0.8, needs roc_auc >= 0.85 -> FAILED")]
    assert checks["operations"].lines()[0][0] == "not evaluated"
    assert checks["performance"].to_dict()["gates"] == [{"name": "min_roc_auc", "slice": "", "metric": "roc_auc", "direction": "min",
                                                         "threshold": 0.85, "value": 0.8, "status": "failed", "note": ""}]


# -- the CI step, in-process on the sample: python -m sightline report --fail-on … -----------------------
@pytest.fixture(scope="module")
def sample_report(sample_audit):
    """The sample's report, computed once for every CLI run below."""
    return build_report(sample_audit, workers=default_workers(sample_audit))


def _audit_copy(folder: Path, sample_spec, **changes) -> Path:
    """A copy of the sample audit file and its inputs, with top-level keys changed (None removes one)."""
    for name in ("predictions.parquet", "reference.parquet", "model.skops"):
        shutil.copy(sample_spec.base_dir / name, folder / name)
    data = yaml.safe_load((sample_spec.base_dir / "audit.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture()
def run(monkeypatch, sample_report, tmp_path, capsys):
    """``run(audit_path, *args, recompute=())``: ``sightline.cli.main(["report", …])`` in this process
    -> (status, stdout, stderr, report.json). The sample's sections are reused (only the areas in
    ``recompute`` are computed for the audit loaded); chart rendering and card files are skipped."""

    class NoCharts:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def submit(self, area, section):
            return None

        def graphics(self, report):
            return (), ()

    monkeypatch.setattr(cli_module, "ChartPrerenderer", NoCharts)
    monkeypatch.setattr(cli_module, "assemble_card", lambda report, graphics=None: None)
    monkeypatch.setattr(cli_module, "write_card_files", lambda report, out, doc=None: [])

    def call(audit_path, *args, recompute=()):
        monkeypatch.setattr(cli_module, "build_report", lambda audit, *a, **k: Report(
            audit=audit, sections={**sample_report.sections, **{area: compute_section(area, audit) for area in recompute}}))
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        status = cli_module.main(["report", str(audit_path), "--out", str(out), *args])
        captured = capsys.readouterr()
        path = out / "report.json"
        return status, captured.out, captured.err, json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return call


def test_the_sample_without_gates_fails_on_its_red_verdicts(run):
    status, out, err, doc = run(SAMPLE_AUDIT, "--fail-on", "fairness,drift")
    verdicts = doc["verdicts"]
    # the sample injects a selection-rate gap by sex and drifted inputs: the report itself says red
    assert verdicts["fairness"]["status"] == RED and verdicts["drift"]["status"] == RED
    assert status == 1
    for area in ("fairness", "drift"):
        assert f"gate failed: {area}: verdict is red -> FAILED (no gates for {area} in the audit file" in err
        assert verdicts[area]["headline"] in err
    assert doc["fail_on"]["areas"] == ["fairness", "drift"] and doc["fail_on"]["passed"] is False
    assert [(c["area"], c["decided_by"], c["verdict"], c["status"]) for c in doc["fail_on"]["checks"]] == [
        ("fairness", "verdict", RED, "failed"), ("drift", "verdict", RED, "failed")]


def test_every_area_passes_or_fails_as_its_recorded_verdict_says(sample_report, run):
    verdicts = {a: s.verdict.status for a, s in sample_report.sections.items()}
    passing = [a for a in FAIL_ON_AREAS if verdicts[a] in (GREEN, AMBER)]
    failing = [a for a in FAIL_ON_AREAS if a not in passing]
    assert passing and failing  # the sample has both, so both branches are exercised
    status, out, err, doc = run(SAMPLE_AUDIT, "--fail-on", ",".join(passing))
    assert status == 0 and "gate" not in err, err
    for area in passing:
        assert f"gate passed: {area}: verdict is {verdicts[area]} -> passed" in out
    assert doc["fail_on"]["passed"] is True
    for area in failing:
        status, out, err, _ = run(SAMPLE_AUDIT, "--fail-on", area, "--quiet")
        assert status == 1 and f"gate failed: {area}: verdict is red" in err and out == ""


def test_an_area_without_a_result_fails_as_not_evaluated(run, sample_spec, tmp_path_factory):
    path = _audit_copy(tmp_path_factory.mktemp("noref"), sample_spec, reference=None)
    status, out, err, doc = run(path, "--fail-on", "drift,explainability", recompute=("drift",))
    assert doc["verdicts"]["drift"]["status"] == UNAVAILABLE
    assert status == 1
    line = next(line for line in err.splitlines() if line.startswith("gate not evaluated: drift:"))
    assert "reference" in line and "does not pass --fail-on" in line
    assert doc["fail_on"]["checks"][0]["status"] == "not evaluated"


def _by_hand(audit) -> tuple[float, dict[str, float]]:
    """ROC AUC of the primary version's labelled rows (scikit-learn) and the demographic parity
    difference per sensitive column and their intersection (max − min selection rate of the groups
    with at least ``fairness.min_group_size`` labelled rows), counted with pandas."""
    from sklearn.metrics import roc_auc_score

    labelled = audit.labelled()
    auc = roc_auc_score(audit.y_true(labelled), audit.y_score(labelled))
    selected = pd.Series(audit.y_pred(labelled), index=labelled.index)
    gaps = {}
    for columns in (["sex"], ["race"], ["race", "sex"]):
        keys = [labelled[c] for c in columns]
        sizes = labelled.groupby(keys, observed=True).size()
        rates = selected.groupby(keys, observed=True).mean()[sizes >= audit.spec.fairness.min_group_size]
        gaps[" & ".join(columns)] = float(rates.max() - rates.min())
    return float(auc), gaps


def test_explicit_gates_compare_the_metric_computed_by_hand(run, sample_audit, sample_spec, tmp_path_factory):
    auc, gaps = _by_hand(sample_audit)
    dpd = max(gaps.values())
    assert sample_audit.spec.fairness.min_group_size == 30
    # just above the model's ROC AUC fails; a parity limit just above the largest gap passes although the verdict is red
    gates = {"min_roc_auc": round(auc + 0.001, 4), "max_demographic_parity_difference": round(dpd + 0.005, 4)}
    path = _audit_copy(tmp_path_factory.mktemp("gated"), sample_spec, gates=gates)
    status, out, err, doc = run(path, "--fail-on", "performance,fairness")
    assert status == 1
    assert f"gate failed: performance: min_roc_auc = {auc:.4g}, needs roc_auc >= {gates['min_roc_auc']:g} -> FAILED" in err
    assert "fairness" not in err
    assert "gate passed: fairness: 3 gates passed (verdict red, but the gates decide)" in out
    fairness = next(c for c in doc["fail_on"]["checks"] if c["area"] == "fairness")
    assert fairness["decided_by"] == "gates"
    assert {g["slice"]: g["value"] for g in fairness["gates"]} == pytest.approx(gaps, abs=1e-12)

    # the same gates a hair the other way: just below the AUC passes, just below the gap fails
    gates = {"min_roc_auc": round(auc - 0.001, 4), "max_demographic_parity_difference": round(dpd - 0.005, 4)}
    path = _audit_copy(tmp_path_factory.mktemp("gated2"), sample_spec, gates=gates)
    status, out, err, doc = run(path, "--fail-on", "performance,fairness")
    assert status == 1
    assert "gate passed: performance: 1 gate passed (verdict" in out
    worst = max(gaps, key=gaps.get)
    assert f"gate failed: fairness: max_demographic_parity_difference [{worst}] = {dpd:.4g}" in err
    assert sum(line.startswith("gate failed: fairness:") for line in err.splitlines()) == sum(g > gates[
        "max_demographic_parity_difference"] for g in gaps.values())
    status, out, err, _ = run(path, "--fail-on", "performance", "--quiet")
    assert status == 0 and err == "" and out == ""


def test_the_card_lists_the_audit_files_gates(sample_report, sample_spec, tmp_path_factory, tmp_path):
    from sightline.card import assemble_card
    from sightline.card.export import write_card_files
    from sightline.data.audit import load_audit
    from sightline.data.spec import load_spec

    path = _audit_copy(tmp_path_factory.mktemp("card"), sample_spec, gates={"min_roc_auc": 0.99})
    report = Report(audit=load_audit(load_spec(path)), sections=sample_report.sections)
    write_card_files(report, tmp_path, doc=assemble_card(report, graphics=((), ())))
    card = json.loads((tmp_path / "model_card.json").read_text(encoding="utf-8"))
    assert "performance: min_roc_auc" in card["model_details"]["documentation"]
    assert "| performance | min_roc_auc | roc_auc >= 0.99 |" in (tmp_path / "model_card.md").read_text(encoding="utf-8")


def test_an_unknown_area_is_exit_2_before_any_work(tmp_path, capsys):
    status = cli_module.main(["report", str(tmp_path / "never-read.yaml"), "--out", str(tmp_path / "out"), "--fail-on", "fairnes,drift"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "'fairnes' is not an area" in err and "slices,explainability" in err
    assert not (tmp_path / "out").exists()


def test_the_readme_example_does_what_its_comment_says(run):
    """The README's --fail-on line on the sample: the exit status in its comment, and the red areas it names."""
    line = next(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
                if line.startswith("python -m sightline report sample_data/audit.yaml") and "--fail-on" in line)
    command, comment = line.split("#", 1)
    args = command.split()[4:]  # after "python -m sightline report"
    out_at = args.index("--out")
    del args[out_at:out_at + 2]  # the fixture writes into tmp_path
    expected = int(re.search(r"exit (\d)", comment).group(1))
    status, out, err, doc = run(ROOT / args[0], *args[1:])
    assert status == expected, err
    if "both verdicts are red" in comment:
        areas = doc["fail_on"]["areas"]
        assert len(areas) == 2 and all(doc["verdicts"][a]["status"] == RED for a in areas)


def test_every_gate_reads_a_vocabulary_metric_in_its_direction():
    """A gate's direction is its metric's (sightline.core.vocabulary), and its key says it: min_… / max_…."""
    from sightline.core.vocabulary import METRICS

    for key, gate in GATES.items():
        assert gate.metric in METRICS, key
        assert key.startswith(gate.direction + "_"), key
        assert METRICS[gate.metric].higher_is_better is (gate.direction == "min"), key
