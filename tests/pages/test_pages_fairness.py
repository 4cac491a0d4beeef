"""The Fairness page renders on the sample audit and on audits it cannot fully analyse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.page_text import page_text

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _fairness_page(spec=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if spec is not None:
        from components.state import SPEC_KEY

        at.session_state[SPEC_KEY] = spec
    at.switch_page("pages/fairness.py")  # straight to the page: the Overview would compute every area
    at.run()
    return at


def test_fairness_page_on_the_sample():
    at = _fairness_page()
    assert not at.exception
    text = page_text(at)
    assert at.error and "Women are selected" in at.error[0].value  # the red verdict first, in plain words
    assert [t.label for t in at.tabs][:3] == ["sex", "race", "⊗ race & sex"]
    assert "base rate" in text and "Small groups:" in text and "Other & Female" in text
    assert "Analysis only" in text and "ThresholdOptimizer" in text
    assert len(at.slider) >= 2  # one threshold per group of the chosen attribute
    assert re.search(r"Fitted and evaluated on (all|a random sample of) \*\*[\d,]+\*\*", text)  # sample size shown


def test_fairness_whatif_slider_moves_the_gap():
    at = _fairness_page()
    female = next(s for s in at.slider if s.label == "Female")
    before = next(m for m in at.metric if m.label.startswith("Demographic parity")).value
    female.set_value(0.2).run()
    assert not at.exception
    after = next(m for m in at.metric if m.label.startswith("Demographic parity")).value
    assert float(after) < float(before)  # a lower threshold for women narrows the selection gap


def test_fairness_page_explains_missing_sensitive_columns(sample_spec):
    from sightline.data.spec import Columns

    cols = sample_spec.columns
    spec = sample_spec.replace(columns=Columns(**{**cols.__dict__, "sensitive": ()}))
    at = _fairness_page(spec)
    assert not at.exception
    assert "Fairness needs more input" in page_text(at) and "sensitive" in page_text(at)
