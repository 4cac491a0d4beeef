"""The number formatter (sightline.core.numbers) against hand-written expectations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sightline.core.numbers import format_range, format_value, guess_unit, looks_like_years


@pytest.mark.parametrize("value, unit, text", [
    (5040.0, "money", "5,040"),                 # never 5.04e+03
    (5040.0, "measure", "5,040"),
    (12.5, "money", "12.50"),
    (3505.2, "measure", "3,505"),
    (950.728, "measure", "951"),
    (71.6, "measure", "71.6"),
    (2.99, "measure", "2.99"),
    (3.0, "measure", "3"),
    (-4.152e-05, "measure", "-0.000042"),       # small values in fixed notation
    (1.2e-72, "measure", "0"),
    (1e12, "measure", "1,000,000,000,000"),
    (1993, "year", "1993"),                     # never 1,993
    (1993.0, "year", "1993"),
    (12345, "count", "12,345"),
    (0.043, "rate", "4.3%"),
    (0.5, "percent", "50%"),
    (0.0004, "rate", "0.04%"),
    (0.0, "rate", "0%"),
    (1.0, "rate", "100%"),
    (0.874, "score", "0.874"),
    (0.8745, "probability", "0.875"),
    (135.2, "ms", "135 ms"),
    (4.23, "ms", "4.2 ms"),
    (np.int64(2010), "year", "2010"),
    (np.float32(0.25), "rate", "25%"),
])
def test_format_value_by_unit(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, float("inf"), "text"])
@pytest.mark.parametrize("unit", ["rate", "count", "money", "year", "score", "ms", "measure"])
def test_missing_values_read_n_a(missing, unit):
    assert format_value(missing, unit) == "n/a"


def test_no_scientific_notation_over_many_magnitudes():
    for exponent in range(-12, 16):
        for unit in ("measure", "money", "count", "score", "ms", "rate"):
            text = format_value(1.234 * 10.0 ** exponent, unit)
            assert "e+" not in text and "e-" not in text, (exponent, unit, text)


def test_ranges():
    assert format_range(1993, 2010, "year") == "1993–2010"
    assert format_range(7574, 9632, "money") == "7,574–9,632"
    assert format_range(5, 5, "count") == "5"


@pytest.mark.parametrize("name, values, unit", [
    ("year_built", [1950, 2020], "year"),
    ("yearBuilt", None, "year"),
    ("hire_year", pd.Series([1990, 2024, None]), "year"),
    ("year_built", [1950.5, 2020], "measure"),   # a year-like name with non-years: not a year
    ("built", [1995], "year"),
    ("construction", [1901, 1999, 2005], "year"),  # whole numbers all in 1800–2100
    ("m2_price", [5000.0, 15000.0], "money"),
    ("salary", None, "money"),
    ("current_value", [1.0, 2.0], "measure"),     # "rent" inside "current" is no money word
    ("latency_ms", [3.2], "ms"),
    ("proba_fired", [0.3, 0.9], "score"),
    ("score", [0.2, 1.7], "measure"),             # a "score" outside [0, 1] is not a probability
    ("n_rooms", [3], "count"),
    ("age", [30, 40], "measure"),
    ("district", ["Bielany", "Wola"], "measure"),
])
def test_guess_unit(name, values, unit):
    assert guess_unit(name, values) == unit


def test_looks_like_years():
    assert looks_like_years(np.array([1800, 2100]))
    assert not looks_like_years([1799, 2000]) and not looks_like_years([]) and not looks_like_years([2000.5])
