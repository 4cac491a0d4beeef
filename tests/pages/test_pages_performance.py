"""AppTest of the Performance and Calibration pages on the bundled sample (and a regression audit)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from tests.pages.page_text import page_text

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _open(page: str) -> AppTest:
    # Switch before the first run: running app.py first renders the Overview, which computes
    # every area (SHAP, drift, …: a minute on this machine) and is covered by its own test.
    # Our pages use the default url paths, so the switch resolves by file name.
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def test_performance_page_shows_metrics_baselines_and_threshold():
    at = _open("performance")
    assert not at.exception
    labels = [m.label for m in at.metric]
    for name in ("ROC AUC", "Accuracy", "Precision", "Recall", "F1"):
        assert name in labels
    text = page_text(at)
    assert "predictions of model **champion-1.0** whose true outcome" in text   # "metrics use N of M predictions"
    assert "challenger-2.0" in text                                              # the other version on the same requests
    assert "95% CI" in text
    slider = at.slider(key="performance_threshold")
    assert slider.value == pytest.approx(0.5)
    slider.set_value(0.8).run()
    assert not at.exception
    assert "At **0.80** the model flags" in page_text(at)


def test_calibration_page_switches_bins_and_groups():
    at = _open("calibration")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert {"Brier score", "Expected calibration error (ECE)", "Maximum calibration error (MCE)"} <= set(labels)
    text = page_text(at)
    assert "10 equal-width bins" in text
    at.radio[0].set_value("quantile").run()
    assert not at.exception
    assert "10 quantile bins" in page_text(at)
    at.selectbox[0].set_value("race").run()
    assert not at.exception
    assert any("By race" in s.value for s in at.subheader)


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_pages_on_other_tasks(tmp_path, task):

    from components.state import SPEC_KEY
    from tests.performance.test_metrics import make_audit

    audit = make_audit(tmp_path, task, versions=True)
    for page in ("performance", "calibration"):
        at = AppTest.from_file(APP, default_timeout=180)
        at.session_state[SPEC_KEY] = audit.spec
        at.switch_page(f"pages/{page}.py")
        at.run()
        assert not at.exception, (task, page)
        text = page_text(at)
        if page == "performance":
            assert ("Macro F1" if task == "multiclass" else "Mean absolute error (MAE)") in [m.label for m in at.metric]
            assert "v1 against v2" in text
        elif task == "regression":
            assert any("probabilistic classifiers" in i.value for i in at.info)
        else:
            assert "top-label calibration" in text
