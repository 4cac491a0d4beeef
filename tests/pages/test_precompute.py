"""The dashboard's background start: every area is computed once, in the background, as soon as
an audit loads, and pages then reuse those very results (components/cache.py, components/cached/)."""

from __future__ import annotations

import os
import threading

import streamlit as st

from components import cache
from components.cached import explain as cached_explain
from sightline.report.registry import AREAS


def _counting(monkeypatch) -> dict[str, int]:
    """Count the engine's computations behind the cache (explainability's SHAP run has its own path)."""
    calls: dict[str, int] = {}
    compute, explain = cache.compute_section, cached_explain.explain_audit

    def counted(area, audit):
        calls[area] = calls.get(area, 0) + 1
        return compute(area, audit)

    def counted_explain(*args, **kwargs):
        calls["explainability"] = calls.get("explainability", 0) + 1
        return explain(*args, **kwargs)

    monkeypatch.setattr(cache, "compute_section", counted)
    monkeypatch.setattr(cached_explain, "explain_audit", counted_explain)
    return calls


def test_loading_an_audit_computes_every_area_once_in_the_background(sample_audit, monkeypatch):
    st.cache_resource.clear()
    calls = _counting(monkeypatch)
    monkeypatch.setenv(cache.PRECOMPUTE_ENV, "1")
    cache.precompute(sample_audit)
    started = [t for t in threading.enumerate() if t.name == "sightline-precompute"]
    assert len(started) == 1
    thread = started[0]
    assert cache._precompute(sample_audit, workers=1) is thread
    cache.precompute(sample_audit)  # a second page load starts nothing new
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert calls == {area: 1 for area in AREAS}
    # What a page asks for afterwards is the background's result, not a new computation.
    shown = cache.sections(sample_audit, AREAS)
    assert set(shown) == set(AREAS) and all(s.verdict is not None for s in shown.values())
    assert calls == {area: 1 for area in AREAS}
    assert cache._precompute(sample_audit, workers=1) is thread
    st.cache_resource.clear()


def test_background_start_can_be_turned_off(sample_audit, monkeypatch):
    st.cache_resource.clear()
    calls = _counting(monkeypatch)
    monkeypatch.setenv(cache.PRECOMPUTE_ENV, "0")
    cache.precompute(sample_audit)
    assert not any(t.name == "sightline-precompute" for t in threading.enumerate())
    assert calls == {}


def test_pages_that_need_every_area_start_them_whatever_the_setting(sample_audit, monkeypatch):
    st.cache_resource.clear()
    calls = _counting(monkeypatch)
    monkeypatch.setenv(cache.PRECOMPUTE_ENV, "0")
    cache.precompute(sample_audit, needed=True)  # the Overview and the model card
    started = [t for t in threading.enumerate() if t.name == "sightline-precompute"]
    assert len(started) == 1
    started[0].join(timeout=300)
    assert calls == {area: 1 for area in AREAS}
    st.cache_resource.clear()



def test_the_first_run_imports_the_analysis_libraries_before_any_page_computes():
    """In a fresh process, opening only the Data page already has SHAP, scikit-learn's ensembles
    and SciPy's statistics imported (paid at server start, and never by two threads at once)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    probe = ("import sys; from streamlit.testing.v1 import AppTest; "
             f"at = AppTest.from_file({str(root / 'app.py')!r}, default_timeout=300); "
             "at.switch_page('pages/data.py'); at.run(); assert not at.exception; "
             "print(sorted(m for m in ('shap', 'sklearn.ensemble', 'scipy.stats') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "SIGHTLINE_PRECOMPUTE": "0"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "['scipy.stats', 'shap', 'sklearn.ensemble']"
