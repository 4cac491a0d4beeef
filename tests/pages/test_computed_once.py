"""Each area is computed once per audit: after the Overview (which computes every area's Section),
a page at its default settings shows the Section's own result (``Section.results``) instead of
computing it again through its cache path (components/cached/)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import components.cached.calibration
import components.cached.fairness
import components.cached.operations
import components.cached.slices
import components.cached.versions
import sightline.calibration.section
import sightline.fairness.section
import sightline.report.compose
import sightline.slices.section
from components.operations import MIN_REQUESTS_KEY

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

# engine computation -> every module that calls it by that name: the area's Section builder and the page's cache path
COMPUTATIONS = {
    "fairness_result": (sightline.fairness.section, components.cached.fairness),
    "operations_result": (sightline.report.compose, components.cached.operations),
    "compare_versions": (sightline.report.compose, components.cached.versions),
    "calibration_result": (sightline.calibration.section, components.cached.calibration),
    "slice_data": (sightline.slices.section, components.cached.slices),
}
PAGES = {"fairness_result": "fairness", "operations_result": "operations", "compare_versions": "versions",
         "calibration_result": "calibration", "slice_data": "slices"}


def _count_calls(monkeypatch) -> dict[str, int]:
    calls = dict.fromkeys(COMPUTATIONS, 0)
    for name, modules in COMPUTATIONS.items():
        for module in modules:
            original = getattr(module, name)

            def counted(*args, _name=name, _original=original, **kwargs):
                calls[_name] += 1
                return _original(*args, **kwargs)

            monkeypatch.setattr(module, name, counted)
    return calls


def _open(at: AppTest, page: str) -> None:
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_fairness_is_computed_once_when_opening_the_overview_then_the_fairness_page(monkeypatch):
    st.cache_resource.clear()
    st.cache_data.clear()
    calls = _count_calls(monkeypatch)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    _open(at, "overview")
    assert calls["fairness_result"] == 1  # the Overview's fairness Section
    _open(at, "fairness")
    assert "Women are selected" in at.error[0].value  # the page shows the result, not only its verdict
    assert calls["fairness_result"] == 1
    st.cache_resource.clear()


def test_every_page_at_its_defaults_shows_the_overviews_result(monkeypatch):
    st.cache_resource.clear()
    st.cache_data.clear()
    calls = _count_calls(monkeypatch)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    _open(at, "overview")
    assert calls == dict.fromkeys(COMPUTATIONS, 1)
    for page in PAGES.values():
        _open(at, page)
    assert calls == dict.fromkeys(COMPUTATIONS, 1)
    # A setting the default result does not cover is computed for that choice (once).
    _open(at, "operations")
    at.number_input(key=MIN_REQUESTS_KEY).set_value(50).run()
    assert not at.exception, [e.value for e in at.exception]
    assert calls["operations_result"] == 2
    st.cache_resource.clear()
