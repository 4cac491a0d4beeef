"""Drift over time: the primary version's log in day/week/month windows, all rows, no sampling.

:func:`drift_over_time` gives PSI per feature and window (vectorised), missing values, realised
and label-free estimated performance with label coverage, label shift, the score→outcome
relationship, segments whose outcomes departed from the scores beyond a uniform label shift
(concept drift), feature changes (unit, type, constant, empty), and categories and classes the
reference never had (:class:`DriftOverTime`). :func:`label_free_summary` summarises the
label-free estimate over the rows still waiting for labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd
from scipy.stats import norm

import sightline.drift.windows as dw
from sightline.data.audit import Audit
from sightline.drift.concept import concept_drift_segments
from sightline.drift.estimation import ECE_BINS, Calibrator, estimate_performance, performance_by_window, realised_performance, score_outcome_by_window
from sightline.drift.feature_changes import detect_feature_changes, label_schema_changes, unseen_categories
from sightline.drift.reference import calibrator_for
from sightline.drift.settings import (
    ALPHA,
    DRIFT_WINDOWS,
    LABEL_SHIFT_MIN,
    MIN_WINDOW_ROWS,
    DriftSettings,
    _labelled_reference,
    _prediction_column,
    _require_reference,
    comparable_features,
    drift_settings,
)
from sightline.stats.ranking import score_order, subset_order
from sightline.stats.reliability import RELIABILITY_COLUMNS, reliability_table
from sightline.stats.windows import normalise_window, window_codes, window_starts


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
    score_outcome: pd.DataFrame  # window (date or "reference"), the columns of stats.reliability.reliability_rows, reference_rate, change_vs_reference
    segments: pd.DataFrame       # concept-drift cells, largest |z| first
    provenance: dict


def _binary_arrays(audit: Audit, frame: pd.DataFrame, calibrator: Calibrator):
    """(y_true with NaN for missing labels, y_pred, y_score, calibrated p, score order) of
    ``frame``: four float arrays with one value per row — elementwise, so the arrays of a subset
    of rows are these arrays masked — and the rows' order by score
    (:func:`sightline.stats.ranking.score_order`), the one sort every ROC AUC here shares."""
    target = audit.spec.columns.target
    has = frame[target].notna().to_numpy() if target and target in frame.columns else np.zeros(len(frame), bool)
    y = np.where(has, audit.y_true(frame), np.nan) if has.any() else np.full(len(frame), np.nan)
    s = audit.y_score(frame)
    return y, audit.y_pred(frame).astype(float), s, calibrator(s), score_order(s)


def binary_arrays(audit: Audit, calibrator: Calibrator | None) -> tuple | None:
    """:func:`_binary_arrays` of the primary version's log (None unless binary with a calibrator)."""
    if audit.spec.task != "binary" or calibrator is None:
        return None
    return _binary_arrays(audit, audit.primary, calibrator)


def drift_over_time(audit: Audit, window: str | None = None, settings: DriftSettings | None = None, *,
                    binned: Mapping[str, dw.BinnedColumn] | None = None, calibrator: Calibrator | None = None,
                    arrays: tuple | None = None) -> DriftOverTime:
    """Everything per time window of the primary version's log (all rows, no sampling).

    ``windows`` columns: ``window`` (start date), ``rows``, ``labelled``, ``coverage``; binary
    audits add realised ``accuracy``, ``precision``, ``recall``, ``f1``, ``roc_auc``,
    ``positive_rate`` and the label-free ``est_*`` estimates (see
    :func:`sightline.drift.estimation.performance_by_window`), ``outcome_gap`` (observed − implied
    positive rate), ``label_psi``, ``label_p_value``, ``label_shift`` (flag), ``below_estimate``
    (realised accuracy under the estimate's 95% range: P(Y | score) changed); every audit adds
    ``score_psi``, ``features_drifted`` and ``top_feature``/``top_psi``.

    ``binned`` (columns already binned by :func:`sightline.drift.settings.binned_columns`),
    ``calibrator`` (:func:`calibrator_for`) and ``arrays`` (:func:`binary_arrays` with that
    calibrator) save recomputing what the caller already has.
    """
    ref = _require_reference(audit)
    settings = settings or drift_settings(audit)
    window = normalise_window(window, DRIFT_WINDOWS, default=settings.window)
    cur = audit.primary
    features, kinds, _ = comparable_features(audit)
    ts = audit.timestamps(cur)
    win, starts = window_codes(ts, window)
    if ts is None:
        win = np.full(len(cur), -1, dtype=np.int64)
    n_w = len(starts)
    rows_w = np.bincount(win[win >= 0], minlength=n_w)
    judged = rows_w >= MIN_WINDOW_ROWS
    pred_col = _prediction_column(audit)

    # -- PSI and chi-square per (feature, window): each column binned once, one bincount per column
    binnings, cur_codes, ref_codes, window_counts, psi_frames = {}, {}, {}, {}, []
    columns = [(f, "feature") for f in features] + ([(pred_col, "prediction")] if pred_col else [])
    binned = dict(binned or {})
    for col, role in columns:
        if col not in binned:
            binned[col] = dw.bin_column(col, ref[col], cur[col], kinds.get(col) or dw.feature_kind(ref[col]))
        b = binned[col].binning
        binnings[col], cur_codes[col], ref_codes[col] = b, binned[col].current_codes, binned[col].reference_codes
        if not n_w:
            continue
        rc = binned[col].reference_counts()
        cc = window_counts[col] = dw.counts_by_window(cur_codes[col], win, n_w, b.n_bins)
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
        if not n_w:
            continue
        if _missing_is_last_bin(cur[f], binnings[f]):  # the counts are already there: the last bin's
            n_missing = window_counts[f][:, binnings[f].missing_bin].astype(float)
        else:
            n_missing = dw.sums_by_window(cur[f].isna().to_numpy().astype(float), win, n_w)
        missing_frames.append(pd.DataFrame({"window": starts, "feature": f,
                                            "missing_rate": n_missing / np.maximum(rows_w, 1),
                                            "reference_missing_rate": float(ref[f].isna().mean())}))
    missing = pd.concat(missing_frames, ignore_index=True) if missing_frames else pd.DataFrame(
        columns=["window", "feature", "missing_rate", "reference_missing_rate"])

    # -- per-window summary, performance, label shift, concept drift
    windows = pd.DataFrame({"window": starts, "rows": rows_w})
    score_outcome = pd.DataFrame(columns=["window", *RELIABILITY_COLUMNS, "reference_rate", "change_vs_reference"])
    segments = pd.DataFrame()
    provenance: dict = {"window": window, "windows": int(n_w), "rows": "all rows of the primary version",
                        "psi_threshold": settings.psi_threshold, "alpha": ALPHA, "min_window_rows": MIN_WINDOW_ROWS,
                        "window_flag_rule": (f"PSI ≥ {settings.psi_threshold:g} and chi-square p < {ALPHA:g}/{n_tests} "
                                             f"(Bonferroni over all feature × window tests) and ≥ {MIN_WINDOW_ROWS} rows")}
    calibrator = calibrator if calibrator is not None else calibrator_for(audit)
    target = audit.spec.columns.target
    if n_w and audit.spec.task == "binary" and calibrator is not None:
        y, pred, s, p, order = arrays if arrays is not None else _binary_arrays(audit, cur, calibrator)
        perf = performance_by_window(y, pred, s, p, win, n_w, order=order)
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
            rel = reliability_table(audit.y_true(ref_l), np.clip(audit.y_score(ref_l), 0.0, 1.0), n_bins=ECE_BINS)
            so = pd.concat([rel.assign(window="reference")[so.columns], so], ignore_index=True)
            so["reference_rate"] = so["bin"].map(rel.set_index("bin")["fraction_positive"])
            so["change_vs_reference"] = so["fraction_positive"] - so["reference_rate"]
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
                                  task=audit.spec.task, starts=starts,
                                  windows=lambda rows: _windows_of(audit, audit.current[rows], window, starts))
    return DriftOverTime(window, windows, psi, missing, changes, unseen, schema, score_outcome, segments, provenance)


def _missing_is_last_bin(values: pd.Series, binning: dw.Binning) -> bool:
    """Whether ``binning`` puts exactly the missing values (``isna``) of ``values`` in its last bin.

    True for categorical bins and for numbers held in a numeric column; not for a numeric
    feature logged as text, whose unparseable values are binned as missing too."""
    if binning.kind == dw.CATEGORICAL:
        return True
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _windows_of(audit: Audit, frame: pd.DataFrame, window: str, starts: pd.DatetimeIndex) -> np.ndarray:
    """Window index of each row of ``frame`` against known window starts (-1 outside them)."""
    ts = audit.timestamps(frame)
    if ts is None or not len(starts):
        return np.full(len(frame), -1, dtype=np.int64)
    idx = starts.get_indexer(pd.DatetimeIndex(window_starts(ts, window)))
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
def label_free_summary(audit: Audit, over_time: DriftOverTime, calibration: dict | None, *,
                       calibrator: Calibrator | None = None, arrays: tuple | None = None) -> dict | None:
    """The estimate over the rows still waiting for labels, and estimated vs realised per window.

    ``calibrator`` and ``arrays`` as for :func:`drift_over_time`."""
    if audit.spec.task != "binary" or calibration is None:
        return None
    cal = calibrator if calibrator is not None else calibrator_for(audit)
    cur = audit.primary
    target = audit.spec.columns.target
    has_target = bool(target) and target in cur.columns
    # The subsets' arrays are the log's arrays masked (elementwise; no copies of every column).
    y, pred, s, p, order = arrays if arrays is not None else _binary_arrays(audit, cur, cal)
    labelled = cur[target].notna().to_numpy() if has_target else np.zeros(len(cur), dtype=bool)
    waiting = ~labelled if has_target else np.ones(len(cur), dtype=bool)
    out = {"assumption": ("scores are calibrated: after recalibration on the reference, a score of 0.7 comes true "
                          "70% of the time in production too — concept drift or label shift break this"),
           "calibration": calibration, "unlabelled_rows": int(waiting.sum())}
    if waiting.any():
        out["estimate_unlabelled"] = estimate_performance(p[waiting], pred[waiting], s[waiting],
                                                          order=subset_order(order, waiting))
    if labelled.any():
        by_score = subset_order(order, labelled)
        out["realised_labelled"] = realised_performance(y[labelled].astype(int), pred[labelled].astype(int), s[labelled],
                                                        order=by_score)
        out["estimate_labelled"] = estimate_performance(p[labelled], pred[labelled], s[labelled], order=by_score)
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
