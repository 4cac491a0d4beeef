"""Display helpers shared by the Markdown, HTML and PDF renderers (and the dashboard preview).

The JSON card keeps full-precision values; these helpers only decide how a human reads them:
4 significant digits, thousands separators, "—" for undefined, intervals in brackets.
"""

from __future__ import annotations

import math

import pandas as pd

from sightline.core.section import CardMetric
from sightline.core.vocabulary import metric_label

MAX_TABLE_ROWS = 60     # rendered tables stop here; the full numbers are in report.json
MAX_TABLE_COLUMNS = 14  # more would be unreadable on an A4 page; the rest are in report.json
NBSP = "\u00a0"         # keeps "[0.81, 0.83]" on one line when a cell wraps
EMPTY = "—"


def number(value) -> str:
    """A value as a person reads it: ``0.9213``, ``12,480``, ``—`` for missing or NaN."""
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return EMPTY
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    try:
        if pd.isna(value):
            return EMPTY
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return number(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()[:19].replace("T", " ")
    return str(value)


def metric_cell(m: CardMetric) -> str:
    """``0.9213 [0.9101, 0.9318]`` — the value with its 95% interval when one was computed."""
    text = number(float(m.value)) if m.value is not None else EMPTY
    if m.lower is not None and m.upper is not None and not (math.isnan(m.lower) or math.isnan(m.upper)):
        text += f" [{number(float(m.lower))},{NBSP}{number(float(m.upper))}]"
    return text


def slice_label(s: str) -> str:
    return s if s else "overall"


def metrics_tables(metrics: tuple[CardMetric, ...]) -> list[tuple[str, pd.DataFrame]]:
    """An area's metrics as at most two readable tables (rows: slice, columns: metric, by its label):
    "Overall and summaries" (slice "" or a column name, e.g. a fairness summary over ``sex``)
    and "Per slice / group" (slices ``col=value``). Cells are display strings with intervals;
    ``n`` is the largest row count reported for the slice."""
    out = []
    summary = [m for m in metrics if "=" not in m.slice]
    groups = [m for m in metrics if "=" in m.slice]
    for title, items in (("Overall and summaries", summary), ("Per slice / group", groups)):
        if not items:
            continue
        slices = list(dict.fromkeys(m.slice for m in items))
        types = list(dict.fromkeys(m.type for m in items))
        cells = {(m.slice, m.type): metric_cell(m) for m in items}
        ns: dict[str, int] = {}
        for m in items:
            if m.n is not None:
                ns[m.slice] = max(ns.get(m.slice, 0), int(m.n))
        rows = []
        for s in slices:
            row = {"slice": slice_label(s)}
            if ns:
                row["n"] = number(ns[s]) if s in ns else EMPTY
            row.update({metric_label(t): cells.get((s, t), EMPTY) for t in types})
            rows.append(row)
        out.append((title, pd.DataFrame(rows)))
    return out


def display_table(table: pd.DataFrame, max_rows: int = MAX_TABLE_ROWS,
                  max_columns: int = MAX_TABLE_COLUMNS) -> tuple[pd.DataFrame, int, int]:
    """(the first ``max_rows`` rows and ``max_columns`` columns with every cell as display text,
    number of rows left out, number of columns left out). A named index becomes the first column."""
    if table.index.name is not None or isinstance(table.index, pd.MultiIndex):
        table = table.reset_index()
    hidden = max(0, len(table) - max_rows)
    hidden_cols = max(0, table.shape[1] - max_columns)
    shown = table.iloc[:max_rows, :max_columns]
    # Positional, so duplicate column names survive.
    text = pd.DataFrame([[number(v) for v in row] for row in shown.itertuples(index=False, name=None)],
                        columns=[str(c) for c in shown.columns])
    return text, hidden, hidden_cols


def rows_of(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a display table."""
    return [str(c) for c in table.columns], table.astype(str).values.tolist()
