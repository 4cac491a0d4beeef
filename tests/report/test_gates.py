"""Release gates: thresholds from the audit file against the Sections' metrics, and the CI exit status."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest
import yaml

from sightline.core.errors import SpecError
from sightline.core.section import AMBER, CardMetric, Section, Verdict, unavailable_section
from sightline.data.spec import SECTION_KEYS
from sightline.report.gates import GATES, evaluate_gates, failed_gates


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


# -- the CI step: python -m sightline report --fail-on … ------------------------------------------------
@pytest.fixture(scope="module")
def gated_audit(tmp_path_factory, sample_spec):
    """A copy of the sample audit with a planted gate that must fail (ROC AUC ≥ 0.99) and one that passes."""
    folder = tmp_path_factory.mktemp("gated")
    for name in ("predictions.parquet", "reference.parquet", "model.skops"):
        shutil.copy(sample_spec.base_dir / name, folder / name)
    data = yaml.safe_load((sample_spec.base_dir / "audit.yaml").read_text(encoding="utf-8"))
    data["gates"] = {"min_roc_auc": 0.99, "max_p99_latency_ms": 100000}
    path = folder / "audit.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_cli_exits_1_when_a_planted_gate_fails(gated_audit, tmp_path, capsys, monkeypatch):
    import sightline.cli as cli_module
    from sightline.cli import main

    # Compute the report once and hand the same one to the second run (the sections do not change).
    real, built = cli_module.build_report, []

    def build_once(audit, *args, **kwargs):
        if not built:
            built.append(real(audit, *args, **kwargs))
        return built[0]

    monkeypatch.setattr(cli_module, "build_report", build_once)
    status = main(["report", str(gated_audit), "--out", str(tmp_path / "out"), "--fail-on", "performance,fairness", "--quiet"])
    err = capsys.readouterr().err
    assert status == 1
    assert "gate failed: performance: min_roc_auc" in err and "needs roc_auc >= 0.99 -> FAILED" in err
    assert "max_p99_latency_ms" not in err
    card = json.loads((tmp_path / "out" / "model_card.json").read_text(encoding="utf-8"))
    assert "performance: min_roc_auc" in card["model_details"]["documentation"]
    assert "| performance | min_roc_auc | roc_auc >= 0.99 |" in (tmp_path / "out" / "model_card.md").read_text(encoding="utf-8")

    # The same audit passes a CI step that only gates operations (p99 latency ≤ 100 s); the card
    # files were checked above, so the second run skips writing them.
    monkeypatch.setattr(cli_module, "write_card_files", lambda report, out, doc=None: [])
    status = main(["report", str(gated_audit), "--out", str(tmp_path / "out2"), "--fail-on", "operations", "--quiet"])
    assert status == 0 and "gate failed" not in capsys.readouterr().err


def test_every_gate_reads_a_vocabulary_metric_in_its_direction():
    """A gate's direction is its metric's (sightline.core.vocabulary), and its key says it: min_… / max_…."""
    from sightline.core.vocabulary import METRICS

    for key, gate in GATES.items():
        assert gate.metric in METRICS, key
        assert key.startswith(gate.direction + "_"), key
        assert METRICS[gate.metric].higher_is_better is (gate.direction == "min"), key
