"""Why each metric is on the card: one short sentence per metric key, the "Metrics" section of
Mitchell et al. (2019) ("which measures are reported and why they were chosen").

What a metric *measures* is :mod:`sightline.core.vocabulary`'s help text; the sentences here say
why a reviewer of this kind of model should look at it. A key without a sentence falls back to
the area that reports it (:func:`metric_rationale`).
"""

from __future__ import annotations

RATIONALE: dict[str, str] = {
    # classification
    "accuracy": "The headline share of right decisions; read it against the majority-class baseline, which imbalanced labels make high.",
    "error_rate": "The share of wrong decisions, compared slice by slice to find where the model fails most.",
    "precision": "How much a positive decision can be trusted: what a false alarm costs the people it selects.",
    "recall": "How many true positives are found: what a miss costs the people it overlooks.",
    "f1": "One number that is high only when both false alarms and misses are rare, at the decision threshold used.",
    "macro_precision": "Precision with every class counted equally, so a rare class cannot hide behind a common one.",
    "macro_recall": "Recall with every class counted equally, so a rare class cannot hide behind a common one.",
    "macro_f1": "F1 with every class counted equally: the multiclass headline that rare classes can pull down.",
    "weighted_precision": "Precision weighted by class size: what an average request experiences.",
    "weighted_recall": "Recall weighted by class size: what an average request experiences.",
    "weighted_f1": "F1 weighted by class size: what an average request experiences.",
    "roc_auc": "Ranking quality independent of the threshold, so a change of cut-off cannot hide a weaker score.",
    "average_precision": "Ranking quality focused on the positive class, more telling than ROC AUC when positives are rare.",
    "log_loss": "Punishes confident wrong probabilities: the scores themselves are used, not only the decisions.",
    "brier_score": "Checks the probabilities as probabilities (accuracy and calibration together), since downstream users read them.",
    "expected_calibration_error": "Whether a score of 0.8 comes true 8 times in 10: needed when people act on the probability itself.",
    "maximum_calibration_error": "The worst probability bin, which an average calibration error can hide.",
    "selection_rate": "How often each group is selected: the basis of demographic parity and the four-fifths rule.",
    "base_rate": "The true positive share per group, to tell a model's gap from a difference in the data.",
    "true_positive_rate": "Whether truly positive people in every group are found equally often (equal opportunity).",
    "false_positive_rate": "Whether truly negative people in every group are wrongly selected equally often (equalized odds).",
    "false_negative_rate": "Whether truly positive people in every group are missed equally often.",
    # regression
    "mean_absolute_error": "The typical error in the target's own units, which a reviewer can judge directly.",
    "root_mean_squared_error": "Like the mean absolute error but weighs large errors more, which matter most when they are costly.",
    "r2_score": "How much better than predicting the average the model is, comparable across targets.",
    "mean_error": "Systematic over- or under-prediction, which an absolute error cannot show.",
    "mean_target": "The average outcome, to read errors and gaps in proportion.",
    "mean_prediction": "The average prediction, to compare with the average outcome (bias) and across groups.",
    # fairness summaries
    "demographic_parity_difference": "The largest gap in selection rates between groups: the first check for unequal treatment.",
    "demographic_parity_ratio": "Lowest selection rate over highest; US hiring guidance flags values below 0.80.",
    "equalized_odds_difference": "Whether errors fall equally on groups once the true outcome is known.",
    "equalized_odds_ratio": "The same check as equalized odds, as a ratio of the lowest to the highest rate.",
    "equal_opportunity_difference": "Whether deserving people of every group are selected equally often.",
    "predictive_parity_difference": "Whether a positive decision is equally trustworthy for every group.",
    "accuracy_difference": "Whether the model is right equally often for every group.",
    "mean_absolute_error_difference": "Whether the typical error is the same size for every group, in target units.",
    "mean_absolute_error_ratio": "The smallest group error over the largest: 1 means equal errors.",
    "mean_prediction_difference": "Whether the model predicts systematically higher for some groups.",
    # drift and operations
    "drift_share": "How much of the input has moved away from the reference data, a warning before labels arrive.",
    "dataset_drift": "Whether the drifted share crossed the audit's threshold: the drift decision in one value.",
    "latency_p50_ms": "The typical response time a caller sees.",
    "latency_p90_ms": "The response time one request in ten exceeds.",
    "latency_p95_ms": "The response time one request in twenty exceeds, a usual service-level target.",
    "latency_p99_ms": "The tail that time-outs and retries come from.",
    "invalid_prediction_rate": "Missing or impossible predictions, which no other metric counts.",
}

AREA_FALLBACK = "Reported by the {area} analysis; its section below shows how it was computed."


def metric_rationale(key: str, area_title: str = "") -> str:
    """Why metric ``key`` is on the card, in one sentence; the area fallback for an unknown key."""
    return RATIONALE.get(key) or AREA_FALLBACK.format(area=(area_title or "its").lower())
