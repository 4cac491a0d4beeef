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

The code lives in sibling modules, re-exported here so ``from sightline.drift.section import …`` keeps
working: :mod:`sightline.drift.settings` (settings, defaults, inputs), :mod:`sightline.drift.reference`
(now vs reference: evidently's tests, effect sizes, distributions), :mod:`sightline.drift.methods`
(evidently's tests in numpy/scipy) and :mod:`sightline.drift.timeline` (over time, label-free
summary). This module holds the verdict and :func:`drift_section`, which bins each column,
fits the calibrator and builds the score arrays once for both views.
"""

from __future__ import annotations

import pandas as pd

import sightline.drift.windows as dw
from sightline.charts import drift as charts
from sightline.core.section import AMBER, GREEN, RED, CardMetric, Chart, Section, Verdict
from sightline.data.audit import Audit
from sightline.drift.effects import feature_distribution, percent_text
from sightline.drift.reference import DriftVsReference, calibrator_for, drift_vs_reference
from sightline.drift.settings import (
    _prediction_column,
    _require_reference,
    binned_columns,
    comparable_features,
    drift_settings,
)
from sightline.drift.timeline import DriftOverTime, binary_arrays, drift_over_time, label_free_summary


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
    none_drifted = f"no feature drifted overall (0 of {ds['n_features']})"
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
            msg += (f" (positive rate {percent_text(float(hit['positive_rate'].mean()))} vs "
                    f"{percent_text(float(w['reference_positive_rate'].iloc[0]))} in the reference)")
        detail.append(msg)
    if len(ot.segments) and ot.segments["significant"].any():
        s = ot.segments[ot.segments["significant"] & (ot.segments["z"] > 0)]
        if len(s):
            top = s.iloc[0]
            detail.append(f"concept drift: in {top['feature']} = {top['segment']}, {dw.window_label(pd.Timestamp(top['window']), window)}, "
                          f"{percent_text(top['observed_rate'])} of outcomes were positive where the scores imply {percent_text(top['score_rate'])}")
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
    windows_drifted = bool(len(w) and "features_drifted" in w.columns and w["features_drifted"].sum())
    amber = len(drifted) or len(ot.unseen) or detail or windows_drifted
    status = RED if red else AMBER if amber else GREEN
    if not len(drifted):
        # the headline leads with why the area is amber or red, not with what is fine
        if not parts and detail:
            parts.append(detail.pop(0))
        elif not parts and windows_drifted:
            parts.append("features drifted in " + dw.flagged_windows_text(w["window"], w["features_drifted"] > 0, window)
                         + ", though not over the whole log")
        parts.append(none_drifted)
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

    settings = drift_settings(audit)
    # What both views share, computed once: every column binned on the reference (now-vs-reference
    # PSI and PSI per window count the same bins), the reference-fitted calibrator, the score arrays.
    ref = _require_reference(audit)
    features, kinds, _ = comparable_features(audit)
    pred_col = _prediction_column(audit)
    if pred_col:
        kinds[pred_col] = dw.feature_kind(ref[pred_col])
    binned = binned_columns(audit, features + ([pred_col] if pred_col and pred_col not in features else []), kinds)
    calibrator = calibrator_for(audit)
    arrays = binary_arrays(audit, calibrator)
    vs = drift_vs_reference(audit, settings, binned=binned, calibrator=calibrator)
    ot = drift_over_time(audit, settings.window, settings, binned=binned, calibrator=calibrator, arrays=arrays)
    label_free = label_free_summary(audit, ot, vs.calibration, calibrator=calibrator, arrays=arrays)
    verdict = drift_verdict(vs, ot, label_free)
    features = vs.features.drop(columns=["kind"])
    report = {
        "features": _records(features),
        "dataset": vs.dataset,
        "prediction": vs.prediction,
        "label": vs.label,
        "concept": {
            "windows_below_estimate": [
                d.date().isoformat()
                for d in ot.windows.loc[ot.windows.get("below_estimate", pd.Series(False, index=ot.windows.index)).astype(bool), "window"]
            ] if len(ot.windows) else [],
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
    chart_list = [Chart("drift_features", "Drift per feature: evidently's test score against its threshold", charts.feature_drift_chart(vs.features))]
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
                   provenance=provenance, tables=tables,
                   results={"over_time": ot, "over_time_settings": (settings.window, float(settings.psi_threshold))})
