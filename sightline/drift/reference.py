"""Drift now vs reference: production (primary version) against the reference data set.

Per feature, evidently 0.7's drift test (:func:`run_evidently`: its default test by column type
and size, or the audit's ``drift.method`` / per-column overrides — computed by
:mod:`sightline.drift.methods`, which reproduces evidently's tests without importing it, and by
evidently's own Report for tests it does not reproduce) on a bounded, seeded random
sample of each side, with a readable effect size (:func:`numeric_effect`,
:func:`categorical_effect`) and PSI on *all* rows; overlay distributions
(:func:`feature_distribution`, :func:`column_distribution`); and :func:`drift_vs_reference`,
which assembles the dataset verdict, prediction and label drift and the reference calibration
the label-free estimate relies on (:func:`calibrator_for`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from sightline.core.errors import MissingInputError, SpecError
from sightline.data.audit import Audit
from sightline.drift import windows as dw
from sightline.drift.estimation import ECE_BINS, Calibrator, fit_calibrator
from sightline.drift.methods import EVIDENTLY_CHECKED, RESULT_COLUMNS, NotReproduced, reproduce_run_evidently
from sightline.drift.settings import (
    SEED,
    DriftSettings,
    _labelled_reference,
    _prediction_column,
    _require_reference,
    binned_columns,
    comparable_features,
    drift_settings,
    sample_rows,
)
from sightline.stats.binned_ranks import median_from_bins
from sightline.stats.reliability import errors_from_table, expected_calibration_error, reliability_table

log = logging.getLogger(__name__)


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


ENGINES = ("auto", "sightline", "evidently")


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], kinds: dict[str, str],
                  settings: DriftSettings, *, extra: list[str] = (), engine: str = "auto") -> tuple[pd.DataFrame, dict]:
    """evidently's DataDriftPreset metrics over ``columns`` (DriftedColumnsCount and a ValueDrift
    per column) plus a ValueDrift for each of ``extra``.

    ``settings.method``/``threshold`` apply to ``columns``; ``settings.columns`` overrides any
    column. Output: one row per column — ``column``, ``method`` (evidently's name for the test as
    it reports it), ``statistic`` (the distance, for distance tests), ``p_value`` (for tests that
    give one), ``threshold``, ``drifted`` (evidently's own test outcome) — and the dataset result
    ``{"n_drifted", "share", "drifted"}`` from DriftedColumnsCount. Raises :class:`SpecError` for a
    method evidently does not know or that does not fit the column type.

    ``engine``: ``"auto"`` computes the tests with :mod:`sightline.drift.methods` (evidently's
    tests in numpy/scipy, tested equal to its Report) when every requested test is one it
    reproduces — evidently's defaults, and wasserstein, jensenshannon, psi, ks, chisquare, z —
    and runs evidently's Report otherwise; ``"evidently"`` always runs the Report;
    ``"sightline"`` never does (raises :class:`sightline.drift.methods.NotReproduced` instead).
    The rows' ``attrs["engine"]`` says which ran (``"sightline"`` or ``"evidently"``).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine != "evidently":
        reproduced = reproduce_run_evidently(reference, current, columns, kinds, settings, extra)
        if reproduced is not None:
            return reproduced
        if engine == "sightline":
            raise NotReproduced("a requested drift test is not reproduced by sightline.drift.methods")
    rows, dataset = _evidently_report(reference, current, columns, kinds, settings, extra)
    rows.attrs["engine"] = "evidently"
    return rows, dataset


def _evidently_report(reference: pd.DataFrame, current: pd.DataFrame, columns, kinds, settings: DriftSettings,
                      extra) -> tuple[pd.DataFrame, dict]:
    """:func:`run_evidently` by evidently's own Report (imports evidently: ~8 s CPU)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.legacy.calculations.stattests.registry import StatTestInvalidFeatureTypeError, StatTestNotFoundError
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
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), dataset


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


def numeric_effect(reference, current, *, binned: dw.BinnedColumn | None = None) -> str:
    """One readable sentence on how a numeric column moved: the median (else the mean), plus the
    share of values outside the reference's range when that is above 1%. ``binned``: both
    columns' numeric bins, if the caller has them (the medians then partition one bin's values,
    not all of them)."""
    r_all = dw.as_numbers(pd.Series(reference))
    c_all = dw.as_numbers(pd.Series(current))
    r = r_all[~np.isnan(r_all)]
    n_c = int(np.count_nonzero(~np.isnan(c_all)))
    if not len(r) or not n_c:
        return "no values to compare"
    if binned is not None and binned.binning.kind == dw.NUMERIC:
        mr = median_from_bins(r_all, binned.reference_codes, binned.reference_counts())
        mc = median_from_bins(c_all, binned.current_codes, binned.current_counts())
    else:
        mr, mc = float(np.median(r)), float(np.median(c_all[~np.isnan(c_all)]))
    if _num(mr) != _num(mc):
        text = f"median moved from {_num(mr)} to {_num(mc)}"
    else:
        c = c_all[~np.isnan(c_all)]
        text = f"median unchanged at {_num(mr)}; mean moved from {_num(float(r.mean()))} to {_num(float(c.mean()))}"
    # NaN compares False, so counting over every row and dividing by the values is the share of
    # values; no value beyond the reference's range (the usual case) needs no comparison per row
    c_max, c_min = np.fmax.reduce(c_all), np.fmin.reduce(c_all)   # NaN-ignoring
    above = np.count_nonzero(c_all > r.max()) / n_c if c_max > r.max() else 0.0
    below = np.count_nonzero(c_all < r.min()) / n_c if c_min < r.min() else 0.0
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
    shares = shares[shares > 0]
    # categories that read alike ("1" and 1) add up; without any, that is the shares in label order
    return shares.sort_index() if shares.index.is_unique else shares.groupby(level=0).sum()


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


def effect_sentence(reference: pd.Series, current: pd.Series, kind: str, binned: dw.BinnedColumn | None = None) -> str:
    """:func:`numeric_effect` or :func:`categorical_effect` by ``kind`` (``binned``: see numeric_effect)."""
    return (numeric_effect(reference, current, binned=binned) if kind == dw.NUMERIC
            else categorical_effect(reference, current))


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



def calibrator_for(audit: Audit) -> Calibrator | None:
    """The reference-fitted calibrator of a binary audit with scores (None otherwise)."""
    if audit.spec.task != "binary" or not audit.has_score or audit.spec.columns.score not in audit.reference.columns:
        return None
    ref = _labelled_reference(audit)
    if not len(ref):
        return fit_calibrator([], [])
    return fit_calibrator(audit.y_true(ref), audit.y_score(ref), seed=SEED)


def _column_row(column, kind, ev_row, ref_values, cur_values, binned: dw.BinnedColumn | None = None) -> dict:
    return {"column": column, "method": ev_row.get("method"), "statistic": ev_row.get("statistic"),
            "p_value": ev_row.get("p_value"), "threshold": ev_row.get("threshold"), "drifted": bool(ev_row.get("drifted")),
            "psi": binned.psi() if binned is not None else dw.population_stability_index(ref_values, cur_values, kind=kind),
            "effect": effect_sentence(ref_values, cur_values, kind, binned)}


def drift_vs_reference(audit: Audit, settings: DriftSettings | None = None, *,
                       binned: Mapping[str, dw.BinnedColumn] | None = None,
                       calibrator: Calibrator | None = None) -> DriftVsReference:
    """Per-feature drift (evidently's tests on bounded samples, PSI and effects on all rows), the
    dataset verdict, prediction and label drift, and the reference calibration. See the module
    docstring. ``binned`` (from :func:`sightline.drift.settings.binned_columns`) and ``calibrator``
    (:func:`calibrator_for`) save recomputing what the caller already has."""
    ref = _require_reference(audit)
    settings = settings or drift_settings(audit)
    cur = audit.primary
    features, kinds, skipped = comparable_features(audit)
    pred_col = _prediction_column(audit)
    extra = []
    if pred_col:
        kinds[pred_col] = dw.feature_kind(ref[pred_col])
        extra.append(pred_col)
    binned = binned if binned is not None else binned_columns(audit, features + extra, kinds)
    ref_s, cur_s = sample_rows(ref, settings.sample_size, settings.seed), sample_rows(cur, settings.sample_size, settings.seed)
    ev, dataset = (run_evidently(ref_s, cur_s, features, kinds, settings, extra=extra) if features or extra
                   else (pd.DataFrame(columns=["column"]), {}))
    ev_rows = {r["column"]: r for r in ev.to_dict(orient="records")}
    rows = []
    for f in features:
        row = _column_row(f, kinds[f], ev_rows.get(f, {}), ref[f], cur[f], binned.get(f))
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
        prediction = _column_row(pred_col, kinds[pred_col], ev_rows.get(pred_col, {}), ref[pred_col], cur[pred_col],
                                 binned.get(pred_col))
        if kinds[pred_col] == dw.NUMERIC:
            rs, cs = dw.as_numbers(ref[pred_col]), dw.as_numbers(cur[pred_col])
            prediction |= {"reference_mean": float(np.nanmean(rs)), "current_mean": float(np.nanmean(cs))}
        if audit.spec.task == "binary":
            rp = audit.y_pred(ref) if (audit.spec.columns.prediction in ref.columns or audit.has_score) else None
            prediction |= {"reference_predicted_positive_rate": float(np.mean(rp)) if rp is not None else None,
                           "current_predicted_positive_rate": float(np.mean(audit.y_pred(cur)))}
    label, label_engine = _label_drift(audit, settings)
    calibration, reliability = _reference_calibration(audit, calibrator)
    n_ref_s, n_cur_s = len(ref_s), len(cur_s)
    engines = {e for e in (ev.attrs.get("engine") if features or extra else None, label_engine) if e}
    provenance = {
        "current_rows": int(len(cur)), "reference_rows": int(len(ref)), "model_version": audit.primary_version,
        "evidently": {"version": _evidently_version(), "metrics": "DriftedColumnsCount + ValueDrift per column "
                                                                      "(DataDriftPreset's metrics)",
                      "implementation": _implementation_text(engines),
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


def _implementation_text(engines: set) -> str:
    """Which code computed the tests, for the provenance (``engines``: {"sightline", "evidently"})."""
    ours = (f"sightline.drift.methods: evidently's own tests (default choice, binning, thresholds, decision) "
            f"re-implemented in numpy/scipy, tested equal to evidently {EVIDENTLY_CHECKED}'s Report")
    if engines == {"sightline"}:
        return ours
    if engines == {"evidently"}:
        return "evidently's Report (a requested test is not one sightline.drift.methods reproduces)"
    if engines:
        return f"{ours}; evidently's Report for the label drift test"
    return "no test ran"


def _label_drift(audit: Audit, settings: DriftSettings) -> tuple[dict | None, str | None]:
    """P(Y) of the labelled log rows vs the reference (evidently ValueDrift + PSI + class shares),
    and the engine that ran the test (see :func:`run_evidently`)."""
    target = audit.spec.columns.target
    ref = _labelled_reference(audit)
    if not target or not len(ref) or target not in audit.primary.columns:
        return None, None
    cur = audit.labelled(audit.primary[[target]])  # only the label is read: no copy of every column's labelled rows
    if not len(cur):
        return None, None
    kind = dw.NUMERIC if audit.spec.task == "regression" else dw.CATEGORICAL
    ref_s, cur_s = sample_rows(ref, settings.sample_size, settings.seed), sample_rows(cur, settings.sample_size, settings.seed)
    ev, _ = run_evidently(ref_s, cur_s, [], {target: kind}, settings, extra=[target])
    row = _column_row(target, kind, ev.iloc[0].to_dict() if len(ev) else {}, ref[target], cur[target])
    row |= {"labelled_rows": int(len(cur)), "reference_rows": int(len(ref))}
    if audit.spec.task == "binary":
        row |= {"reference_positive_rate": float(audit.y_true(ref).mean()), "current_positive_rate": float(audit.y_true(cur).mean())}
        row["effect"] = f"positive rate moved from {_pct(row['reference_positive_rate'])} to {_pct(row['current_positive_rate'])}"
    return row, ev.attrs.get("engine")


def _reference_calibration(audit: Audit, calibrator: Calibrator | None = None) -> tuple[dict | None, pd.DataFrame]:
    """ECE and reliability of the reference's raw scores (what the label-free estimate leans on)."""
    cal = calibrator if calibrator is not None else calibrator_for(audit)
    if cal is None:
        return None, pd.DataFrame()
    ref = _labelled_reference(audit)
    if not len(ref):
        return {"method": cal.method, "note": cal.reason, "reference_ece": None, "reference_labelled_rows": 0}, pd.DataFrame()
    y, s = audit.y_true(ref), audit.y_score(ref)
    table = reliability_table(y, np.clip(s, 0.0, 1.0), n_bins=ECE_BINS)
    return ({"method": cal.method, "note": cal.reason, "reference_labelled_rows": int(len(ref)),
             "reference_ece": errors_from_table(table)[0],
             "reference_ece_after": expected_calibration_error(y, cal(s), n_bins=ECE_BINS)},
            table)
