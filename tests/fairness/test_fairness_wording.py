"""Fairness sentences fit the audit: people only for person attributes, numbers in the target's
unit, and an interval quoted only when one was computed (the regression error ratio now has one)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sightline.fairness.groups import group_metrics, regression_group_metrics
from sightline.fairness.summaries import fairness_summaries, pair_confidence, people


def _regression_groups(seed: int = 0, n: int = 400):
    rng = np.random.default_rng(seed)
    district = rng.choice(["Bielany", "Wola"], n)
    y = rng.normal(12_000, 2_000, n)
    noise = np.where(district == "Bielany", 1_500, 650)
    pred = y + rng.normal(0, 1, n) * noise
    return y, pred, pd.Series(district, name="district")


def test_error_ratio_interval_agrees_with_a_bootstrap():
    y, pred, district = _regression_groups()
    groups = regression_group_metrics(y, pred, sensitive_features=district)
    row = fairness_summaries(groups, task="regression").loc["mean_absolute_error_ratio"]
    err = np.abs(pred - y)
    a, b = err[district.to_numpy() == "Bielany"], err[district.to_numpy() == "Wola"]
    assert row["value"] == pytest.approx(b.mean() / a.mean(), rel=1e-12)
    rng = np.random.default_rng(1)
    boot = [rng.choice(b, len(b)).mean() / rng.choice(a, len(a)).mean() for _ in range(4000)]
    level = pair_confidence(2)  # two groups: one pair, so 95%
    lo, hi = np.quantile(boot, [(1 - level) / 2, 1 - (1 - level) / 2])
    assert row["lower"] == pytest.approx(lo, abs=0.02) and row["upper"] == pytest.approx(hi, abs=0.02)
    # the whole interval is under 0.8, so the summary is red and the sentence quotes that interval
    assert row["status"] == "red" and "and so is the whole 95% interval" in row["sentence"]


def test_regression_sentences_name_groups_not_people_and_write_plain_numbers():
    y, pred, district = _regression_groups()
    table = fairness_summaries(regression_group_metrics(y, pred, sensitive_features=district), task="regression", unit="money")
    text = " ".join(table["sentence"])
    assert "people" not in text and "district = Bielany" in text and "district = Wola" in text
    assert "e+0" not in text
    mae = np.abs(pred - y)[district.to_numpy() == "Bielany"].mean()
    assert f"({mae:,.0f})" in table.loc["mean_absolute_error_ratio", "sentence"]     # 1,2xx, not 1.2e+03
    # declared person attribute: the same table speaks of people
    as_people = fairness_summaries(regression_group_metrics(y, pred, sensitive_features=district), task="regression",
                                   subjects="people")
    assert "people in the Wola group" in " ".join(as_people["sentence"])


def test_no_interval_is_quoted_when_none_was_computed():
    # one row per group has no spread: the error ratio has no interval, and the sentence says so
    groups = regression_group_metrics([0.0, 0.0], [3.0, 1.0], sensitive_features=pd.Series(["a", "b"], name="g"),
                                      min_group_size=1)
    row = fairness_summaries(groups, task="regression").loc["mean_absolute_error_ratio"]
    assert not np.isfinite(row["lower"])
    assert "95% interval" not in row["sentence"] and "no interval could be computed" in row["sentence"]


def test_classification_keeps_people_words():
    assert people("sex", "Female") == "women"
    assert people("district", "Bielany", "rows") == "district = Bielany"
    rng = np.random.default_rng(2)
    sex = pd.Series(rng.choice(["Female", "Male"], 600), name="sex")
    y = rng.integers(0, 2, 600)
    pred = np.where(sex == "Male", rng.random(600) < 0.6, rng.random(600) < 0.2).astype(int)
    text = " ".join(fairness_summaries(group_metrics(y, pred, sensitive_features=sex), task="binary")["sentence"])
    assert "Women are selected" in text
