"""Fairness: group and intersectional metrics with uncertainty, disparities, summaries, verdicts.

Built on fairlearn's definitions (``MetricFrame``, ``demographic_parity_difference``,
``equalized_odds_difference``…) but computed from per-group confusion counts with one
vectorised ``np.bincount`` pass, because ``MetricFrame`` takes ~20 s on a 1,000,000-row log.
The tests check every rate against ``MetricFrame`` and fairlearn's summary functions.

Pure functions (keyword-only ``y_true, y_pred, *, sensitive_features`` like fairlearn; group
results are DataFrames indexed by group, always a flat string index, also for intersections)
in :mod:`sightline.fairness.groups` (group tables), :mod:`sightline.fairness.summaries`
(disparities, summaries, sentences) and :mod:`sightline.fairness.over_time`:

- :func:`group_metrics` — per group: n, confusion counts, base rate, selection rate, TPR, FPR,
  FNR, precision, accuracy (95% Wilson intervals), ROC AUC and expected calibration error
  (95% percentile bootstrap on a bounded sample), a ``small`` flag and a plain ``note``.
- :func:`disparities` — each group against a reference group: differences (Newcombe interval)
  and ratios (Katz log interval).
- :func:`fairness_summaries` — demographic parity difference/ratio, equalized odds
  difference/ratio, equal opportunity difference, predictive parity difference, each with a
  95% interval, a tolerance, a status and a plain sentence; :func:`four_fifths_rule`.
- :func:`fairness_over_time` — the main gaps per time window next to the group sizes.

:func:`fairness_result` applies them to an audit; :func:`fairness_section` makes the Section.
Small groups (below ``fairness.min_group_size``) are kept in the page tables, flagged, left out
of summaries and verdicts, and suppressed from everything exported (card metrics, report rows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from sightline.charts.fairness import gaps_over_time_chart, group_rates_chart
from sightline.core.errors import MissingInputError
from sightline.core.numbers import MEASURE, guess_unit
from sightline.core.section import AMBER, GREEN, RED, CardMetric, Chart, Section, Verdict
from sightline.core.text import short_label
from sightline.core.vocabulary import metric_label, metric_name
from sightline.data.audit import Audit
from sightline.data.validation import MAX_GROUPS
from sightline.fairness.groups import (
    CARD_GROUP_METRICS,
    DEFAULT_BOOTSTRAP_ROWS,
    DEFAULT_RESAMPLES,
    INTERSECTION_SEP,
    RATE_METRICS,
    group_codes,
    group_metrics,
    multiclass_group_metrics,
    regression_group_metrics,
    slice_label,
)
from sightline.fairness.over_time import fairness_over_time
from sightline.fairness.summaries import (
    DEFAULT_TOLERANCE,
    choose_reference,
    default_subjects,
    disparities,
    fairness_summaries,
    four_fifths_rule,
)
from sightline.stats.reliability import calibration_settings  # the Calibration page's bins, so ECEs agree
from sightline.stats.windows import window_starts

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------
# the audit
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnFairness:
    """Fairness of one sensitive column or intersection (``name`` "sex" or "race & sex")."""

    name: str
    columns: tuple[str, ...]
    groups: pd.DataFrame
    reference: str | None
    reference_note: str
    disparities: pd.DataFrame
    summaries: pd.DataFrame
    four_fifths: pd.DataFrame | None = None
    over_time: pd.DataFrame | None = None
    gaps_over_time: pd.DataFrame | None = None

    @property
    def is_intersection(self) -> bool:
        return len(self.columns) > 1

    @property
    def small_groups(self) -> list[str]:
        return [str(g) for g in self.groups.index[self.groups["small"]]]


@dataclass(frozen=True)
class FairnessResult:
    """Fairness of an audit: one :class:`ColumnFairness` per sensitive column and intersection."""

    task: str
    positive_label: str
    columns: dict[str, ColumnFairness]
    rows: int
    labelled_rows: int
    min_group_size: int
    tolerance: dict
    provenance: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # settings problems worth telling the user (e.g. an unknown tolerance key)

    @property
    def suppressed_groups(self) -> int:
        return sum(len(c.small_groups) for c in self.columns.values())


def _windows(audit: Audit, frame: pd.DataFrame) -> pd.Series | None:
    """Week start (Monday 00:00, the log's own clock) of each row of ``frame``, or None without timestamps."""
    ts = audit.timestamps(frame)
    if ts is None or ts.notna().sum() == 0:
        return None
    return window_starts(ts, "week")


def fairness_result(audit: Audit, *, n_resamples: int = DEFAULT_RESAMPLES,
                    bootstrap_rows: int = DEFAULT_BOOTSTRAP_ROWS, seed: int = 0) -> FairnessResult:
    """Group tables, disparities, summaries and gaps over time for every sensitive column of
    the audit and, when ``fairness.intersections`` is true, every pair of them (names sorted,
    e.g. ``race & sex``). Uses the primary version's labelled rows; selection rates over time use
    every row. Raises :class:`MissingInputError` without sensitive columns or labels."""
    spec = audit.spec
    sensitive = [c for c in spec.columns.sensitive if c in audit.current.columns]
    refused = getattr(audit, "refused_groups", None) or {}
    if not sensitive and refused:
        raise MissingInputError("Fairness needs protected attributes with a few groups each: "
                                + "; ".join(f"'{short_label(c)}' has {n:,} distinct values, an identifier, not a group"
                                            for c, n in refused.items())
                                + f" (at most {MAX_GROUPS:,} groups) — name a column such as sex or age group in "
                                  "columns.sensitive, or bin it into a few groups first")
    if not sensitive:
        raise MissingInputError("Fairness needs protected attributes — add them to the audit, e.g. "
                                "columns: {sensitive: [sex, race]}")
    primary = audit.primary
    target = spec.columns.target
    has_label = primary[target].notna().to_numpy() if target and target in primary.columns else np.zeros(len(primary), bool)
    # Only the columns read from the labelled rows (a copy of every column is most of a long log).
    kept = list(dict.fromkeys(sensitive + [c for c in (spec.columns.score,) if c and c in primary.columns]))
    frame = primary[kept][has_label]
    if frame.empty:
        raise MissingInputError(f"Fairness needs ground truth — none of the {len(audit.primary):,} predictions has a "
                                f"'{spec.columns.target}' label yet; add labels to the log (late labels are fine)")
    settings = spec.fairness
    k = settings.min_group_size
    tolerance = {**DEFAULT_TOLERANCE, **dict(settings.tolerance)}
    notes = [f"fairness.tolerance.{key} is not a summary Sightline computes (ignored) — use one of: "
             f"{', '.join(DEFAULT_TOLERANCE)}, mean_prediction_difference" for key in settings.tolerance
             if key not in DEFAULT_TOLERANCE and key != "mean_prediction_difference"]
    positive = str(spec.positive_label)

    n_bins, strategy, _ = calibration_settings(spec.calibration)
    # labels and predictions of every primary row, once (string labels are slow to compare)
    y_true_all, y_pred_all = audit.y_true(primary), audit.y_pred(primary)
    y_true, y_pred = y_true_all[has_label], y_pred_all[has_label]
    y_score = audit.y_score(frame) if spec.task == "binary" else None
    # sentences say "women"/"people in the X group" only of person attributes (fairness.subjects)
    subjects = default_subjects(spec.task, settings.subjects)
    unit = guess_unit(target, y_true) if spec.task == "regression" else MEASURE
    sets = [(c,) for c in sensitive]
    if settings.intersections and len(sensitive) > 1:
        sets += [tuple(sorted(p)) for p in combinations(sensitive, 2)]
    windows = _windows(audit, primary)
    columns = {}
    for cols in sets:
        feats = frame[list(cols)] if len(cols) > 1 else frame[cols[0]]
        if len(cols) > 1:
            # Each column is capped at MAX_GROUPS values on loading, but a pair can hold up to
            # MAX_GROUPS² combinations; compared pairwise they would not finish or be readable.
            n_groups = len(feats.drop_duplicates())
            if n_groups > MAX_GROUPS:
                notes.append(f"the intersection {short_label(INTERSECTION_SEP.join(cols))} has {n_groups:,} groups, more than "
                             f"{MAX_GROUPS:,}: left out (the columns are still compared one at a time)")
                continue
        if spec.task == "binary":
            groups = group_metrics(y_true, y_pred, sensitive_features=feats, y_score=y_score, min_group_size=k,
                                   n_bins=n_bins, strategy=strategy, n_resamples=n_resamples, bootstrap_rows=bootstrap_rows,
                                   positive_label=positive, seed=seed)
        elif spec.task == "multiclass":
            groups = multiclass_group_metrics(y_true, y_pred, sensitive_features=feats, min_group_size=k)
        else:
            groups = regression_group_metrics(y_true, y_pred, sensitive_features=feats, min_group_size=k)
        name = str(groups.index.name)
        wanted = settings.reference_groups.get(INTERSECTION_SEP.join(cols))  # also "race & sex": "White & Male"
        if wanted is None and len(cols) == 1:
            wanted = settings.reference_groups.get(cols[0])
        elif wanted is None and all(c in settings.reference_groups for c in cols):
            wanted = INTERSECTION_SEP.join(str(settings.reference_groups[c]) for c in cols)
        reference, note = choose_reference(groups, wanted)
        over = gaps = None
        if windows is not None and len(cols) == 1:  # intersections per week are too thin to read
            codes, labels, _ = group_codes(primary[cols[0]])
            over, gaps = fairness_over_time(windows, codes, labels, y_pred=y_pred_all, y_true=y_true_all,
                                            labelled=has_label, min_group_size=k, task=spec.task)
        columns[name] = ColumnFairness(
            name=name, columns=cols, groups=groups, reference=reference, reference_note=note,
            disparities=disparities(groups, reference),
            summaries=fairness_summaries(groups, task=spec.task, tolerance=tolerance, positive_label=positive,
                                         subjects=subjects, unit=unit),
            four_fifths=four_fifths_rule(groups) if spec.task == "binary" else None,
            over_time=over, gaps_over_time=gaps)
    provenance = {
        "rows": "labelled rows of the primary model version" + (f" ({audit.primary_version})" if audit.primary_version else ""),
        "labelled_rows": int(len(frame)), "min_group_size": k,
        "suppressed_groups": sum(len(c.small_groups) for c in columns.values()),
        "reference_groups": {n: c.reference for n, c in columns.items()},
        "tolerances": tolerance,
        "intervals": "95%: Wilson for rates, Newcombe for differences, Katz (log) for ratios; ROC AUC and ECE: "
                     f"percentile bootstrap, {n_resamples} resamples on at most {bootstrap_rows:,} rows per group; "
                     "summaries: 95% jointly over all pairs of groups (Bonferroni)",
        "ece_bins": f"{n_bins} {strategy} bins", "window": "calendar week starting Monday" if windows is not None else None,
        "notes": notes,
        "summary_definitions": "difference = max - min over groups, ratio = min / max (fairlearn between_groups); "
                               "equalized odds = worse of true and false positive rate",
    }
    return FairnessResult(task=spec.task, positive_label=positive, columns=columns, rows=int(len(primary)),
                          labelled_rows=int(len(frame)), min_group_size=k, tolerance=tolerance, provenance=provenance,
                          notes=tuple(notes))


# --------------------------------------------------------------------------------------
# the Section
# --------------------------------------------------------------------------------------
_SEVERITY = {RED: 3, AMBER: 2, GREEN: 1, "none": 0}
# Which summary speaks first when several are equally bad: the most intuitive.
_HEADLINE_ORDER = ("demographic_parity_difference", "equal_opportunity_difference", "equalized_odds_difference",
                   "predictive_parity_difference", "accuracy_difference", "mean_absolute_error_ratio",
                   "demographic_parity_ratio", "equalized_odds_ratio", "mean_prediction_difference")


def _exceedance(row: pd.Series) -> float:
    """How surely a summary is past its tolerance: the distance of the interval end nearest the
    tolerance, relative to it (positive = the whole interval is beyond), so the headline names
    the best-supported finding rather than the noisiest small group."""
    t = row["tolerance"]
    near = row["evidence_upper"] if row["bound"] == "min" else row["evidence_lower"]
    if not np.isfinite(near):
        near = row["upper"] if row["bound"] == "min" else row["lower"]
    if t is None or not t or not np.isfinite(near):
        return -np.inf
    return (t - near) / t if row["bound"] == "min" else (near - t) / t


def fairness_verdict(result: FairnessResult) -> Verdict:
    """Red when any summary is beyond its tolerance with the whole 95% interval, amber when one is
    beyond without that evidence or close, green otherwise. The headline is the worst finding's
    plain sentence, single columns before intersections."""
    rows = []
    for name, col in result.columns.items():
        for metric, s in col.summaries.iterrows():
            if s["status"] in _SEVERITY and s["status"] != "none":
                rows.append((name, metric, s, col.is_intersection))
    if not rows:
        return Verdict(AMBER, "Fairness could not be judged: no sensitive attribute has two groups of at least "
                              f"{result.min_group_size} labelled rows.")
    def rank(r):
        name, metric, s, inter = r
        return (_SEVERITY[s["status"]], not inter, metric == "demographic_parity_difference", _exceedance(s),
                -_HEADLINE_ORDER.index(metric) if metric in _HEADLINE_ORDER else -99)
    worst = max(rows, key=rank)
    status = worst[2]["status"]
    counts = {st: sum(1 for r in rows if r[2]["status"] == st) for st in (RED, AMBER, GREEN)}
    red_by_column: dict[str, list[str]] = {}
    for name, metric, s, _ in rows:
        if s["status"] == RED:
            red_by_column.setdefault(name, []).append(metric_name(metric))
    headline = f"By {worst[0]}: {worst[2]['sentence']}" if status != GREEN else (
        "Every fairness summary is within its tolerance for " + ", ".join(result.columns) + ".")
    detail = (f"{counts[RED]} of {len(rows)} checks red, {counts[AMBER]} amber, {counts[GREEN]} green "
              f"({result.labelled_rows:,} labelled rows). ")
    if red_by_column:
        detail += "Red — " + "; ".join(f"{n}: {', '.join(m)}" for n, m in red_by_column.items()) + ". "
    if result.suppressed_groups:
        detail += (f"{result.suppressed_groups} group(s) under {result.min_group_size} rows are left out of "
                   "the verdict and suppressed from exports.")
    return Verdict(status, headline, detail.strip())


def _group_records(col: ColumnFairness) -> list[dict]:
    """Report rows of a group table: small groups keep only their name and the flag (suppressed)."""
    out = []
    for group, row in col.groups.iterrows():
        rec = {"group": group, "slice": slice_label(col.name, str(group)), "small": bool(row["small"])}
        if row["small"]:  # privacy: not even the exact count of a small group is exported
            rec.update(suppressed=True, note="fewer rows than min_group_size: metrics suppressed")
        else:
            rec.update({k: v for k, v in row.items() if k not in ("small",) and not k.endswith("_sd")})
        out.append(rec)
    return out


def _card_metrics(result: FairnessResult) -> list[CardMetric]:
    out = []
    per_group = CARD_GROUP_METRICS if result.task == "binary" else (
        ("accuracy",) if result.task == "multiclass" else ("mean_absolute_error", "mean_prediction"))
    for col in result.columns.values():
        for group, row in col.groups[~col.groups["small"]].iterrows():
            for metric in per_group:
                if metric not in row or not np.isfinite(row[metric]):
                    continue
                lo, hi = row.get(f"{metric}_lower"), row.get(f"{metric}_upper")
                out.append(CardMetric(metric, float(row[metric]), slice_label(col.name, str(group)),
                                      float(lo) if lo is not None and np.isfinite(lo) else None,
                                      float(hi) if hi is not None and np.isfinite(hi) else None, int(row["n"])))
        for metric, s in col.summaries.iterrows():
            if np.isfinite(s["value"]):
                out.append(CardMetric(str(metric), float(s["value"]), col.name,
                                      float(s["lower"]) if np.isfinite(s["lower"]) else None,
                                      float(s["upper"]) if np.isfinite(s["upper"]) else None,
                                      int(col.groups.loc[~col.groups["small"], "n"].sum())))
    return out


def fairness_report(result: FairnessResult) -> dict:
    """The ``report.json["fairness"]`` document (JSON-safe after ``to_jsonable``); see README."""
    cols = {}
    for name, col in result.columns.items():
        summaries = col.summaries.reset_index().to_dict(orient="records")
        entry = {
            "columns": list(col.columns), "kind": "intersection" if col.is_intersection else "column",
            "reference_group": col.reference, "reference_note": col.reference_note,
            "groups": _group_records(col), "suppressed_groups": col.small_groups,
            "disparities": col.disparities.to_dict(orient="records"),
            "summaries": summaries,
        }
        if col.four_fifths is not None:
            passes = bool(col.four_fifths["passes"].all()) if len(col.four_fifths) else None
            entry["four_fifths_rule"] = {"threshold": 0.8, "passes": passes,
                                         "groups": col.four_fifths.reset_index(names="group").to_dict(orient="records")}
        if col.gaps_over_time is not None:
            big = col.over_time[col.over_time["rows"] >= result.min_group_size]
            keep = [c for c in ("window", "group", "rows", "labelled", "selection_rate", "true_positive_rate",
                                "accuracy", "mean_absolute_error") if c in big.columns]
            entry["over_time"] = {"gaps": col.gaps_over_time.to_dict(orient="records"),
                                  "groups": big[keep].to_dict(orient="records")}
        cols[name] = entry
    return {"status": "computed", "task": result.task, "labelled_rows": result.labelled_rows,
            "min_group_size": result.min_group_size, "tolerance": result.tolerance, "columns": cols}


def _with_ci(value: float, lower: float, upper: float, percent: bool) -> str:
    """'9.5% (8.6–10.5)' or '0.885 (0.867–0.903)'; the interval left out when it is unknown."""
    if value is None or not np.isfinite(value):
        return "—"
    fmt = (lambda v: f"{100 * v:.1f}") if percent else (lambda v: f"{v:.3f}")
    text = fmt(value) + ("%" if percent else "")
    if lower is not None and upper is not None and np.isfinite(lower) and np.isfinite(upper):
        text += f" ({fmt(lower)}–{fmt(upper)})"
    return text


def card_group_table(col: ColumnFairness, task: str) -> pd.DataFrame:
    """The card's group table: groups of at least the minimum size, one readable column per
    metric with its 95% interval in the same cell (report.json keeps every number)."""
    metrics = {"binary": ("base_rate", "selection_rate", "true_positive_rate", "false_positive_rate", "precision",
                          "accuracy", "roc_auc", "expected_calibration_error"),
               "multiclass": ("accuracy",),
               "regression": ("mean_target", "mean_prediction", "mean_absolute_error")}[task]
    big = col.groups[~col.groups["small"]]
    out = pd.DataFrame({col.name: [str(g) for g in big.index], "n": big["n"].to_numpy()})
    for m in metrics:
        if m in big.columns:
            out[metric_label(m)] = [_with_ci(r[m], r.get(f"{m}_lower"), r.get(f"{m}_upper"), m in RATE_METRICS)
                                     for _, r in big.iterrows()]
    return out


def card_summary_table(col: ColumnFairness) -> pd.DataFrame:
    """The card's summary table: summary, value (fairlearn: max − min or min ÷ max over groups)
    with the extreme pair's interval, tolerance, status, and the pair the status rests on."""
    rows = []
    for metric, r in col.summaries.iterrows():
        if r["evidence_high"]:  # red: the pair whose whole interval is beyond the tolerance
            basis = (f"{r['evidence_low']} vs {r['evidence_high']}: "
                     f"{_with_ci(r['evidence_value'], r['evidence_lower'], r['evidence_upper'], False)}")
        else:
            basis = f"{r['group_low']} vs {r['group_high']}" if r["group_high"] else "—"
        rows.append({"summary": metric_name(metric),
                     "value (95% CI)": _with_ci(r["value"], r["lower"], r["upper"], False),
                     "tolerance": (("≥ " if r["bound"] == "min" else "≤ ") + f"{r['tolerance']:.2f}"
                                   if r["tolerance"] is not None else "—"),
                     "status": r["status"], "decided by": basis})
    return pd.DataFrame(rows)


def fairness_section(audit: Audit) -> Section:
    """The fairness Section: verdict, report, card metrics (no small group), charts, provenance."""

    result = fairness_result(audit)
    charts, tables = [], {}
    rate_metrics = {"binary": ("selection_rate", "true_positive_rate"), "multiclass": ("accuracy",),
                    "regression": ("mean_absolute_error", "mean_prediction")}[result.task]
    for name, col in result.columns.items():
        safe = name.replace(INTERSECTION_SEP, "_x_").replace(" ", "_")
        charts.append(Chart(f"fairness_rates_{safe}", f"{' and '.join(metric_name(m) for m in rate_metrics).capitalize()} "
                                                      f"by {name} (95% intervals)",
                            group_rates_chart(col.groups, reference=col.reference, include_small=False, metrics=rate_metrics)))
        if col.gaps_over_time is not None and col.gaps_over_time["value"].notna().any():
            charts.append(Chart(f"fairness_over_time_{safe}", f"Fairness gaps by {name} per week",
                                gaps_over_time_chart(col.gaps_over_time, col.over_time, tolerance=result.tolerance,
                                                     min_group_size=result.min_group_size, include_small=False)))
        tables[f"fairness_groups_{safe}"] = card_group_table(col, result.task)
        tables[f"fairness_summaries_{safe}"] = card_summary_table(col)
    return Section(area="fairness", verdict=fairness_verdict(result), report=fairness_report(result),
                   metrics=tuple(_card_metrics(result)), charts=tuple(charts), provenance=result.provenance,
                   tables=tables, results={"result": result})
