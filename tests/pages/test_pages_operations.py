"""AppTest of the Operations and Model versions pages: the sample (two versions, latency
incidents) and a small one-version log without latency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from components.state import SPEC_KEY

pytestmark = pytest.mark.slow
APP = str(Path(__file__).resolve().parents[2] / "app.py")


def open_page(page: str, spec=None) -> AppTest:
    """Run app.py (the router) straight on ``page``. Switching before the first run skips the
    Overview, which computes every area and would make this file slow."""
    at = AppTest.from_file(APP, default_timeout=180)
    if spec is not None:
        at.session_state[SPEC_KEY] = spec
    at.switch_page(page)
    at.run()
    return at


def charts(at: AppTest) -> list:
    return at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart")


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


@pytest.fixture(scope="module")
def one_version_spec(tmp_path_factory):
    """A small binary log with one model version, no latency and no id column."""
    from sightline.data.spec import load_spec

    folder = tmp_path_factory.mktemp("one_version")
    rng = np.random.default_rng(0)
    n = 300
    score = rng.random(n)
    pd.DataFrame({
        "ts": pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.uniform(0, 14 * 86400, n), unit="s"),
        "x": rng.normal(size=n), "y": np.where(rng.random(n) < score, "yes", "no"),
        "score": score, "pred": np.where(score >= 0.5, "yes", "no"), "model_version": "only-1",
    }).to_parquet(folder / "log.parquet")
    (folder / "audit.yaml").write_text(
        "name: One version\ntask: binary\npositive_label: 'yes'\ncurrent: log.parquet\n"
        "columns: {target: y, prediction: pred, score: score, timestamp: ts, model_version: model_version}\n")
    return load_spec(folder / "audit.yaml")


def test_operations_page_on_the_sample():
    at = open_page("pages/operations.py")
    assert not at.exception
    assert at.title[0].value.endswith("Operations")
    verdict = texts(at.warning)
    assert "incidents" in verdict and "17 Jun" in verdict
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["p99 latency"] == "211 ms" and metrics["Invalid rate"] == "0.00%"
    assert len(charts(at)) == 3  # latency over time, distribution, throughput
    assert "Wed 17 Jun" in texts(at.markdown)  # the incident, in a sentence
    assert "No empty or invalid predictions: every one of the 17,313" in texts(at.success)


def test_operations_page_hourly_windows_pin_the_incident_hours():
    at = open_page("pages/operations.py")
    at.button_group[0].set_value("hour").run()
    assert not at.exception
    incidents = texts(at.markdown)
    assert "Wed 17 Jun 14:00" in incidents and "Tue 11 Aug 09:00" in incidents
    assert "verdict follows them" in texts(at.caption)


def test_versions_page_on_the_sample():
    at = open_page("pages/versions.py")
    assert not at.exception
    verdict = texts(at.warning)
    assert "challenger-2.0 agrees with champion-1.0" in verdict and "95% CI" in verdict
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Same prediction"].endswith("%") and metrics["Accuracy change"].endswith("pts")
    assert len(charts(at)) >= 5
    assert "They disagree most on" in texts(at.markdown)


def test_versions_page_with_one_version_explains(one_version_spec):
    at = open_page("pages/versions.py", one_version_spec)
    assert not at.exception
    assert "single model version" in texts(at.info)
    assert not charts(at)


def test_operations_page_without_latency(one_version_spec):
    at = open_page("pages/operations.py", one_version_spec)
    assert not at.exception
    assert any("latency" in c for c in (e.value for e in at.caption))
    assert len(charts(at)) == 1  # throughput only
