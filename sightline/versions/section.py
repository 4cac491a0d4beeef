"""Compare two model versions of one log, on the same requests when possible.

Shadow deployments score the same request twice (same id), so differences can be measured
*paired*: both versions on identical inputs, which removes traffic differences and makes
intervals much tighter. Canary and A/B logs send different requests to each version; then
the comparison is *unpaired* and also reflects differences in the traffic.

Differences are always ``candidate − baseline`` (baseline = the audit's primary version),
with 95% intervals:

- accuracy and selection rate (paired proportions): Newcombe's hybrid score interval
  (Newcombe 1998, method 10) with McNemar's exact test on the discordant pairs;
- precision, recall, F1, ROC AUC: percentile bootstrap resampling requests (pairs), on at
  most ``max_rows`` requests (a random sample beyond that, the interval width rescaled by
  √(m/n) to the full count);
- Brier score, mean absolute error, score shift: mean of per-request differences with a
  t interval.

Label-free views use every shared request (agreement rate, score correlation, where the
versions disagree by feature slice and score band, latency); metric differences use the
shared requests whose label has arrived.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sightline.core.errors import MissingInputError
from sightline.core.section import AMBER, GREEN, RED, Verdict
from sightline.core.vocabulary import metric_name
from sightline.data.audit import Audit
from sightline.data.model_versions import outcome_columns, paired_requests, version_counts, version_differences, version_rows
from sightline.stats.differences import MAX_BOOTSTRAP_ROWS, N_RESAMPLES, SEED, mean_difference_interval
from sightline.stats.intervals import wilson_interval
from sightline.stats.timing import latency_percentiles, version_labels
from sightline.stats.windows import window_starts
from sightline.versions.pairs import MIN_SLICE_SIZE, disagreement_by_score_band, disagreement_by_slice

log = logging.getLogger(__name__)

SCATTER_ROWS = 4_000
SLOWER_FACTOR = 1.2            # candidate p99 this much above the baseline's is called slower

ONE_VERSION = ("The log holds a single model version, so there is nothing to compare. When a log holds "
               "several (shadow, canary or A/B), this compares them on the same requests: how often they "
               "agree, metric differences with 95% confidence intervals, where they disagree most, and latency.")
NO_VERSION_COLUMN = ("No model-version column is mapped (columns.model_version), so the log is treated as one "
                     "model. Map it in the audit file to compare versions (shadow, canary or A/B).")


# --------------------------------------------------------------------------- the comparison
@dataclass(frozen=True)
class VersionComparison:
    """``candidate`` compared with ``baseline`` (the primary version); differences are candidate − baseline.

    ``metrics``: one row per metric with ``baseline``, ``candidate``, ``difference``, ``lower``,
    ``upper`` (95%), ``p_value``, ``method``, ``n``, ``higher_is_better``, ``significant``.
    ``agreement``: share of shared requests with the same prediction (``rate``, ``lower``,
    ``upper``, ``n``). ``disagreement_outcome``: among labelled disagreements, who was right.
    ``scores``: correlation and shift of the scores. ``by_slice``, ``by_band``, ``by_window``:
    where they disagree. ``latency``: percentiles per version on the shared requests (ms).
    ``scatter``: a seeded sample of (baseline, candidate) scores for plotting.
    """

    baseline: str
    candidate: str
    task: str
    paired: bool
    n_baseline: int
    n_candidate: int
    n_shared: int
    n_labelled: int
    metrics: pd.DataFrame | None
    agreement: dict = field(default_factory=dict)
    disagreement_outcome: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    by_slice: pd.DataFrame | None = None
    by_band: pd.DataFrame | None = None
    by_window: pd.DataFrame | None = None
    latency: pd.DataFrame | None = None
    scatter: pd.DataFrame | None = None
    provenance: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _window_for_span(ts: pd.Series) -> str:
    span = (ts.max() - ts.min()) if ts.notna().any() else pd.Timedelta(0)
    return "hour" if span <= pd.Timedelta(days=2) else "day" if span <= pd.Timedelta(days=60) else "week"


def compare_versions(audit: Audit, candidate: str | None = None, *, n_resamples: int = N_RESAMPLES,
                     max_rows: int = MAX_BOOTSTRAP_ROWS, seed: int = SEED) -> VersionComparison:
    """Compare ``candidate`` (default: the most frequent non-primary version) with the primary version.

    Paired on the id column when the versions share requests; otherwise unpaired on each
    version's own rows. Inputs: the audit, the candidate version, bootstrap settings.
    Output: :class:`VersionComparison`. Raises :class:`MissingInputError` when the log does
    not hold two versions.
    """

    if not audit.spec.columns.model_version or not audit.versions:
        raise MissingInputError(NO_VERSION_COLUMN)
    if len(audit.versions) < 2:
        raise MissingInputError(ONE_VERSION)
    baseline = audit.primary_version
    others = [v for v in audit.versions if v != baseline]
    candidate = candidate or others[0]
    if candidate not in others:
        raise MissingInputError(f"Model version '{candidate}' is not in the log (versions: {', '.join(audit.versions)})")
    spec, cols, task = audit.spec, audit.spec.columns, audit.spec.task
    cand_rows = audit.current[version_rows(audit.current[cols.model_version], candidate)]
    pairs = paired_requests(audit, candidate)
    notes = []
    provenance = {"baseline": baseline, "candidate": candidate, "seed": seed, "n_resamples": n_resamples,
                  "max_bootstrap_rows": max_rows, "confidence": 0.95, "difference": "candidate − baseline"}
    if not cols.id:
        notes.append("No id column is mapped (columns.id): the versions are compared on their own traffic (unpaired), "
                     "so differences also reflect differences in the requests each version saw.")
    if len(pairs) == 0:
        return _unpaired(audit, baseline, candidate, cand_rows, notes, provenance, n_resamples, max_rows, seed)

    target = cols.target
    labelled = pairs[pairs[target].notna()] if target and target in pairs.columns else pairs.iloc[0:0]
    y_lab = audit.y_true(labelled) if len(labelled) else np.array([], dtype=int)  # once: label parsing is slow on big logs
    metrics = version_differences(audit, candidate, pairs, n_resamples=n_resamples, max_rows=max_rows, seed=seed).metrics
    if len(labelled) >= 2:
        provenance["bootstrap_rows"] = int(min(len(labelled), max_rows))
    else:
        notes.append("No shared request has its label yet: metric differences wait for labels; agreement and score shift use every shared request.")

    agreement, outcome = {}, {}
    if task != "regression":
        agree = (pairs["disagree"] == 0).to_numpy()
        lo, hi = wilson_interval(agree.sum(), len(agree))
        agreement = {"rate": float(agree.mean()), "lower": float(lo), "upper": float(hi), "n": int(len(agree))}
        if len(labelled):
            y = y_lab
            dis = (labelled["disagree"] == 1).to_numpy()
            b_right = (labelled["pred_base"].to_numpy() == y) & dis
            c_right = (labelled["pred_cand"].to_numpy() == y) & dis
            outcome = {"disagreements": int(dis.sum()), "baseline_right": int(b_right.sum()),
                       "candidate_right": int(c_right.sum()), "neither_right": int((dis & ~b_right & ~c_right).sum())}
    sb, sc = pairs["score_base"].to_numpy(float), pairs["score_cand"].to_numpy(float)
    if task == "regression":
        sb, sc = pairs["pred_base"].to_numpy(float), pairs["pred_cand"].to_numpy(float)
    scores = _score_comparison(sb, sc)
    by_band = disagreement_by_score_band(sb, pairs["disagree"]) if task == "binary" and np.isfinite(sb).any() else None
    min_size = int((spec.slices or {}).get("min_size", MIN_SLICE_SIZE) or MIN_SLICE_SIZE)
    if len(labelled) and task != "regression":
        # who was right on each labelled disagreement, so slices can say which model to trust there
        y = y_lab
        dis = (labelled["disagree"] == 1).to_numpy()
        pairs = pairs.assign(baseline_right=0, candidate_right=0)
        pairs.loc[labelled.index, "baseline_right"] = ((labelled["pred_base"].to_numpy() == y) & dis).astype(int)
        pairs.loc[labelled.index, "candidate_right"] = ((labelled["pred_cand"].to_numpy() == y) & dis).astype(int)
    by_slice = disagreement_by_slice(pairs, audit.features, min_size=min_size)
    by_window = None
    if cols.timestamp and cols.timestamp in pairs.columns and pairs[cols.timestamp].notna().any():
        ts = audit.timestamps(pairs)
        window = _window_for_span(ts)
        by_window = (pd.DataFrame({"window": window_starts(ts, window).to_numpy(), "agree": 1 - pairs["disagree"].to_numpy()})
                     .groupby("window").agg(n=("agree", "size"), agreement=("agree", "mean")).reset_index())
        by_window.attrs["window"] = window
        provenance["agreement_window"] = window
    latency = None
    if np.isfinite(pairs["latency_base"]).any():
        lat = np.r_[pairs["latency_base"].to_numpy(float), pairs["latency_cand"].to_numpy(float)]
        labels = np.r_[np.full(len(pairs), baseline, dtype=object), np.full(len(pairs), candidate, dtype=object)]
        latency = latency_percentiles(lat, labels)
        ratio = pairs["latency_cand"] / pairs["latency_base"]
        latency["median_ratio_to_baseline"] = [1.0, float(np.nanmedian(ratio[np.isfinite(ratio)])) if np.isfinite(ratio).any() else np.nan]
    keep = np.isfinite(sb) & np.isfinite(sc)
    scatter = pd.DataFrame({"baseline_score": sb[keep], "candidate_score": sc[keep], "agree": (pairs["disagree"].to_numpy()[keep] == 0)})
    if len(scatter) > SCATTER_ROWS:
        scatter = scatter.sample(SCATTER_ROWS, random_state=seed)
    dup = int(cand_rows[cols.id].duplicated().sum())
    if dup:
        notes.append(f"{dup:,} {candidate} rows repeat a request id and were left out (the first row of each id is kept).")
    unmatched = len(cand_rows) - len(pairs)
    if unmatched > 0:
        notes.append(f"{unmatched:,} {candidate} rows have no {baseline} row with the same id and are left out of the paired comparison.")
    provenance.update({"paired_on": cols.id, "shared_requests": int(len(pairs)), "labelled_shared_requests": int(len(labelled)),
                       "scatter_rows": int(len(scatter)), "min_slice_size": min_size})
    return VersionComparison(
        baseline=baseline, candidate=candidate, task=task, paired=True, n_baseline=int(len(audit.primary)),
        n_candidate=int(len(cand_rows)), n_shared=int(len(pairs)), n_labelled=int(len(labelled)), metrics=metrics,
        agreement=agreement, disagreement_outcome=outcome, scores=scores, by_slice=by_slice, by_band=by_band,
        by_window=by_window, latency=latency, scatter=scatter.reset_index(drop=True), provenance=provenance, notes=tuple(notes))


def _score_comparison(sb: np.ndarray, sc: np.ndarray) -> dict:
    """Pearson and Spearman correlation of the two versions' scores and the mean shift (candidate − baseline)."""
    from scipy.stats import spearmanr

    ok = np.isfinite(sb) & np.isfinite(sc)
    if ok.sum() < 3:
        return {}
    a, b = sb[ok], sc[ok]
    mean, lo, hi, p = mean_difference_interval(b - a)
    pearson = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
    spearman = float(spearmanr(a, b).statistic) if a.std() > 0 and b.std() > 0 else float("nan")
    return {"pearson": pearson, "spearman": spearman, "mean_baseline": float(a.mean()), "mean_candidate": float(b.mean()),
            "mean_shift": mean, "lower": lo, "upper": hi, "p_value": p,
            "mean_absolute_shift": float(np.abs(b - a).mean()), "share_moved_over_0_1": float((np.abs(b - a) > 0.1).mean()),
            "n": int(ok.sum())}


def _unpaired(audit: Audit, baseline: str, candidate: str, cand_rows: pd.DataFrame, notes: list, provenance: dict,
              n_resamples: int, max_rows: int, seed: int) -> VersionComparison:
    """Versions that share no request (A/B, canary): each on its own labelled rows."""

    task, cols = audit.spec.task, audit.spec.columns
    if cols.id:
        notes.append(f"{baseline} and {candidate} share no request id: compared on their own traffic (unpaired, as for A/B "
                     "or canary), so differences also reflect differences in the requests each version saw.")
    diffs = version_differences(audit, candidate, pairs=pd.DataFrame(), n_resamples=n_resamples, max_rows=max_rows, seed=seed)
    if diffs.n_labelled < 2:
        notes.append("Too few labelled rows per version for metric differences.")
    latency = None
    if cols.latency_ms and cols.latency_ms in audit.current.columns:
        # Only the two columns needed (a copy of every column of the primary rows would be the
        # largest allocation of the page). Every primary row's version is the baseline, every
        # candidate row's the candidate: the labels are built from the counts.
        lat = pd.concat([audit.primary[cols.latency_ms], cand_rows[cols.latency_ms]], ignore_index=True)
        names = version_labels(np.array([baseline, candidate], dtype=object), 2)
        labels = pd.Categorical.from_codes(np.repeat(names.codes, [len(audit.primary), len(cand_rows)]), dtype=names.dtype)
        latency = latency_percentiles(lat, labels)
    provenance.update({"paired_on": None, "labelled_rows": {baseline: int(len(audit.labelled(outcome_columns(audit, audit.primary)))),
                                                            candidate: int(len(audit.labelled(outcome_columns(audit, cand_rows))))}})
    return VersionComparison(
        baseline=baseline, candidate=candidate, task=task, paired=False, n_baseline=int(len(audit.primary)),
        n_candidate=int(len(cand_rows)), n_shared=0, n_labelled=diffs.n_labelled, metrics=diffs.metrics, latency=latency,
        provenance=provenance, notes=tuple(notes))


# --------------------------------------------------------------------------- verdict and report
KEY_METRICS = {"binary": ("accuracy", "roc_auc"), "multiclass": ("accuracy",), "regression": ("mean_absolute_error",)}


def _points(x: float) -> str:
    return f"{x * 100:+.1f}".replace("-", "−")


def versions_verdict(comp: VersionComparison) -> Verdict:
    """A stakeholder sentence: agreement, the accuracy difference with its 95% CI, and whether
    it is significant. Red when the candidate is significantly worse on a key metric (accuracy,
    ROC AUC; MAE for regression), green when significantly better on one and worse on none,
    amber otherwise (not significant yet, mixed, or no labels); a candidate whose p99 latency is
    more than 1.2× the baseline's is at least amber."""
    parts = []
    if comp.agreement:
        parts.append(f"{comp.candidate} agrees with {comp.baseline} on {comp.agreement['rate']:.0%} of "
                     f"{comp.agreement['n']:,} shared requests")
    else:
        parts.append(f"{comp.candidate} is compared with {comp.baseline}" + ("" if comp.paired else " on separate traffic"))
    m = comp.metrics.set_index("metric") if comp.metrics is not None and len(comp.metrics) else None
    better, worse = [], []
    if m is not None:
        for name in KEY_METRICS.get(comp.task, ()):
            if name not in m.index or not np.isfinite(m.loc[name, "difference"]):
                continue
            row = m.loc[name]
            if bool(row["significant"]):
                good = (row["difference"] > 0) == bool(row["higher_is_better"])
                (better if good else worse).append(metric_name(name))
    status = AMBER
    if m is not None and "accuracy" in m.index and np.isfinite(m.loc["accuracy", "difference"]):
        row = m.loc["accuracy"]
        word = "more" if row["difference"] >= 0 else "less"
        parts.append(f"is {abs(row['difference']) * 100:.1f} points {word} accurate (95% CI {_points(row['lower'])} to {_points(row['upper'])})")
    elif m is not None and "mean_absolute_error" in m.index:
        row = m.loc["mean_absolute_error"]
        parts.append(f"changes the mean absolute error by {row['difference']:+.3g} (95% CI {row['lower']:+.3g} to {row['upper']:+.3g})")
    if m is None or not (set(KEY_METRICS.get(comp.task, ())) & set(m.index)):
        conclusion = "no labels yet to say which is more accurate"
    elif worse and better:
        conclusion, status = f"better on {' and '.join(better)} but worse on {' and '.join(worse)}", AMBER
    elif worse:
        conclusion, status = f"significantly worse on {' and '.join(worse)}", RED
    elif better:
        conclusion, status = f"significantly better on {' and '.join(better)}", GREEN
    else:
        conclusion = "not a significant difference yet"
    sentence = " and ".join(parts) + ": " + conclusion
    if comp.latency is not None and len(comp.latency) == 2:
        p99 = comp.latency["p99_ms"]
        if p99.iloc[1] > SLOWER_FACTOR * p99.iloc[0]:
            sentence += f"; it is slower (p99 {p99.iloc[1]:,.0f} vs {p99.iloc[0]:,.0f} ms)"
            status = AMBER if status == GREEN else status
    detail = (f"Paired on {comp.n_shared:,} requests both versions scored ({comp.n_labelled:,} with labels)." if comp.paired
              else f"Unpaired: {comp.n_baseline:,} {comp.baseline} rows vs {comp.n_candidate:,} {comp.candidate} rows.")
    detail += " Differences are candidate − baseline with 95% confidence intervals; a difference is significant when its interval excludes 0."
    return Verdict(status, "Version " + sentence + ".", detail)


def _frame_records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None:
        return []
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return out.to_dict(orient="records")


def comparison_report(comp: VersionComparison, top_slices: int = 20) -> dict:
    """JSON-safe form of one comparison (``report.json["operations"]["versions"]["comparisons"][candidate]``)."""
    verdict = versions_verdict(comp)
    by_slice = comp.by_slice
    if by_slice is not None:
        by_slice = by_slice[~by_slice["small"]].head(top_slices)
    return {
        "baseline": comp.baseline, "candidate": comp.candidate, "paired": comp.paired,
        "rows": {"baseline": comp.n_baseline, "candidate": comp.n_candidate, "shared": comp.n_shared, "shared_labelled": comp.n_labelled},
        "verdict": {"status": verdict.status, "headline": verdict.headline},
        "metrics": _frame_records(comp.metrics), "agreement": comp.agreement,
        "disagreement_outcome": comp.disagreement_outcome, "scores": comp.scores,
        "disagreement_by_slice": _frame_records(by_slice), "disagreement_by_score_band": _frame_records(comp.by_band),
        "agreement_by_window": _frame_records(comp.by_window),
        "latency": _frame_records(comp.latency.reset_index()) if comp.latency is not None else [],
        "notes": list(comp.notes),
    }


def versions_report(audit: Audit, comparisons: dict[str, VersionComparison]) -> dict:
    """``report.json["operations"]["versions"]``: the versions in the log and one comparison per
    non-primary version (or a ``status`` and ``reason`` when there is nothing to compare)."""
    counts = version_counts(audit.current[audit.spec.columns.model_version]) if audit.versions else {}
    if len(audit.versions) < 2:
        return {"status": "single_version", "reason": ONE_VERSION if audit.versions else NO_VERSION_COLUMN,
                "primary_version": audit.primary_version, "rows": counts}
    return {"status": "compared", "primary_version": audit.primary_version, "rows": counts,
            "comparisons": {c: comparison_report(comp) for c, comp in comparisons.items()}}
