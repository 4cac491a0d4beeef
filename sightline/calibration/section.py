"""Calibration: does a predicted 0.7 come true about 70% of the time?

The bins, the reliability table and the expected / maximum calibration error are
:mod:`sightline.stats.reliability` (scikit-learn's ``calibration_curve`` bins: ``uniform``,
equal-width bins on [0, 1]; ``quantile``, bins holding equal numbers of predictions). Their
intervals, overall and per group, are :mod:`sightline.calibration.errors`; here
:func:`calibration_section` assembles them for one audit (settings: ``calibration.n_bins``, ``calibration.strategy``). For multiclass the
same is applied to the top label (outcome: was the predicted class right; probability: the
model's confidence in it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sightline.calibration.bootstrap import calibration_noise, consistency_p_value
from sightline.calibration.errors import calibration_by_group, calibration_metrics, group_labels
from sightline.charts import calibration as charts
from sightline.core.errors import MissingInputError
from sightline.core.section import (
    AMBER,
    GREEN,
    RED,
    UNAVAILABLE,
    CardMetric,
    Chart,
    Section,
    Verdict,
    unavailable_section,
)
from sightline.data.labelled import labelled_data
from sightline.stats.bootstrap import (
    DEFAULT_BOOTSTRAP,
    BootstrapSettings,
    SharedResampleWeights,
    single_threaded_blas,
)
from sightline.stats.reliability import (
    bin_edges,
    bin_ids,
    calibration_settings,
    describe_bins,
    reliability_table,
)

log = logging.getLogger(__name__)

ECE_GREEN = 0.03   # ECE at or below: scores read as probabilities (3 percentage points)
ECE_AMBER = 0.07   # ECE above: scores should not be read as probabilities
MAX_GROUPS = 8     # groups drawn on one chart (largest first); the table lists all
MIN_BIN_COUNT = 10  # a group's bin is drawn on the group chart only with at least this many predictions

REGRESSION = ("Calibration applies to probabilistic classifiers: this audit is a regression, whose predictions "
              "are values rather than probabilities — the Performance page shows where its errors lie.")
NO_SCORE_BINARY = ("Calibration needs predicted probabilities: map columns.score to the probability of "
                   "positive_label in the audit file")
NO_SCORE_MULTICLASS = ("Calibration of a multiclass model needs its confidence: map columns.score to the "
                       "probability the model gave its predicted class")


# ------------------------------------------------------------------ the audit
@dataclass(frozen=True)
class CalibrationResult:
    """Everything the calibration page, report and card show for one bin scheme.

    ``kind``: "binary" (outcome = positive label) or "top_label" (multiclass: outcome = the
    predicted class was right, probability = the model's confidence). ``groups``: column ->
    (summary, reliability) as from :func:`calibration_by_group`.
    """

    kind: str
    n_bins: int
    strategy: str
    model_version: str | None
    rows: int
    labelled_rows: int
    scored_rows: int
    metrics: pd.DataFrame
    table: pd.DataFrame
    mean_predicted: float
    fraction_positive: float
    outcome: str
    ece_if_calibrated: float = float("nan")
    p_value: float = float("nan")
    groups: dict = field(default_factory=dict)
    notes: tuple = ()
    min_group_size: int = 30

    @property
    def scheme(self) -> str:
        return describe_bins(self.n_bins, self.strategy)


def calibration_inputs(audit) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, str, str]:
    """(outcomes 0/1, probabilities, the labelled scored rows, kind, outcome wording) for an
    audit; raises :class:`MissingInputError` when labels or scores are missing."""

    spec = audit.spec
    if spec.task == "regression":
        raise MissingInputError(REGRESSION)
    if not audit.has_score:
        raise MissingInputError(NO_SCORE_BINARY if spec.task == "binary" else NO_SCORE_MULTICLASS)
    data = labelled_data(audit, predictions=False)
    score = data.y_score
    ok = np.isfinite(score)
    if not ok.any():
        raise MissingInputError("Calibration needs scores, and no labelled row has one — check columns.score")
    if spec.task == "binary":
        outcome, kind, word = data.y_true.astype(float), "binary", f"'{spec.positive_label}'"
    else:
        outcome = (np.asarray(data.y_pred, dtype=object).astype(str) == np.asarray(data.y_true, dtype=object).astype(str)).astype(float)
        kind, word = "top_label", "the predicted class was right"
    frame = data.frame if ok.all() else data.frame[ok]
    return outcome[ok], np.clip(score[ok], 0.0, 1.0), frame, kind, word


def calibration_result(audit, *, n_bins: int | None = None, strategy: str | None = None,
                       group_columns=None, settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> CalibrationResult:
    """Calibration of the audit's primary version on its labelled, scored rows.

    Inputs: the audit; ``n_bins``/``strategy`` (default: the audit's ``calibration:`` settings);
    ``group_columns`` (default: the sensitive columns); bootstrap settings.
    Output: a :class:`CalibrationResult`. Raises :class:`MissingInputError` for regression or
    without labels or scores.
    """
    with single_threaded_blas():
        return _calibration_result(audit, n_bins=n_bins, strategy=strategy, group_columns=group_columns, settings=settings)


def _calibration_result(audit, *, n_bins, strategy, group_columns, settings) -> CalibrationResult:
    spec_bins, spec_strategy, notes = calibration_settings(audit.spec.calibration)
    n_bins = spec_bins if n_bins is None else n_bins
    strategy = spec_strategy if strategy is None else strategy
    y, p, frame, kind, word = calibration_inputs(audit)
    edges = bin_edges(p, n_bins=n_bins, strategy=strategy)
    # Every view bins the same probabilities with the same edges, and bootstraps (on the bounded
    # sample) with the same seeded resamples: both are made once here and passed along.
    ids = bin_ids(p, edges)
    weights = SharedResampleWeights()
    table = reliability_table(y, p, edges=edges, ids=ids)
    metrics = calibration_metrics(y, p, edges=edges, ids=ids, table=table, weights=weights, settings=settings)
    noise = calibration_noise(p, edges, n_sim=settings.n_resamples, max_rows=settings.max_rows, seed=settings.seed,
                              ids=ids)
    columns = audit.spec.columns.sensitive if group_columns is None else group_columns
    min_size = audit.spec.fairness.min_group_size
    groups = {}
    for col in columns:
        if col in frame.columns:
            groups[col] = calibration_by_group(y, p, sensitive_features=group_labels(frame[col]), n_bins=n_bins,
                                               strategy=strategy, min_group_size=min_size, settings=settings,
                                               edges=edges, ids=ids, weights=weights)
    return CalibrationResult(kind=kind, n_bins=n_bins, strategy=strategy, model_version=audit.primary_version,
                             rows=len(audit.primary), labelled_rows=len(audit.labelled()), scored_rows=len(y),
                             metrics=metrics, table=table, mean_predicted=float(p.mean()),
                             fraction_positive=float(y.mean()), outcome=word, groups=groups, notes=tuple(notes),
                             ece_if_calibrated=float(noise.mean()),
                             p_value=consistency_p_value(float(metrics.loc["expected_calibration_error", "value"]), noise),
                             min_group_size=min_size)


def _worst_bin(table: pd.DataFrame, min_count: int = 30) -> pd.Series | None:
    """The bin whose miscalibration weighs most (count × |gap|) among bins with enough rows."""
    big = table[table["count"] >= min_count]
    if len(big) == 0:
        return None
    return big.loc[(big["count"] * big["gap"].abs()).idxmax()]


def flagged_groups(result: CalibrationResult) -> list[tuple[str, str, pd.Series]]:
    """Groups (of at least min_group_size rows) whose ECE is above ECE_AMBER and larger than
    chance after a Bonferroni correction over every group tested: (column, group, summary row),
    worst first."""
    tested = sum(int(summary["reliable"].sum()) for summary, _ in result.groups.values())
    flagged = []
    for col, (summary, _) in result.groups.items():
        bad = summary[summary["reliable"] & (summary["expected_calibration_error"] > ECE_AMBER)
                      & (summary["p_value"] < 0.05 / max(tested, 1))]
        flagged += [(col, str(g), row) for g, row in bad.iterrows()]
    return sorted(flagged, key=lambda f: -f[2]["expected_calibration_error"])


def calibration_verdict(result: CalibrationResult) -> Verdict:
    """Green when ECE ≤ 0.03 (scores read as probabilities), amber up to 0.07, red above — red
    and amber only when the ECE is also larger than chance (consistency p < 0.05; otherwise amber
    "too few rows to tell"). A group of at least min_group_size rows whose ECE is above 0.07 and
    larger than chance (p below 0.05 divided by the number of groups tested: Bonferroni) turns
    green into amber."""
    ece = result.metrics.loc["expected_calibration_error", "value"]
    pts = f"{ece * 100:.1f} percentage points"
    worst = _worst_bin(result.table)
    example = ""
    if worst is not None and abs(worst["gap"]) >= 0.02:
        example = (f" For example, predictions between {worst['bin_lower']:.2f} and {worst['bin_upper']:.2f} "
                   f"averaged {worst['mean_predicted']:.0%}, but {worst['fraction_positive']:.0%} came true.")
    top = "When the model is p% sure of its class, it should be right p% of the time. " if result.kind == "top_label" else ""
    real = not np.isfinite(result.p_value) or result.p_value < 0.05
    if ece <= ECE_GREEN:
        status, headline = GREEN, f"{top}Scores can be read as probabilities: on average they are {pts} from what happened (ECE {ece:.3f})."
    elif not real:
        status, headline = AMBER, (f"{top}Too few labelled rows to tell whether the scores are calibrated: ECE {ece:.3f}, "
                                   f"but a perfectly calibrated model would show about {result.ece_if_calibrated:.3f} on "
                                   f"{result.scored_rows:,} rows by chance.")
    elif ece <= ECE_AMBER:
        status, headline = AMBER, f"{top}Scores are somewhat off as probabilities: on average {pts} from what happened (ECE {ece:.3f}).{example}"
    else:
        status, headline = RED, f"{top}Scores should not be read as probabilities: on average {pts} from what happened (ECE {ece:.3f}).{example}"
    tested = sum(int(summary["reliable"].sum()) for summary, _ in result.groups.values())
    flagged = flagged_groups(result)
    if flagged:
        col, g, row = flagged[0]
        if status == GREEN:
            status = AMBER
        headline += (f" But for {col}={g} ({int(row['n']):,} rows) scores miss by "
                     f"{row['expected_calibration_error'] * 100:.1f} points (ECE {row['expected_calibration_error']:.3f}; "
                     f"chance alone would give about {row['ece_if_calibrated']:.3f}).")
    detail = (f"ECE over {describe_bins(result.n_bins, result.strategy)}. Rules: green when ECE ≤ {ECE_GREEN}, "
              f"amber up to {ECE_AMBER}, red above, when larger than chance; a group of at least "
              f"{result.min_group_size} rows with ECE above {ECE_AMBER}, larger than chance after a Bonferroni "
              f"correction over {tested} groups, makes green amber.")
    return Verdict(status, headline, detail)


def _records(table: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for row in table.to_dict(orient="records")]


def calibration_report(result: CalibrationResult) -> dict:
    """The ``calibration`` part of report.json (keys documented in the README)."""
    return {
        "kind": result.kind, "model_version": result.model_version, "n_bins": result.n_bins,
        "strategy": result.strategy, "bins": result.scheme, "outcome": result.outcome,
        "rows": result.rows, "labelled_rows": result.labelled_rows, "scored_rows": result.scored_rows,
        "mean_predicted": result.mean_predicted, "fraction_positive": result.fraction_positive,
        "ece_if_calibrated": result.ece_if_calibrated, "consistency_p_value": result.p_value,
        "overall": {m: {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
                    for m, row in result.metrics.to_dict(orient="index").items()},
        "reliability": _records(result.table),
        "groups": {col: _records(summary.reset_index()) for col, (summary, _) in result.groups.items()},
        "flagged_groups": [{"column": col, "group": g, "n": int(row["n"]),
                            "expected_calibration_error": float(row["expected_calibration_error"]),
                            "ece_if_calibrated": float(row["ece_if_calibrated"]), "p_value": float(row["p_value"])}
                           for col, g, row in flagged_groups(result)],
        "notes": list(result.notes),
    }


def calibration_section(audit, settings: BootstrapSettings = DEFAULT_BOOTSTRAP) -> Section:
    """The calibration Section: verdict, report, card metrics (overall and per sensitive group of
    at least min_group_size rows, slice ``col=value``), the reliability diagrams."""

    if audit.spec.task == "regression":
        return unavailable_section("calibration", REGRESSION, UNAVAILABLE)
    result = calibration_result(audit, settings=settings)
    metrics = [CardMetric(type=str(name), value=float(row["value"]), slice="",
                          lower=float(row["lower"]) if np.isfinite(row["lower"]) else None,
                          upper=float(row["upper"]) if np.isfinite(row["upper"]) else None, n=int(row["n"]))
               for name, row in result.metrics.iterrows() if np.isfinite(row["value"])
               and not (result.kind == "top_label" and name == "brier_score")]
    for col, (summary, _) in result.groups.items():
        for group, row in summary[summary["reliable"]].iterrows():
            metrics.append(CardMetric("expected_calibration_error", float(row["expected_calibration_error"]),
                                      f"{col}={group}", _finite(row["ece_lower"]), _finite(row["ece_upper"]), int(row["n"])))
            if result.kind == "binary":
                metrics.append(CardMetric("brier_score", float(row["brier_score"]), f"{col}={group}", n=int(row["n"])))
    chart_list = [Chart("reliability_diagram", "Reliability diagram", charts.reliability_chart(result.table, scheme=result.scheme))]
    for col, (summary, long) in result.groups.items():
        chart_list.append(Chart(f"reliability_by_{col}", f"Calibration by {col}",
                                charts.group_reliability_chart(overall_and_groups(result, col), column=col)))
    tables = {"calibration_metrics": result.metrics, "reliability": result.table,
              **{f"calibration_by_{col}": summary for col, (summary, _) in result.groups.items()}}
    provenance = {"model_version": result.model_version, "rows": result.rows, "labelled_rows": result.labelled_rows,
                  "scored_rows": result.scored_rows, "bins": result.scheme, "n_bins": result.n_bins,
                  "strategy": result.strategy, "bootstrap_resamples": settings.n_resamples,
                  "bootstrap_rows": settings.rows(result.scored_rows), "min_group_size": result.min_group_size,
                  **({"notes": list(result.notes)} if result.notes else {})}
    return Section(area="calibration", verdict=calibration_verdict(result), report=calibration_report(result),
                   metrics=tuple(metrics), charts=tuple(chart_list), provenance=provenance, tables=tables,
                   results={"result": result})


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def overall_and_groups(result: CalibrationResult, column: str, max_groups: int = MAX_GROUPS,
                       min_bin_count: int = MIN_BIN_COUNT) -> pd.DataFrame:
    """Reliability rows of all rows ("all rows") and of the largest reliable groups of ``column``
    stacked with a ``group`` column, for one chart: at most ``max_groups`` groups, and only a
    group's bins holding at least ``min_bin_count`` predictions (a share out of 3 predictions
    zig-zags between 0 and 1 and says nothing; the table keeps every bin)."""
    summary, long = result.groups[column]
    shown = [g for g in summary.index[summary["reliable"]]][:max_groups]
    groups = long[long["group"].isin(shown) & (long["count"] >= min_bin_count)]
    return pd.concat([result.table.assign(group="all rows"), groups], ignore_index=True)
