"""Numbers as people write them, by unit: one formatter for every sentence and table that quotes
a data value (a median, a group's error, a bin's bounds).

Units (the ``unit`` argument of :func:`format_value`):

- ``rate`` (alias ``percent``): a share in [0, 1], written as a percentage (0.043 → ``4.3%``);
- ``count``: a whole number with thousands separators (``12,345``);
- ``money`` (alias ``amount``): no decimals from 100 up (``5,040``), cents below (``12.50``);
- ``year``: a calendar year, never with a separator (``1993``);
- ``score`` (alias ``probability``): three decimals (``0.874``), for scores and metrics in [0, 1];
- ``ms``: milliseconds with the unit (``135 ms``, ``4.2 ms``);
- ``measure``: anything else, about three significant digits (``951``, ``71.6``, ``0.0042``).

Never scientific notation (``5.04e+03``); a missing or infinite value is ``n/a``. :func:`guess_unit`
reads a column's unit from its name and values (``year_built`` holding 1950–2020 is a year).
No imports of ours: every layer may use it.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

import numpy as np

RATE, COUNT, MONEY, YEAR, SCORE, MS, MEASURE = "rate", "count", "money", "year", "score", "ms", "measure"
UNITS = (RATE, COUNT, MONEY, YEAR, SCORE, MS, MEASURE)
_ALIASES = {"percent": RATE, "share": RATE, "amount": MONEY, "probability": SCORE, "latency": MS}
MISSING = "n/a"
YEAR_RANGE = (1800, 2100)      # whole numbers in this range, in a column named like a year, are years
SIGNIFICANT = 3                # digits of a plain measure
MAX_DECIMALS = 6               # below 0.000001 a measure reads as 0

# words of a column name (split at non-letters and camelCase) that suggest its unit
_YEAR_WORDS = {"year", "years", "yr", "yrs", "yob", "built", "founded", "established", "vintage", "season"}
_MONEY_WORDS = {"price", "prices", "cost", "costs", "salary", "income", "revenue", "amount", "fee", "fees", "wage",
                "wages", "rent", "spend", "spent", "paid", "payment", "budget", "usd", "eur", "gbp", "pln", "chf", "jpy"}
_MS_WORDS = {"ms", "latency", "millis", "milliseconds"}
_SCORE_WORDS = {"score", "proba", "prob", "probability", "confidence"}
_COUNT_WORDS = {"count", "counts", "n", "num", "number", "qty", "quantity"}


def canonical_unit(unit: str) -> str:
    """``unit`` or its alias resolved (``percent`` → ``rate``); an unknown name is a ``measure``."""
    unit = _ALIASES.get(str(unit).lower(), str(unit).lower())
    return unit if unit in UNITS else MEASURE


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _significant(v: float, digits: int) -> str:
    """``v`` to ``digits`` significant digits in fixed notation, trailing zeros dropped;
    thousands separators from 1,000 up."""
    if v == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(v)))
    decimals = min(max(digits - 1 - magnitude, 0), MAX_DECIMALS)
    text = f"{round(v, decimals):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_value(x: Any, unit: str = MEASURE, *, digits: int = SIGNIFICANT) -> str:
    """One number as text in its unit (see the module's list); ``digits``: significant digits of
    a ``measure``. Inputs: a number (int, float, numpy scalar) or None. Output: a string without
    scientific notation; ``n/a`` for None, NaN or infinity."""
    v = _finite(x)
    if v is None:
        return MISSING
    unit = canonical_unit(unit)
    if unit == YEAR:
        return str(int(round(v)))
    if unit == COUNT:
        return f"{int(round(v)):,d}"
    if unit == RATE:
        p = v * 100
        if p == 0:
            return "0%"
        if abs(p) < 0.1:  # 0.04%: one significant digit, not "0.0%"
            return _significant(p, 1) + "%"
        if round(abs(p), 1) < 10:
            return f"{p:.1f}%"
        return f"{p:.0f}%"
    if unit == SCORE:
        return f"{v:.3f}" if abs(v) < 1000 else _significant(v, max(digits, 4))
    if unit == MS:
        return f"{v:,.0f} ms" if abs(v) >= 10 else f"{v:.1f} ms"
    if unit == MONEY:
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    if v.is_integer():
        return f"{int(v):,d}"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return _significant(v, digits)


def format_range(low: Any, high: Any, unit: str = MEASURE, *, digits: int = SIGNIFICANT) -> str:
    """``low–high`` in one unit (``1993–2010``, ``7,574–9,632``); one value when both read the same."""
    a, b = format_value(low, unit, digits=digits), format_value(high, unit, digits=digits)
    return a if a == b else f"{a}–{b}"


def _as_floats(values: Iterable[Any] | None) -> np.ndarray | None:
    """The finite values as a float array (non-numbers dropped); None stays None."""
    if values is None:
        return None
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        arr = np.array([v for v in (_finite(x) for x in values) if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def name_words(name: Any) -> set[str]:
    """The lower-case words of a column name: ``yearBuilt`` and ``year_built`` give {year, built}."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name or ""))
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w}


def looks_like_years(values: Iterable[Any] | None) -> bool:
    """True when every finite value is a whole number in :data:`YEAR_RANGE` (and there is one)."""
    nums = _as_floats(values)
    return nums is not None and len(nums) > 0 and bool(np.all((nums == np.round(nums)) & (nums >= YEAR_RANGE[0])
                                                                & (nums <= YEAR_RANGE[1])))


def guess_unit(name: Any, values: Iterable[Any] | None = None) -> str:
    """The unit of a column from its name and (optionally) its values.

    A year: whole numbers in 1800–2100, and a name that suggests one (``year_built``, ``yr``) or no
    name that suggests another unit. Money: a price, cost, salary, income … name. Milliseconds:
    ``latency``/``*_ms``. A score: ``score``/``proba``/``confidence`` with values in [0, 1]. A count:
    ``count``/``n_*``/``num_*``. Otherwise a ``measure``. ``values``: any iterable of numbers
    (a sample is enough); without them the name alone decides, and a year needs a year-like name."""
    words = name_words(name)
    nums = _as_floats(values)
    if words & _YEAR_WORDS and (nums is None or looks_like_years(nums)):
        return YEAR
    if words & _MONEY_WORDS:
        return MONEY
    if words & _MS_WORDS:
        return MS
    if words & _SCORE_WORDS and (nums is None or bool(np.all((nums >= 0) & (nums <= 1)))):
        return SCORE
    if words & _COUNT_WORDS:
        return COUNT
    if nums is not None and looks_like_years(nums):
        return YEAR
    return MEASURE
