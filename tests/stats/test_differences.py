"""The one model comparison (sightline.stats.differences) against scipy on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, ttest_ind, ttest_rel

from sightline.stats.differences import (
    independent_mean_difference,
    independent_proportion_difference,
    unpaired_metric_differences,
    value_difference,
)


def test_welch_interval_and_p_value_equal_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 40), rng.normal(1.6, 2.5, 25)
    d, lo, hi, p = independent_mean_difference(a, b)
    ref = ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval()
    assert d == pytest.approx(b.mean() - a.mean())
    assert (lo, hi, p) == pytest.approx((ci.low, ci.high, ref.pvalue), rel=1e-10)


def test_value_difference_picks_the_test_the_values_call_for():
    rng = np.random.default_rng(4)
    ra, rb = rng.random(200) < 0.7, rng.random(200) < 0.8
    a, b = ra.astype(float), rb.astype(float)
    # paired 0/1: McNemar's exact test on the discordant pairs
    only_a, only_b = int((ra & ~rb).sum()), int((~ra & rb).sum())
    assert value_difference(a, b, paired=True)["p_value"] == pytest.approx(binomtest(only_b, only_a + only_b, 0.5).pvalue)
    # unpaired 0/1: the two-proportion z test of independent_proportion_difference
    assert value_difference(a, b[:150], paired=False)["p_value"] == independent_proportion_difference(ra, rb[:150])["p_value"]
    # paired errors: paired t; unpaired errors: Welch t
    ea, eb = np.abs(rng.normal(0, 1, 200)), np.abs(rng.normal(0, 1.2, 200))
    assert value_difference(ea, eb, paired=True)["p_value"] == pytest.approx(ttest_rel(eb, ea).pvalue, rel=1e-10)
    assert value_difference(ea, eb[:90], paired=False)["p_value"] == pytest.approx(
        ttest_ind(eb[:90], ea, equal_var=False).pvalue, rel=1e-10)
    assert np.isnan(value_difference(a[:1], b, paired=False)["p_value"])


def test_unpaired_regression_compares_absolute_errors():
    rng = np.random.default_rng(5)
    y1, y2 = rng.normal(size=300), rng.normal(size=200)
    p1, p2 = y1 + rng.normal(0, 1, 300), y2 + rng.normal(0, 0.5, 200)
    table = unpaired_metric_differences("regression", {"y": y1, "pred": p1}, {"y": y2, "pred": p2})
    assert table["metric"].tolist() == ["mean_absolute_error"]
    row = table.iloc[0]
    ref = ttest_ind(np.abs(p2 - y2), np.abs(p1 - y1), equal_var=False)
    assert row["difference"] == pytest.approx(np.abs(p2 - y2).mean() - np.abs(p1 - y1).mean())
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-10) and bool(row["significant"]) == (row["upper"] < 0 or row["lower"] > 0)
    assert not row["higher_is_better"]
