"""Display helpers shared by the Markdown, HTML and PDF renderers (and the dashboard preview).

The JSON card keeps full-precision values; these helpers only decide how a human reads them:
three decimals below 1 (a difference smaller than 0.0005 reads 0.000), three significant digits
up to 100, whole numbers with thousands separators, p-values below 0.001 as "< 0.001", "—" for
undefined, intervals in brackets, column names in words. Nothing is ever printed in scientific
notation.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from sightline.core.section import CardMetric
from sightline.core.vocabulary import METRICS, metric_label

MAX_TABLE_ROWS = 60     # rendered tables stop here; the full numbers are in report.json
MAX_TABLE_COLUMNS = 14  # more would be unreadable on an A4 page; the rest are in report.json
NBSP = "\u00a0"         # keeps "[0.81, 0.83]" on one line when a cell wraps
EMPTY = "—"


def _float_text(value: float) -> str:
    magnitude = abs(value)
    if value.is_integer() or magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.3g}"
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text  # a tiny negative difference is no difference at this precision


def p_value_text(value: float) -> str:
    """A p-value as a reviewer reads it: ``< 0.001`` below one in a thousand, else three decimals."""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def number(value, *, p_value: bool = False) -> str:
    """A value as a person reads it: ``0.921``, ``2.83``, ``12,480``, ``0.000`` for a difference
    below 0.0005, ``—`` for missing or NaN, ``yes``/``no``; ``p_value``: ``< 0.001`` or three
    decimals. Never scientific notation."""
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
        return p_value_text(value) if p_value else _float_text(value)
    try:
        if pd.isna(value):
            return EMPTY
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return number(value.item(), p_value=p_value)
    if isinstance(value, pd.Timestamp):
        text = value.isoformat()[:19].replace("T", " ")
        return text[:10] if text.endswith(" 00:00:00") else text  # a day, a week or a month start
    text = str(value)
    return metric_label(text) if text in METRICS else text


_SCIENTIFIC = re.compile(r"(?<![0-9A-Za-z.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![0-9A-Za-z])")


def plain_numbers(text: str) -> str:
    """``text`` with every number in scientific notation written as :func:`number` writes it
    (``largest gap 3.6e-14`` → ``largest gap 0.000``): the areas' verdicts are computed prose."""
    return _SCIENTIFIC.sub(lambda m: number(float(m.group(0))), str(text))


def moment(iso: str | None) -> str:
    """An ISO timestamp as ``2026-06-01 14:05 UTC`` (``2026-06-01`` when it has no time); "" for None."""
    if not iso:
        return ""
    stamp = pd.Timestamp(iso)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    has_time = "T" in str(iso) or " " in str(iso).strip()
    return stamp.strftime("%Y-%m-%d %H:%M UTC" if has_time else "%Y-%m-%d")


_P_COLUMNS = re.compile(r"(^|_)(p|p_value|pvalue|p_adjusted|p_adj|q_value|adjusted_p)$", re.I)
_SUFFIXES = {"_lower": "lower bound", "_upper": "upper bound", "_gap": "gap", "_impact": "impact",
             "_difference": "difference", "_ratio": "ratio", "_delta": "change"}
_WORDS = {"n": "n", "p_value": "p-value", "p_adjusted": "Adjusted p-value", "ci_lower": "Lower bound",
          "ci_upper": "Upper bound", "lower": "Lower bound", "upper": "Upper bound"}


def is_p_column(name) -> bool:
    """True for a column of p-values (``p_value``, ``p_adjusted``, ``q_value`` …)."""
    return bool(_P_COLUMNS.search(str(name)))


_ACRONYMS = {"ece": "ECE", "mce": "MCE", "shap": "SHAP", "psi": "PSI", "auc": "AUC", "roc": "ROC", "ks": "KS", "ci": "CI",
             "id": "ID", "sha": "SHA", "mae": "MAE", "rmse": "RMSE"}


def words(name) -> str:
    """A snake_case name in words, first letter capitalised, abbreviations in capitals
    (``rest_error_rate`` → ``Rest error rate``, ``ece_lower`` → ``ECE lower``)."""
    parts = [_ACRONYMS.get(w.lower(), w) for w in str(name).replace("_", " ").split()]
    text = " ".join(parts)
    return text[:1].upper() + text[1:]


def column_label(name) -> str:
    """A table header a reviewer reads: a metric key by its label (``roc_auc`` → ``ROC AUC``),
    ``accuracy_lower`` → ``Accuracy lower bound``, ``p_adjusted`` → ``Adjusted p-value``, any
    other snake_case name in words."""
    text = str(name)
    if text in _WORDS:
        return _WORDS[text]
    if text in METRICS:
        return metric_label(text)
    for suffix, word in _SUFFIXES.items():
        if text.endswith(suffix) and text[: -len(suffix)] in METRICS:
            return f"{metric_label(text[: -len(suffix)])} {word}"
    return words(text)


_KEY_SPLIT = re.compile(r"\.(?=[A-Za-z_])")  # "versions.challenger-2.0.window": the dot in "2.0" is part of a name


def setting_label(key: str) -> str:
    """A flattened settings key in words: ``discovery.max_order`` → ``Discovery › max order``,
    ``versions.challenger-2.0.agreement_window`` → ``Versions › challenger-2.0 › agreement window``."""
    parts = [p.replace("_", " ") for p in _KEY_SPLIT.split(str(key)) if p]
    if not parts:
        return str(key)
    parts[0] = parts[0][:1].upper() + parts[0][1:]
    return " › ".join(parts)


def setting_text(value) -> str:
    """A setting's value as written: floats to six significant digits, never in scientific notation
    (``0.95``, ``0.000001``, ``1194.82``), other values as :func:`number` shows them."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return np.format_float_positional(value, precision=6, unique=True, fractional=False, trim="-")
    return number(value)


def readable_pairs(mapping, prefix: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """A nested settings mapping as ``[(label, value text)]`` for the card's appendix: keys by
    :func:`setting_label`, numbers by :func:`number`, lists joined with commas."""
    out: list[tuple[str, str]] = []
    for key, value in (mapping or {}).items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and value:
            out.extend(readable_pairs(value, path))
            continue
        if isinstance(value, (list, tuple)):
            text = ", ".join(setting_text(v) for v in value) or EMPTY
        elif isinstance(value, dict):
            text = EMPTY
        else:
            text = setting_text(value)
        label = " › ".join(p.replace("_", " ") for p in path)
        out.append((label[:1].upper() + label[1:], text))
    return out


def metric_cell(m: CardMetric) -> str:
    """``0.9213 [0.9101, 0.9318]`` — the value with its 95% interval when one was computed."""
    text = number(float(m.value)) if m.value is not None else EMPTY
    if m.lower is not None and m.upper is not None and not (math.isnan(m.lower) or math.isnan(m.upper)):
        text += f" [{number(float(m.lower))},{NBSP}{number(float(m.upper))}]"
    return text


def slice_label(s: str) -> str:
    return s if s else "overall"


def metrics_tables(metrics: tuple[CardMetric, ...]) -> list[tuple[str, pd.DataFrame]]:
    """An area's metrics as at most two readable tables, cells as display strings with intervals.

    "Overall and summaries" (slice "" or a column name, e.g. a fairness summary over ``sex``): one
    row per metric (by its label), one value column per slice (with an ``n`` column when there is
    only the overall slice) — narrow, so it fits a page. "Per slice / group" (slices
    ``col=value``): one row per slice with its ``n`` (the largest row count reported for it), one
    column per metric."""
    out = []
    summary = [m for m in metrics if "=" not in m.slice]
    groups = [m for m in metrics if "=" in m.slice]
    if summary:
        slices = list(dict.fromkeys(m.slice for m in summary))
        types = list(dict.fromkeys(m.type for m in summary))
        cells = {(m.slice, m.type): m for m in summary}
        rows = []
        for t in types:
            row = {"Metric": metric_label(t)}
            for s in slices:
                m = cells.get((s, t))
                row["Value [95% interval]" if len(slices) == 1 else slice_label(s)] = metric_cell(m) if m else EMPTY
            if len(slices) == 1:
                m = cells.get((slices[0], t))
                row["n"] = number(int(m.n)) if m is not None and m.n is not None else EMPTY
            rows.append(row)
        out.append(("Overall and summaries", pd.DataFrame(rows)))
    if groups:
        slices = list(dict.fromkeys(m.slice for m in groups))
        types = list(dict.fromkeys(m.type for m in groups))
        cells = {(m.slice, m.type): metric_cell(m) for m in groups}
        ns: dict[str, int] = {}
        for m in groups:
            if m.n is not None:
                ns[m.slice] = max(ns.get(m.slice, 0), int(m.n))
        rows = []
        for s in slices:
            row = {"Slice": slice_label(s)}
            if ns:
                row["n"] = number(ns[s]) if s in ns else EMPTY
            row.update({metric_label(t): cells.get((s, t), EMPTY) for t in types})
            rows.append(row)
        out.append(("Per slice / group", pd.DataFrame(rows)))
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
    p_cols = [is_p_column(c) for c in shown.columns]
    text = pd.DataFrame([[number(v, p_value=p) for v, p in zip(row, p_cols)] for row in shown.itertuples(index=False, name=None)],
                        columns=[column_label(c) for c in shown.columns])
    return text, hidden, hidden_cols


def rows_of(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a display table."""
    return [str(c) for c in table.columns], table.astype(str).values.tolist()
