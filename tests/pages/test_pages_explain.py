"""The Explainability page on the bundled sample: with its model, and as a surrogate without it.

The page shows one view at a time (a segmented control), so each view is opened in turn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sightline.data.audit import sample_audit_path
from sightline.data.spec import load_spec
from tests.pages.page_text import page_text

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]

ROOT = Path(__file__).resolve().parents[2]
SPEC_KEY = "sightline.spec"  # components.state.SPEC_KEY
# A smaller SHAP sample keeps the test quick; still above MAX_DRAWN_ROWS, so the dot charts draw a subset.
SMALL = {"sample_size": 600}
VIEW_KEY = "explain.view"


def _page(spec) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state[SPEC_KEY] = spec
    at.switch_page("pages/explainability.py")  # straight to the page: the Overview would compute every area
    at.run()
    return at


def _charts(at: AppTest) -> list[dict]:
    """The Vega-Lite specs the last run drew."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart")]


def _rows_drawn(at: AppTest) -> int:
    """Rows of the largest data set behind the first chart (the dots, not the zero line)."""
    import pyarrow as pa

    chart = (at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart"))[0]
    return max(pa.ipc.open_stream(d.data.data).read_all().num_rows for d in chart.proto.datasets)


def _titles(at: AppTest) -> list[str]:
    return [json.dumps(spec.get("title", "")) + json.dumps([layer.get("title", "") for layer in spec.get("layer", [])])
            for spec in _charts(at)]


def _show(at: AppTest, view: str) -> AppTest:
    at.segmented_control(key=VIEW_KEY).set_value(view).run()
    assert not at.exception, view
    return at


def test_page_with_the_model():
    from sightline.charts.explain import MAX_DRAWN_ROWS

    at = _page(load_spec(sample_audit_path()).replace(explain=SMALL))
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Explainer"] == "TreeExplainer" and metrics["Rows explained"] == "600"
    assert metrics["Output explained"] == "log-odds" and metrics["Additivity"].startswith("holds")
    control = at.segmented_control(key=VIEW_KEY)
    assert control.options == ["Overall importance", "Distribution", "Dependence", "One prediction", "By group",
                               "Reference vs current"]
    # opens on the overall importance: one chart, no other view's widgets
    assert control.value == "importance" and len(_charts(at)) == 1
    assert "Which inputs drive the predictions" in _titles(at)[0] and "Bar length" in page_text(at)
    assert not [s for s in at.selectbox if s.label in ("Input", "Sensitive attribute")]
    assert "surrogate" not in page_text(at).lower()

    _show(at, "distribution")
    assert len(_charts(at)) == 1 and "How each input pushes individual predictions" in _titles(at)[0]
    assert _rows_drawn(at) == MAX_DRAWN_ROWS * 10  # one dot per drawn row and input (the 10 top inputs)
    text = page_text(at)
    assert f"{MAX_DRAWN_ROWS:,} of 600 explained rows drawn" in text and "Each dot is one explained prediction" in text

    _show(at, "dependence")
    assert {s.label for s in at.selectbox} >= {"Input", "Colour by"}
    assert "How the model uses" in _titles(at)[0] and f"{MAX_DRAWN_ROWS:,} of 600 explained rows drawn" in page_text(at)
    assert _rows_drawn(at) == MAX_DRAWN_ROWS

    _show(at, "group")
    assert "Sensitive attribute" in {s.label for s in at.selectbox} and "Largest difference" in page_text(at)
    assert "different inputs for different" in _titles(at)[0]

    _show(at, "shift")
    assert "Biggest change" in page_text(at) and "reference data vs current log" in _titles(at)[0]

    _show(at, "local")
    assert "Prediction **req-" in page_text(at) and "Why prediction" in _titles(at)[0]
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
    assert "A surrogate of the model" in text and "(surrogate)" in _titles(at)[0]
    for view in ("dependence", "group", "shift"):
        assert "(surrogate)" in page_text(_show(at, view)), view
