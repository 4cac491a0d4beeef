"""Performance: overall metrics with confidence intervals, baselines, curves, versions.

Pure functions take arrays in scikit-learn's form (binary: ``y_true`` 0/1 with 1 = positive,
``y_score`` = P(positive); multiclass: label strings; regression: floats) and return
DataFrames; :func:`performance_section` assembles them for one audit into a
:class:`~sightline.core.section.Section` that the page, ``report.json`` and the model card share.

Intervals are 95%: Wilson for proportions (accuracy, precision, recall), a normal
approximation for means of per-row losses (log loss, Brier score, MAE), and a percentile
bootstrap for the rest (F1, ROC AUC, average precision, R²). The bootstrap is vectorised
(resamples are count-weight matrices, so one sort serves every resample) and runs on at most
:data:`BOOTSTRAP_MAX_ROWS` rows; on a larger log the interval from that random sample is
rescaled to the full size by sqrt(m / n) (the m-out-of-n bootstrap), which holds for the
sqrt(n)-consistent statistics used here. Curves are computed on every labelled row and thinned
to at most :data:`CURVE_POINTS` points for drawing.

The pieces live in sibling modules and are all importable from here:
:mod:`sightline.stats.bootstrap` (bootstrap settings and intervals),
:mod:`sightline.performance.curves` (ROC/PR/threshold curves, confusion matrices) and
:mod:`sightline.performance.estimates` (metric tables with intervals, naive baselines). This module
holds the audit's labelled data, the comparison of model versions, the verdicts and
:func:`performance_section`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from sightline.charts import performance as charts
from sightline.core.numbers import format_value
from sightline.core.section import AMBER, GREEN, RED, CardMetric, Chart, Section, Verdict
from sightline.data.labelled import LabelledData, labelled_data
from sightline.data.model_versions import version_differences
from sightline.performance.curves import (
    CURVE_POINTS,
    RankedScores,
    confusion_from_counts,
    confusion_long,
    confusion_table,
    pr_curve_points,
    roc_curve_points,
    threshold_curve,
)
from sightline.performance.estimates import (
    binary_metrics,
    classification_baselines,
    error_by_bin,
    multiclass_metrics,
    regression_baselines,
    regression_metrics,
    residual_sample,
)
from sightline.stats.bootstrap import (
    DEFAULT_BOOTSTRAP,
    BootstrapSettings,
    single_threaded_blas,
)
from sightline.stats.confusion import CELLS, confusion_counts

log = logging.getLogger(__name__)

def label_prior(audit, data: LabelledData) -> tuple[pd.Series, str]:
    """Class shares the naive baselines believe in, and where they come from: the reference
    data's labels when it has the target column (what a model trained there would know), else
    the labelled log itself."""
    target = audit.spec.columns.target
    ref = audit.reference
    if ref is not None and target in ref.columns and ref[target].notna().any():
        labelled = audit.labelled(ref)
        y = audit.y_true(labelled)
        if audit.spec.task != "regression":
            return pd.Series(y).value_counts(normalize=True), f"reference data ({len(labelled):,} labelled rows)"
    return pd.Series(data.y_true).value_counts(normalize=True), "the labelled log itself (no labels in a reference)"


# ------------------------------------------------------------------ model versions
def version_comparison(audit, data: LabelledData) -> list[dict]:
    """The primary version against each other version in the log (:func:`version_differences`,
    the comparison Model versions shows, so both pages give one pair the same intervals).

    Output: one dict per other version with labelled rows: ``version``, ``paired`` (same requests,
    joined on the id column), ``n`` (labelled requests compared: shared ones when paired, else the
    smaller version's), ``metrics``: the metric table indexed by metric (``baseline`` = the primary,
    ``candidate`` = the other, ``difference``, ``lower``, ``upper``, ``p_value``, ``method``,
    ``significant``…).
    """
    if audit.spec.task not in ("binary", "multiclass", "regression"):
        return []
    out = []
    for other in (v for v in audit.versions if v != data.version):
        diffs = version_differences(audit, other)
        if diffs.metrics is None or diffs.n_labelled == 0:
            continue
        out.append({"version": other, "paired": diffs.paired, "n": diffs.n_labelled,
                    "metrics": diffs.metrics.set_index("metric")})
    return out


# ------------------------------------------------------------------ the section
def _metric_records(table: pd.DataFrame) -> dict:
    return {m: {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for m, row in table.to_dict(orient="index").items()}


def _card_metrics(table: pd.DataFrame) -> tuple[CardMetric, ...]:
    out = []
    for name, row in table.iterrows():
        if not np.isfinite(row["value"]):
            continue
        lo = float(row["lower"]) if np.isfinite(row["lower"]) else None
        hi = float(row["upper"]) if np.isfinite(row["upper"]) else None
        out.append(CardMetric(type=str(name), value=float(row["value"]), slice="", lower=lo, upper=hi, n=int(row["n"])))
    return tuple(out)


def _versions_report(versions: list[dict]) -> list[dict]:
    return [{"version": v["version"], "paired": v["paired"], "n": v["n"], "metrics": _metric_records(v["metrics"])}
            for v in versions]


def _better_version(versions: list[dict], metric: str) -> dict | None:
    """The other version that is significantly better than the primary on ``metric`` on the same
    requests, if any (on separate traffic a difference may be the traffic's, not the model's)."""
    best = None
    for v in versions:
        if not v["paired"] or metric not in v["metrics"].index:
            continue
        row = v["metrics"].loc[metric]
        sign = 1 if row["higher_is_better"] else -1
        better = row["significant"] and sign * row["difference"] > 0
        if better and (best is None or sign * row["difference"] > sign * best[1]["difference"]):
            best = (v, row)
    return None if best is None else {"version": best[0]["version"], "n": best[0]["n"], **best[1].to_dict()}


def _fmt_ci(row) -> str:
    if np.isfinite(row["lower"]) and np.isfinite(row["upper"]):
        return f"{row['value']:.3f}, 95% CI {row['lower']:.3f}–{row['upper']:.3f}"
    return f"{row['value']:.3f}"


def binary_verdict(metrics: pd.DataFrame, baselines: pd.DataFrame, versions: list[dict], positive_label,
                   majority_label: str = "the most common outcome") -> Verdict:
    """Green when the model ranks clearly better than guessing and no other version beats it.

    Rules (stated in the verdict's detail): with scores, red when the ROC AUC's lower bound is
    ≤ 0.6 (little better than the 0.5 of a coin flip), amber when the AUC is below 0.75 or another
    version is significantly better on the same requests; without scores, red when accuracy is
    not significantly above always answering the majority class, amber when another version is
    significantly more accurate on the same requests.
    """
    acc, zero_acc = metrics.loc["accuracy"], baselines.loc["accuracy", "majority_class"]
    acc_text = f"is right {acc['value']:.0%} of the time (always answering '{majority_label}': {zero_acc:.0%})"
    scored = "roc_auc" in metrics.index and np.isfinite(metrics.loc["roc_auc", "value"])
    better = _better_version(versions, "roc_auc" if scored else "accuracy")
    if scored:
        auc = metrics.loc["roc_auc"]
        lead = f"(ROC AUC {_fmt_ci(auc)}; guessing: 0.5)"
        if not np.isfinite(auc["lower"]) or auc["lower"] <= 0.6:
            status, headline = RED, f"The model tells '{positive_label}' apart from the rest little better than chance {lead}."
        elif auc["value"] < 0.75:
            status, headline = AMBER, f"The model tells '{positive_label}' apart from the rest only moderately well {lead} and {acc_text}."
        else:
            status, headline = GREEN, f"The model tells '{positive_label}' apart from the rest well {lead} and {acc_text}."
        detail = ("Rules: red when the ROC AUC's 95% lower bound is ≤ 0.60; amber below 0.75 or when another model "
                  "version is significantly better on the same requests; otherwise green.")
    else:
        if acc["lower"] <= zero_acc:
            status, headline = RED, f"The model is not clearly better than always answering '{majority_label}': it {acc_text}."
        else:
            status, headline = GREEN, f"The model beats the naive baselines: it {acc_text}."
        detail = ("Rules (no scores, so no ROC AUC): red when accuracy's 95% lower bound is at or below the "
                  "majority-class accuracy; amber when another model version is significantly more accurate on the "
                  "same requests; otherwise green.")
    if better is not None and status == GREEN:
        status = AMBER
        metric = "ROC AUC" if scored else "accuracy"
        headline += (f" But {better['version']} does better on the {better['n']:,} labelled requests both scored "
                     f"({metric} {better['candidate']:.3f} vs {better['baseline']:.3f}).")
    return Verdict(status, headline, detail)


def multiclass_verdict(metrics: pd.DataFrame, baselines: pd.DataFrame, versions: list[dict]) -> Verdict:
    """Red when accuracy is not significantly above the majority class; amber when macro F1 is
    under twice the class-prior random baseline's or another version is significantly better."""
    acc, zero = metrics.loc["accuracy"], baselines.loc["accuracy", "majority_class"]
    f1, rand_f1 = metrics.loc["macro_f1", "value"], baselines.loc["macro_f1", "class_prior_random"]
    text = (f"it is right {acc['value']:.0%} of the time (majority class: {zero:.0%}); macro F1 {f1:.3f} "
            f"(random guessing with the class shares: {rand_f1:.3f})")
    if acc["lower"] <= zero:
        status, headline = RED, f"The model is not clearly better than always predicting the most common class: {text}."
    elif f1 < 2 * rand_f1:
        status, headline = AMBER, f"The model beats the naive baselines only modestly: {text}."
    else:
        status, headline = GREEN, f"The model clearly beats the naive baselines: {text}."
    better = _better_version(versions, "accuracy")
    if better is not None and status == GREEN:
        status = AMBER
        headline += f" But {better['version']} is more accurate on the same {better['n']:,} requests."
    return Verdict(status, headline, "Rules: red when accuracy's 95% lower bound is at or below the majority-class "
                   "accuracy; amber when macro F1 is under twice the random baseline's; otherwise green.")


def regression_verdict(metrics: pd.DataFrame, baselines: pd.DataFrame, versions: list[dict]) -> Verdict:
    """Red when the model is not better than predicting the mean (R² upper bound ≤ 0); amber
    when it explains less than half the variance (R² < 0.5) or another version is better."""
    r2, mae = metrics.loc["r2_score"], metrics.loc["mean_absolute_error", "value"]
    base = baselines.loc["mean_absolute_error", "predict_mean"]
    text = (f"its typical error (MAE) is {format_value(mae, digits=4)}, against {format_value(base, digits=4)} for always predicting the mean; "
            f"R² {_fmt_ci(r2)}")
    if not np.isfinite(r2["upper"]) or r2["upper"] <= 0:
        status, headline = RED, f"The model predicts no better than the average value: {text}."
    elif r2["value"] < 0.5:
        status, headline = AMBER, f"The model explains less than half of the variation: {text}."
    else:
        status, headline = GREEN, f"The model predicts clearly better than the average value: {text}."
    better = _better_version(versions, "mean_absolute_error")
    if better is not None and status == GREEN:
        status = AMBER
        headline += f" But {better['version']} has a lower MAE on the same {better['n']:,} requests."
    return Verdict(status, headline, "Rules: red when R²'s 95% upper bound is ≤ 0; amber when R² < 0.5; otherwise green.")


def performance_section(audit, settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> Section:
    """The performance Section of an audit: overall metrics with intervals, baselines, other
    versions on the same requests, confusion matrix, curves and the threshold table.

    Only the primary version's labelled rows count. Raises :class:`MissingInputError` without
    labels. See the README ("report.json → performance") for the report keys.
    """
    with single_threaded_blas():
        return _performance_section(audit, settings)


def _performance_section(audit, settings: BootstrapSettings) -> Section:

    data = labelled_data(audit)
    task = audit.spec.task
    prov = {"model_version": data.version, "rows": data.rows, "labelled_rows": len(data.y_true),
            "bootstrap_resamples": settings.n_resamples, "bootstrap_rows": settings.rows(len(data.y_true)),
            "bootstrap_seed": settings.seed, "confidence": settings.confidence}
    report = {"task": task, "model_version": data.version, "rows": data.rows, "labelled_rows": len(data.y_true)}
    versions = version_comparison(audit, data)
    report["versions"] = _versions_report(versions)
    tables: dict[str, pd.DataFrame] = {}
    chart_list: list[Chart] = []
    if task == "binary":
        verdict = _binary_part(audit, data, settings, versions, report, prov, tables, chart_list, charts)
    elif task == "multiclass":
        metrics, per_class = multiclass_metrics(data.y_true, data.y_pred, settings=settings)
        prior, prior_source = label_prior(audit, data)
        base = classification_baselines(data.y_true, prior=prior)
        cm = confusion_table(data.y_true, data.y_pred)
        report.update(overall=_metric_records(metrics), per_class=per_class.reset_index().to_dict(orient="records"),
                      baselines={"prior_source": prior_source, **base.to_dict()},
                      confusion_matrix={"labels": list(cm.index), "counts": cm.to_numpy().tolist()})
        tables.update(metrics=metrics, per_class=per_class, baselines=base, confusion_matrix=cm)
        chart_list += [Chart("confusion_matrix", "Confusion matrix", charts.confusion_chart(confusion_long(cm))),
                       Chart("per_class", "Precision, recall and F1 per class", charts.per_class_chart(per_class))]
        verdict = multiclass_verdict(metrics, base, versions)
    else:
        metrics = regression_metrics(data.y_true, data.y_pred, settings=settings)
        ref_y = _reference_target(audit)
        center = float(np.mean(ref_y)) if ref_y is not None else float(np.mean(data.y_true))
        median = float(np.median(ref_y)) if ref_y is not None else float(np.median(data.y_true))
        base = regression_baselines(data.y_true, center=center, median=median)
        bins = error_by_bin(data.y_true, data.y_pred)
        report.update(overall=_metric_records(metrics), baselines={
            "source": "reference data" if ref_y is not None else "the labelled log itself", **base.to_dict()},
            error_by_bin=bins.to_dict(orient="records"))
        tables.update(metrics=metrics, baselines=base, error_by_bin=bins)
        chart_list += [Chart("error_by_bin", "Error by prediction range", charts.error_by_bin_chart(bins)),
                       Chart("residuals", "Residuals", charts.residual_chart(residual_sample(data.y_true, data.y_pred)))]
        verdict = regression_verdict(metrics, base, versions)
    if versions:
        tables["versions"] = pd.concat({v["version"]: v["metrics"] for v in versions}, names=["version", "metric"])
    return Section(area="performance", verdict=verdict, report=report, metrics=_card_metrics(tables["metrics"]),
                   charts=tuple(chart_list), provenance=prov, tables=tables)


def _reference_target(audit) -> np.ndarray | None:
    ref, target = audit.reference, audit.spec.columns.target
    if ref is None or target not in ref.columns:
        return None
    y = pd.to_numeric(ref[target], errors="coerce").dropna().to_numpy(dtype=float)
    return y if len(y) else None


def _binary_part(audit, data, settings, versions, report, prov, tables, chart_list, charts) -> Verdict:
    """The binary half of :func:`performance_section` (fills report, tables, charts in place)."""
    spec = audit.spec
    score = data.y_score
    scored = None if score is None else np.isfinite(score)
    if scored is not None and not scored.any():
        score, scored = None, None
    y_s, s_s, p_s = ((data.y_true, score, data.y_pred) if scored is None or scored.all()
                     else (data.y_true[scored], score[scored], data.y_pred[scored]))
    # one sort of the scores serves the score metrics and every curve
    ranked = None if score is None else RankedScores(y_s, s_s)
    if score is None or scored.all():
        metrics = binary_metrics(data.y_true, data.y_pred, y_score=score, settings=settings, ranked=ranked)
    else:  # label metrics on every labelled row, score metrics on the rows that have a score
        metrics = binary_metrics(data.y_true, data.y_pred, settings=settings)
        with_score = binary_metrics(y_s, p_s, y_score=s_s, settings=settings, ranked=ranked)
        metrics = pd.concat([metrics, with_score.loc[["roc_auc", "average_precision", "log_loss", "brier_score"]]])
    prior, prior_source = label_prior(audit, data)
    base = classification_baselines(data.y_true, prior=prior)
    labels = [data.negative_label, str(spec.positive_label)]
    cm = confusion_from_counts(dict(zip(CELLS, confusion_counts(data.y_true, data.y_pred)[0])), labels=labels)
    prevalence = float(np.mean(data.y_true))
    report.update(positive_label=spec.positive_label, negative_label=data.negative_label, prevalence=prevalence,
                  scored_rows=len(y_s) if score is not None else 0,
                  overall=_metric_records(metrics),
                  baselines={"prior_source": prior_source,
                             "prior_positive_share": float(prior.get(1, 0.0)),
                             **{k: {m: (None if not np.isfinite(v) else float(v)) for m, v in col.items()}
                                for k, col in base.to_dict().items()}},
                  confusion_matrix={"labels": labels, "counts": cm.to_numpy().tolist(),
                                    "source": "logged predictions"})
    tables.update(metrics=metrics, baselines=base, confusion_matrix=cm)
    prov.update(prior_source=prior_source, threshold=spec.threshold,
                curves=f"computed on all {len(y_s):,} scored rows, drawn with at most {CURVE_POINTS} points")
    chart_list.append(Chart("baselines", "The model against naive baselines", charts.baseline_chart(metrics, base)))
    chart_list.append(Chart("confusion_matrix", "Confusion matrix (logged predictions)",
                            charts.confusion_chart(confusion_long(cm))))
    if score is not None:
        curve = threshold_curve(y_s, s_s, ranked=ranked)
        report["threshold"] = spec.threshold
        report["threshold_curve"] = curve.to_dict(orient="records")
        roc, pr = roc_curve_points(y_s, s_s, ranked=ranked), pr_curve_points(y_s, s_s, ranked=ranked)
        at = curve.iloc[int(np.argmin(np.abs(curve["threshold"] - spec.threshold)))]
        chart_list += [
            Chart("roc_curve", "ROC curve", charts.roc_chart(roc, auc=metrics.loc["roc_auc", "value"],
                                                            operating_point=at)),
            Chart("precision_recall_curve", "Precision-recall curve",
                  charts.pr_chart(pr, average_precision=metrics.loc["average_precision", "value"],
                                  prevalence=float(np.mean(y_s)), operating_point=at)),
            Chart("threshold_curve", "Precision, recall and selection rate by threshold",
                  charts.threshold_chart(curve, spec.threshold)),
        ]
    majority = str(spec.positive_label) if prior.get(1, 0.0) > 0.5 else data.negative_label
    return binary_verdict(metrics, base, versions, spec.positive_label, majority)
