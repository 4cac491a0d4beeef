"""Logs larger than ``scale.max_rows``: a seeded sample in memory, exact figures pushed down to
DuckDB. The whole-log figures are checked against scikit-learn on the whole file read by pandas;
the sample against the file's own rows."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from sightline.core.errors import SpecError
from sightline.data.audit import load_audit
from sightline.data.scale import scale_settings, whole_log_figures
from sightline.data.scale_tables import largest_gap, whole_log_rates
from sightline.data.spec import spec_from_dict
from sightline.report.registry import build_report, report_to_dict

N = 30_000


def _log(n: int = N, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.beta(2, 3, n)
    y = rng.random(n) < score
    outcome = np.where(y, "yes", "no").astype(object)
    outcome[rng.random(n) < 0.15] = None
    return pd.DataFrame({
        "request_id": np.arange(n),
        "ts": (pd.Timestamp("2026-01-05") + pd.to_timedelta(np.sort(rng.integers(0, 28 * 86400, n)), unit="s")).astype("datetime64[us]"),
        "x1": rng.normal(size=n), "x2": rng.exponential(size=n),
        "color": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "group": pd.Categorical(rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1])),
        "score": score, "predicted": np.where(score >= 0.5, "yes", "no"),
        "outcome": outcome,
        "model_version": np.where(rng.random(n) < 0.8, "v1", "v2"),
        "latency_ms": rng.lognormal(3, 0.5, n),
    })


def _spec(tmp_path, source, **scale):
    return spec_from_dict({
        "name": "big", "task": "binary", "positive_label": "yes", "current": source, "primary_version": "v1",
        "columns": {"target": "outcome", "prediction": "predicted", "score": "score", "timestamp": "ts",
                    "model_version": "model_version", "latency_ms": "latency_ms", "id": "request_id",
                    "features": ["x1", "x2", "color"], "sensitive": ["group"]},
        "scale": scale}, base_dir=tmp_path)


@pytest.fixture(scope="module")
def log_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "log.parquet"
    pq.write_table(pa.Table.from_pandas(_log(), preserve_index=False), path, row_group_size=4_000)
    return path


def test_a_log_above_max_rows_is_sampled_without_replacement_and_repeatably(tmp_path, log_file):
    spec = _spec(log_file.parent, log_file.name, max_rows=10_000, sample_rows=5_000, seed=7)
    audit = load_audit(spec)
    whole = pd.read_parquet(log_file)
    assert len(audit.current) == 5_000 and audit.log_sample.population == N
    assert audit.current["request_id"].is_unique
    merged = audit.current.merge(whole, on="request_id", suffixes=("", "_file"))
    assert len(merged) == 5_000  # every sampled row is a row of the file, unchanged
    for col in ("x1", "score", "latency_ms"):
        assert np.array_equal(merged[col].to_numpy(), merged[f"{col}_file"].to_numpy())
    assert isinstance(audit.current["color"].dtype, pd.CategoricalDtype)
    again = load_audit(spec)
    assert again.current["request_id"].tolist() == audit.current["request_id"].tolist()
    other = load_audit(_spec(log_file.parent, log_file.name, max_rows=10_000, sample_rows=5_000, seed=8))
    assert other.current["request_id"].tolist() != audit.current["request_id"].tolist()
    assert audit.fingerprint != other.fingerprint
    assert audit.input_file("current").rows == N


def test_a_log_within_max_rows_is_read_whole(log_file):
    audit = load_audit(_spec(log_file.parent, log_file.name))
    assert audit.log_sample is None and len(audit.current) == N
    assert whole_log_figures(audit) is None


def test_whole_log_figures_equal_scikit_learn_on_every_row(log_file):
    audit = load_audit(_spec(log_file.parent, log_file.name, max_rows=10_000, sample_rows=5_000))
    figures = whole_log_figures(audit)
    whole = pd.read_parquet(log_file)
    assert figures["rows"] == N and figures["versions"] == whole["model_version"].value_counts().to_dict()
    primary = whole[(whole["model_version"] == "v1") & whole["outcome"].notna()]

    def expected(frame):
        y, p = (frame["outcome"] == "yes").astype(int), (frame["predicted"] == "yes").astype(int)
        return {"accuracy": accuracy_score(y, p), "precision": precision_score(y, p), "recall": recall_score(y, p),
                "f1": f1_score(y, p), "selection_rate": p.mean(), "n": len(frame)}

    for key, value in expected(primary).items():
        assert figures["overall"]["whole_log"][key] == pytest.approx(value, rel=1e-12)
    for g in figures["groups"]:
        for key, value in expected(primary[primary["group"] == g["group"]]).items():
            assert g["whole_log"][key] == pytest.approx(value, rel=1e-12)
    # the sample's own figures are the same computation on the sample's rows
    s = audit.current[(audit.current["model_version"] == "v1") & audit.current["outcome"].notna()]
    assert figures["overall"]["sample"]["accuracy"] == pytest.approx(expected(s)["accuracy"], rel=1e-12)
    weeks = whole[whole["model_version"] == "v1"].groupby(whole["ts"].dt.to_period("W-SUN"))["outcome"]
    assert [w["rows"] for w in figures["label_coverage"]] == weeks.size().tolist()
    assert [w["labelled"] for w in figures["label_coverage"]] == weeks.count().tolist()
    lat = {r["version"]: r for r in figures["latency"]}
    assert lat["v2"]["p99"] == pytest.approx(np.quantile(whole.loc[whole["model_version"] == "v2", "latency_ms"], 0.99))
    table = whole_log_rates(figures)
    assert set(table["slice"]) == {"all", "group=A", "group=B", "group=C"}
    assert 0 < largest_gap(figures) < 0.1  # a 5k sample is close to, not equal to, the whole


def test_the_report_carries_the_whole_log_and_every_area_runs_on_the_sample(log_file):
    audit = load_audit(_spec(log_file.parent, log_file.name, max_rows=10_000, sample_rows=5_000))
    doc = report_to_dict(build_report(audit, areas=["performance", "fairness"]))
    assert doc["whole_log"]["rows"] == N
    assert doc["data"]["log_rows"] == N and doc["data"]["current_rows"] == 5_000
    assert doc["data"]["sample"]["sample_rows"] == 5_000
    assert doc["verdicts"]["performance"]["status"] in ("green", "amber", "red")


def test_a_duckdb_source_is_sampled_by_duckdb(tmp_path):
    db = tmp_path / "logs.duckdb"
    con = duckdb.connect(str(db))
    frame = _log(20_000)
    con.register("f", frame)
    con.execute("CREATE TABLE logs AS SELECT * FROM f")
    con.close()
    spec = _spec(tmp_path, {"url": f"duckdb:///{db}", "query": "SELECT * FROM logs"}, max_rows=5_000, sample_rows=2_000)
    audit = load_audit(spec)
    assert len(audit.current) == 2_000 and audit.log_sample.population == 20_000
    assert audit.current["request_id"].is_unique and audit.current["request_id"].isin(frame["request_id"]).all()
    figures = whole_log_figures(audit)
    y = frame.loc[(frame["model_version"] == "v1") & frame["outcome"].notna()]
    assert figures["overall"]["whole_log"]["n"] == len(y)


def test_a_csv_log_is_read_whole_even_when_large(tmp_path):
    _log(3_000).to_csv(tmp_path / "log.csv", index=False)
    audit = load_audit(_spec(tmp_path, "log.csv", max_rows=1_000, sample_rows=1_000))
    assert audit.log_sample is None and len(audit.current) == 3_000


@pytest.mark.parametrize("scale, message", [
    ({"max_rows": "lots"}, "scale.max_rows"),
    ({"max_rows": 10_000, "sample_rows": 20_000}, "must not exceed"),
    ({"seed": -1}, "scale.seed"),
])
def test_bad_scale_settings_are_named(tmp_path, scale, message):
    with pytest.raises(SpecError, match=message):
        scale_settings(_spec(tmp_path, "log.parquet", **scale))


def test_an_unknown_scale_key_is_refused(tmp_path):
    with pytest.raises(SpecError, match="sample_size"):
        _spec(tmp_path, "log.parquet", sample_size=10)


def test_the_dashboard_says_the_log_is_sampled_and_shows_the_whole_log_counts(log_file):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=300)
    at.session_state["sightline.spec"] = _spec(log_file.parent, log_file.name, max_rows=10_000, sample_rows=5_000)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("random sample of 5,000 rows" in i.value for i in at.info)
    assert any(s.value == "Whole log, counted in place" for s in at.subheader)
    logged = next(m for m in at.metric if m.label == "Logged predictions")
    assert logged.value == f"{N:,}"
    at.switch_page("pages/fairness.py")
    at.run()
    assert not at.exception and any("random sample" in i.value for i in at.info)


def test_the_cli_report_of_a_sampled_log_carries_the_whole_log_into_the_card(log_file, tmp_path):
    import json
    import subprocess
    import sys

    import yaml

    from sightline.data.spec import spec_to_dict

    doc = spec_to_dict(_spec(log_file.parent, log_file.name, max_rows=10_000, sample_rows=5_000))
    doc["current"] = str(log_file)
    audit_file = tmp_path / "audit.yaml"
    audit_file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "sightline", "report", str(audit_file), "--out", str(out), "--quiet"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["whole_log"]["rows"] == N and report["data"]["sample"]["sample_rows"] == 5_000
    card_md = (out / "model_card.md").read_text()
    assert "Whole log" in card_md and f"{N:,} rows" in card_md and "random sample of 5,000 rows" in card_md
    card = json.loads((out / "model_card.json").read_text())
    assert any("random sample of 5,000 rows" in d["description"] for d in card["model_parameters"]["data"])


def test_areas_run_one_at_a_time_on_a_log_too_large_for_two_in_memory(monkeypatch):
    from types import SimpleNamespace

    from sightline.report import registry as report
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert report.default_workers() == 4
    assert report.default_workers(SimpleNamespace(current=range(report.THREADED_MAX_ROWS))) == 4
    assert report.default_workers(SimpleNamespace(current=range(report.THREADED_MAX_ROWS + 1))) == 1
