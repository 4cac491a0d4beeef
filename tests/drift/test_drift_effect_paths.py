"""Fast paths of the drift effect sentences and class checks equal the straightforward ones,
exactly: medians from bin codes against ``np.median``, the effect sentence with and without the
column's bins, and new classes with the log windowed lazily against windows of every row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sightline.drift import drift_over_time
from sightline.drift import windows as dw
from sightline.drift.effects import numeric_effect
from sightline.drift.feature_changes import label_schema_changes
from sightline.drift.timeline import _windows_of
from sightline.stats.binned_ranks import median_from_bins
from tests.drift.test_drift import make_audit, synthetic


def _columns(seed: int):
    """Reference/current pairs: continuous with NaN and inf, heavy ties, shifted, one value, tiny."""
    rng = np.random.default_rng(seed)
    ref = rng.normal(0, 1, 2001)
    cur = rng.normal(0.4, 1.3, 5000)
    cur[rng.random(5000) < 0.05] = np.nan
    cur[:3] = [np.inf, -np.inf, np.inf]
    yield ref, cur
    yield rng.integers(0, 5, 1000).astype(float), rng.integers(0, 7, 4000).astype(float)   # ties across edges
    yield rng.exponential(1, 300), rng.exponential(3, 301)
    yield np.full(50, 2.0), np.full(10, 2.0)                                                 # no edges: one bin
    yield rng.normal(0, 1, 100), np.array([5.0])
    yield rng.normal(0, 1, 100), np.array([np.nan, 1.0, -1.0, np.nan])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_median_from_bins_equals_numpy_median_exactly(seed):
    for ref, cur in _columns(seed):
        b = dw.bin_column("x", pd.Series(ref), pd.Series(cur), dw.NUMERIC)
        for values, codes, counts in ((ref, b.reference_codes, b.reference_counts()),
                                      (cur, b.current_codes, b.current_counts())):
            expected = np.median(values[~np.isnan(values)])
            assert median_from_bins(values, codes, counts) == expected or np.isnan(expected)
    assert np.isnan(median_from_bins(np.array([np.nan]), np.array([1]), np.array([0, 1])))


@pytest.mark.parametrize("seed", [3, 4])
def test_numeric_effect_with_bins_equals_the_sentence_without(seed):
    for ref, cur in _columns(seed):
        b = dw.bin_column("x", pd.Series(ref), pd.Series(cur), dw.NUMERIC)
        assert numeric_effect(ref, cur, binned=b) == numeric_effect(ref, cur)
    ref = pd.Series(np.arange(100.0))
    cur = pd.Series(np.r_[np.arange(80.0), np.full(10, 500.0), np.full(10, -3.0)].astype(object))
    cur[5] = "n/a"                                                           # a number logged as text
    b = dw.bin_column("x", ref, cur, dw.NUMERIC)
    assert numeric_effect(ref, cur, binned=b) == numeric_effect(ref, cur)
    assert "above the reference's maximum" in numeric_effect(ref, cur, binned=b)


def test_new_classes_windowed_lazily_equal_windows_of_every_row():
    ref, cur = synthetic(2000, 21), synthetic(3000, 22)
    cur.loc[cur.index[::7], "y"] = 2          # a class the reference's labels never had
    cur.loc[cur.index[::50], "ts"] = pd.NaT   # some of its rows in no window
    audit = make_audit(cur, ref, ["num", "cat"])
    ot = drift_over_time(audit, "week")
    starts = pd.DatetimeIndex(sorted(pd.to_datetime(ot.windows["window"])))
    every_row = label_schema_changes(ref, audit.current, target="y", prediction=None, task="binary", starts=starts,
                                     windows=_windows_of(audit, audit.current, "week", starts))
    assert len(every_row) == 1 and every_row.loc[0, "first_window"] is not None
    pd.testing.assert_frame_equal(ot.label_schema, every_row)



def test_category_labels_are_the_distinct_labels_of_as_categories():
    rng = np.random.default_rng(8)
    columns = [
        pd.Series(pd.Categorical(rng.choice(["a", "b", None], 500), categories=["a", "b", "unused"])),
        pd.Series(pd.Categorical(rng.choice([1, 2, 3], 200))),
        pd.Series(pd.Categorical([1, "1", "x", None], categories=[1, "1", "x"])),   # two categories read "1"
        pd.Series(pd.Categorical([None, None], categories=["a"])),
        pd.Series(rng.choice(["u", "v", None], 300), dtype=object),
        pd.Series(rng.integers(0, 5, 300)),
    ]
    for values in columns:
        got = dw.category_labels(values)
        assert got.is_unique
        assert set(got) == set(dw.as_categories(values).dropna().unique())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_category_shares_equal_pandas_value_counts_in_order(seed):
    rng = np.random.default_rng(seed)
    tied = rng.permutation(np.repeat([f"c{i:02d}" for i in range(60)], 10)).astype(object)   # 60 equal counts
    tied[rng.random(len(tied)) < 0.05] = None
    columns = [
        pd.Series(pd.Categorical(tied, categories=[f"c{i:02d}" for i in range(65)])),
        pd.Series(pd.Categorical(rng.choice(list("abcdefghijklmnopqrst"), 3000, p=np.r_[[0.3], np.full(19, 0.7 / 19)]))),
        pd.Series(pd.Categorical(rng.integers(0, 30, 500))),
        pd.Series(pd.Categorical([1, "1", "x", None], categories=[1, "1", "x"])),
        pd.Series(tied),
    ]
    for values in columns:
        want = dw.as_categories(values).dropna().value_counts(normalize=True)
        got = dw.category_shares(values)
        assert got.index.tolist() == want.index.tolist()
        np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())


def test_category_shares_of_the_effect_sentence_equal_a_groupby_over_labels():
    from sightline.drift.effects import _category_shares

    rng = np.random.default_rng(5)
    columns = [pd.Series(pd.Categorical(rng.choice(["b", "a", "c", None], 400), categories=["c", "b", "a", "z"])),
               pd.Series(rng.choice(["y", "x", None], 300), dtype=object),
               pd.Series(pd.Categorical([1, "1", "x", None], categories=[1, "1", "x"]))]
    for values in columns:
        codes, uniques = (values.cat.codes.to_numpy(), values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype) \
            else pd.factorize(values)
        counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
        want = pd.Series(counts[1:] / len(values), index=[str(u) for u in uniques])
        if counts[0]:
            want["(missing)"] = counts[0] / len(values)
        want = want[want > 0].groupby(level=0).sum()
        pd.testing.assert_series_equal(_category_shares(values), want)
