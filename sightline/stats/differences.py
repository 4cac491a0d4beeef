"""Differences between two models' metrics (candidate − baseline) with 95% intervals.

The one implementation of a model comparison: Performance, the Slices page's Simpson check
and Model versions all read their differences from here, so one pair of versions gets one
interval everywhere. Holds the interval estimators (paired and independent proportion
differences, paired and independent mean differences), the bootstrap of precision, recall, F1
and ROC AUC differences, and the metric tables for paired requests (shadow deployments) and for
each version's own rows (A/B, canary).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.core.vocabulary import metric
from sightline.stats.intervals import wilson_interval
from sightline.stats.resampled import bootstrap_indices, resampled_binary_metrics, resampled_classification_metrics, resampled_roc_auc

N_RESAMPLES = 500
MAX_BOOTSTRAP_ROWS = 20_000
SEED = 0


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



def independent_mean_difference(x_base, x_cand, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """``mean(x_cand) − mean(x_base)`` for two independent samples with Welch's t interval:
    (difference, lower, upper, two-sided p-value — equal to ``scipy.stats.ttest_ind(..., equal_var=False)``)."""
    from scipy.stats import t

    a = np.asarray(x_base, dtype=float)
    b = np.asarray(x_cand, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan"), float("nan"), float("nan")
    d = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se == 0:
        return d, d, d, 1.0 if d == 0 else 0.0
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    q = t.ppf(0.5 + confidence / 2, dof)
    return d, d - q * se, d + q * se, float(2 * t.sf(abs(d) / se, dof))


def value_difference(values_base, values_cand, *, paired: bool) -> dict:
    """Difference of the means of a per-request value (1/0 correct, or an absolute error) between
    two models, with the test each kind of value calls for.

    Inputs: the values of each model (aligned by request when ``paired``). 0/1 values are
    proportions: McNemar's exact test and Newcombe's interval (paired), the two-proportion z test
    and Newcombe's interval (unpaired); other values are means: paired t or Welch t.
    Output: dict ``baseline``, ``candidate``, ``difference`` (candidate − baseline), ``lower``,
    ``upper``, ``p_value`` (NaN with fewer than two values per side), ``n``.
    """
    a, b = np.asarray(values_base, dtype=float), np.asarray(values_cand, dtype=float)
    nan = float("nan")
    if len(a) < 2 or len(b) < 2:
        return {"baseline": float(a.mean()) if len(a) else nan, "candidate": float(b.mean()) if len(b) else nan,
                "difference": nan, "lower": nan, "upper": nan, "p_value": nan, "n": len(a) if paired else len(a) + len(b)}
    if np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all():
        est = (paired_proportion_difference if paired else independent_proportion_difference)(a == 1, b == 1)
        return {k: est[k] for k in ("baseline", "candidate", "difference", "lower", "upper", "p_value", "n")}
    d, lo, hi, p = mean_difference_interval(b - a) if paired else independent_mean_difference(a, b)
    return {"baseline": float(a.mean()), "candidate": float(b.mean()), "difference": d, "lower": lo, "upper": hi,
            "p_value": p, "n": len(a) if paired else len(a) + len(b)}

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

def metric_row(name: str, est: dict, method: str) -> dict:
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


def metric_table(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["metric", "baseline", "candidate", "difference", "lower", "upper", "p_value", "method", "n"])
    out["higher_is_better"] = [metric(m).higher_is_better for m in out["metric"]]
    out["significant"] = (out["lower"] > 0) | (out["upper"] < 0)
    return out


def paired_metric_differences(task: str, y_true, pred_base, pred_cand, score_base=None, score_cand=None, *,
                              n_resamples: int = N_RESAMPLES, max_rows: int = MAX_BOOTSTRAP_ROWS, seed: int = SEED) -> pd.DataFrame:
    """Metric differences (candidate − baseline) on labelled requests both versions scored.

    Inputs: the task; labels and each version's predictions (and scores, binary) in metric form,
    aligned by request. Output: the ``metrics`` table of :class:`VersionComparison`.
    """
    y = np.asarray(y_true)
    rows = [metric_row("accuracy", paired_proportion_difference(pred_base == y, pred_cand == y),
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
    return metric_table(rows)


def unpaired_metric_differences(task: str, base: dict, cand: dict, *, n_resamples: int = N_RESAMPLES,
                                max_rows: int = MAX_BOOTSTRAP_ROWS, seed: int = SEED) -> pd.DataFrame:
    """Metric differences (candidate − baseline) of two versions on their own labelled rows (A/B,
    canary: no shared request).

    Inputs: ``base``/``cand`` dicts of arrays ``y`` (labels), ``pred`` and — binary — ``score``
    (NaN or None when not logged), in metric form. Output: a metric table like
    :func:`paired_metric_differences`: accuracy (Newcombe, two-proportion z test), precision,
    recall, F1 and ROC AUC (independent bootstrap) for binary; mean absolute error (Welch t) for
    regression.
    """
    yb, yc = np.asarray(base["y"]), np.asarray(cand["y"])
    if task == "regression":
        eb = np.abs(np.asarray(base["pred"], float) - yb.astype(float))
        ec = np.abs(np.asarray(cand["pred"], float) - yc.astype(float))
        eb, ec = eb[np.isfinite(eb)], ec[np.isfinite(ec)]
        mean, lo, hi, p = independent_mean_difference(eb, ec)
        return metric_table([{"metric": "mean_absolute_error", "baseline": float(eb.mean()) if len(eb) else np.nan,
                              "candidate": float(ec.mean()) if len(ec) else np.nan, "difference": mean, "lower": lo,
                              "upper": hi, "p_value": p, "method": "unpaired: Welch t interval on absolute errors",
                              "n": int(len(eb) + len(ec))}])
    pb, pc = np.asarray(base["pred"]), np.asarray(cand["pred"])
    rows = [metric_row("accuracy", independent_proportion_difference(pb == yb, pc == yc),
                       "unpaired: Newcombe hybrid score interval, two-proportion z test")]
    if task == "binary":
        sb = np.full(len(yb), np.nan) if base.get("score") is None else np.asarray(base["score"], dtype=float)
        sc = np.full(len(yc), np.nan) if cand.get("score") is None else np.asarray(cand["score"], dtype=float)
        names = ["precision", "recall", "f1"]
        if np.isfinite(sb).all() and np.isfinite(sc).all() and len(np.unique(yb)) == 2 and len(np.unique(yc)) == 2:
            names.append("roc_auc")
        rows += bootstrap_metric_differences({"y": yb, "pred": pb, "score": sb}, {"y": yc, "pred": pc, "score": sc},
                                             names, paired=False, n_resamples=n_resamples, max_rows=max_rows, seed=seed)
    return metric_table(rows)
