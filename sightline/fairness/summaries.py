"""Fairness summaries, disparities and their plain-language sentences.

From a group table (:func:`sightline.fairness.groups.group_metrics`): each group against a
reference group (:func:`disparities`: Newcombe interval for differences, Katz for ratios), the
fairlearn summaries (:func:`fairness_summaries`: demographic parity difference/ratio,
equalized odds difference/ratio, equal opportunity difference, predictive parity difference —
or error gaps for regression and multiclass) with intervals, tolerances, a green/amber/red
status and one stakeholder sentence each, and the four-fifths rule (:func:`four_fifths_rule`).
Small groups (``small`` in the table) never enter a summary.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy.stats import norm

from sightline.core.numbers import MEASURE, RATE, format_value
from sightline.core.section import AMBER, GREEN, RED
from sightline.core.vocabulary import metric_name
from sightline.fairness.groups import INTERSECTION_SEP, RATE_METRICS, REGRESSION_METRICS, SCORE_METRICS
from sightline.stats.intervals import wilson_interval

# Tolerances: a difference must stay at or below its tolerance, a ratio at or above it.
DEFAULT_TOLERANCE: dict[str, float] = {
    "demographic_parity_difference": 0.10,
    "demographic_parity_ratio": 0.80,       # the four-fifths rule
    "equalized_odds_difference": 0.10,
    "equalized_odds_ratio": 0.80,
    "equal_opportunity_difference": 0.10,
    "predictive_parity_difference": 0.10,
    "accuracy_difference": 0.10,            # multiclass
    "mean_absolute_error_ratio": 0.80,      # regression: best group's MAE / worst group's MAE
}
RATIO_SUMMARIES = {"demographic_parity_ratio", "equalized_odds_ratio", "mean_absolute_error_ratio"}
# A value within this share of its tolerance counts as "close" (amber).
CLOSE_SHARE = 0.8
DEFAULT_RESAMPLES = 200
# Who the rows of a group are, for the sentences: persons ("women", "people in the X group") or
# anything else ("district = Bielany"). Default: people for classification, rows for regression.
PEOPLE, ROWS = "people", "rows"
SUBJECTS = (PEOPLE, ROWS)


def default_subjects(task: str, declared: str | None = None) -> str:
    """``declared`` (``fairness.subjects`` in the audit file) when given, else people for a
    classifier's audit (its sensitive columns are person attributes) and rows for a regression."""
    if declared in SUBJECTS:
        return declared
    return ROWS if task == "regression" else PEOPLE

# --------------------------------------------------------------------------------------
# disparities, summaries, verdicts
# --------------------------------------------------------------------------------------
def newcombe_difference(x1, n1, x2, n2, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p1 - p2 with Newcombe's hybrid-score interval (method 10, from Wilson intervals)."""
    x1, n1, x2, n2 = (np.asarray(v, float) for v in (x1, n1, x2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    return d, d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def katz_ratio(x1, n1, x2, n2, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p1 / p2 with the Katz log interval. A zero count gets 0.5 added to both counts of both
    groups for the interval only (Haldane), so 0/60 vs 7/60 still has a finite interval; NaN
    interval when a group is empty or both rates are zero."""
    x1, n1, x2, n2 = (np.asarray(v, float) for v in (x1, n1, x2, n2))
    z = float(norm.ppf(0.5 + confidence / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (x1 / n1) / (x2 / n2)
        zero = (x1 <= 0) | (x2 <= 0)
        a, m, b, k = (np.where(zero, v + 0.5, v) for v in (x1, n1, x2, n2))
        centre = (a / m) / (b / k)
        se = np.sqrt(1 / a - 1 / m + 1 / b - 1 / k)
        lo, hi = centre * np.exp(-z * se), centre * np.exp(z * se)
    bad = (n1 <= 0) | (n2 <= 0) | ((x1 <= 0) & (x2 <= 0))
    return r, np.where(bad, np.nan, np.minimum(lo, r)), np.where(bad, np.nan, np.maximum(hi, r))


def choose_reference(groups: pd.DataFrame, wanted: Any = None) -> tuple[str | None, str]:
    """The reference group: ``wanted`` (from ``fairness.reference_groups``) when it is present
    and not small, else the largest group. Output: (group label or None, a note for the page)."""
    big = groups[~groups["small"]]
    if big.empty:
        return None, "no group reaches the minimum size, so there is no reference group"
    largest = str(big["n"].idxmax())
    if wanted is None:
        return largest, f"reference group: {largest} (the largest group)"
    wanted = str(wanted)
    if wanted not in groups.index:
        return largest, f"reference group '{wanted}' from the audit file is not in the data; using the largest group, {largest}"
    if groups.loc[wanted, "small"]:
        return largest, f"reference group '{wanted}' is below the minimum group size; using the largest group, {largest}"
    return wanted, f"reference group: {wanted} (from the audit file)"


def disparities(groups: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Every group (small ones excluded) against ``reference``, long format.

    Output columns: group, metric, value, reference_value, difference, difference_lower,
    difference_upper, ratio, ratio_lower, ratio_upper. Rate metrics get Newcombe (difference)
    and Katz (ratio) intervals; ROC AUC/ECE differences have none; regression means get a
    Welch interval for the difference.
    """
    if reference is None or reference not in groups.index:
        return pd.DataFrame(columns=["group", "metric", "value", "reference_value", "difference", "difference_lower",
                                     "difference_upper", "ratio", "ratio_lower", "ratio_upper"])
    big = groups[~groups["small"]]
    ref = groups.loc[reference]
    rows = []
    for metric, (num, den) in RATE_METRICS.items():
        if metric not in groups.columns:
            continue
        d, dl, du = newcombe_difference(big[num], big[den], ref[num], ref[den])
        r, rl, ru = katz_ratio(big[num], big[den], ref[num], ref[den])
        rows.append(pd.DataFrame({"group": big.index, "metric": metric, "value": big[metric].to_numpy(),
                                  "reference_value": ref[metric], "difference": d, "difference_lower": dl,
                                  "difference_upper": du, "ratio": r, "ratio_lower": rl, "ratio_upper": ru}))
    for metric in SCORE_METRICS + REGRESSION_METRICS:
        if metric not in groups.columns:
            continue
        frame = pd.DataFrame({"group": big.index, "metric": metric, "value": big[metric].to_numpy(),
                              "reference_value": ref[metric], "difference": big[metric].to_numpy() - ref[metric]})
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["ratio"] = frame["value"] / ref[metric] if metric != "mean_prediction" else np.nan
        if f"{metric}_sd" in groups.columns:  # difference of means, Welch normal interval, all groups at once
            z = float(norm.ppf(0.5 + 0.95 / 2))
            d = big[metric].to_numpy(float) - ref[metric]
            se = np.sqrt(big[f"{metric}_sd"].to_numpy(float) ** 2 / big["n"].to_numpy(float) + ref[f"{metric}_sd"] ** 2 / ref["n"])
            frame["difference_lower"], frame["difference_upper"] = d - z * se, d + z * se
        rows.append(frame)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def people(column: str, group: str, subjects: str = PEOPLE) -> str:
    """A plain (plural) name for a group in a sentence: 'women', 'Black women', 'people in the
    Black group' — or, when the rows are not persons (``subjects="rows"``), the group as
    ``column = value`` ('district = Bielany')."""
    if subjects != PEOPLE:
        return f"{column} = {group}" if INTERSECTION_SEP not in column else group
    words = {"female": "women", "male": "men", "f": "women", "m": "men", "woman": "women", "man": "men"}
    parts = group.split(INTERSECTION_SEP) if INTERSECTION_SEP in column else [group]
    noun = next((words[p.strip().lower()] for p in parts if p.strip().lower() in words), None)
    if noun:
        rest = [p for p in parts if p.strip().lower() not in words]
        return " ".join(rest + [noun])
    return f"people in the {group} group"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pct(v: float) -> str:
    return format_value(v, RATE)


def _status(metric: str, value: float, lower: float, upper: float, tol: float) -> str:
    """red: beyond the tolerance and the whole 95% CI too; amber: beyond it without CI evidence,
    or within it but close or with a CI reaching past it; green otherwise."""
    if not np.isfinite(value):
        return AMBER
    if metric in RATIO_SUMMARIES:  # a ratio must stay at or above its tolerance
        beyond, sure, close = value < tol, np.isfinite(upper) and upper < tol, value < 1 - (1 - tol) * CLOSE_SHARE
        reaches = not np.isfinite(lower) or lower < tol
    else:
        beyond, sure, close = value > tol, np.isfinite(lower) and lower > tol, value > tol * CLOSE_SHARE
        reaches = not np.isfinite(upper) or upper > tol
    if beyond:
        return RED if sure else AMBER
    return AMBER if close or reaches else GREEN


def _status_phrase(metric: str, status: str, value: float, tol: float, has_interval: bool = True) -> str:
    """Why the summary has its colour. ``has_interval``: whether the pair has a 95% interval (a
    phrase never quotes an interval that was not computed)."""
    word = "below the minimum of" if metric in RATIO_SUMMARIES else "above the tolerance of"
    within = "at or above the minimum of" if metric in RATIO_SUMMARIES else "within the tolerance of"
    beyond = (value < tol) if metric in RATIO_SUMMARIES else (value > tol)
    if status == RED:
        return f"this is {word} {tol:.2f}, and so is the whole 95% interval"
    if beyond and has_interval:
        return f"this is {word} {tol:.2f}, but the 95% interval reaches back inside it, so the evidence is not conclusive"
    if beyond:
        return (f"this is {word} {tol:.2f}, but no interval could be computed for it (too few rows or no spread), "
                "so the evidence is not conclusive")
    if status == AMBER and not has_interval:
        return f"this is {within} {tol:.2f}, but close to it, and no interval could be computed to tell"
    if status == AMBER:
        return f"this is {within} {tol:.2f}, but close to it or not yet certain"
    return f"this is {within} {tol:.2f}"


def _sentence(metric: str, column: str, groups: pd.DataFrame, hi: str, lo: str, component: str, positive: str,
              subjects: str = PEOPLE, unit: str = MEASURE) -> str:
    """One stakeholder sentence naming the groups, the direction and the size of a gap.
    ``subjects``: people or rows (:func:`people`); ``unit``: of the target, for error and mean values."""
    a, b = groups.loc[hi, component], groups.loc[lo, component]
    who_hi, who_lo = people(column, hi, subjects), people(column, lo, subjects)
    persons = subjects == PEOPLE
    num = (lambda v: format_value(v, unit))
    if metric.endswith("_ratio"):
        label = metric_name(component)
        rule = " — the four-fifths rule asks for at least 0.80" if metric == "demographic_parity_ratio" else ""
        fmt = _pct if component in RATE_METRICS else num
        return (f"The {label} of {who_lo} ({fmt(b)}) is {b / a if a else float('nan'):.2f} times that of "
                f"{who_hi} ({fmt(a)}){rule}")
    times = f"{a / b:.1f}×" if b > 0 else "infinitely"
    if component == "selection_rate":
        return f"{_cap(who_lo)} are selected {times} less often than {who_hi} (selection rate {_pct(b)} vs {_pct(a)})"
    if component == "true_positive_rate":
        return (f"Among {'people' if persons else 'rows'} whose true outcome is '{positive}', the model recognises {_pct(a)} "
                f"of {who_hi} but only {_pct(b)} of {who_lo} (true positive rate)")
    if component == "false_positive_rate":
        return (f"Among {'people' if persons else 'rows'} whose true outcome is not '{positive}', {who_hi} are wrongly "
                f"selected {_pct(a)} of the time vs {_pct(b)} for {who_lo} (false positive rate)")
    if component == "precision":
        return (f"When the model selects {'someone' if persons else 'a row'}, it is right {_pct(a)} of the time for {who_hi} "
                f"but {_pct(b)} for {who_lo} (precision)")
    if component == "accuracy":
        return f"The model is right {_pct(a)} of the time for {who_hi} but {_pct(b)} for {who_lo} (accuracy)"
    if component == "mean_absolute_error":
        return f"Predictions for {who_hi} are off by {num(a)} on average, vs {num(b)} for {who_lo} (mean absolute error)"
    return f"{metric_name(component)}: {num(a)} for {hi} vs {num(b)} for {lo}"


SUMMARY_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    # summary -> (kind, component metrics); equalized odds takes the worst of TPR and FPR.
    "demographic_parity_difference": ("difference", ("selection_rate",)),
    "demographic_parity_ratio": ("ratio", ("selection_rate",)),
    "equalized_odds_difference": ("difference", ("true_positive_rate", "false_positive_rate")),
    "equalized_odds_ratio": ("ratio", ("true_positive_rate", "false_positive_rate")),
    "equal_opportunity_difference": ("difference", ("true_positive_rate",)),
    "predictive_parity_difference": ("difference", ("precision",)),
    "accuracy_difference": ("difference", ("accuracy",)),
    "mean_absolute_error_ratio": ("ratio", ("mean_absolute_error",)),
    "mean_prediction_difference": ("difference", ("mean_prediction",)),
}
TASK_SUMMARIES = {
    "binary": ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
               "equalized_odds_ratio", "equal_opportunity_difference", "predictive_parity_difference"),
    "multiclass": ("accuracy_difference",),
    "regression": ("mean_absolute_error_ratio", "mean_prediction_difference"),
}


def pair_confidence(n_groups: int, confidence: float = 0.95) -> float:
    """Per-pair confidence that keeps ``confidence`` over all pairs of ``n_groups`` groups
    (Bonferroni). Summaries compare the highest and the lowest group, picked after looking at
    the data, so a plain 95% interval for that pair would raise false alarms with many groups."""
    pairs = max(n_groups * (n_groups - 1) // 2, 1)
    return 1 - (1 - confidence) / pairs


def _all_pairs(big: pd.DataFrame, component: str, kind: str, confidence: float) -> pd.DataFrame:
    """Every pair of groups on one component, the higher-rate group first: high, low, value
    (difference high - low, or ratio low / high) and its interval at ``confidence``."""
    vals = big[component].dropna().sort_values(ascending=False)
    i, j = np.triu_indices(len(vals), k=1)
    hi, lo = vals.index[i], vals.index[j]
    if component in RATE_METRICS:
        num, den = RATE_METRICS[component]
        x, n = big.loc[vals.index, num].to_numpy(float), big.loc[vals.index, den].to_numpy(float)
        if kind == "difference":
            v, lower, u = newcombe_difference(x[i], n[i], x[j], n[j], confidence)
        else:
            v, lower, u = katz_ratio(x[j], n[j], x[i], n[i], confidence)
    else:
        a, b = vals.to_numpy()[i], vals.to_numpy()[j]
        with np.errstate(invalid="ignore", divide="ignore"):
            v = a - b if kind == "difference" else b / a
        lower = u = np.full(len(i), np.nan)
        if f"{component}_sd" in big.columns:
            sd, n = big.loc[vals.index, f"{component}_sd"].to_numpy(float), big.loc[vals.index, "n"].to_numpy(float)
            z = float(norm.ppf(0.5 + confidence / 2))
            with np.errstate(invalid="ignore", divide="ignore"):
                if kind == "difference":  # Welch normal interval of a difference of means
                    half = z * np.sqrt(sd[i] ** 2 / n[i] + sd[j] ** 2 / n[j])
                    lower, u = v - half, v + half
                else:  # ratio of means b / a: delta method on the log scale (as Katz for rates)
                    se = np.sqrt(sd[i] ** 2 / (n[i] * a ** 2) + sd[j] ** 2 / (n[j] * b ** 2))
                    lower, u = v * np.exp(-z * se), v * np.exp(z * se)
            one_row = (n[i] < 2) | (n[j] < 2)  # one row has no spread to measure: no interval, not a zero-width one
            lower, u = np.where(one_row, np.nan, lower), np.where(one_row, np.nan, u)
    out = pd.DataFrame({"high": [str(h) for h in hi], "low": [str(x) for x in lo], "value": v, "lower": lower, "upper": u})
    # a ratio with both rates zero is undefined: that pair cannot speak
    return out.dropna(subset=["value"]).reset_index(drop=True)


def _beyond(kind: str, value, tol: float):
    return value < tol if kind == "ratio" else value > tol


def fairness_summaries(groups: pd.DataFrame, *, task: str = "binary", tolerance: Mapping[str, float] | None = None,
                       positive_label: str = "1", subjects: str | None = None, unit: str = MEASURE) -> pd.DataFrame:
    """Fairness summaries over the groups that reach the minimum size (fairlearn's definitions).

    ``value``: differences are max - min over groups (fairlearn ``between_groups``), ratios
    min / max; equalized odds takes the worse of true and false positive rate (``worst_case``).
    ``lower``/``upper``: the interval of that extreme pair (Newcombe for differences, Katz for
    ratios; regression: Welch for differences of means, the delta method on the log scale for
    the ratio of two mean absolute errors). Intervals are 95% jointly over all pairs of groups
    (:func:`pair_confidence`), since pairs are picked from the data. ``status``: red when some pair is beyond the tolerance with
    its whole interval (that pair is the ``evidence_*`` columns and the sentence's subject),
    amber when the value is beyond it without such evidence or is close, green otherwise.
    Output: one row per summary, indexed by metric name: value, lower, upper, tolerance, bound
    ("max" or "min"), status (green/amber/red; no tolerance: none), component (which rate),
    group_high, group_low, evidence_high, evidence_low, evidence_value, evidence_lower,
    evidence_upper, pair_confidence, sentence (plain language). ``subjects``: whether the
    sentences speak of people or of rows (:func:`default_subjects`); ``unit``: the target's unit
    (:mod:`sightline.core.numbers`) for error and mean values in the sentences.
    """
    subjects = default_subjects(task, subjects)
    tol = {**DEFAULT_TOLERANCE, **(tolerance or {})}
    big = groups[~groups["small"]]
    column = str(groups.index.name)
    confidence = pair_confidence(len(big))
    rows = {}
    for metric in TASK_SUMMARIES[task]:
        kind, components = SUMMARY_SPECS[metric]
        t = tol.get(metric)
        bound = "min" if kind == "ratio" else "max"
        extreme, evidence = None, None
        for comp in components:
            if comp not in big.columns:
                continue
            pairs = _all_pairs(big, comp, kind, confidence)
            if pairs.empty:
                continue
            top = pairs.loc[pairs["value"].idxmin() if kind == "ratio" else pairs["value"].idxmax()]
            # equalized odds: keep the component (TPR or FPR) with the larger gap / smaller ratio
            if extreme is None or (top["value"] < extreme[1]["value"] if kind == "ratio" else top["value"] > extreme[1]["value"]):
                extreme = (comp, top)
            if t is not None:
                near = pairs["upper"] if kind == "ratio" else pairs["lower"]
                sure = pairs[near.notna() & _beyond(kind, near, t)]
                if len(sure):
                    best = sure.loc[sure["upper"].idxmin() if kind == "ratio" else sure["lower"].idxmax()]
                    score = (t - best["upper"]) if kind == "ratio" else (best["lower"] - t)
                    if evidence is None or score > evidence[2]:
                        evidence = (comp, best, score)
        if extreme is None:
            rows[metric] = {"value": np.nan, "lower": np.nan, "upper": np.nan, "tolerance": t, "bound": bound,
                            "status": "none", "component": components[0], "group_high": None, "group_low": None,
                            "evidence_high": None, "evidence_low": None, "evidence_value": np.nan,
                            "evidence_lower": np.nan, "evidence_upper": np.nan, "pair_confidence": confidence,
                            "sentence": "Not computed: fewer than two groups reach the minimum size with this rate defined."}
            continue
        comp, top = extreme
        value, lower, upper = float(top["value"]), float(top["lower"]), float(top["upper"])
        if t is None:
            status = "none"
        elif evidence is not None:
            status = RED
        else:
            status = _status(metric, value, lower, upper, t)
            status = AMBER if status == RED else status  # the extreme pair alone is no evidence here
        subject_comp, subject = (evidence[0], evidence[1]) if evidence is not None else (comp, top)
        hi, lo = subject["high"], subject["low"]
        if metric == "mean_prediction_difference":
            sentence = (f"Mean prediction: {format_value(big.loc[hi, subject_comp], unit)} for {people(column, hi, subjects)} vs "
                        f"{format_value(big.loc[lo, subject_comp], unit)} for {people(column, lo, subjects)}")
        else:
            sentence = _sentence(metric, column, big, hi, lo, subject_comp, positive_label, subjects, unit)
        # a difference of rates reads 0.12; a difference of means is in the target's unit (4,808)
        num = (lambda v: f"{v:.2f}") if kind == "ratio" or subject_comp in RATE_METRICS else (lambda v: format_value(v, unit))
        stat = f"ratio {num(subject['value'])}" if kind == "ratio" else f"difference {num(subject['value'])}"
        has_interval = bool(np.isfinite(subject["lower"]) and np.isfinite(subject["upper"]))
        ci = f", 95% CI {num(subject['lower'])}–{num(subject['upper'])}" if has_interval else ""
        sentence += f"; {stat}{ci}"
        if t is None:
            sentence += " (no tolerance set)."
        else:
            sentence += f"; {_status_phrase(metric, status, float(subject['value']), t, has_interval)}."
            if evidence is not None and (hi, lo, subject_comp) != (top["high"], top["low"], comp):
                sentence += (f" The widest gap ({people(column, top['low'], subjects)} vs {people(column, top['high'], subjects)}, "
                             f"{'ratio' if kind == 'ratio' else 'difference'} {value:.2f}) rests on fewer rows.")
        rows[metric] = {"value": value, "lower": lower, "upper": upper, "tolerance": t, "bound": bound,
                        "status": status, "component": comp, "group_high": top["high"], "group_low": top["low"],
                        "evidence_high": evidence[1]["high"] if evidence else None,
                        "evidence_low": evidence[1]["low"] if evidence else None,
                        "evidence_value": float(evidence[1]["value"]) if evidence else np.nan,
                        "evidence_lower": float(evidence[1]["lower"]) if evidence else np.nan,
                        "evidence_upper": float(evidence[1]["upper"]) if evidence else np.nan,
                        "pair_confidence": confidence, "sentence": sentence}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "metric"
    return out


def four_fifths_rule(groups: pd.DataFrame, threshold: float = 0.8) -> pd.DataFrame:
    """The four-fifths (80%) rule: each group's selection rate divided by the highest group's.

    Input: :func:`group_metrics` output (small groups are left out). Output: DataFrame indexed by
    group with selection_rate, impact_ratio (Katz 95% interval ``_lower``/``_upper``) and
    ``passes`` (impact_ratio >= threshold).
    """
    big = groups[~groups["small"]].dropna(subset=["selection_rate"])
    if big.empty:
        return pd.DataFrame(columns=["selection_rate", "impact_ratio", "impact_ratio_lower", "impact_ratio_upper", "passes"])
    top = big.loc[big["selection_rate"].idxmax()]
    r, lo, hi = katz_ratio(big["pp"], big["n"], top["pp"], top["n"])
    out = pd.DataFrame({"selection_rate": big["selection_rate"], "impact_ratio": r, "impact_ratio_lower": lo,
                        "impact_ratio_upper": hi}, index=big.index)
    out["passes"] = out["impact_ratio"] >= threshold
    return out
