"""Tables of the whole-log figures (:func:`sightline.data.scale.whole_log_figures`) for page and card."""

from __future__ import annotations

import pandas as pd

from sightline.core.vocabulary import metric_name

# The rates of sightline.data.scale.rates_from_counts, in table order.
RATES = ("accuracy", "precision", "recall", "f1", "selection_rate", "false_positive_rate")


def whole_log_rates(figures: dict) -> pd.DataFrame:
    """One row per (slice, metric): ``slice`` ("all" or ``column=group``), ``metric``, ``whole_log``
    (exact, every labelled row), ``sample`` (the same on the sample), ``difference`` (sample −
    whole log), ``rows`` (labelled rows in the whole log). Empty for non-binary audits."""
    rows = []
    parts = [("all", (figures.get("overall") or {}))] + [
        (f"{g['column']}={g['group']}", g) for g in figures.get("groups") or []]
    for name, part in parts:
        whole, sample = part.get("whole_log"), part.get("sample") or {}
        if not whole:
            continue
        for key in RATES:
            w, s = whole.get(key), sample.get(key)
            rows.append({"slice": name, "metric": metric_name(key), "whole_log": w, "sample": s,
                         "difference": None if w is None or s is None else s - w, "rows": whole["n"]})
    return pd.DataFrame(rows, columns=["slice", "metric", "whole_log", "sample", "difference", "rows"])


def whole_log_counts(figures: dict) -> pd.DataFrame:
    """Rows per model version and labelled share per week, over every row: ``what``, ``rows``, ``labelled``."""
    rows = [{"what": f"version {v}", "rows": n, "labelled": None} for v, n in (figures.get("versions") or {}).items()]
    rows += [{"what": f"week of {w['week']} (primary version)", "rows": w["rows"], "labelled": w["labelled"]}
             for w in figures.get("label_coverage") or []]
    return pd.DataFrame(rows, columns=["what", "rows", "labelled"])


def largest_gap(figures: dict) -> float | None:
    """The largest |sample − whole log| over every rate and slice (None without rates)."""
    table = whole_log_rates(figures)
    return None if table.empty or table["difference"].isna().all() else float(table["difference"].abs().max())
