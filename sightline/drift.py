"""Drift: is production still like the reference, and does the model still hold there?

Two views of the primary model version's log against the reference (Huyen, ch. 8):

* **Now vs reference** (:func:`drift_vs_reference`): per feature, evidently 0.7's drift test
  (its default test by column type and size, or the audit's ``drift.method`` / per-column
  overrides) on a bounded, seeded random sample of each side (``drift.sample_size`` rows,
  default 20,000), with a readable effect size and PSI on *all* rows; the dataset verdict
  (evidently's DriftedColumnsCount against ``drift.drift_share``); prediction drift (score)
  and label drift (P(Y) of the labelled rows); the reference calibration the label-free
  estimate relies on.
* **Over time** (:func:`drift_over_time`): the log in day/week/month windows — PSI per feature
  and window (vectorised, all rows), missing values, realised and label-free estimated
  performance with label coverage, the score→outcome relationship, segments whose outcomes
  departed from the scores beyond a uniform label shift (concept drift), feature changes
  (unit, type, constant, empty), categories and classes the reference never had.

:func:`drift_section` assembles both into the Section the page, report.json and the card share.
"""

from __future__ import annotations

import difflib
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy.stats import norm

from sightline import drift_windows as dw
from sightline.audit import Audit
from sightline.errors import MissingInputError, SpecError
from sightline.estimation import (Calibrator, concept_drift_segments, estimate_performance, expected_calibration_error,
                                  fit_calibrator, performance_by_window, realised_performance, reliability_table,
                                  score_outcome_by_window)
from sightline.feature_changes import detect_feature_changes, label_schema_changes, unseen_categories
from sightline.sections import AMBER, GREEN, RED, CardMetric, Chart, Section, Verdict

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_SIZE = 20_000   # rows per side evidently runs on (seeded random sample above it)
DEFAULT_DRIFT_SHARE = 0.5      # evidently's default: the dataset drifts when half the features do
DEFAULT_PSI_THRESHOLD = 0.1    # PSI at which a feature counts as shifted in a window ("moderate")
DEFAULT_WINDOW = "week"
SEED = 0
ALPHA = 0.05                   # family-wise error rate of the per-window tests (Bonferroni)
MIN_WINDOW_ROWS = 30           # windows with fewer rows are shown but never flagged
LABEL_SHIFT_MIN = 0.03         # label shift must move the class shares by ≥ 3 points (total variation) and twice the noise
MIN_REFERENCE_ROWS = 30
NO_REFERENCE = ("Drift needs a reference data set — add 'reference:' to the audit file (e.g. the validation data "
                "the model was checked on); the Operations page works without one")
OVERRIDE_KEYS = ("method", "threshold")


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class DriftSettings:
    """The audit's ``drift:`` section with defaults filled in (see the README)."""

    method: str | None = None
    threshold: float | None = None
    columns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    window: str = DEFAULT_WINDOW
    drift_share: float = DEFAULT_DRIFT_SHARE
    sample_size: int = DEFAULT_SAMPLE_SIZE
    psi_threshold: float = DEFAULT_PSI_THRESHOLD
    seed: int = SEED


def _number(value, where: str, low: float | None = None, high: float | None = None, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise SpecError(f"'{where}' must be a {'whole ' if integer else ''}number, got {value!r}")
    if (low is not None and value <= low) or (high is not None and value > high):
        raise SpecError(f"'{where}' must be {'above ' + str(low) if low is not None else ''}"
                        f"{' and at most ' + str(high) if high is not None else ''}, got {value!r}")
    return int(value) if integer else float(value)


def drift_settings(audit: Audit) -> DriftSettings:
    """Read and check ``audit.spec.drift``. Raises :class:`SpecError` naming the key and the fix."""
    raw = dict(audit.spec.drift or {})
    known = set(audit.features) | {c for c in (audit.spec.columns.score, audit.spec.columns.target,
                                                audit.spec.columns.prediction) if c}
    columns = {}
    for col, cfg in dict(raw.get("columns") or {}).items():
        col = str(col)
        if col not in known:
            close = difflib.get_close_matches(col, sorted(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use a feature, the score or the target column"
            raise SpecError(f"'drift.columns.{col}': '{col}' is not a feature of this audit — {hint}")
        if not isinstance(cfg, Mapping):
            raise SpecError(f"'drift.columns.{col}' must be a mapping such as {{method: psi, threshold: 0.2}}")
        bad = [k for k in cfg if k not in OVERRIDE_KEYS]
        if bad:
            raise SpecError(f"'drift.columns.{col}': unknown key '{bad[0]}' — allowed keys: method, threshold")
        entry = {}
        if cfg.get("method") is not None:
            entry["method"] = str(cfg["method"])
        if cfg.get("threshold") is not None:
            entry["threshold"] = _number(cfg["threshold"], f"drift.columns.{col}.threshold", low=0)
        columns[col] = entry
    try:
        window = dw.normalise_window(raw.get("window", DEFAULT_WINDOW))
    except ValueError:
        raise SpecError(f"'drift.window: {raw.get('window')}' — use day, week or month") from None
    method = None if raw.get("method") is None else str(raw["method"])
    _check_methods(audit, method, columns)
    return DriftSettings(
        method=method,
        threshold=None if raw.get("threshold") is None else _number(raw["threshold"], "drift.threshold", low=0),
        columns=columns, window=window,
        drift_share=_number(raw.get("drift_share", DEFAULT_DRIFT_SHARE), "drift.drift_share", low=0, high=1),
        sample_size=_number(raw.get("sample_size", DEFAULT_SAMPLE_SIZE), "drift.sample_size", low=99, integer=True),
        psi_threshold=_number(raw.get("psi_threshold", DEFAULT_PSI_THRESHOLD), "drift.psi_threshold", low=0),
    )


def _check_methods(audit: Audit, method: str | None, columns: Mapping[str, Mapping]) -> None:
    """Every test the audit names must be one evidently knows, for the type of its columns."""
    wanted = {c: o["method"] for c, o in columns.items() if "method" in o}
    if (method is None and not wanted) or audit.reference is None:
        return
    from evidently.legacy.calculations.stattests import registry
    from evidently.legacy.core import ColumnType

    known = sorted(getattr(registry, "_registered_stat_tests", {}))  # evidently keeps the list private
    ref = audit.reference
    kind_of = {c: dw.feature_kind(ref[c]) for c in set(audit.features) | set(wanted) if c in ref.columns}
    if audit.spec.columns.target in wanted and audit.spec.task != "regression":
        kind_of[audit.spec.columns.target] = dw.CATEGORICAL
    checks = [(method, kind, "drift.method") for kind in sorted({kind_of[f] for f in audit.features if f in kind_of})
              if method is not None]
    checks += [(m, kind_of.get(c, dw.NUMERIC), f"drift.columns.{c}.method") for c, m in wanted.items()]
    for name, kind, where in checks:
        try:
            registry.get_registered_stattest(name, ColumnType.Numerical if kind == dw.NUMERIC else ColumnType.Categorical)
        except registry.StatTestNotFoundError:
            raise SpecError(f"'{where}: {name}' is not a drift test evidently knows — use one of: {', '.join(known)}") from None
        except registry.StatTestInvalidFeatureTypeError:
            raise SpecError(f"'{where}: {name}' does not apply to {kind} columns — e.g. "
                            f"{'wasserstein, ks or psi' if kind == dw.NUMERIC else 'jensenshannon, chisquare or psi'}; "
                            f"set a per-column method under drift.columns") from None


# ------------------------------------------------------------------ inputs

def _require_reference(audit: Audit) -> pd.DataFrame:
    ref = audit.reference
    if ref is None:
        raise MissingInputError(NO_REFERENCE)
    if len(ref) < MIN_REFERENCE_ROWS:
        raise MissingInputError(f"the reference has {len(ref)} rows; drift needs at least {MIN_REFERENCE_ROWS} "
                                f"to compare against — use a larger reference data set")
    return ref


def comparable_features(audit: Audit) -> tuple[list[str], dict[str, str], list[dict]]:
    """Features both sides hold with values, their kinds, and the skipped ones with the reason."""
    ref, cur = audit.reference, audit.primary
    features, kinds, skipped = [], {}, []
    for f in audit.features:
        if f not in ref.columns:
            skipped.append({"feature": f, "reason": "not in the reference"})
        elif ref[f].isna().all():
            skipped.append({"feature": f, "reason": "every value is missing in the reference"})
        elif cur[f].isna().all():
            skipped.append({"feature": f, "reason": "every value is missing in the prediction log"})
        elif pd.api.types.is_datetime64_any_dtype(ref[f]):
            skipped.append({"feature": f, "reason": "date/time features are not tested for drift"})
        else:
            features.append(f)
            kinds[f] = dw.feature_kind(ref[f], cur[f])
    return features, kinds, skipped


def sample_rows(frame: pd.DataFrame, n: int, seed: int = SEED) -> pd.DataFrame:
    """At most ``n`` rows of ``frame``: all of them, or a seeded random sample without replacement."""
    if len(frame) <= n:
        return frame
    idx = np.sort(np.random.default_rng(seed).choice(len(frame), n, replace=False))
    return frame.iloc[idx]


def _prediction_column(audit: Audit) -> str | None:
    """The column prediction drift is measured on: the score (binary), else the prediction."""
    cols = audit.spec.columns
    if audit.spec.task == "binary" and audit.has_score and cols.score in audit.reference.columns:
        return cols.score
    if cols.prediction and cols.prediction in audit.current.columns and cols.prediction in audit.reference.columns:
        return cols.prediction
    return None


# ------------------------------------------------------------------ evidently
def _stattest_kind(method: str, column_type: str) -> tuple[str, bool]:
    """Display name of an evidently stat test and whether its score is a p-value."""
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest
    from evidently.legacy.core import ColumnType

    try:
        test = get_registered_stattest(method, ColumnType(column_type))
        label = test.display_name
    except Exception:  # an auto-selected test arrives by display name already
        label = method
    return label, "p_value" in label or "p-value" in label


def _evidently_frame(frame: pd.DataFrame, columns: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    """The columns evidently reads, numbers as floats and categories as strings (a new frame)."""
    out = {}
    for c in columns:
        out[c] = dw.as_numbers(frame[c]) if kinds[c] == dw.NUMERIC else dw.as_categories(frame[c]).to_numpy(dtype=object)
    return pd.DataFrame(out, index=range(len(frame)))


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], kinds: dict[str, str],
                  settings: DriftSettings, *, extra: list[str] = ()) -> tuple[pd.DataFrame, dict]:
    """evidently's DataDriftPreset metrics over ``columns`` (DriftedColumnsCount and a ValueDrift
    per column) plus a ValueDrift for each of ``extra``.

    ``settings.method``/``threshold`` apply to ``columns``; ``settings.columns`` overrides any
    column. Output: one row per column — ``column``, ``method`` (evidently's name for the test as
    it reports it), ``statistic`` (the distance, for distance tests), ``p_value`` (for tests that
    give one), ``threshold``, ``drifted`` (evidently's own test outcome) — and the dataset result
    ``{"n_drifted", "share", "drifted"}`` from DriftedColumnsCount. Raises :class:`SpecError` for a
    method evidently does not know or that does not fit the column type.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.legacy.calculations.stattests.registry import (StatTestInvalidFeatureTypeError,
                                                                   StatTestNotFoundError)
    from evidently.metrics import DriftedColumnsCount, ValueDrift

    every = list(columns) + [c for c in extra if c not in columns]
    definition = DataDefinition(numerical_columns=[c for c in every if kinds[c] == dw.NUMERIC],
                                categorical_columns=[c for c in every if kinds[c] == dw.CATEGORICAL])
    per_method = {c: o["method"] for c, o in settings.columns.items() if "method" in o and c in columns}
    per_threshold = {c: o["threshold"] for c, o in settings.columns.items() if "threshold" in o and c in columns}
    # DataDriftPreset is DriftedColumnsCount + one ValueDrift per column (+ a widget render that
    # recomputes every column twice); the same two metrics, with the same options, without it.
    metrics: list = []
    if columns:
        metrics.append(DriftedColumnsCount(columns=list(columns), drift_share=settings.drift_share, method=settings.method,
                                           threshold=settings.threshold, per_column_method=per_method or None,
                                           per_column_threshold=per_threshold or None))
    for c in columns:
        metrics.append(ValueDrift(column=c, method=per_method.get(c, settings.method),
                                  threshold=per_threshold.get(c, settings.threshold)))
    for c in extra:
        o = settings.columns.get(c, {})
        metrics.append(ValueDrift(column=c, method=o.get("method"), threshold=o.get("threshold")))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # evidently's numpy divide-by-zero chatter on empty bins
            snapshot = Report(metrics, include_tests=True).run(
                Dataset.from_pandas(_evidently_frame(current, every, kinds), data_definition=definition),
                Dataset.from_pandas(_evidently_frame(reference, every, kinds), data_definition=definition))
    except (StatTestNotFoundError, StatTestInvalidFeatureTypeError) as exc:
        raise SpecError(f"'drift' settings: {exc} — pick a test that fits the column type "
                        f"(numeric: wasserstein, ks, psi …; categorical: jensenshannon, chisquare, psi …)") from None
    result = snapshot.dict()
    status = {t["metric_config"]["metric_id"]: t["status"] for t in result.get("tests", [])}
    rows, dataset = [], {}
    for m in result["metrics"]:
        cfg = m["config"]
        failed = str(status.get(m["id"], "")).upper().endswith("FAIL")
        if cfg["type"].endswith(":DriftedColumnsCount"):
            dataset = {"n_drifted": int(m["value"]["count"]), "share": float(m["value"]["share"]), "drifted": failed}
        elif cfg["type"].endswith(":ValueDrift"):
            c = cfg["column"]
            label, is_p = _stattest_kind(str(cfg.get("method")), "num" if kinds[c] == dw.NUMERIC else "cat")
            score = float(m["value"])
            rows.append({"column": c, "method": label, "statistic": None if is_p else score,
                         "p_value": score if is_p else None, "threshold": float(cfg["threshold"]), "drifted": failed})
    return pd.DataFrame(rows, columns=["column", "method", "statistic", "p_value", "threshold", "drifted"]), dataset


# ------------------------------------------------------------------ effect sizes
def _num(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.3g}" if abs(x) >= 1 else f"{x:.2f}"


def _pct(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    x *= 100
    if x == 0:
        return "0%"
    if abs(x) < 1:
        return f"{x:.1f}%"
    return f"{x:.1f}%" if abs(x) < 10 else f"{x:.0f}%"


def numeric_effect(reference, current) -> str:
    """One readable sentence on how a numeric column moved: the median (else the mean), plus the
    share of values outside the reference's range when that is above 1%."""
    r = dw.as_numbers(pd.Series(reference))
    c = dw.as_numbers(pd.Series(current))
    r, c = r[~np.isnan(r)], c[~np.isnan(c)]
    if not len(r) or not len(c):
        return "no values to compare"
    mr, mc = float(np.median(r)), float(np.median(c))
    if _num(mr) != _num(mc):
        text = f"median moved from {_num(mr)} to {_num(mc)}"
    else:
        text = f"median unchanged at {_num(mr)}; mean moved from {_num(float(r.mean()))} to {_num(float(c.mean()))}"
    above, below = float((c > r.max()).mean()), float((c < r.min()).mean())
    if above > 0.01:
        text += f"; {_pct(above)} of values lie above the reference's maximum ({_num(float(r.max()))})"
    if below > 0.01:
        text += f"; {_pct(below)} lie below its minimum ({_num(float(r.min()))})"
    return text


def _category_shares(values: pd.Series) -> pd.Series:
    """Share of each category (as a string; missing as "(missing)"), counted on codes, not strings."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values)
    counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
    shares = pd.Series(counts[1:] / max(len(values), 1), index=[str(u) for u in uniques])
    if counts[0]:
        shares["(missing)"] = counts[0] / len(values)
    return shares[shares > 0].groupby(level=0).sum()


def categorical_effect(reference, current) -> str:
    """One readable sentence: the category whose share moved most, from → to (new ones marked)."""
    r, c = _category_shares(pd.Series(reference)), _category_shares(pd.Series(current))
    both = r.index.union(c.index)
    diff = (c.reindex(both, fill_value=0) - r.reindex(both, fill_value=0))
    if diff.abs().max() == 0:
        return "category shares unchanged"
    top = diff.abs().idxmax()
    text = f"'{top}' went from {_pct(float(r.get(top, 0.0)))} to {_pct(float(c.get(top, 0.0)))}"
    return text + (" (not in the reference)" if top not in r.index else "")


def effect_sentence(reference: pd.Series, current: pd.Series, kind: str) -> str:
    return numeric_effect(reference, current) if kind == dw.NUMERIC else categorical_effect(reference, current)


# ------------------------------------------------------------------ distributions (overlay charts)
def feature_distribution(reference: pd.Series, current: pd.Series, kind: str | None = None, *, n_bins: int = 20,
                         max_categories: int = 15, value_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """Shares of reference and current values per bin, for an overlaid distribution chart.

    Numeric: one bin per value for integers with at most 30 distinct reference values, else
    ``n_bins`` equal-width bins over the reference's range (or ``value_range``), plus
    "below/above the reference's range" bins when values fall there. Categorical: the
    ``max_categories`` largest categories of either side, the rest as "(other)", missing as
    "(missing)". Output columns: ``bin``, ``order``, ``reference_share``, ``current_share``,
    ``reference_n``, ``current_n``.
    """
    kind = kind or dw.feature_kind(reference)
    if kind == dw.CATEGORICAL:
        r = dw.as_categories(reference).fillna("(missing)")
        c = dw.as_categories(current).fillna("(missing)")
        rs, cs = r.value_counts(), c.value_counts()
        both = rs.index.union(cs.index)
        shares = (rs.reindex(both, fill_value=0) / max(len(r), 1)).combine(cs.reindex(both, fill_value=0) / max(len(c), 1), max)
        top = list(shares.sort_values(ascending=False).index[:max_categories])
        rb = r.where(r.isin(top), "(other)")
        cb = c.where(c.isin(top), "(other)")
        labels = top + (["(other)"] if len(both) > len(top) else [])
        rn = rb.value_counts().reindex(labels, fill_value=0).to_numpy()
        cn = cb.value_counts().reindex(labels, fill_value=0).to_numpy()
    else:
        r, c = dw.as_numbers(reference), dw.as_numbers(current)
        rv = r[~np.isnan(r)]
        lo, hi = value_range or ((float(rv.min()), float(rv.max())) if len(rv) else (0.0, 1.0))
        uniq = np.unique(rv)
        integers = value_range is None and len(uniq) > 0 and bool(np.all(np.mod(uniq, 1) == 0))
        if integers and len(uniq) <= 30:
            edges = np.concatenate([uniq - 0.5, [uniq[-1] + 0.5]])
            inner = [_num(v) for v in uniq]
        elif integers:  # whole-number bins (17–20, 21–24 …) read better than 17–20.6
            step = int(np.ceil((hi - lo + 1) / n_bins))
            starts = np.arange(lo, hi + 1, step)
            edges = np.concatenate([starts - 0.5, [starts[-1] + step - 0.5]])
            inner = [f"{_num(a)}–{_num(a + step - 1)}" for a in starts]
            hi = float(starts[-1] + step - 1)
        else:
            edges = np.linspace(lo, hi if hi > lo else lo + 1, n_bins + 1)
            inner = [f"{_num(a)}–{_num(b)}" for a, b in zip(edges[:-1], edges[1:])]
        labels = [f"below {_num(lo)}"] + inner + [f"above {_num(hi)}"]

        def counts(x):
            x = x[~np.isnan(x)]
            idx = np.searchsorted(edges, x, side="right")  # 0 below, len(edges) above
            idx[x == edges[-1]] = len(edges) - 1          # the top edge belongs to the last bin
            return np.bincount(idx, minlength=len(edges) + 1)

        rn, cn = counts(r), counts(c)
        keep = np.ones(len(labels), dtype=bool)
        keep[0] = rn[0] + cn[0] > 0
        keep[-1] = rn[-1] + cn[-1] > 0
        labels = [lab for lab, k in zip(labels, keep) if k]
        rn, cn = rn[keep], cn[keep]
    return pd.DataFrame({"bin": labels, "order": range(len(labels)),
                         "reference_share": rn / max(rn.sum(), 1), "current_share": cn / max(cn.sum(), 1),
                         "reference_n": rn, "current_n": cn})


def column_distribution(audit: Audit, column: str) -> pd.DataFrame:
    """:func:`feature_distribution` of one column of the audit: primary-version log vs reference.

    The binary score is binned over [0, 1]. Raises :class:`MissingInputError` without a reference.
    """
    ref = _require_reference(audit)
    if column not in ref.columns or column not in audit.primary.columns:
        raise MissingInputError(f"'{column}' is not in both the reference and the prediction log")
    is_score = column == audit.spec.columns.score and audit.spec.task == "binary"
    kind = dw.NUMERIC if is_score else dw.feature_kind(ref[column])
    return feature_distribution(ref[column], audit.primary[column], kind, value_range=(0.0, 1.0) if is_score else None)


# ------------------------------------------------------------------ now vs reference
@dataclass(frozen=True)
class DriftVsReference:
    """Current (primary version) vs reference. Tables are DataFrames; dicts are JSON-safe."""

    features: pd.DataFrame      # feature, kind, method, statistic, p_value, threshold, drifted, psi, effect
    dataset: dict               # drift_share, n_drifted, n_features, drifted, threshold
    prediction: dict | None     # prediction (score) drift
    label: dict | None          # label drift over labelled rows
    calibration: dict | None    # reference calibration the label-free estimate relies on
    reliability: pd.DataFrame   # reference reliability table (raw scores)
    skipped: list
    provenance: dict


def _labelled_reference(audit: Audit) -> pd.DataFrame:
    target = audit.spec.columns.target
    ref = audit.reference
    if not target or target not in ref.columns:
        return ref.iloc[0:0]
    return ref[ref[target].notna()]


def calibrator_for(audit: Audit) -> Calibrator | None:
    """The reference-fitted calibrator of a binary audit with scores (None otherwise)."""
    if audit.spec.task != "binary" or not audit.has_score or audit.spec.columns.score not in audit.reference.columns:
        return None
    ref = _labelled_reference(audit)
    if not len(ref):
        return fit_calibrator([], [])
    return fit_calibrator(audit.y_true(ref), audit.y_score(ref), seed=SEED)


def _column_row(column, kind, ev_row, ref_values, cur_values) -> dict:
    return {"column": column, "method": ev_row.get("method"), "statistic": ev_row.get("statistic"),
            "p_value": ev_row.get("p_value"), "threshold": ev_row.get("threshold"), "drifted": bool(ev_row.get("drifted")),
            "psi": dw.population_stability_index(ref_values, cur_values, kind=kind),
            "effect": effect_sentence(ref_values, cur_values, kind)}


def drift_vs_reference(audit: Audit, settings: DriftSettings | None = None) -> DriftVsReference:
    """Per-feature drift (evidently on bounded samples, PSI and effects on all rows), the dataset
    verdict, prediction and label drift, and the reference calibration. See the module docstring."""
    ref = _require_reference(audit)
    settings = settings or drift_settings(audit)
    cur = audit.primary
    features, kinds, skipped = comparable_features(audit)
    pred_col = _prediction_column(audit)
    extra = []
    if pred_col:
        kinds[pred_col] = dw.feature_kind(ref[pred_col])
        extra.append(pred_col)
    ref_s, cur_s = sample_rows(ref, settings.sample_size, settings.seed), sample_rows(cur, settings.sample_size, settings.seed)
    ev, dataset = (run_evidently(ref_s, cur_s, features, kinds, settings, extra=extra) if features or extra
                   else (pd.DataFrame(columns=["column"]), {}))
    ev_rows = {r["column"]: r for r in ev.to_dict(orient="records")}
    rows = []
    for f in features:
        row = _column_row(f, kinds[f], ev_rows.get(f, {}), ref[f], cur[f])
        rows.append({"feature": f, "kind": kinds[f], **{k: v for k, v in row.items() if k != "column"}})
    table = pd.DataFrame(rows, columns=["feature", "kind", "method", "statistic", "p_value", "threshold", "drifted", "psi", "effect"])
    n_drifted = int(table["drifted"].sum())
    n_features = len(table)
    share = n_drifted / n_features if n_features else 0.0
    ds = {"drift_share": share, "n_drifted": n_drifted, "n_features": n_features,
          "drifted": bool(dataset.get("drifted", share >= settings.drift_share)) if n_features else False,
          "threshold": settings.drift_share}
    if dataset and dataset.get("n_drifted") != n_drifted:  # never expected: evidently's count is the truth
        log.warning("evidently counted %s drifted columns, its per-column tests %s", dataset.get("n_drifted"), n_drifted)
    prediction = None
    if pred_col:
        prediction = _column_row(pred_col, kinds[pred_col], ev_rows.get(pred_col, {}), ref[pred_col], cur[pred_col])
        if kinds[pred_col] == dw.NUMERIC:
            rs, cs = dw.as_numbers(ref[pred_col]), dw.as_numbers(cur[pred_col])
            prediction |= {"reference_mean": float(np.nanmean(rs)), "current_mean": float(np.nanmean(cs))}
        if audit.spec.task == "binary":
            rp = audit.y_pred(ref) if (audit.spec.columns.prediction in ref.columns or audit.has_score) else None
            prediction |= {"reference_predicted_positive_rate": float(np.mean(rp)) if rp is not None else None,
                           "current_predicted_positive_rate": float(np.mean(audit.y_pred(cur)))}
    label = _label_drift(audit, settings)
    calibration, reliability = _reference_calibration(audit)
    n_ref_s, n_cur_s = len(ref_s), len(cur_s)
    provenance = {
        "current_rows": int(len(cur)), "reference_rows": int(len(ref)), "model_version": audit.primary_version,
        "evidently": {"version": _evidently_version(), "metrics": "DriftedColumnsCount + ValueDrift per column "
                                                                      "(DataDriftPreset's metrics)",
                      "current_sample": n_cur_s, "reference_sample": n_ref_s,
                      "sampled": bool(n_cur_s < len(cur) or n_ref_s < len(ref)), "sample_size": settings.sample_size,
                      "seed": settings.seed,
                      "method": settings.method or "evidently default by column type and reference size",
                      "threshold": settings.threshold if settings.threshold is not None else "the test's default",
                      "column_overrides": {k: dict(v) for k, v in settings.columns.items()}},
        "psi": {"rows": "all rows", "bins": f"reference deciles (numeric); categories with ≥{dw.RARE_SHARE:.0%} of the "
                                           f"reference, one bin for rarer ones and one for unseen ones (categorical); "
                                           f"missing values in their own bin", "eps": dw.PSI_EPS},
        "drift_share_threshold": settings.drift_share,
    }
    return DriftVsReference(table, ds, prediction, label, calibration, reliability, skipped, provenance)


def _evidently_version() -> str:
    from importlib.metadata import version

    return version("evidently")


def _label_drift(audit: Audit, settings: DriftSettings) -> dict | None:
    """P(Y) of the labelled log rows vs the reference (evidently ValueDrift + PSI + class shares)."""
    target = audit.spec.columns.target
    ref = _labelled_reference(audit)
    cur = audit.labelled()
    if not target or not len(ref) or not len(cur):
        return None
    kind = dw.NUMERIC if audit.spec.task == "regression" else dw.CATEGORICAL
    ref_s, cur_s = sample_rows(ref, settings.sample_size, settings.seed), sample_rows(cur, settings.sample_size, settings.seed)
    ev, _ = run_evidently(ref_s, cur_s, [], {target: kind}, settings, extra=[target])
    row = _column_row(target, kind, ev.iloc[0].to_dict() if len(ev) else {}, ref[target], cur[target])
    row |= {"labelled_rows": int(len(cur)), "reference_rows": int(len(ref))}
    if audit.spec.task == "binary":
        row |= {"reference_positive_rate": float(audit.y_true(ref).mean()), "current_positive_rate": float(audit.y_true(cur).mean())}
        row["effect"] = f"positive rate moved from {_pct(row['reference_positive_rate'])} to {_pct(row['current_positive_rate'])}"
    return row


def _reference_calibration(audit: Audit) -> tuple[dict | None, pd.DataFrame]:
    """ECE and reliability of the reference's raw scores (what the label-free estimate leans on)."""
    cal = calibrator_for(audit)
    if cal is None:
        return None, pd.DataFrame()
    ref = _labelled_reference(audit)
    if not len(ref):
        return {"method": cal.method, "note": cal.reason, "reference_ece": None, "reference_labelled_rows": 0}, pd.DataFrame()
    y, s = audit.y_true(ref), audit.y_score(ref)
    return ({"method": cal.method, "note": cal.reason, "reference_labelled_rows": int(len(ref)),
             "reference_ece": expected_calibration_error(y, s),
             "reference_ece_after": expected_calibration_error(y, cal(s))},
            reliability_table(y, s))


# ------------------------------------------------------------------ over time
@dataclass(frozen=True)
class DriftOverTime:
    """The log in windows (see :func:`drift_over_time`). ``windows`` is empty without timestamps."""

    window: str
    windows: pd.DataFrame        # one row per window (see drift_over_time)
    psi: pd.DataFrame            # window, feature, role, psi, p_value, rows, drifted
    missing: pd.DataFrame        # window, feature, missing_rate, reference_missing_rate
    feature_changes: pd.DataFrame
    unseen: pd.DataFrame
    label_schema: pd.DataFrame
    score_outcome: pd.DataFrame  # window (date or "reference"), bin_lower, bin_upper, n, mean_score, observed_rate
    segments: pd.DataFrame       # concept-drift cells, largest |z| first
    provenance: dict


def _binary_arrays(audit: Audit, frame: pd.DataFrame, calibrator: Calibrator):
    """(y_true with NaN for missing labels, y_pred, y_score, calibrated p) of ``frame``."""
    target = audit.spec.columns.target
    has = frame[target].notna().to_numpy() if target and target in frame.columns else np.zeros(len(frame), bool)
    y = np.where(has, audit.y_true(frame), np.nan) if has.any() else np.full(len(frame), np.nan)
    s = audit.y_score(frame)
    return y, audit.y_pred(frame).astype(float), s, calibrator(s)


def drift_over_time(audit: Audit, window: str | None = None, settings: DriftSettings | None = None) -> DriftOverTime:
    """Everything per time window of the primary version's log (all rows, no sampling).

    ``windows`` columns: ``window`` (start date), ``rows``, ``labelled``, ``coverage``; binary
    audits add realised ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``,
    ``positive_rate`` and the label-free ``est_*`` estimates (see
    :func:`sightline.estimation.performance_by_window`), ``outcome_gap`` (observed − implied
    positive rate), ``label_psi``, ``label_p_value``, ``label_shift`` (flag), ``below_estimate``
    (realised accuracy under the estimate's 95% range: P(Y | score) changed); every audit adds
    ``score_psi``, ``features_drifted`` and ``top_feature``/``top_psi``.
    """
    ref = _require_reference(audit)
    settings = settings or drift_settings(audit)
    window = dw.normalise_window(window or settings.window)
    cur = audit.primary
    features, kinds, _ = comparable_features(audit)
    ts = audit.timestamps(cur)
    win, starts = dw.window_codes(ts, window)
    if ts is None:
        win = np.full(len(cur), -1, dtype=np.int64)
    n_w = len(starts)
    rows_w = np.bincount(win[win >= 0], minlength=n_w)
    judged = rows_w >= MIN_WINDOW_ROWS
    pred_col = _prediction_column(audit)

    # -- PSI and chi-square per (feature, window): one bincount per feature
    binnings, cur_codes, ref_codes, psi_frames = {}, {}, {}, []
    columns = [(f, "feature") for f in features] + ([(pred_col, "prediction")] if pred_col else [])
    for col, role in columns:
        kind = kinds.get(col) or dw.feature_kind(ref[col])
        b = dw.fit_binning(col, ref[col], kind)
        binnings[col], cur_codes[col], ref_codes[col] = b, b.codes(cur[col]), b.codes(ref[col])
        if not n_w:
            continue
        rc = np.bincount(ref_codes[col], minlength=b.n_bins)
        cc = dw.counts_by_window(cur_codes[col], win, n_w, b.n_bins)
        psi_frames.append(pd.DataFrame({"window": starts, "feature": col, "role": role, "rows": rows_w,
                                        "psi": dw.psi_from_counts(rc, cc), "p_value": dw.chi2_pvalue_from_counts(rc, cc)}))
    psi = pd.concat(psi_frames, ignore_index=True) if psi_frames else pd.DataFrame(
        columns=["window", "feature", "role", "rows", "psi", "p_value"])
    n_tests = max(int(np.isfinite(psi["p_value"].to_numpy(dtype=float)).sum()), 1)
    psi["drifted"] = ((psi["psi"] >= settings.psi_threshold) & (psi["p_value"] < ALPHA / n_tests)
                      & (psi["rows"] >= MIN_WINDOW_ROWS))

    # -- missing values per window
    missing_frames = []
    for f in features:
        m = cur[f].isna().to_numpy()
        if n_w:
            missing_frames.append(pd.DataFrame({"window": starts, "feature": f,
                                                "missing_rate": dw.sums_by_window(m.astype(float), win, n_w) / np.maximum(rows_w, 1),
                                                "reference_missing_rate": float(ref[f].isna().mean())}))
    missing = pd.concat(missing_frames, ignore_index=True) if missing_frames else pd.DataFrame(
        columns=["window", "feature", "missing_rate", "reference_missing_rate"])

    # -- per-window summary, performance, label shift, concept drift
    windows = pd.DataFrame({"window": starts, "rows": rows_w})
    score_outcome = pd.DataFrame(columns=["window", "bin_lower", "bin_upper", "n", "mean_score", "observed_rate",
                                          "reference_rate", "change_vs_reference"])
    segments = pd.DataFrame()
    provenance: dict = {"window": window, "windows": int(n_w), "rows": "all rows of the primary version",
                        "psi_threshold": settings.psi_threshold, "alpha": ALPHA, "min_window_rows": MIN_WINDOW_ROWS,
                        "window_flag_rule": (f"PSI ≥ {settings.psi_threshold:g} and chi-square p < {ALPHA:g}/{n_tests} "
                                             f"(Bonferroni over all feature × window tests) and ≥ {MIN_WINDOW_ROWS} rows")}
    calibrator = calibrator_for(audit)
    target = audit.spec.columns.target
    if n_w and audit.spec.task == "binary" and calibrator is not None:
        y, pred, s, p = _binary_arrays(audit, cur, calibrator)
        perf = performance_by_window(y, pred, s, p, win, n_w)
        windows = pd.concat([windows, perf.drop(columns="rows")], axis=1)
        windows["outcome_gap"] = windows["positive_rate"] - windows["expected_positive_rate_labelled"]
        # Realised accuracy below what calibrated scores allow: the band is widened from 95% to a
        # Bonferroni bound over the labelled windows, so a stable model is rarely flagged anywhere.
        tested = (windows["labelled"] >= MIN_WINDOW_ROWS) & (windows["coverage"] >= 0.5)
        sd = (windows["est_accuracy"] - windows["est_accuracy_lower"]) / norm.isf(0.025)
        bound = norm.isf(ALPHA / (2 * max(int(tested.sum()), 1)))
        windows["below_estimate"] = tested & (windows["est_accuracy"] - windows["accuracy"] > bound * sd)
        provenance["below_estimate_rule"] = (f"realised accuracy more than {bound:.2f} standard deviations below the "
                                             f"estimate (Bonferroni over {int(tested.sum())} labelled windows)")
        so = score_outcome_by_window(y, s, win, n_w)
        so["window"] = starts[so["window"].to_numpy()].date.astype(str) if len(so) else so["window"]
        ref_l = _labelled_reference(audit)
        if len(ref_l):
            rel = reliability_table(audit.y_true(ref_l), audit.y_score(ref_l)).assign(window="reference")
            so = pd.concat([rel[so.columns], so], ignore_index=True)
            ref_rate = rel.set_index("bin_lower")["observed_rate"]
            so["reference_rate"] = so["bin_lower"].map(ref_rate)
            so["change_vs_reference"] = so["observed_rate"] - so["reference_rate"]
            ref_p = calibrator(audit.y_score(ref))
            ref_y = np.where(ref[target].notna().to_numpy(), audit.y_true(ref), np.nan)
            seg_codes = {f: (cur_codes[f], binnings[f].labels) for f in features}
            segments = concept_drift_segments(y, p, win, n_w, seg_codes, ref_y, ref_p, {f: ref_codes[f] for f in features})
            if len(segments):
                segments["window"] = starts[segments["window"].to_numpy(dtype=int)].date.astype(str)
            provenance["concept_drift"] = {
                "segments": "each feature's reference bins (deciles / categories), one feature at a time",
                "expected": "calibrated score, shifted by the window's uniform label-shift odds factor, plus the "
                            "segment's own gap in the reference", "z_bound": segments.attrs.get("z_bound"),
                "min_rows": 30}
        score_outcome = so
        provenance["label_free"] = {"calibration": calibrator.reason}
    elif n_w:
        windows["labelled"] = dw.sums_by_window(cur[target].notna().to_numpy(float), win, n_w).astype(int) if target else 0
        windows["coverage"] = windows["labelled"] / windows["rows"].clip(lower=1)
    if n_w:
        _add_label_shift(audit, windows, win, n_w, ref)
        provenance["label_shift_rule"] = (f"labelled rows' class (or target-decile) shares differ from the reference's: "
                                          f"chi-square p < {ALPHA:g}/windows tested, total variation ≥ {LABEL_SHIFT_MIN:g} "
                                          f"and ≥ twice what sampling noise alone gives, ≥ {MIN_WINDOW_ROWS} labelled rows")
        by_w = psi[psi["role"] == "feature"]
        if len(by_w):
            grouped = by_w.groupby("window")
            windows["features_drifted"] = grouped["drifted"].sum().reindex(starts).fillna(0).astype(int).to_numpy()
            top = by_w.loc[by_w.groupby("window")["psi"].idxmax().dropna()]
            windows["top_feature"] = top.set_index("window")["feature"].reindex(starts).to_numpy()
            windows["top_psi"] = top.set_index("window")["psi"].reindex(starts).to_numpy()
        if pred_col:
            windows["score_psi"] = psi[psi["role"] == "prediction"].set_index("window")["psi"].reindex(starts).to_numpy()
        windows["judged"] = judged
    # every feature both sides have, including the ones the drift tests skip (a column gone empty is news)
    present = [f for f in audit.features if f in ref.columns and f in cur.columns]
    change_kinds = {f: kinds.get(f) or dw.feature_kind(ref[f]) for f in present}
    changes = detect_feature_changes(ref, cur, present, change_kinds, win if n_w else np.zeros(0, np.int64), starts, window)
    unseen = unseen_categories(ref, cur, features, kinds, win, starts)
    schema = label_schema_changes(ref, audit.current, target=target, prediction=audit.spec.columns.prediction,
                                  task=audit.spec.task, windows=_windows_of(audit, audit.current, window, starts),
                                  starts=starts)
    return DriftOverTime(window, windows, psi, missing, changes, unseen, schema, score_outcome, segments, provenance)


def _windows_of(audit: Audit, frame: pd.DataFrame, window: str, starts: pd.DatetimeIndex) -> np.ndarray:
    """Window index of each row of ``frame`` against known window starts (-1 outside them)."""
    ts = audit.timestamps(frame)
    if ts is None or not len(starts):
        return np.full(len(frame), -1, dtype=np.int64)
    s = dw.window_starts(ts, window).astype("datetime64[ns]")
    idx = starts.get_indexer(pd.DatetimeIndex(s))
    return idx.astype(np.int64)


def _add_label_shift(audit: Audit, windows: pd.DataFrame, win: np.ndarray, n_w: int, ref: pd.DataFrame) -> None:
    """Label PSI, chi-square p and the label-shift flag per window (labelled rows vs the reference)."""
    target = audit.spec.columns.target
    ref_l = _labelled_reference(audit)
    if not target or not len(ref_l):
        return
    kind = dw.NUMERIC if audit.spec.task == "regression" else dw.CATEGORICAL
    b = dw.fit_binning(target, ref_l[target], kind)
    cur = audit.primary
    codes = b.codes(cur[target])
    lab = cur[target].notna().to_numpy()
    w = np.where(lab, win, -1)
    rc = np.bincount(b.codes(ref_l[target]), minlength=b.n_bins)
    cc = dw.counts_by_window(codes, w, n_w, b.n_bins)
    windows["label_psi"] = dw.psi_from_counts(rc, cc)
    windows["label_p_value"] = dw.chi2_pvalue_from_counts(rc, cc)
    n_w_rows, shares = cc.sum(axis=1, keepdims=True), rc / rc.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        tvd = 0.5 * np.abs(cc / n_w_rows - shares).sum(axis=1)
        # total variation expected from sampling noise alone: 0.5 * sum_b E|N(0, p_b(1-p_b)(1/n_w + 1/n_ref))|
        noise = 0.5 * np.sqrt(2 / np.pi) * np.sqrt(shares * (1 - shares) * (1 / n_w_rows + 1 / rc.sum())).sum(axis=1)
    windows["label_tvd"] = tvd
    tested = max(int(np.isfinite(windows["label_p_value"]).sum()), 1)
    windows["label_shift"] = ((windows["label_p_value"] < ALPHA / tested) & (tvd >= np.maximum(LABEL_SHIFT_MIN, 2 * noise))
                              & (cc.sum(axis=1) >= MIN_WINDOW_ROWS))
    if audit.spec.task == "binary":
        windows["reference_positive_rate"] = float(audit.y_true(ref_l).mean())


# ------------------------------------------------------------------ label-free summary
def label_free_summary(audit: Audit, over_time: DriftOverTime, calibration: dict | None) -> dict | None:
    """The estimate over the rows still waiting for labels, and estimated vs realised per window."""
    if audit.spec.task != "binary" or calibration is None:
        return None
    cal = calibrator_for(audit)
    cur = audit.primary
    target = audit.spec.columns.target
    waiting = cur[cur[target].isna()] if target and target in cur.columns else cur
    out = {"assumption": ("scores are calibrated: after recalibration on the reference, a score of 0.7 comes true "
                          "70% of the time in production too — concept drift or label shift break this"),
           "calibration": calibration, "unlabelled_rows": int(len(waiting))}
    if len(waiting):
        y, pred, s, p = _binary_arrays(audit, waiting, cal)
        out["estimate_unlabelled"] = estimate_performance(p, pred, s)
    lab = audit.labelled()
    if len(lab):
        out["realised_labelled"] = realised_performance(audit.y_true(lab), audit.y_pred(lab), audit.y_score(lab))
        _, pred_l, s_l, p_l = _binary_arrays(audit, lab, cal)
        out["estimate_labelled"] = estimate_performance(p_l, pred_l, s_l)
    ref_l = _labelled_reference(audit)
    if len(ref_l):
        out["reference"] = realised_performance(audit.y_true(ref_l), audit.y_pred(ref_l), audit.y_score(ref_l))
    w = over_time.windows
    if len(w) and "est_accuracy" in w.columns:
        out["unlabelled_windows"] = [d.date().isoformat() for d in w.loc[w["coverage"] == 0, "window"]]
        out["windows"] = w[["window", "rows", "coverage", "est_accuracy", "est_accuracy_lower", "est_accuracy_upper",
                            "accuracy", "est_roc_auc", "roc_auc", "est_precision", "precision", "est_recall", "recall",
                            "est_f1", "f1", "below_estimate"]].assign(window=lambda d: d["window"].dt.date.astype(str))
    return out


# ------------------------------------------------------------------ verdict
def trailing_unlabelled(windows: pd.DataFrame) -> int:
    """How many of the most recent windows have no labels at all."""
    if not len(windows) or "coverage" not in windows.columns:
        return 0
    n = 0
    for c in windows["coverage"].to_numpy()[::-1]:
        if c > 0:
            break
        n += 1
    return n


def drift_verdict(vs: DriftVsReference, ot: DriftOverTime, label_free: dict | None) -> Verdict:
    """Status and one plain sentence, most serious finding first (see the README for the rules).

    Red: the dataset drifts (share of drifted features ≥ drift_share), or a pipeline change
    (unit, scale or type change, a column gone empty), or a class the reference never had.
    Amber: any feature, prediction or label drift, unseen category, or concept-drift evidence.
    """
    parts, detail = [], []
    ds, feats = vs.dataset, vs.features
    drifted = feats[feats["drifted"]].copy()
    window = ot.window
    if len(drifted):
        drifted["rank"] = drifted["psi"].fillna(0)
        lead = drifted.sort_values("rank", ascending=False).iloc[0]
        parts.append(f"{ds['n_drifted']} of {ds['n_features']} features drifted, led by {lead['feature']} ({lead['effect'].split(';')[0]})")
    else:
        parts.append(f"none of {ds['n_features']} features drifted overall")
    pipeline = ot.feature_changes[ot.feature_changes["change"].isin(["unit_change", "scale_change", "type_change", "empty"])] \
        if len(ot.feature_changes) else ot.feature_changes
    if len(pipeline):
        parts.append(pipeline.iloc[0]["message"].split(":")[0].replace("'", ""))
        detail += [m for m in pipeline["message"].iloc[1:]]
    other_changes = ot.feature_changes[~ot.feature_changes.index.isin(pipeline.index)] if len(ot.feature_changes) else []
    detail += [m for m in (other_changes["message"] if len(other_changes) else [])]
    if len(ot.unseen):
        u = ot.unseen.iloc[0]
        when = f" from {dw.window_label(pd.Timestamp(u['first_window']), window)}" if u["first_window"] else ""
        text = f"a new {u['feature']} category '{u['category']}' appeared{when}"
        (parts if len(parts) < 3 else detail).append(text)
    if label_free and label_free.get("estimate_unlabelled"):
        k = trailing_unlabelled(ot.windows)
        est = label_free["estimate_unlabelled"]["accuracy"]
        ref_acc = (label_free.get("reference") or {}).get("accuracy")
        word = {"day": "day", "week": "week", "month": "month"}[window] + ("s" if k > 1 else "")
        where = (f"labels are missing for the last {k} {word}" if k else
                 f"{label_free['unlabelled_rows']:,} predictions have no label yet")
        text = (f"{where} — estimated accuracy there is {est:.1%}"
                + (f" (reference {ref_acc:.1%})" if ref_acc is not None else ""))
        parts.append(text)
    w = ot.windows
    if len(w) and "label_shift" in w.columns and w["label_shift"].any():
        msg = f"label shift in {dw.flagged_windows_text(w['window'], w['label_shift'], window)}"
        if "positive_rate" in w.columns:
            hit = w[w["label_shift"]]
            msg += (f" (positive rate {_pct(float(hit['positive_rate'].mean()))} vs "
                    f"{_pct(float(w['reference_positive_rate'].iloc[0]))} in the reference)")
        detail.append(msg)
    if len(ot.segments) and ot.segments["significant"].any():
        s = ot.segments[ot.segments["significant"] & (ot.segments["z"] > 0)]
        if len(s):
            top = s.iloc[0]
            detail.append(f"concept drift: in {top['feature']} = {top['segment']}, {dw.window_label(pd.Timestamp(top['window']), window)}, "
                          f"{_pct(top['observed_rate'])} of outcomes were positive where the scores imply {_pct(top['score_rate'])}")
    if len(w) and "below_estimate" in w.columns and w["below_estimate"].any():
        detail.append(f"realised accuracy fell below the label-free estimate in "
                      f"{dw.flagged_windows_text(w['window'], w['below_estimate'], window)}: "
                      f"the score→outcome relationship changed there")
    if vs.prediction and vs.prediction.get("drifted"):
        detail.append(f"prediction drift: {vs.prediction['effect']}")
    if vs.label and vs.label.get("drifted"):
        detail.append(f"label drift: {vs.label['effect']}")
    red = ds.get("drifted") or len(pipeline) or len(ot.label_schema)
    if len(ot.label_schema):
        r = ot.label_schema.iloc[0]
        parts.insert(1, f"a {r['role']} class '{r['class']}' appears that the reference never had")
    amber = len(drifted) or len(ot.unseen) or detail or (len(w) and "features_drifted" in w.columns and w["features_drifted"].sum())
    status = RED if red else AMBER if amber else GREEN
    headline = "; ".join(parts[:4])
    headline = headline[0].upper() + headline[1:] + "."
    return Verdict(status, headline, "; ".join(d[0].upper() + d[1:] for d in detail[:6]) + ("." if detail else ""))


# ------------------------------------------------------------------ section
def _records(frame: pd.DataFrame) -> list[dict]:
    if frame is None or not len(frame):
        return []
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.date.astype(str)
    return out.to_dict(orient="records")


def drift_section(audit: Audit) -> Section:
    """The drift Section: report.json["drift"], card metrics and charts, provenance, verdict."""
    from sightline.charts import drift as charts

    settings = drift_settings(audit)
    vs = drift_vs_reference(audit, settings)
    ot = drift_over_time(audit, settings.window, settings)
    label_free = label_free_summary(audit, ot, vs.calibration)
    verdict = drift_verdict(vs, ot, label_free)
    features = vs.features.drop(columns=["kind"])
    report = {
        "features": _records(features),
        "dataset": vs.dataset,
        "prediction": vs.prediction,
        "label": vs.label,
        "concept": {
            "windows_below_estimate": [d.date().isoformat() for d in ot.windows.loc[ot.windows.get("below_estimate", pd.Series(False, index=ot.windows.index)).astype(bool), "window"]] if len(ot.windows) else [],
            "segments": _records(ot.segments[ot.segments["significant"]].head(20)) if len(ot.segments) else [],
        },
        "windows": {"window": ot.window, "table": _records(ot.windows)},
        "psi_by_window": _records(ot.psi),
        "missing_by_window": _records(ot.missing[ot.missing["feature"].isin(
            ot.missing.loc[(ot.missing["missing_rate"] > 0) | (ot.missing["reference_missing_rate"] > 0), "feature"])]) if len(ot.missing) else [],
        "feature_changes": _records(ot.feature_changes),
        "unseen_categories": _records(ot.unseen),
        "label_schema_changes": _records(ot.label_schema),
        "score_outcome_by_window": _records(ot.score_outcome),
        "label_free": ({**{k: (_records(v) if isinstance(v, pd.DataFrame) else v) for k, v in label_free.items()},
                        "reference_reliability": _records(vs.reliability)} if label_free else None),
        "skipped_features": vs.skipped,
    }
    metrics = (CardMetric("drift_share", float(vs.dataset["drift_share"]), "", n=vs.dataset["n_features"]),
               CardMetric("dataset_drift", 1.0 if vs.dataset["drifted"] else 0.0, "", n=vs.dataset["n_features"]))
    chart_list = [Chart("drift_features", "Drift per feature: PSI, evidently's test outcome", charts.feature_drift_chart(vs.features))]
    if len(ot.psi):
        chart_list.append(Chart("drift_psi_heatmap", f"PSI per feature and {ot.window}", charts.psi_heatmap(ot.psi, ot.window)))
    if vs.prediction and audit.has_score and audit.spec.task == "binary":
        dist = feature_distribution(audit.reference[audit.spec.columns.score], audit.primary[audit.spec.columns.score],
                                    dw.NUMERIC, value_range=(0.0, 1.0))
        chart_list.append(Chart("drift_score_distribution", "Score distribution: reference vs production",
                                charts.distribution_chart(dist, "score", title="Score distribution: reference vs production")))
    if len(ot.windows) and "est_accuracy" in ot.windows.columns:
        chart_list.append(Chart("drift_performance_by_window", f"Accuracy per {ot.window}: realised and estimated without labels",
                                charts.performance_by_window_chart(ot.windows, ot.window)))
    tables = {"drift_features": features,
              "drift_windows": ot.windows[[c for c in ("window", "rows", "coverage", "accuracy", "est_accuracy", "roc_auc",
                                                       "positive_rate", "score_psi", "features_drifted", "top_feature")
                                           if c in ot.windows.columns]] if len(ot.windows) else pd.DataFrame()}
    if len(ot.feature_changes):
        tables["feature_changes"] = ot.feature_changes[["feature", "change", "from", "to", "message"]]
    provenance = {**vs.provenance, "over_time": ot.provenance,
                  "label_free": {"method": "confidence-based estimation (CBPE-style) from calibrated scores",
                                 "calibration": (vs.calibration or {}).get("note")} if vs.calibration else None}
    return Section(area="drift", verdict=verdict, report=report, metrics=metrics, charts=tuple(chart_list),
                   provenance=provenance, tables=tables)
