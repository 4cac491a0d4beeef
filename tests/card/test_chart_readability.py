"""Charts the page and the card share: a bar's colour and its length tell the same story, labels sit
apart from the threshold line, and the widest charts fit the page's column at a 1440 px window.

Widths are measured on the SVG vl-convert draws (the card's renderer, the same Vega as the page).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sightline.card.png import spec_png
from sightline.charts import STATUS_COLORS, chart_spec, chart_svg
from sightline.charts.drift import DRIFTED, NOT_DRIFTED, SCORE_CAP, feature_drift_chart, score_vs_threshold
from sightline.charts.fairness import gaps_over_time_chart

# The main column of a wide Streamlit page in a 1440 px window: 1440 − 300 (sidebar) − 2 × 80 (padding).
COLUMN_PX = 980
COLUMNS = ["feature", "kind", "method", "statistic", "p_value", "threshold", "drifted", "psi", "effect"]


def _features(rows) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(COLUMNS, r)) for r in rows], columns=COLUMNS)


# The issue's case: age drifted by its Wasserstein test with a PSI below workclass's, workclass not drifted.
ISSUE_CASE = _features([
    ("age", "numeric", "Wasserstein distance (normed)", 2.7, None, 0.1, True, 0.099, "median moved from 37 to 42"),
    ("workclass", "categorical", "Jensen-Shannon distance", 0.089, None, 0.1, False, 0.1106, "'Private' went from 69% to 66%"),
    ("hours", "numeric", "K-S p_value", None, 0.0025, 0.05, True, 0.004, "mean moved from 40.6 to 41.0"),
    ("sex", "categorical", "chi-square p_value", None, 0.6, 0.05, False, 0.0002, "'Female' went from 33% to 32%"),
    ("race", "categorical", "Z-test p_value", None, 0.0, 0.05, True, 0.001, "'Other' went from 1% to 4%"),
])


def _svg_width(svg: str) -> float:
    return float(re.search(r'<svg[^>]*\swidth="([\d.]+)"', svg).group(1))


def test_score_vs_threshold_by_hand():
    score = score_vs_threshold(ISSUE_CASE)
    assert score.iloc[0] == pytest.approx(27.0)                 # 2.7 ÷ 0.1
    assert score.iloc[1] == pytest.approx(0.89)                 # 0.089 ÷ 0.1
    assert score.iloc[2] == pytest.approx(2.0)                  # log 0.0025 ÷ log 0.05, as 0.0025 = 0.05²
    assert score.iloc[3] == pytest.approx(np.log(0.6) / np.log(0.05))
    assert np.isfinite(score.iloc[4]) and score.iloc[4] > 100   # p = 0: far past the threshold, not undefined
    assert np.isnan(score_vs_threshold(_features([("x", "numeric", "K-S p_value", None, None, 0.05, False, 0.0, "")])).iloc[0])


def test_past_the_threshold_exactly_when_the_test_says_drifted():
    """Evidently's rules, drawn at random: a distance drifts when statistic ≥ threshold, a p-value
    test when p < threshold. The score is past 1 for exactly those rows."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(400):
        t = float(rng.choice([0.01, 0.05, 0.1, 0.2]))
        if i % 2:
            stat = float(rng.uniform(0, 3 * t))
            rows.append((f"d{i}", "numeric", "Wasserstein distance (normed)", stat, None, t, stat >= t, 0.01, ""))
        else:
            p = float(10 ** rng.uniform(-12, 0))
            rows.append((f"p{i}", "numeric", "K-S p_value", None, p, t, p < t, 0.01, ""))
    table = _features(rows)
    assert ((score_vs_threshold(table) >= 1) == table["drifted"]).all()


def _bars_and_text(chart) -> tuple[pd.DataFrame, dict, dict]:
    spec = chart_spec(chart)
    data = pd.DataFrame(next(iter(spec["datasets"].values())))
    return data, spec["hconcat"][0], spec["hconcat"][1]


def test_drift_bars_colour_and_length_agree_on_the_issue_case():
    data, plot, _ = _bars_and_text(feature_drift_chart(ISSUE_CASE))
    bars = next(layer for layer in plot["layer"] if layer["mark"]["type"] == "bar")
    colour = bars["encoding"]["color"]
    colour_of = dict(zip(colour["scale"]["domain"], colour["scale"]["range"]))
    assert colour_of[DRIFTED] == STATUS_COLORS["red"] and colour_of[NOT_DRIFTED] != STATUS_COLORS["red"]
    assert bars["encoding"]["x"]["field"] == "bar" and colour["field"] == "outcome"
    red = data[data["outcome"] == DRIFTED]
    other = data[data["outcome"] != DRIFTED]
    assert set(red["feature"]) == {"age", "hours", "race"}
    # every red bar is longer than every other bar, and the only red ones are past the line at 1
    assert red["bar"].min() >= 1 > other["bar"].max()
    assert data.set_index("feature").loc["age", "bar"] == SCORE_CAP > data.set_index("feature").loc["workclass", "bar"]
    rule = next(layer for layer in plot["layer"] if layer["mark"]["type"] == "rule")
    assert pd.DataFrame(next(v for k, v in chart_spec(feature_drift_chart(ISSUE_CASE))["datasets"].items()
                             if v and "what" in v[0]))["x"].tolist() == [1.0]
    assert rule["encoding"]["x"]["field"] == "x"


def test_drift_labels_sit_in_their_own_column_not_over_the_threshold_line():
    data, plot, text = _bars_and_text(feature_drift_chart(ISSUE_CASE))
    assert {layer["mark"]["type"] for layer in plot["layer"]} == {"bar", "rule"}   # no text where the line is
    assert text["mark"]["type"] == "text" and text["encoding"]["x"] == {"value": 0}
    labels = dict(zip(data["feature"], data["test"]))
    assert labels["age"] == "Wasserstein 2.7 ≥ 0.1 (27× the threshold) · PSI 0.099"
    assert labels["workclass"] == "Jensen-Shannon 0.089 < 0.1 · PSI 0.11"
    assert labels["race"] == "Z-test p <0.001 < 0.05 · PSI 0.001"
    assert labels["hours"] == "K-S p 0.0025 < 0.05 · PSI 0.004"
    assert not any(re.search(r"\de[-+]\d", t) for t in labels.values())   # no scientific notation


def test_drift_feature_chart_fits_the_column():
    many = _features([(f"feature_with_a_long_name_{i}", "numeric", "Wasserstein distance (normed)", 0.02 * i, None, 0.1,
                       0.02 * i >= 0.1, 0.001 * i, "") for i in range(30)])
    assert _svg_width(chart_svg(feature_drift_chart(many))) <= COLUMN_PX


def test_fairness_over_time_fits_the_column_with_the_latest_week_drawn():
    """Twelve intersectional groups with long names (the most the legend colours) over 14 weeks."""
    weeks = pd.date_range("2026-06-01", periods=14, freq="W-MON")
    groups = [f"Asian-Pac-Islander & Female & group {i}" for i in range(14)]
    over_time = pd.DataFrame([{"window": w, "group": g, "rows": 40 + i} for w in weeks for i, g in enumerate(groups)])
    gaps = pd.DataFrame([{"window": w, "metric": m, "value": 0.1 + 0.01 * k, "lower": 0.05, "upper": 0.2,
                          "group_high": groups[0], "group_low": groups[1], "groups_compared": 14}
                         for k, w in enumerate(weeks) for m in ("demographic_parity_difference", "equal_opportunity_difference")])
    chart = gaps_over_time_chart(gaps, over_time, tolerance={"demographic_parity_difference": 0.1})
    svg = chart_svg(chart)
    assert _svg_width(svg) <= COLUMN_PX
    assert "Aug 31, 2026" in svg   # the last week is on the axis, not cut off


def test_no_features_still_draws_a_chart():
    """A log whose features all dropped out (e.g. one row) gets a drawable chart saying so, not an
    hconcat of nothing that Vega cannot size."""
    empty = pd.DataFrame(columns=["feature", "kind", "method", "statistic", "p_value", "threshold", "drifted", "psi", "effect"])
    svg = chart_svg(feature_drift_chart(empty))
    assert "No feature was compared with the reference." in svg and _svg_width(svg) > 0
    assert spec_png(chart_spec(feature_drift_chart(empty)), 1.0)[:4] == b"\x89PNG"  # the card's renderer draws it
