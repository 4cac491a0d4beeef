"""Threshold what-if for binary scores: analysis only — nothing here changes the model.

- :func:`rates_at_thresholds`: per-group thresholds in, per-group selection rate / TPR / FPR and
  the fairness summaries out (vectorised, fast enough to follow a slider on 1,000,000 rows).
- :func:`tradeoff_curve`: fairlearn's ``ThresholdOptimizer`` run on the logged scores (through
  :class:`LoggedScoreEstimator`, a prefit estimator whose probability *is* the score column) for
  a range of allowed gaps, giving the accuracy that each level of fairness would cost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from sightline.fairness.groups import group_codes, group_metrics
from sightline.fairness.summaries import fairness_summaries

log = logging.getLogger(__name__)

# constraint (fairlearn name) -> (summary that measures it, plain label)
CONSTRAINTS: dict[str, tuple[str, str]] = {
    "demographic_parity": ("demographic_parity_difference", "selection-rate gap (demographic parity)"),
    "true_positive_rate_parity": ("equal_opportunity_difference", "true-positive-rate gap (equal opportunity)"),
    "equalized_odds": ("equalized_odds_difference", "worst of TPR and FPR gaps (equalized odds)"),
}
DEFAULT_SAMPLE_SIZE = 20_000


class LoggedScoreEstimator(ClassifierMixin, BaseEstimator):
    """A prefit classifier whose ``predict_proba`` returns the logged score: X is one column of
    scores P(positive). Lets fairlearn's ThresholdOptimizer post-process a model we only have the
    outputs of."""

    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict_proba(self, X) -> np.ndarray:
        s = np.asarray(X, dtype=float).reshape(-1)
        return np.column_stack([1.0 - s, s])

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def rates_at_thresholds(y_true, y_score, *, sensitive_features, thresholds: Mapping[str, float],
                        default_threshold: float = 0.5, min_group_size: int = 30,
                        positive_label: str = "1") -> tuple[pd.DataFrame, pd.DataFrame]:
    """What each group's rates would be with its own threshold (score >= threshold = positive).

    Inputs: 0/1 labels, scores in [0, 1], one sensitive column (or a DataFrame for an
    intersection), group label -> threshold (others use ``default_threshold``).
    Output: (group table as :func:`sightline.fairness.section.group_metrics` without score metrics, plus
    a ``threshold`` column; the fairness summaries of those predictions).
    """
    codes, labels, _ = group_codes(sensitive_features)
    per_group = np.array([float(thresholds.get(g, default_threshold)) for g in labels])
    y_pred = (np.asarray(y_score, float) >= per_group[codes]).astype(int)
    groups = group_metrics(y_true, y_pred, sensitive_features=sensitive_features, min_group_size=min_group_size,
                           positive_label=positive_label)
    groups.insert(0, "threshold", per_group)
    return groups, fairness_summaries(groups, positive_label=positive_label)


@dataclass(frozen=True)
class Tradeoff:
    """Accuracy-versus-gap points of :func:`tradeoff_curve`, with how they were obtained.

    ``points`` columns: label, kind ("deployed", "optimizer", "mix"), tolerance (allowed gap, NaN
    for the deployed rule), accuracy, gap (the constraint's summary value), selection_rate.
    """

    constraint: str
    points: pd.DataFrame
    sample_size: int
    rows_available: int
    groups_left_out: list = field(default_factory=list)
    note: str = ""


def _evaluate(y, pred, sf, metric: str) -> tuple[float, float, float]:
    groups = group_metrics(y, pred, sensitive_features=sf, min_group_size=1)
    gap = fairness_summaries(groups).loc[metric, "value"]
    return float((pred == y).mean()), float(gap), float(pred.mean())


def tradeoff_curve(y_true, y_score, *, sensitive_features, constraint: str = "demographic_parity",
                   threshold: float = 0.5, min_group_size: int = 30, sample_size: int = DEFAULT_SAMPLE_SIZE,
                   n_points: int = 7, seed: int = 0) -> Tradeoff:
    """Accuracy against the fairness gap for thresholds chosen per group by fairlearn.

    Inputs: 0/1 labels, scores in [0, 1] (rows with a missing score are left out), one sensitive
    column (or DataFrame), a fairlearn constraint (``demographic_parity``,
    ``true_positive_rate_parity``, ``equalized_odds``), the deployed threshold, the minimum group
    size (smaller groups are left out of the optimisation), the bounded sample size, the number of
    points and a seed. The optimiser is fitted and evaluated on the same sample, with randomised
    predictions at a fixed seed (fairlearn mixes two thresholds per group); scores are rounded
    to 0.001 for the optimiser.
    Simple constraints: ``ThresholdOptimizer(tol=…)`` for allowed gaps from 0 up to the deployed
    gap. Equalized odds (no ``tol`` in fairlearn): the strict solution and random mixes of it
    with the deployed rule. Output: a :class:`Tradeoff`.
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    if constraint not in CONSTRAINTS:
        raise ValueError(f"unknown constraint {constraint!r} — use one of {', '.join(CONSTRAINTS)}")
    metric = CONSTRAINTS[constraint][0]
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(y_score, dtype=float)
    codes, labels, _ = group_codes(sensitive_features)
    sizes = np.bincount(codes, minlength=len(labels))
    keep = np.isfinite(s) & (sizes[codes] >= min_group_size)
    left_out = [g for g, n in zip(labels, sizes) if n < min_group_size]
    idx = np.flatnonzero(keep)
    rng = np.random.default_rng(seed)
    if len(idx) > sample_size:
        idx = np.sort(rng.choice(idx, sample_size, replace=False))
    y, s = y[idx], s[idx]
    sf = np.asarray(labels, dtype=object)[codes[idx]]
    if len(np.unique(sf)) < 2 or len(np.unique(y)) < 2:
        return Tradeoff(constraint, pd.DataFrame(columns=["label", "kind", "tolerance", "accuracy", "gap", "selection_rate"]),
                        len(idx), int(keep.sum()), left_out, "needs two groups of at least the minimum size and both outcomes")
    # fairlearn's curve visits every distinct score: 0.001 steps give the same curve 2-3x faster
    X = np.round(s, 3).reshape(-1, 1)
    deployed = (s >= threshold).astype(int)
    acc, gap, sel = _evaluate(y, deployed, sf, metric)
    points = [{"label": f"deployed threshold {threshold:g}", "kind": "deployed", "tolerance": np.nan,
               "accuracy": acc, "gap": gap, "selection_rate": sel}]

    def fit(tol=None):
        opt = ThresholdOptimizer(estimator=LoggedScoreEstimator(), constraints=constraint, objective="accuracy_score",
                                 prefit=True, predict_method="predict_proba", tol=tol)
        opt.fit(X, y, sensitive_features=sf)
        return opt.predict(X, sensitive_features=sf, random_state=seed).astype(int)

    if constraint == "equalized_odds":
        strict = fit()
        mix_rng = np.random.default_rng(seed + 1)
        draw = mix_rng.random(len(y))
        for share in np.linspace(0, 1, n_points)[1:]:
            pred = np.where(draw < share, strict, deployed)
            a, g, r = _evaluate(y, pred, sf, metric)
            points.append({"label": "fairlearn strict equalized odds" if share == 1 else f"{share:.0%} strict rule, rest deployed",
                           "kind": "optimizer" if share == 1 else "mix", "tolerance": 0.0 if share == 1 else np.nan,
                           "accuracy": a, "gap": g, "selection_rate": r})
    else:
        for tol in np.linspace(0, max(gap, 0.01), n_points):
            pred = fit(tol=float(tol) if tol > 0 else None)
            a, g, r = _evaluate(y, pred, sf, metric)
            points.append({"label": f"fairlearn, gap allowed ≤ {tol:.3f}", "kind": "optimizer", "tolerance": float(tol),
                           "accuracy": a, "gap": g, "selection_rate": r})
    log.info("threshold trade-off (%s) on %d rows: %d points", constraint, len(idx), len(points))
    return Tradeoff(constraint, pd.DataFrame(points), len(idx), int(keep.sum()), left_out)


@dataclass(frozen=True)
class WhatIfInputs:
    """What the what-if needs from an audit: labels (0/1), scores, the sensitive columns (one
    row each, labelled rows of the primary version), and the deployed threshold."""

    y_true: np.ndarray
    y_score: np.ndarray
    sensitive: pd.DataFrame
    threshold: float

    def features(self, column: str):
        """The sensitive feature(s) for a column name or an intersection name ('race & sex')."""
        cols = column.split(" & ")
        return self.sensitive[cols] if len(cols) > 1 else self.sensitive[cols[0]]


def whatif_inputs(audit) -> WhatIfInputs | None:
    """The what-if inputs of a binary audit with scores and labels, else None (nothing to vary)."""
    spec = audit.spec
    if spec.task != "binary" or not audit.has_score:
        return None
    frame = audit.labelled()
    cols = [c for c in spec.columns.sensitive if c in frame.columns]
    if frame.empty or not cols:
        return None
    return WhatIfInputs(audit.y_true(frame), audit.y_score(frame), frame[cols].reset_index(drop=True), spec.threshold)
