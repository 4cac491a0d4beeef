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

from sightline.audit import Audit
from sightline.errors import MissingInputError
from sightline.request_ids import ids_disjoint
from sightline.resampled_metrics import (  # noqa: F401 — re-exported: the public API lives here
    bootstrap_indices, resampled_binary_metrics, resampled_classification_metrics, resampled_roc_auc)
from sightline.sections import AMBER, GREEN, RED, Verdict
from sightline.stats import wilson_interval

log = logging.getLogger(__name__)

N_RESAMPLES = 500
MAX_BOOTSTRAP_ROWS = 20_000
SCATTER_ROWS = 4_000
SEED = 0
SLOWER_FACTOR = 1.2            # candidate p99 this much above the baseline's is called slower
MIN_SLICE_SIZE = 30
N_SCORE_BANDS = 10
N_NUMERIC_BINS = 5

ONE_VERSION = ("The log holds a single model version, so there is nothing to compare. When a log holds "
               "several (shadow, canary or A/B), this compares them on the same requests: how often they "
               "agree, metric differences with 95% confidence intervals, where they disagree most, and latency.")
NO_VERSION_COLUMN = ("No model-version column is mapped (columns.model_version), so the log is treated as one "
                     "model. Map it in the audit file to compare versions (shadow, canary or A/B).")
HIGHER_IS_BETTER = {"accuracy": True, "precision": True, "recall": True, "f1": True, "roc_auc": True,
                    "brier_score": False, "selection_rate": None, "mean_absolute_error": False,
                    "root_mean_squared_error": False}


# --------------------------------------------------------------------------- intervals
def paired_proportion_difference(x_base, x_cand, confidence: float = 0.95) -> dict:
    """Difference of two proportions measured on the same units (``mean(x_cand) − mean(x_base)``).

    Inputs: aligned 0/1 arrays (e.g. correct / not correct per request for each version).
    Output: dict ``baseline``, ``candidate``, ``difference``, ``lower``, ``upper`` (Newcombe's
    hybrid score interval for paired data, method 10), ``p_value`` (McNemar's exact test: a
    two-sided binomial test of the discordant pairs), ``n``, ``only_baseline`` and
    ``only_candidate`` (discordant counts).
    """
    from scipy.stats import binomtest

    a_ = np.asarray(x_base, dtype=bool)
    b_ = np.asarray(x_cand, dtype=bool)
    n = len(a_)
    if n == 0:
        nan = float("nan")
        return {"baseline": nan, "candidate": nan, "difference": nan, "lower": nan, "upper": nan,
                "p_value": nan, "n": 0, "only_baseline": 0, "only_candidate": 0}
    both = int(np.sum(a_ & b_))
    only_a = int(np.sum(a_ & ~b_))
    only_b = int(np.sum(~a_ & b_))
    neither = n - both - only_a - only_b
    p_a, p_b = (both + only_a) / n, (both + only_b) / n
    (l_a, l_b), (u_a, u_b) = wilson_interval(np.array([both + only_a, both + only_b]), n, confidence)
    # floats: the product of four counts overflows what np.sqrt accepts as an int on large logs
    denom = float(both + only_a) * float(neither + only_b) * float(both + only_b) * float(neither + only_a)
    phi = (both * neither - only_a * only_b) / np.sqrt(denom) if denom > 0 else 0.0
    # Newcombe's method 10 for the paired difference p_b − p_a, with the correlation phi
    d = p_b - p_a
    lower = d - np.sqrt(max((p_b - l_b) ** 2 - 2 * phi * (p_b - l_b) * (u_a - p_a) + (u_a - p_a) ** 2, 0.0))
    upper = d + np.sqrt(max((u_b - p_b) ** 2 - 2 * phi * (u_b - p_b) * (p_a - l_a) + (p_a - l_a) ** 2, 0.0))
    discordant = only_a + only_b
    p_value = binomtest(only_b, discordant, 0.5).pvalue if discordant else 1.0
    return {"baseline": p_a, "candidate": p_b, "difference": d, "lower": float(max(lower, -1.0)),
            "upper": float(min(upper, 1.0)), "p_value": float(p_value), "n": n,
            "only_baseline": only_a, "only_candidate": only_b}


def independent_proportion_difference(x_base, x_cand, confidence: float = 0.95) -> dict:
    """``mean(x_cand) − mean(x_base)`` for two independent samples (A/B, canary).

    Output: dict as :func:`paired_proportion_difference` (Newcombe's method 10 for independent
    proportions; p-value from the two-proportion z test).
    """
    from scipy.stats import norm

    a_, b_ = np.asarray(x_base, dtype=bool), np.asarray(x_cand, dtype=bool)
    n_a, n_b = len(a_), len(b_)
    nan = float("nan")
    if not n_a or not n_b:
        return {"baseline": nan, "candidate": nan, "difference": nan, "lower": nan, "upper": nan, "p_value": nan, "n": n_a + n_b}
    k_a, k_b = int(a_.sum()), int(b_.sum())
    p_a, p_b = k_a / n_a, k_b / n_b
    (l_a, l_b), (u_a, u_b) = wilson_interval(np.array([k_a, k_b]), np.array([n_a, n_b]), confidence)
    d = p_b - p_a
    pooled = (k_a + k_b) / (n_a + n_b)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    p_value = float(2 * norm.sf(abs(d) / se)) if se > 0 else 1.0
    return {"baseline": p_a, "candidate": p_b, "difference": d,
            "lower": float(d - np.sqrt((p_b - l_b) ** 2 + (u_a - p_a) ** 2)),
            "upper": float(d + np.sqrt((u_b - p_b) ** 2 + (p_a - l_a) ** 2)),
            "p_value": p_value, "n": n_a + n_b}


def mean_difference_interval(diff, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Mean of per-unit differences with a t interval: (mean, lower, upper, two-sided p-value)."""
    from scipy.stats import t

    diff = np.asarray(diff, dtype=float)
    diff = diff[np.isfinite(diff)]
    n = len(diff)
    if n < 2:
        return (float(diff.mean()) if n else float("nan"), float("nan"), float("nan"), float("nan"))
    mean, se = float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(n))
    if se == 0:
        return mean, mean, mean, 1.0 if mean == 0 else 0.0
    q = t.ppf(0.5 + confidence / 2, n - 1)
    return mean, mean - q * se, mean + q * se, float(2 * t.sf(abs(mean) / se, n - 1))


# --------------------------------------------------------------------------- resampled metrics
def _bootstrap_rows(n: int, max_rows: int, seed: int) -> np.ndarray:
    """Indices of the rows the bootstrap runs on: all, or a seeded random sample of ``max_rows``."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed + 1).choice(n, size=max_rows, replace=False))


def _percentile_interval(full: float, sub: float, draws: np.ndarray, scale: float, confidence: float) -> tuple[float, float]:
    """Percentile interval of the bootstrap ``draws`` around the full-data estimate, widths rescaled
    by ``scale`` = √(m/n) when the bootstrap ran on m of n rows (equal to the plain percentile
    interval when m = n)."""
    total = len(draws)
    draws = draws[np.isfinite(draws)]
    if not np.isfinite(full) or len(draws) < max(0.5 * total, 20):  # e.g. resamples with one class only
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(draws, [alpha, 1 - alpha])
    return float(full + (lo - sub) * scale), float(full + (hi - sub) * scale)


# --------------------------------------------------------------------------- pairing
def paired_requests(audit: Audit, candidate: str) -> pd.DataFrame:
    """The requests both the primary version and ``candidate`` scored, joined on the id column.

    Output: one row per shared request with the baseline's features, label and timestamp, and
    per version ``pred_base``/``pred_cand`` (metric form, see :meth:`Audit.y_pred`),
    ``score_base``/``score_cand`` and ``latency_base``/``latency_cand`` (NaN when not logged).
    Duplicated ids keep their first row. The user's frame is not modified.
    """
    spec, cols = audit.spec, audit.spec.columns
    vcol = cols.model_version
    if not cols.id or cols.id not in audit.current.columns:
        return pd.DataFrame()
    log = audit.current
    # Strings are hashed once (factorize); pairing, de-duplication and the join then run on integers.
    vcodes, vnames = pd.factorize(log[vcol])
    vnames = np.array([str(v) for v in vnames], dtype=object)
    in_base, in_cand = (np.isin(vcodes, np.flatnonzero(vnames == v)) for v in (audit.primary_version, candidate))
    if ids_disjoint(log[cols.id], in_base, in_cand):  # A/B or canary: nothing to pair, no id hashed
        matched, cand_pos, keep = np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=bool)
    else:
        ids, _ = pd.factorize(log[cols.id])

        def first_rows(rows: np.ndarray) -> np.ndarray:
            """Positions of the rows, the first row of each id only (missing ids dropped)."""
            pos = np.flatnonzero(rows & (ids >= 0))
            _, first = np.unique(ids[pos], return_index=True)
            return pos[np.sort(first)]

        base_pos, cand_pos = first_rows(in_base), first_rows(in_cand)
        where_base = np.full(ids.max() + 1 if len(ids) else 0, -1, dtype=np.int64)
        where_base[ids[base_pos]] = base_pos
        matched = where_base[ids[cand_pos]]
        keep = matched >= 0
    base, cand = log.iloc[matched[keep]], log.iloc[cand_pos[keep]]

    def labels(frame: pd.DataFrame, column: str, convert) -> np.ndarray:
        """``convert`` (an Audit helper) applied to the distinct values only, then spread to the rows:
        parsing labels once per class instead of once per row."""
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        return np.asarray(convert(pd.DataFrame({column: uniques})))[codes]

    def own(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
        out = pd.DataFrame({"id": frame[cols.id].to_numpy()}, index=pd.RangeIndex(len(frame)))
        if spec.task != "regression" and cols.prediction and cols.prediction in frame.columns:
            out[f"pred_{suffix}"] = labels(frame, cols.prediction, audit.y_pred)
        else:
            out[f"pred_{suffix}"] = audit.y_pred(frame)
        score = audit.y_score(frame)
        out[f"score_{suffix}"] = np.nan if score is None else score
        lat = cols.latency_ms
        out[f"latency_{suffix}"] = (pd.to_numeric(frame[lat], errors="coerce").to_numpy(dtype=float)
                                    if lat and lat in frame.columns else np.nan)
        return out

    left = own(base, "base")
    extra = [c for c in dict.fromkeys(list(audit.features) + [cols.target, cols.timestamp]) if c and c in base.columns]
    right = own(cand, "cand").drop(columns="id")
    joined = pd.concat([left, base[extra].reset_index(drop=True), right], axis=1)  # rows are aligned by construction
    if cols.target and cols.target in cand.columns:
        # a label that reached only one version's row is still the request's label
        joined[cols.target] = joined[cols.target].where(joined[cols.target].notna(), cand[cols.target].to_numpy())
    if spec.task == "regression":
        joined["disagree"] = (joined["pred_cand"] - joined["pred_base"]).abs()
    else:
        joined["disagree"] = (joined["pred_cand"] != joined["pred_base"]).astype(float)
    return joined


# --------------------------------------------------------------------------- where they disagree
def _slice_labels(values: pd.Series, n_bins: int = N_NUMERIC_BINS) -> pd.Series:
    """Slice label per row as a categorical: categories as they are, numeric columns with many
    values in quantile bins ("25–33"), missing values as "(missing)"."""
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
        try:
            binned = pd.qcut(values, n_bins, duplicates="drop")
        except ValueError:
            binned = pd.cut(values, n_bins)
        names = [f"{iv.left:g}–{iv.right:g}" for iv in binned.cat.categories]
        if len(set(names)) < len(names):  # edges too close for the short format
            names = [str(iv) for iv in binned.cat.categories]
        binned = binned.cat.rename_categories(names)
    else:
        binned = values.astype("category")
        names = [str(c) for c in binned.cat.categories]
        if len(set(names)) == len(names):
            binned = binned.cat.rename_categories(names)
    if binned.isna().any():
        binned = binned.cat.add_categories("(missing)").fillna("(missing)")
    return binned


def disagreement_by_slice(frame: pd.DataFrame, features, *, min_size: int = MIN_SLICE_SIZE,
                          max_pairs_from: int = 4) -> pd.DataFrame:
    """Disagreement rate of two versions per feature slice and for two-feature intersections.

    Inputs: :func:`paired_requests` output (column ``disagree``: 0/1, or absolute difference
    for regression), the features to slice by, the minimum slice size, and how many of the
    most-disagreeing features to intersect pairwise.
    Output: DataFrame with ``slice`` ("col=value" or "a=x & b=y"), ``features``, ``n``,
    ``disagreements`` (sum), [``baseline_right``, ``candidate_right``: labelled disagreements each
    version got right, when ``frame`` has those 0/1 columns], ``rate`` (mean), ``lower``/``upper`` (Wilson 95%, classification),
    ``lift`` (rate over the overall rate), ``small`` (n < min_size); most disagreement first
    among slices that are not small.
    """
    if not len(frame):
        return pd.DataFrame(columns=["slice", "features", "n", "disagreements", "rate", "lower", "upper", "lift", "small"])
    dis = frame["disagree"].to_numpy(dtype=float)
    overall = float(dis.mean())
    labels = {f: _slice_labels(frame[f]) for f in features if f in frame.columns}
    extra = [c for c in ("baseline_right", "candidate_right") if c in frame.columns]
    parts = []

    def summarise(keys: list[str]) -> pd.DataFrame:
        g = pd.DataFrame({k: labels[k].to_numpy() for k in keys}).assign(d=dis, **{c: frame[c].to_numpy() for c in extra})
        agg = g.groupby(keys, sort=False, observed=True).agg(n=("d", "size"), disagreements=("d", "sum"),
                                                             **{c: (c, "sum") for c in extra}).reset_index()
        names = agg[keys].astype(str)
        slice_names = [" & ".join(f"{k}={v}" for k, v in zip(keys, row)) for row in names.itertuples(index=False)]
        return pd.DataFrame({"slice": slice_names, "features": " & ".join(keys), "n": agg["n"].to_numpy(),
                             "disagreements": agg["disagreements"].to_numpy(), **{c: agg[c].to_numpy() for c in extra}})

    for f in labels:
        parts.append(summarise([f]))
    singles = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["slice", "features", "n", "disagreements"])
    big = singles[singles["n"] >= min_size]
    top = (big.assign(rate=big["disagreements"] / big["n"]).groupby("features")["rate"].max()
           .sort_values(ascending=False).index[:max_pairs_from].tolist())
    for i, a in enumerate(top):
        for b in top[i + 1:]:
            parts.append(summarise([a, b]))
    out = pd.concat(parts, ignore_index=True)
    out["rate"] = out["disagreements"] / out["n"]
    if set(np.unique(dis)) <= {0.0, 1.0}:
        out["lower"], out["upper"] = wilson_interval(out["disagreements"].to_numpy(), out["n"].to_numpy())
    else:
        out["lower"] = out["upper"] = np.nan
    out["lift"] = out["rate"] / overall if overall > 0 else np.nan
    out["small"] = out["n"] < min_size
    return out.sort_values(["small", "rate", "n"], ascending=[True, False, False], ignore_index=True)


def disagreement_by_score_band(score, disagree, n_bands: int = N_SCORE_BANDS) -> pd.DataFrame:
    """Disagreement per band of the baseline's score (equal-width bands over [0, 1]).

    Output: DataFrame with ``band`` (e.g. "0.4–0.5"), ``low``, ``high``, ``n``,
    ``disagreements``, ``rate``, ``lower``/``upper`` (Wilson 95%); bands without rows are left out.
    """
    score = np.asarray(score, dtype=float)
    dis = np.asarray(disagree, dtype=float)
    ok = np.isfinite(score)
    edges = np.linspace(0, 1, n_bands + 1)
    band = np.clip(np.searchsorted(edges, score[ok], side="right") - 1, 0, n_bands - 1)
    n = np.bincount(band, minlength=n_bands)
    k = np.bincount(band, weights=dis[ok], minlength=n_bands)
    out = pd.DataFrame({"band": [f"{edges[i]:.1f}–{edges[i + 1]:.1f}" for i in range(n_bands)],
                        "low": edges[:-1], "high": edges[1:], "n": n, "disagreements": k})
    out = out[out["n"] > 0].reset_index(drop=True)
    out["rate"] = out["disagreements"] / out["n"]
    out["lower"], out["upper"] = wilson_interval(out["disagreements"].to_numpy(), out["n"].to_numpy())
    return out


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


def _metric_row(name: str, est: dict, method: str) -> dict:
    return {"metric": name, "baseline": est["baseline"], "candidate": est["candidate"], "difference": est["difference"],
            "lower": est["lower"], "upper": est["upper"], "p_value": est.get("p_value", np.nan), "method": method, "n": est["n"]}


def bootstrap_metric_differences(base: dict, cand: dict, names: list[str], *, paired: bool, n_resamples: int = N_RESAMPLES,
                                 max_rows: int = MAX_BOOTSTRAP_ROWS, seed: int = SEED, confidence: float = 0.95) -> list[dict]:
    """Differences (candidate − baseline) of precision, recall, F1 and/or ROC AUC with percentile
    bootstrap 95% intervals.

    Inputs: ``base``/``cand`` dicts of aligned arrays ``y`` (0/1 labels), ``pred`` (0/1) and
    ``score``; ``names`` the metrics; ``paired`` resamples requests jointly (same rows in both),
    otherwise each version separately. At most ``max_rows`` rows are resampled (a seeded random
    sample beyond that; interval widths rescaled by √(m/n)). Output: one metric-table row per name
    (point estimates on all rows; equal to scikit-learn's, see the tests).
    """
    def draws(side, idx):
        if "roc_auc" in names and set(names) - {"roc_auc"}:  # one count of the resamples for all four
            return resampled_classification_metrics(side["y"], side["pred"], side["score"], idx)
        out = resampled_binary_metrics(side["y"], side["pred"], idx) if set(names) - {"roc_auc"} else {}
        if "roc_auc" in names:
            out["roc_auc"] = resampled_roc_auc(side["y"], side["score"], idx)
        return out

    def full(side):
        return {k: float(v[0]) for k, v in draws(side, np.arange(len(side["y"]))[None, :]).items()}

    rows_b = _bootstrap_rows(len(base["y"]), max_rows, seed)
    rows_c = rows_b if paired else _bootstrap_rows(len(cand["y"]), max_rows, seed + 7)
    i_b = bootstrap_indices(len(rows_b), n_resamples, seed)
    i_c = i_b if paired else bootstrap_indices(len(rows_c), n_resamples, seed + 13)
    sub_b = {k: v[rows_b] for k, v in base.items()}
    sub_c = {k: v[rows_c] for k, v in cand.items()}
    d_b, d_c = draws(sub_b, i_b), draws(sub_c, i_c)
    s_b, s_c = full(sub_b), full(sub_c)
    # on a side with no more than max_rows rows the bootstrapped rows are all rows, in order
    f_b = s_b if len(rows_b) == len(base["y"]) else full(base)
    f_c = s_c if len(rows_c) == len(cand["y"]) else full(cand)
    n_eff = len(base["y"]) if paired else len(base["y"]) + len(cand["y"])
    m_eff = len(rows_b) if paired else len(rows_b) + len(rows_c)
    scale = float(np.sqrt(m_eff / n_eff))
    out = []
    for name in names:
        fb, fc = f_b[name], f_c[name]
        lower, upper = _percentile_interval(fc - fb, s_c[name] - s_b[name], d_c[name] - d_b[name], scale, confidence)
        method = ("paired" if paired else "unpaired") + f" percentile bootstrap, {n_resamples} resamples of {len(rows_b):,} " + \
                 ("requests" if paired else "rows per version") + (" (interval rescaled to all rows)" if scale < 1 else "")
        out.append({"metric": name, "baseline": fb, "candidate": fc, "difference": fc - fb, "lower": lower, "upper": upper,
                    "p_value": np.nan, "method": method, "n": n_eff})
    return out


def _finish_metrics(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["metric", "baseline", "candidate", "difference", "lower", "upper", "p_value", "method", "n"])
    out["higher_is_better"] = out["metric"].map(HIGHER_IS_BETTER)
    out["significant"] = (out["lower"] > 0) | (out["upper"] < 0)
    return out


def paired_metric_differences(task: str, y_true, pred_base, pred_cand, score_base=None, score_cand=None, *,
                              n_resamples: int = N_RESAMPLES, max_rows: int = MAX_BOOTSTRAP_ROWS, seed: int = SEED) -> pd.DataFrame:
    """Metric differences (candidate − baseline) on labelled requests both versions scored.

    Inputs: the task; labels and each version's predictions (and scores, binary) in metric form,
    aligned by request. Output: the ``metrics`` table of :class:`VersionComparison`.
    """
    y = np.asarray(y_true)
    rows = [_metric_row("accuracy", paired_proportion_difference(pred_base == y, pred_cand == y),
                        "paired: Newcombe hybrid score interval, McNemar exact test")]
    if task == "binary":
        sb = np.asarray(score_base, dtype=float) if score_base is not None else np.full(len(y), np.nan)
        sc = np.asarray(score_cand, dtype=float) if score_cand is not None else np.full(len(y), np.nan)
        scored = np.isfinite(sb) & np.isfinite(sc)
        with_auc = scored.sum() > 1 and len(np.unique(y[scored])) == 2
        base = {"y": y, "pred": np.asarray(pred_base), "score": sb}
        cand = {"y": y, "pred": np.asarray(pred_cand), "score": sc}
        settings = {"paired": True, "n_resamples": n_resamples, "max_rows": max_rows, "seed": seed}
        if with_auc and scored.all():  # the usual case: one set of resamples for all four metrics
            rows += bootstrap_metric_differences(base, cand, ["precision", "recall", "f1", "roc_auc"], **settings)
        else:
            rows += bootstrap_metric_differences(base, cand, ["precision", "recall", "f1"], **settings)
            if with_auc:  # ROC AUC on the requests both versions scored
                rows += bootstrap_metric_differences({k: v[scored] for k, v in base.items()},
                                                     {k: v[scored] for k, v in cand.items()}, ["roc_auc"], **settings)
        if scored.sum() > 1:
            eb, ec = (sb[scored] - y[scored]) ** 2, (sc[scored] - y[scored]) ** 2
            mean, lo, hi, p = mean_difference_interval(ec - eb)
            rows.append({"metric": "brier_score", "baseline": float(eb.mean()), "candidate": float(ec.mean()), "difference": mean,
                         "lower": lo, "upper": hi, "p_value": p, "method": "paired t interval on per-request squared errors",
                         "n": int(scored.sum())})
    elif task == "regression":
        eb, ec = np.abs(np.asarray(pred_base, float) - y.astype(float)), np.abs(np.asarray(pred_cand, float) - y.astype(float))
        ok = np.isfinite(eb) & np.isfinite(ec)
        mean, lo, hi, p = mean_difference_interval(ec[ok] - eb[ok])
        rows = [{"metric": "mean_absolute_error", "baseline": float(eb[ok].mean()), "candidate": float(ec[ok].mean()),
                 "difference": mean, "lower": lo, "upper": hi, "p_value": p,
                 "method": "paired t interval on per-request absolute errors", "n": int(ok.sum())}]
    return _finish_metrics(rows)


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
    from sightline.operations import latency_percentiles, window_starts

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
    metrics = None
    if len(labelled) >= 2:
        y = y_lab
        metrics = paired_metric_differences(task, y, labelled["pred_base"].to_numpy(), labelled["pred_cand"].to_numpy(),
                                            labelled["score_base"].to_numpy(), labelled["score_cand"].to_numpy(),
                                            n_resamples=n_resamples, max_rows=max_rows, seed=seed)
        provenance["bootstrap_rows"] = int(min(len(labelled), max_rows))
    else:
        notes.append("No shared request has its label yet: metric differences wait for labels; agreement and score shift use every shared request.")
    rows = []
    if task == "binary":
        sel = paired_proportion_difference(pairs["pred_base"].to_numpy() == 1, pairs["pred_cand"].to_numpy() == 1)
        rows.append(_metric_row("selection_rate", sel, "paired: Newcombe hybrid score interval, McNemar exact test (all shared requests)"))
    if rows:
        extra = _finish_metrics(rows)
        metrics = extra if metrics is None else pd.concat([metrics, extra], ignore_index=True)

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
    from sightline.operations import latency_percentiles, version_labels

    task, cols = audit.spec.task, audit.spec.columns
    if cols.id:
        notes.append(f"{baseline} and {candidate} share no request id: compared on their own traffic (unpaired, as for A/B "
                     "or canary), so differences also reflect differences in the requests each version saw.")
    lb, lc = audit.labelled(_outcome_columns(audit, audit.primary)), audit.labelled(_outcome_columns(audit, cand_rows))
    rows = []
    if len(lb) >= 2 and len(lc) >= 2:
        yb, yc = audit.y_true(lb), audit.y_true(lc)
        pb, pc = audit.y_pred(lb), audit.y_pred(lc)
        rows.append(_metric_row("accuracy", independent_proportion_difference(pb == yb, pc == yc),
                                "unpaired: Newcombe hybrid score interval, two-proportion z test"))
        if task == "binary":
            sb, sc = audit.y_score(lb), audit.y_score(lc)
            names = ["precision", "recall", "f1"]
            if sb is not None and np.isfinite(sb).all() and np.isfinite(sc).all() and len(np.unique(yb)) == 2 and len(np.unique(yc)) == 2:
                names.append("roc_auc")
            rows += bootstrap_metric_differences({"y": yb, "pred": pb, "score": sb if sb is not None else np.full(len(yb), np.nan)},
                                       {"y": yc, "pred": pc, "score": sc if sc is not None else np.full(len(yc), np.nan)},
                                       names, paired=False, n_resamples=n_resamples, max_rows=max_rows, seed=seed)
    else:
        notes.append("Too few labelled rows per version for metric differences.")
    if task == "binary":
        rows.append(_metric_row("selection_rate", independent_proportion_difference(audit.y_pred(_outcome_columns(audit, audit.primary)) == 1,
                                                                                    audit.y_pred(_outcome_columns(audit, cand_rows)) == 1),
                                "unpaired: Newcombe hybrid score interval (all rows)"))
    latency = None
    if cols.latency_ms and cols.latency_ms in audit.current.columns:
        # Only the two columns needed (a copy of every column of the primary rows would be the
        # largest allocation of the page). Every primary row's version is the baseline, every
        # candidate row's the candidate: the labels are built from the counts.
        lat = pd.concat([audit.primary[cols.latency_ms], cand_rows[cols.latency_ms]], ignore_index=True)
        names = version_labels(np.array([baseline, candidate], dtype=object), 2)
        labels = pd.Categorical.from_codes(np.repeat(names.codes, [len(audit.primary), len(cand_rows)]), dtype=names.dtype)
        latency = latency_percentiles(lat, labels)
    provenance.update({"paired_on": None, "labelled_rows": {baseline: int(len(lb)), candidate: int(len(lc))}})
    return VersionComparison(
        baseline=baseline, candidate=candidate, task=task, paired=False, n_baseline=int(len(audit.primary)),
        n_candidate=int(len(cand_rows)), n_shared=0, n_labelled=int(min(len(lb), len(lc))),
        metrics=_finish_metrics(rows) if rows else None, latency=latency, provenance=provenance, notes=tuple(notes))


# --------------------------------------------------------------------------- verdict and report
KEY_METRICS = {"binary": ("accuracy", "roc_auc"), "multiclass": ("accuracy",), "regression": ("mean_absolute_error",)}
METRIC_TITLES = {"accuracy": "accuracy", "roc_auc": "ROC AUC", "precision": "precision", "recall": "recall", "f1": "F1",
                 "brier_score": "Brier score", "selection_rate": "selection rate", "mean_absolute_error": "mean absolute error"}


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
                good = (row["difference"] > 0) == bool(HIGHER_IS_BETTER[name])
                (better if good else worse).append(METRIC_TITLES[name])
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


def version_rows(values: pd.Series, version: str) -> np.ndarray:
    """Boolean mask of the rows whose version, as a string, is ``version`` — the same as
    ``values.astype(str) == version``; for a categorical column (Parquet's dictionary columns)
    only the distinct values are converted, not a million rows."""
    if not isinstance(values.dtype, pd.CategoricalDtype):  # e.g. None and NaN are one value to factorize, two strings
        return (values.astype(str) == version).to_numpy()
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.isin(codes, np.flatnonzero(pd.Series(uniques).astype(str).to_numpy() == version))


def version_counts(values: pd.Series) -> dict[str, int]:
    """Rows per version, as ``values.astype(str).value_counts().to_dict()`` (most rows first).
    For a categorical column, counted on its codes: the distinct values, in order of first
    appearance, are converted to strings and their counts sorted as ``value_counts`` sorts them."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype(str).value_counts().to_dict()
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    names, first = pd.factorize(pd.Series(uniques).astype(str).to_numpy(), use_na_sentinel=False)
    counts = np.bincount(names[codes], minlength=len(first)) if len(codes) else np.zeros(len(first), dtype=np.int64)
    return pd.Series(counts, index=pd.Index(first, dtype=object)).sort_values(ascending=False).to_dict()


def _outcome_columns(audit: Audit, frame: pd.DataFrame) -> pd.DataFrame:
    """The label, prediction and score columns of ``frame`` only: what :meth:`Audit.labelled`,
    ``y_true``, ``y_pred`` and ``y_score`` read (a copy of three columns, not of every column)."""
    cols = audit.spec.columns
    return frame[[c for c in dict.fromkeys((cols.target, cols.prediction, cols.score)) if c and c in frame.columns]]


def versions_report(audit: Audit, comparisons: dict[str, VersionComparison]) -> dict:
    """``report.json["operations"]["versions"]``: the versions in the log and one comparison per
    non-primary version (or a ``status`` and ``reason`` when there is nothing to compare)."""
    counts = version_counts(audit.current[audit.spec.columns.model_version]) if audit.versions else {}
    if len(audit.versions) < 2:
        return {"status": "single_version", "reason": ONE_VERSION if audit.versions else NO_VERSION_COLUMN,
                "primary_version": audit.primary_version, "rows": counts}
    return {"status": "compared", "primary_version": audit.primary_version, "rows": counts,
            "comparisons": {c: comparison_report(comp) for c, comp in comparisons.items()}}
