"""The Explainability page on the bundled sample: with its model, and as a surrogate without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sightline.audit import sample_audit_path
from sightline.spec import load_spec
from tests.page_text import page_text

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]

ROOT = Path(__file__).resolve().parent.parent
SPEC_KEY = "sightline.spec"  # components.state.SPEC_KEY
SMALL = {"sample_size": 400}  # a smaller SHAP sample keeps the test quick; the page is the same


def _page(spec) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state[SPEC_KEY] = spec
    at.switch_page("pages/explainability.py")  # straight to the page: the Overview would compute every area
    at.run()
    return at


def test_page_with_the_model():
    at = _page(load_spec(sample_audit_path()).replace(explain=SMALL))
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Explainer"] == "TreeExplainer" and metrics["Rows explained"] == "400"
    assert metrics["Output explained"] == "log-odds" and metrics["Additivity"].startswith("holds")
    assert len(at.tabs) == 6
    assert {s.label for s in at.selectbox} >= {"Input", "Colour by", "Sensitive attribute",
                                               "Most confident errors among labelled predictions"}
    text = page_text(at)
    assert "Prediction **req-" in text and "Largest difference" in text and "Biggest change" in text
    assert "surrogate" not in text.lower()
    # pick another confident error: its waterfall is computed on demand, no exception
    box = next(s for s in at.selectbox if s.label.startswith("Most confident"))
    box.select(box.options[3]).run()  # options: the confident errors, most confident first
    assert not at.exception and f"Prediction **{box.options[3].split(' · ')[0]}**" in page_text(at)
    # an unknown id gets a plain message, not a traceback
    at.text_input(key="explain.row_id").input("no-such-id").run()
    assert not at.exception and any("no logged prediction has id 'no-such-id'" in e.value for e in at.error)


def test_page_without_the_model_uses_a_labelled_surrogate():
    at = _page(load_spec(sample_audit_path()).replace(model=None, explain=SMALL))
    assert not at.exception
    assert any("Surrogate explanations" in str(e.value) and "fidelity R²" in str(e.value) for e in list(at.info) + list(at.warning))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Explainer"] == "TreeExplainer" and metrics["Additivity"].startswith("holds")
    text = page_text(at)
    assert "(surrogate)" in text and "A surrogate of the model" in text
