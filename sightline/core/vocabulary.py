"""One vocabulary for metric names: the label, running-text name, reading direction and help
text that charts, gates, pages, verdicts and the card show for each metric key (scikit-learn's
and fairlearn's snake_case names). :data:`METRICS` is the one table; read it through
:func:`metric`, :func:`metric_label` and :func:`metric_name` (an unknown key reads as itself).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    """How to name and read a metric.

    ``label``: title-case, for headers, axes and metric cards ("Expected calibration error (ECE)");
    ``name``: in running text ("the calibration error (ECE) of …"); ``higher_is_better``: True,
    False, or None (neither: a rate that is not good or bad by itself); ``help``: one plain
    sentence; ``percent``: a share of rows, shown as a percentage.
    """

    label: str
    name: str
    higher_is_better: bool | None
    help: str
    percent: bool = False


_M = MetricInfo
METRICS: dict[str, MetricInfo] = {
    # classification: shares of rows
    "accuracy": _M("Accuracy", "accuracy", True, "Share of predictions that were right.", True),
    "error_rate": _M("Error rate", "error rate", False, "Share of predictions that were wrong (1 − accuracy).", True),
    "precision": _M("Precision", "precision", True, "Of the rows predicted positive, the share that really were positive.", True),
    "recall": _M("Recall", "recall", True, "Of the truly positive rows, the share the model caught (true positive rate).", True),
    "f1": _M("F1", "F1", True, "Harmonic mean of precision and recall: high only when both are.", True),
    "selection_rate": _M("Selection rate", "selection rate", None,
                         "Share of rows predicted positive ('selected'): neither good nor bad by itself.", True),
    "base_rate": _M("Base rate", "base rate", None,
                    "Share of rows whose TRUE outcome is positive: a property of the data, not of the model.", True),
    "true_positive_rate": _M("True positive rate", "true positive rate", True,
                             "Of the truly positive rows, the share the model selects (recall). Low = missed.", True),
    "false_positive_rate": _M("False positive rate", "false positive rate", False,
                              "Of the truly negative rows, the share the model wrongly selects.", True),
    "false_negative_rate": _M("False negative rate", "false negative rate", False,
                              "Of the truly positive rows, the share the model misses (1 − true positive rate).", True),
    "macro_precision": _M("Macro precision", "macro precision", True, "Precision per class, averaged with equal weight per class.", True),
    "macro_recall": _M("Macro recall", "macro recall", True, "Recall per class, averaged with equal weight per class.", True),
    "macro_f1": _M("Macro F1", "macro F1", True,
                   "F1 of each class, averaged with equal weight per class (rare classes count as much as common ones).", True),
    "weighted_precision": _M("Weighted precision", "weighted precision", True, "Precision per class, averaged by class size.", True),
    "weighted_recall": _M("Weighted recall", "weighted recall", True, "Recall per class, averaged by class size.", True),
    "weighted_f1": _M("Weighted F1", "weighted F1", True, "F1 of each class, averaged with weights by class size.", True),
    # scores
    "roc_auc": _M("ROC AUC", "ROC AUC", True, "Chance that a random positive row is scored above a random negative one "
                  "(0.5 = guessing, 1 = perfect ranking)."),
    "average_precision": _M("Average precision (PR AUC)", "average precision", True,
                            "Area under the precision-recall curve: precision averaged over every recall level "
                            "(guessing scores the positive share)."),
    "log_loss": _M("Log loss", "log loss", False,
                   "Penalty for confident wrong probabilities (lower is better; the constant prior's value is the baseline)."),
    "brier_score": _M("Brier score", "Brier score", False,
                      "Mean squared gap between predicted probability and the 0/1 outcome (lower is better; 0 is perfect)."),
    "expected_calibration_error": _M("Expected calibration error (ECE)", "calibration error (ECE)", False,
                                     "Average gap between predicted probability and how often it came true, weighted by "
                                     "the rows in each probability bin (0 = calibrated)."),
    "maximum_calibration_error": _M("Maximum calibration error (MCE)", "maximum calibration error (MCE)", False,
                                    "Largest gap between predicted probability and how often it came true in any one bin "
                                    "(noisy for small bins: read it with the counts)."),
    # regression: target units
    "mean_absolute_error": _M("Mean absolute error (MAE)", "mean absolute error", False,
                              "Average size of the error, in the target's units."),
    "root_mean_squared_error": _M("Root mean squared error (RMSE)", "root mean squared error", False,
                                  "Square root of the mean squared error: like MAE but punishes large errors more."),
    "r2_score": _M("R²", "R²", True, "Share of the target's variation the model explains (0 = no better than the average, 1 = perfect)."),
    "mean_error": _M("Mean error (bias)", "mean error (bias)", None, "Average of prediction − truth: positive means the model over-predicts."),
    "mean_target": _M("Mean outcome", "mean outcome", None, "Average true value."),
    "mean_prediction": _M("Mean prediction", "mean prediction", None, "Average predicted value."),
    # fairness summaries (fairlearn's names): gaps and ratios between groups
    "demographic_parity_difference": _M("Demographic parity", "demographic parity", False,
                                        "Are groups selected at similar rates? Gap in selection rate (max − min)."),
    "demographic_parity_ratio": _M("Four-fifths rule", "four-fifths rule", True,
                                   "Lowest selection rate ÷ highest; US hiring guidance flags ratios below 0.80."),
    "equalized_odds_difference": _M("Equalized odds", "equalized odds", False,
                                    "Are errors equal given the true outcome? The larger of the true and false positive rate gaps."),
    "equalized_odds_ratio": _M("Equalized odds ratio", "equalized odds ratio", True,
                               "The smaller of the true and false positive rate ratios (lowest ÷ highest)."),
    "equal_opportunity_difference": _M("Equal opportunity", "equal opportunity", False,
                                       "Do truly positive people get selected equally often? Gap in true positive rate."),
    "predictive_parity_difference": _M("Predictive parity", "predictive parity", False,
                                       "Is a selection equally trustworthy across groups? Gap in precision."),
    "accuracy_difference": _M("Accuracy parity", "accuracy parity", False, "Gap in accuracy between groups."),
    "mean_absolute_error_difference": _M("Mean absolute error gap", "mean absolute error gap", False,
                                         "Gap in mean absolute error between groups (target units)."),
    "mean_absolute_error_ratio": _M("Error parity", "error parity", True, "Lowest group mean absolute error ÷ highest."),
    "mean_prediction_difference": _M("Mean prediction gap", "mean prediction gap", None,
                                     "Gap in the average prediction between groups (target units)."),
    # drift and operations
    "drift_share": _M("Share of features drifted", "share of features drifted", False,
                      "Share of features whose drift test says 'drifted' between the reference and production.", True),
    "dataset_drift": _M("Dataset drift", "dataset drift", False,
                        "1 when the share of drifted features reaches the audit's drift_share, else 0."),
    "latency_p50_ms": _M("Latency p50 (ms)", "median latency", False, "Half of the requests took longer than this (milliseconds)."),
    "latency_p90_ms": _M("Latency p90 (ms)", "90th-percentile latency", False, "One request in ten took longer than this (milliseconds)."),
    "latency_p95_ms": _M("Latency p95 (ms)", "95th-percentile latency", False, "One request in twenty took longer than this (milliseconds)."),
    "latency_p99_ms": _M("Latency p99 (ms)", "99th-percentile latency", False, "One request in a hundred took longer than this (milliseconds)."),
    "invalid_prediction_rate": _M("Invalid prediction rate", "invalid prediction rate", False,
                                  "Share of logged predictions that are missing or not a valid value.", True),
}
del _M

METRIC_LABELS: dict[str, str] = {key: m.label for key, m in METRICS.items()}


def metric(key: str) -> MetricInfo:
    """The :class:`MetricInfo` of a metric key; an unknown key names itself, with no direction or help."""
    return METRICS.get(key) or MetricInfo(key, key, None, "")


def metric_label(key: str) -> str:
    """Title-case label of a metric key ("Expected calibration error (ECE)"); the key if unknown."""
    return metric(key).label


def metric_name(key: str) -> str:
    """Running-text name of a metric key ("calibration error (ECE)"); the key if unknown."""
    return metric(key).name


def slice_name(pairs: Iterable[tuple[str, str]]) -> str:
    """The model-card slice string of (column, value) pairs: ``col=value`` or ``a=x & b=y``."""
    return " & ".join(f"{c}={v}" for c, v in pairs)
