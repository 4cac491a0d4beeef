"""Standard SQL text for the query layer: quoted identifiers and literals, WHERE clauses from
equality filters, grouping columns and time windows, and the positive-label condition.

Everything here is plain SQL:2003 (double-quoted identifiers, ``CAST``, ``CASE``, ``TRIM``) except
``date_trunc`` in :func:`window_expression` (see :mod:`sightline.data.query` on portability).
Values always become literals with their quotes doubled: nothing a user types is pasted as SQL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

WINDOW_UNITS = ("hour", "day", "week", "month")
ERR_WINDOW_UNIT = "window unit {unit!r} is not one of " + ", ".join(WINDOW_UNITS)


def ident(name: str) -> str:
    """A double-quoted SQL identifier (standard quoting; embedded quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


def text_literal(value: str) -> str:
    """A single-quoted SQL string literal (embedded quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def number_literal(value: float) -> str:
    """A float as an exact SQL ``DOUBLE PRECISION`` (repr round-trips; infinities spelled out)."""
    value = float(value)
    if math.isnan(value):
        raise ValueError("NaN is not a valid bin edge or threshold")
    if math.isinf(value):
        return f"CAST({text_literal('Infinity' if value > 0 else '-Infinity')} AS DOUBLE PRECISION)"
    return f"CAST({value!r} AS DOUBLE PRECISION)"


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return number_literal(value)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return f"CAST({text_literal(pd.Timestamp(value).isoformat(sep=' '))} AS TIMESTAMP)"
    return text_literal(str(value))


def where_clause(where: Mapping[str, Any] | None, extra: Sequence[str] = ()) -> str:
    """``WHERE`` clause from equality filters (a list value means ``IN``) and extra conditions."""
    parts = list(extra)
    for col, value in (where or {}).items():
        if isinstance(value, (list, tuple, set, frozenset)):
            values = list(value)
            parts.append(f"{ident(col)} IN ({', '.join(literal(v) for v in values)})" if values else "1 = 0")
        elif value is None:
            parts.append(f"{ident(col)} IS NULL")
        else:
            parts.append(f"{ident(col)} = {literal(value)}")
    return f"WHERE {' AND '.join(parts)}" if parts else ""


def window_expression(column: str, unit: str) -> str:
    """SQL for the start of each row's time window (``date_trunc``; see the module notes)."""
    if unit not in WINDOW_UNITS:
        raise ValueError(ERR_WINDOW_UNIT.format(unit=unit))
    return f"date_trunc({text_literal(unit)}, {ident(column)})"


def group_columns(by: Sequence[str], window: tuple[str, str] | None) -> tuple[list[str], list[str]]:
    """(select expressions, output names) for the grouping columns and the window."""
    exprs, names = [ident(c) for c in by], list(by)
    if window is not None:
        exprs.append(f"{window_expression(*window)} AS {ident('window')}")
        names.append("window")
    return exprs, names


def group_by(names: Sequence[str]) -> str:
    return f"GROUP BY {', '.join(ident(n) for n in names)}" if names else ""


def is_positive(column: str, label: Any, kind: str) -> str:
    """SQL condition: the value of ``column`` equals the positive ``label`` (labels_equal rules)."""
    col = ident(column)
    if kind == "number":
        try:
            return f"{col} = {number_literal(float(label))}"
        except (TypeError, ValueError):
            return "1 = 0"
    if kind == "bool":
        text = str(label).strip()
        return f"{col} = TRUE" if text == "True" else (f"{col} = FALSE" if text == "False" else "1 = 0")
    if kind == "text":
        return f"TRIM({col}) = {text_literal(str(label).strip())}"
    return f"TRIM(CAST({col} AS VARCHAR)) = {text_literal(str(label).strip())}"
