"""The Drift page renders on the sample audit (every panel, every window) and explains what it
needs when the audit has no reference or a bad drift setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.page_text import page_text

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _drift_page(spec=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if spec is not None:
        from components.state import SPEC_KEY

        at.session_state[SPEC_KEY] = spec
    at.switch_page("pages/drift.py")  # straight to the page: the Overview would compute every area first
    at.run()
    return at


def test_drift_page_on_the_sample_shows_every_panel():
    at = _drift_page()
    assert not at.exception
    assert at.error and "months instead of years" in at.error[0].value    # the red verdict first, in plain words
    labels = [m.label for m in at.metric]
    for label in ("Features drifted", "Mean score", "Positive rate (labelled)", "Accuracy, unlabelled"):
        assert label in labels
    assert [m.value for m in at.metric if m.label == "Accuracy"][0].startswith("≈")   # estimates are marked
    text = page_text(at)
    for words in ("Wasserstein distance (normed)", "Gig-platform", "Label shift", "occupation = Adm-clerical",
                  "ECE", "tests ran on all 12,971 production rows"):
        assert words in text, words
    subheaders = [s.value for s in at.subheader]
    assert subheaders[:2] == ["Features now vs the reference", "Over time"]
    assert "Without labels: estimated performance" in subheaders
    assert len(at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart")) >= 6   # every chart drew

    at.selectbox(key="drift_feature").select("workclass").run()
    assert not at.exception
    assert "'Private' went from" in page_text(at)

    at.segmented_control(key="drift_window").set_value("month").run()
    assert not at.exception
    assert "for 1,050 rows (22%) in June 2026" in page_text(at)          # the unit bug, found inside a month
    at.segmented_control(key="drift_window").set_value("day").run()
    assert not at.exception and "7 days from 2026-06-22 to 2026-06-28" in page_text(at)


def test_drift_page_without_a_reference_says_what_to_add(sample_spec):
    at = _drift_page(sample_spec.replace(reference=None))
    assert not at.exception
    assert "add 'reference:' to the audit file" in page_text(at)
    assert not at.metric


def test_drift_page_with_a_bad_drift_setting_names_it(sample_spec):
    at = _drift_page(sample_spec.replace(drift={"columns": {"age": {"method": "no-such-test"}}}))
    assert not at.exception
    assert "Drift cannot run as configured" in at.error[0].value and "no-such-test" in at.error[0].value
