"""Slice-based evaluation: metrics per slice with confidence intervals, gap and impact.

A *slice* is a set of rows sharing one value of a column (``sex=Female``), one numeric bin
(``age=37–45``), or an intersection of two or three of those (``sex=Female & race=Black``).
Categorical columns are used as they are (missing values become the slice ``(missing)``;
beyond :data:`MAX_LEVELS` the rarest values are pooled as ``(other)``); numeric columns are
cut at their quantiles into ``n_bins`` bins labelled by the smallest and largest value inside
(``age 37–45``).

Everything is computed from grouped confusion counts (one ``np.bincount`` per column set),
never row by row, so a 1,000,000-row log takes well under a second per table.

Metrics, intervals, gap and impact: :mod:`sightline.slices.outcomes`; the slice table:
:mod:`sightline.slices.tables`; column encoding: :mod:`sightline.slices.encoding`. This module
prepares an audit's slice data and builds the Slices section.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sightline.charts.slices import simpson_chart, slice_metric_chart, worst_slices_chart
from sightline.core.errors import MissingInputError
from sightline.core.numbers import RATE, format_value
from sightline.core.section import AMBER, GREEN, RED, CardMetric, Chart, Section, Verdict
from sightline.core.vocabulary import METRICS
from sightline.slices.finder import find_worst_slices
from sightline.slices.inputs import DEFAULT_MAX_ORDER, SliceData, min_slice_size, slice_data, slice_setting
from sightline.slices.outcomes import mask_stats, metrics_frame, overall_metrics, total_stats
from sightline.slices.simpson import PARADOX, compare_versions

log = logging.getLogger(__name__)

# Model-card metric types emitted per slice (error_rate is 1 − accuracy, so it is left out).
CARD_TYPES = {
    "binary": ("accuracy", "precision", "recall", "f1", "selection_rate", "roc_auc"),
    "multiclass": ("accuracy",),
    "regression": ("mean_absolute_error",),
}


def default_columns(data: SliceData, audit, discovered: pd.DataFrame | None = None, n_features: int = 3,
                    keys: Sequence[Sequence[tuple[str, int]]] | None = None) -> tuple[list[str], list[str]]:
    """The columns to tabulate: ``slices.columns`` when set, else the sensitive columns plus
    up to ``n_features`` features (those in the worst discovered slices first). ``keys``: the
    discovered slices' :attr:`SliceSearch.keys` (their columns exactly; else the ``columns``
    text of ``discovered`` is split at " & ").

    Output: (columns, ignored) — ``ignored`` names configured columns that cannot be sliced.
    """
    configured = audit.spec.slices.get("columns")
    if configured and not isinstance(configured, (str, list, tuple)):
        raise MissingInputError(f"slices.columns must be a list of column names, e.g. [sex, age], got {configured!r}")
    if configured:
        configured = [configured] if isinstance(configured, str) else [str(c) for c in configured]
        usable = [c for c in configured if c in data.columns]
        ignored = [c for c in configured if c not in data.columns]
        if usable:
            return usable, ignored
    else:
        ignored = []
    sensitive = [c for c in audit.spec.columns.sensitive if c in data.columns]
    picked: list[str] = []
    if keys:
        found_columns = [[c for c, _ in key] for key in keys]
    elif discovered is not None and len(discovered):
        found_columns = [str(cols).split(" & ") for cols in discovered["columns"]]
    else:
        found_columns = []
    if found_columns:
        for cols in found_columns:
            for c in cols:
                if c in data.columns and c not in sensitive and c not in picked and len(picked) < n_features:
                    picked.append(c)
    for c in data.columns:
        if len(picked) >= n_features:
            break
        if c not in sensitive and c not in picked:
            picked.append(c)
    return sensitive + picked, ignored


# -- the section: verdict, report, card metrics, charts ------------------------------------------
def primary_metric(task: str) -> str:
    """The metric the section's charts and discovery speak about."""
    return "mean_absolute_error" if task == "regression" else "accuracy"


def discover(data: SliceData, *, min_size: int, max_order: int = DEFAULT_MAX_ORDER, **options):
    """:func:`sightline.slices.finder.find_worst_slices` over every sliceable column of ``data``."""
    encoded = [data.encoded[c] for c in data.columns]
    return find_worst_slices(encoded, data.outcomes.errors, binary_errors=data.task != "regression",
                             max_order=max_order, min_size=min_size, **options)


def discovered_table(data: SliceData, slices: pd.DataFrame,
                     keys: Sequence[Sequence[tuple[str, int]]] | None = None) -> pd.DataFrame:
    """Every metric (with CI, gap, impact) for discovered slices, re-counted on all rows.

    Input: the ``slices`` table of a slice search and its :attr:`SliceSearch.keys` (without
    them the ``slice`` strings "a=x & b=y" are parsed, which fails on a name or value holding
    "=" or " & ").
    """
    if slices is None or not len(slices):
        return pd.DataFrame()
    if keys is not None and len(keys) == len(slices):
        masks = [data.mask_of_codes(k) for k in keys]
    else:
        masks = [data.mask([tuple(part.split("=", 1)) for part in str(s).split(" & ")]) for s in slices["slice"]]
    stats = mask_stats(data.outcomes, masks)
    table = metrics_frame(data.task, stats, total_stats(data.outcomes))
    head = slices[["slice", "description", "columns", "order"]].reset_index(drop=True)
    return pd.concat([head, table], axis=1)


def _card_metrics(task: str, table: pd.DataFrame) -> list:

    out = []
    for row in table.itertuples(index=False):
        for m in CARD_TYPES[task]:
            value = getattr(row, m, None)
            if value is None or not np.isfinite(value):
                continue
            lower, upper = getattr(row, f"{m}_lower"), getattr(row, f"{m}_upper")
            out.append(CardMetric(type=m, value=float(value), slice=row.slice,
                                  lower=float(lower) if np.isfinite(lower) else None,
                                  upper=float(upper) if np.isfinite(upper) else None, n=int(row.n)))
    return out


def _headline(search, task: str, examined_text: str) -> tuple[str, str]:
    """(status, headline) from a slice search."""

    found = search.slices
    if not len(found):
        return GREEN, f"No slice is significantly worse than the rest of the data ({examined_text})."
    distinct = f"at least {len(found):,}" if search.truncated else f"{len(found):,}"
    worst = found.iloc[0]
    what = "mean absolute error" if task == "regression" else "error rate"
    fmt = (lambda x: format_value(x)) if task == "regression" else (lambda x: format_value(x, RATE))
    status = RED if worst["lift"] >= 2 else AMBER
    plural = "slice" if len(found) == 1 else "distinct slices"
    return status, (f"The model is significantly worse on {distinct} {plural}; the top-ranked: {worst['description']} "
                    f"(n={int(worst['n']):,}) with {what} {fmt(worst['error_rate'])} vs {fmt(search.overall_error)} overall "
                    f"({worst['lift']:.1f}×).")


def slices_section(audit):
    """The Slices area: per-slice tables for the audit's slice columns, the worst slices found
    by :func:`discover`, and the Simpson's-paradox check between model versions.

    Settings (``slices:`` in the audit): ``columns`` (default: sensitive columns + features of
    the worst slices), ``min_size`` (default ``fairness.min_group_size``), ``max_order``
    (default 3), ``n_bins`` (default 5). Slices below ``min_size`` are left out of the report
    and the card (privacy) and counted in the provenance.
    """
    spec = audit.spec
    data = slice_data(audit)
    min_size = min_slice_size(audit)
    max_order = slice_setting(audit, "max_order")
    metric = primary_metric(data.task)
    search = discover(data, min_size=min_size, max_order=max_order)
    columns, ignored = default_columns(data, audit, search.slices, keys=search.keys)
    # The version check first: its temporary arrays are freed before the ROC AUC row data (kept
    # for every table after it) is built, so a long log never holds both.
    simpson = compare_versions(audit, data, min_size=min_size)
    overall = overall_metrics(data.outcomes)
    tables = {c: data.table([c], min_size=min_size) for c in columns}
    found = discovered_table(data, search.slices, keys=search.keys)

    shown = {c: t[~t["too_small"]].reset_index(drop=True) for c, t in tables.items()}
    suppressed = int(sum(t["too_small"].sum() for t in tables.values()))
    single = pd.concat(shown.values(), ignore_index=True) if shown else pd.DataFrame()
    extra = found[~found["slice"].isin(single["slice"])] if len(found) and len(single) else found
    metrics = _card_metrics(data.task, single) + (_card_metrics(data.task, extra) if len(extra) else [])
    metrics = tuple(metrics)

    examined = f"{search.n_examined:,} slices of up to {max_order} columns checked, min size {min_size}"
    status, headline = _headline(search, data.task, examined)
    if status == GREEN and simpson.status == PARADOX:
        status = AMBER
    notes = [f"{data.n:,} labelled predictions of {audit.primary_version or 'the model'}; {examined}."]
    if search.sampled:
        notes.append(f"The search ran on a random sample of {search.search_rows:,} rows; found slices were re-counted on all rows.")
    if simpson.status != "unavailable":
        notes.append(simpson.message)
    if ignored:
        notes.append(f"slices.columns names {', '.join(ignored)}, which cannot be sliced (not in the log or one value only) — ignored.")
    verdict = Verdict(status, headline, " ".join(notes))

    charts = [Chart(f"slices_{c}", f"{METRICS[metric].label} by {c}",
                    slice_metric_chart(shown[c], metric, overall[metric]["value"], title=f"{METRICS[metric].label} by {c}"))
              for c in columns if len(shown[c])]
    if len(search.slices):
        charts.insert(0, Chart("slices_worst", "Worst slices found",
                               worst_slices_chart(search.slices, search.overall_error, regression=data.task == "regression")))
    # The versions chart draws one column's slices: none when no column has two slices (the
    # comparison is then overall only, and its sentence says so in the verdict's detail).
    col = (simpson.paradox_columns[0] if simpson.paradox_columns else next(
        (c for c in spec.columns.sensitive if c in data.columns), data.columns[0] if data.columns else None))
    if simpson.status != "unavailable" and col is not None:
        charts.append(Chart("slices_versions", f"Versions compared by {col}",
                            simpson_chart(simpson.slices, simpson.version_a, simpson.version_b, simpson.overall,
                                          metric=simpson.metric, column=col)))

    simpson_report = simpson.to_report()

    def keep(table: pd.DataFrame) -> pd.DataFrame:
        return table.drop(columns=["too_small"], errors="ignore")

    report = {
        "task": data.task, "metric": metric, "rows": data.n,
        "settings": {"columns": columns, "min_size": min_size, "max_order": max_order, "n_bins": data.n_bins},
        "overall": overall,
        "tables": {c: keep(t).to_dict(orient="records") for c, t in shown.items()},
        "discovered": {"overall_error": search.overall_error, "slices_examined": search.n_examined,
                       "significant": search.n_significant, "listed": len(search.slices),
                       "truncated": search.truncated,
                       "slices": search.slices.to_dict(orient="records"),
                       "metrics": found.to_dict(orient="records") if len(found) else []},
        "simpson": simpson_report,
    }
    provenance = {
        "rows": data.n, "rows_without_prediction": data.dropped, "min_size": min_size, "suppressed_slices": suppressed,
        "suppressed_version_slices": simpson_report["suppressed_slices"],
        "bins": {c: {"kind": e.kind, "edges": list(e.edges)} for c, e in data.encoded.items() if e.kind == "numeric"},
        "confidence_intervals": "95%: Wilson for proportions; multinomial bootstrap (200) for F1; "
                                "Hanley-McNeil for ROC AUC; normal approximation for MAE",
        "impact": "overall − metric on the rows outside the slice",
        "discovery": search.provenance(),
        "simpson": simpson.settings,
    }
    # The card gets compact tables (its performance_metrics already hold every metric per slice).
    card_cols = ["slice", "n", metric, f"{metric}_lower", f"{metric}_upper", f"{metric}_gap", f"{metric}_impact"]
    tables_for_card = {f"slices_{c}": t[[k for k in card_cols if k in t]] for c, t in shown.items()}
    if len(search.slices):
        tables_for_card["worst_slices"] = search.slices[["description", "n", "error_rate", "rest_error_rate", "lift", "p_adjusted"]]
    return Section(area="slices", verdict=verdict, report=report, metrics=metrics, charts=tuple(charts),
                   provenance=provenance, tables=tables_for_card, results={"data": data, "tables": tables})
