"""One vocabulary for metric names: the labels, reading directions and help texts that charts,
pages, verdicts and the card show for each metric key (scikit-learn's snake_case names)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Labels of the performance metrics, as the Performance page and card tables title them.
METRIC_LABELS = {
    "accuracy": "Accuracy", "precision": "Precision", "recall": "Recall", "f1": "F1",
    "roc_auc": "ROC AUC", "average_precision": "PR AUC", "log_loss": "Log loss",
    "brier_score": "Brier score", "macro_precision": "Macro precision", "macro_recall": "Macro recall",
    "macro_f1": "Macro F1", "weighted_precision": "Weighted precision", "weighted_recall": "Weighted recall",
    "weighted_f1": "Weighted F1", "mean_absolute_error": "MAE", "root_mean_squared_error": "RMSE",
    "r2_score": "R²", "mean_error": "Mean error (bias)",
    "expected_calibration_error": "ECE", "maximum_calibration_error": "MCE",
}

# Metric names in running text (version comparisons: "ROC AUC of challenger-2.0 …").
METRIC_TITLES = {"accuracy": "accuracy", "roc_auc": "ROC AUC", "precision": "precision", "recall": "recall", "f1": "F1",
                 "brier_score": "Brier score", "selection_rate": "selection rate", "mean_absolute_error": "mean absolute error"}


@dataclass(frozen=True)
class MetricInfo:
    """How to read a metric: label, whether higher is better (None: neither), a plain help text."""

    label: str
    higher_is_better: bool | None
    help: str
    percent: bool = True


METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo("Accuracy", True, "Share of predictions that were right."),
    "error_rate": MetricInfo("Error rate", False, "Share of predictions that were wrong (1 − accuracy)."),
    "precision": MetricInfo("Precision", True, "Of the rows predicted positive, the share that really were positive."),
    "recall": MetricInfo("Recall", True, "Of the truly positive rows, the share the model caught (true positive rate)."),
    "f1": MetricInfo("F1", True, "Harmonic mean of precision and recall: high only when both are."),
    "selection_rate": MetricInfo("Selection rate", None, "Share of rows predicted positive (neither good nor bad by itself)."),
    "roc_auc": MetricInfo("ROC AUC", True, "Chance that a random positive row is scored above a random negative one (0.5 = guessing, 1 = perfect ranking)."),
    "mean_absolute_error": MetricInfo("Mean absolute error", False, "Average size of the error, in the target's units.", percent=False),
}


def slice_name(pairs: Iterable[tuple[str, str]]) -> str:
    """The model-card slice string of (column, value) pairs: ``col=value`` or ``a=x & b=y``."""
    return " & ".join(f"{c}={v}" for c, v in pairs)
