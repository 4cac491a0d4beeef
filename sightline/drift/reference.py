"""Drift now vs reference: production (primary version) against the reference data set.

Per feature, evidently 0.7's drift test (:func:`run_evidently`: its default test by column type
and size, or the audit's ``drift.method`` / per-column overrides — computed by
:mod:`sightline.drift.methods`, which reproduces evidently's tests without importing it, and by
evidently's own Report for tests it does not reproduce) on a bounded, seeded random
sample of each side, with a readable effect size (:mod:`sightline.drift.effects`) and PSI on
*all* rows; and :func:`drift_vs_reference`,
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

import sightline.drift.windows as dw
from sightline.core.errors import SpecError
from sightline.data.audit import Audit
from sightline.drift.effects import effect_sentence, percent_text
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
        row["effect"] = f"positive rate moved from {percent_text(row['reference_positive_rate'])} to {percent_text(row['current_positive_rate'])}"
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
