"""The generic cached-result helper (components/cached: ``per_audit``): one computation per audit
fingerprint and settings, the audit and keyword-only objects unhashed, separate caches per wrapped
computation."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
import streamlit as st

from components.cached import per_audit


def _audit(fingerprint: str):
    return SimpleNamespace(fingerprint=fingerprint, unhashable=[{"rows": 1}])


def test_one_computation_per_fingerprint_and_settings():
    calls = []

    @per_audit(max_entries=8)
    def doubled(audit, factor, *, note=None):
        calls.append((audit.fingerprint, factor, note))
        return {"value": 2 * factor}

    a, same_a, b = _audit("aaa"), _audit("aaa"), _audit("bbb")
    first = doubled(a, 3, note="x")
    assert first == {"value": 6}
    assert doubled(same_a, 3, note="another object, same key") is first  # the audit and objects are not hashed
    assert doubled(a, 4)["value"] == 8 and doubled(b, 3)["value"] == 6
    assert calls == [("aaa", 3, "x"), ("aaa", 4, None), ("bbb", 3, None)]
    doubled.clear()
    doubled(a, 3)
    assert len(calls) == 4
    st.cache_resource.clear()


def test_two_wrapped_computations_never_share_entries():
    """Streamlit tells caches apart by function name and source: every wrapper's inner function has
    the same source, so without the computation's name in it they would answer for each other."""

    @per_audit(max_entries=8)
    def first(audit, k):
        return ("first", k)

    @per_audit(max_entries=8)
    def second(audit, k):
        return ("second", k)

    a = _audit("ccc")
    assert first(a, 1) == ("first", 1) and second(a, 1) == ("second", 1)
    st.cache_resource.clear()


def test_a_setting_passed_by_keyword_is_refused():
    @per_audit(max_entries=8)
    def windowed(audit, window):
        return window

    with pytest.raises(TypeError, match="positionally"):
        windowed(_audit("ddd"), window="day")  # it would not be part of the key


def test_copies_hand_out_a_fresh_frame_each_call():
    @per_audit(max_entries=8, copies=True)
    def table(audit, n):
        return pd.DataFrame({"x": range(n)})

    a = _audit("eee")
    t = table(a, 3)
    t.loc[0, "x"] = 99  # a page changing its copy
    assert table(a, 3)["x"].tolist() == [0, 1, 2]
    st.cache_data.clear()
