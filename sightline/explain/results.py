"""Explainability settings, thresholds and result types, plus the pure importance tables.

Holds: the ``explain:`` defaults and thresholds, :class:`ExplainSettings`, the result dataclasses
(:class:`Additivity`, :class:`Explanation`, :class:`LocalExplanation`, :class:`ExplainResult`),
stratified sampling, and the tables built from SHAP values (global importance, importance by
group, importance shift, additivity check, folding encoded columns back to features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sightline.core.errors import DataError, SpecError
from sightline.core.numbers import format_value
from sightline.data.audit import Audit
from sightline.explain.surrogate import Fidelity

DEFAULTS = {"sample_size": 2000, "background_size": 50, "seed": 0}
MINIMUMS = {"sample_size": 50, "background_size": 10, "seed": 0}
SHAP_PREFIX, SHAP_BASE_COLUMN = "shap_", "shap_base_value"
DOMINANT_SHARE = 0.5        # one feature above this share of total importance: possible leakage
NEGLIGIBLE_SHARE = 0.005    # features below this share barely move predictions: removal candidates
NOTABLE_SHARE_GAP = 0.05    # a share differing by 5 points (between groups, or reference vs current) is worth a look
ADDITIVITY_TOLERANCE = 1e-3  # |base + sum(SHAP) - model output|, in output units
SCORE_MATCH_TOLERANCE = 0.01  # model P(positive) vs logged score, to say whether the file is the logged model
AGNOSTIC_EVAL_BUDGET = 200_000  # model row-evaluations the model-agnostic explainer may spend on the sample
MAX_ROWS_PER_CALL = 200_000     # rows per model call in permutation SHAP (bounds memory)
CHUNK_ROWS = 250            # SHAP is computed in chunks of this many rows, so progress can be shown

SOURCE_LABELS = {"model": "the model artifact", "precomputed": "SHAP values logged with the predictions",
                 "surrogate": "a surrogate model that mimics the logged outputs"}
TREE_ESTIMATORS = {
    "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor",
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor", "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor", "LGBMClassifier", "LGBMRegressor", "XGBClassifier", "XGBRegressor",
}


# ---------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ExplainSettings:
    """``explain:`` settings of the audit: rows explained, background rows (linear and
    model-agnostic explainers), random seed of the sample."""

    sample_size: int = DEFAULTS["sample_size"]
    background_size: int = DEFAULTS["background_size"]
    seed: int = DEFAULTS["seed"]

    def key(self) -> tuple:
        return (self.sample_size, self.background_size, self.seed)


def explain_settings(spec) -> ExplainSettings:
    """The audit's ``explain:`` settings, defaults filled in. Raises :class:`SpecError` for a bad value."""
    values = {}
    for key, default in DEFAULTS.items():
        value = spec.explain.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < MINIMUMS[key]:
            raise SpecError(f"'explain.{key}' must be a whole number ≥ {MINIMUMS[key]}, got {value!r}")
        values[key] = value
    return ExplainSettings(**values)


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Additivity:
    """SHAP's local accuracy: base value + sum of a row's SHAP values = the model's output.
    ``max_error`` is the largest absolute gap over ``rows`` rows, in output units."""

    holds: bool
    max_error: float
    tolerance: float
    rows: int

    def sentence(self) -> str:
        if self.holds:
            gap = format_value(self.max_error) if self.max_error >= 1e-6 else "below 0.000001"  # rounding noise
            return f"additivity holds: base value + SHAP values = model output on all {self.rows:,} rows (largest gap {gap})"
        return (f"additivity FAILS: base value + SHAP values differ from the model output by up to {format_value(self.max_error)} "
                f"(tolerance {self.tolerance:g}) — treat these explanations with caution")

    def to_dict(self) -> dict:
        return {"holds": self.holds, "max_abs_error": self.max_error, "tolerance": self.tolerance, "rows": self.rows}


@dataclass(frozen=True)
class Explanation:
    """SHAP values of a set of rows. ``values``: rows × original features (output units);
    ``rows``: those rows as logged (every column, same index); ``base_values`` and ``output``:
    one per row (output = what base + SHAP should add up to; NaN when unknown);
    ``population``: rows the sample was drawn from."""

    values: pd.DataFrame
    rows: pd.DataFrame
    base_values: np.ndarray
    output: np.ndarray
    population: int
    seconds: float = 0.0

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def data(self) -> pd.DataFrame:
        """Feature values of the explained rows (columns in ``values`` order)."""
        return self.rows[list(self.values.columns)]


@dataclass(frozen=True)
class LocalExplanation:
    """One prediction explained: its id, feature values, SHAP values (sorted by |value|),
    base value and output, in ``output_space``."""

    row_id: str
    data: pd.Series
    values: pd.Series
    base_value: float
    output: float
    output_space: str
    method: str


@dataclass(frozen=True, eq=False)
class ExplainResult:
    """Everything the Explainability page, report and card show.

    ``source``: "model", "precomputed" or "surrogate"; ``method``: the explainer's name;
    ``explained``: what exactly was explained; ``output_space``: "log-odds", "probability",
    "margin" (multiclass raw score of the predicted class) or "prediction" (regression units)
    or "unknown"; ``fidelity``: the surrogate's, else None; ``notes``: plain sentences about
    limits (e.g. the reference could not be explained).
    """

    source: str
    method: str
    explained: str
    output_space: str
    settings: ExplainSettings
    current: Explanation
    reference: Explanation | None
    additivity: Additivity | None
    fidelity: Fidelity | None
    backend: object = field(repr=False)
    notes: tuple[str, ...] = ()
    score_match: float | None = None
    stratified_by: str | None = None

    @property
    def rows_per_second(self) -> float | None:
        return self.current.n / self.current.seconds if self.current.seconds > 0 else None

    @property
    def label(self) -> str:
        """e.g. 'TreeExplainer on 2,000 rows' or 'surrogate · TreeExplainer on 2,000 rows'."""
        prefix = "surrogate · " if self.source == "surrogate" else ""
        return f"{prefix}{self.method} on {self.current.n:,} of {self.current.population:,} rows"


# ---------------------------------------------------------------------------- sampling
def stratified_sample(strata: pd.Series | np.ndarray | None, n: int, *, size: int | None = None, seed: int = 0) -> np.ndarray:
    """Positions of ``n`` rows drawn without replacement, proportionally from each stratum.

    Inputs: one stratum label per row (or None for a simple random sample, then ``size`` rows),
    the sample size, the seed. Output: sorted positions. Proportional allocation (largest
    remainders, each non-empty stratum at least one row) keeps means over the sample unbiased.
    Within a stratum the rows with the smallest of one uniform draw per row are taken (ties:
    the earlier row), i.e. the first rows of ``lexsort((draws, stratum))``.
    """
    size = len(strata) if strata is not None else int(size)
    rng = np.random.default_rng(seed)
    if n >= size:
        return np.arange(size)
    if strata is None:
        return np.sort(rng.choice(size, size=n, replace=False))
    codes = _stratum_codes(strata)
    counts = np.bincount(codes)
    exact = counts * n / size
    alloc = np.floor(exact).astype(int)
    alloc = np.maximum(alloc, (counts > 0).astype(int)) if n >= len(counts) else alloc
    short = n - alloc.sum()
    if short > 0:
        alloc[np.argsort(-(exact - alloc), kind="stable")[:short]] += 1
    elif short < 0:  # minimum-one rule overshot: take back from the largest strata
        alloc[np.argsort(-alloc, kind="stable")[:-short]] -= 1
    alloc = np.minimum(alloc, counts)
    draws = rng.random(size)
    if len(counts) > FEW_STRATA:
        return _smallest_draws_by_sorting(codes, draws, counts, alloc)
    return _smallest_draws_per_stratum(codes, draws, alloc)


# Up to this many strata, one linear pass per stratum beats sorting every row (1M rows: 0.02 s vs 0.25 s).
FEW_STRATA = 32


def _stratum_codes(strata) -> np.ndarray:
    """Stratum code per row, numbered in order of first appearance of the label's text (missing
    labels form one stratum). Integer and boolean labels are factorized directly: their text is
    one-to-one with the value, so the codes are the same without converting a million labels."""
    arr = np.asarray(strata)
    if arr.dtype.kind in "iub":
        return pd.factorize(arr)[0]
    return pd.factorize(pd.Series(arr).astype("string").fillna("<missing>"))[0]


def _smallest_draws_by_sorting(codes: np.ndarray, draws: np.ndarray, counts: np.ndarray, alloc: np.ndarray) -> np.ndarray:
    """Sorted positions of the ``alloc[k]`` rows of each stratum k with the smallest draws (by a full sort)."""
    order = np.lexsort((draws, codes))
    sorted_codes = codes[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(codes)) - starts[sorted_codes]
    return np.sort(order[rank < alloc[sorted_codes]])


def _smallest_draws_per_stratum(codes: np.ndarray, draws: np.ndarray, alloc: np.ndarray) -> np.ndarray:
    """The same positions as :func:`_smallest_draws_by_sorting`, by a partial selection per stratum:
    below the k-th smallest draw, plus the earliest rows tied with it (as the stable sort orders them)."""
    picked = []
    for k, take in enumerate(alloc):
        if take <= 0:
            continue
        rows = np.flatnonzero(codes == k)
        if take >= len(rows):
            picked.append(rows)
            continue
        d = draws[rows]
        kth = np.partition(d, take - 1)[take - 1]
        keep = d < kth
        ties = np.flatnonzero(d == kth)[:take - int(keep.sum())]
        keep[ties] = True
        picked.append(rows[keep])
    return np.sort(np.concatenate(picked)) if picked else np.array([], dtype=np.intp)


def _strata(audit: Audit, frame: pd.DataFrame) -> tuple[np.ndarray | None, str | None]:
    """Predicted class per row (binary/multiclass) or prediction quintile (regression)."""
    try:
        pred = audit.y_pred(frame)
    except (DataError, KeyError):
        return None, None
    if audit.spec.task == "regression":
        return pd.qcut(pd.Series(pred), 5, labels=False, duplicates="drop").to_numpy(), "prediction quintile"
    return pred, "predicted class"


# ---------------------------------------------------------------------------- importance
def global_importance(values: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| per feature, largest first, with its share of the total.

    Input: rows × features SHAP values. Output: DataFrame(feature, mean_abs_shap, share).
    """
    mean_abs = values.abs().mean(axis=0)
    total = float(mean_abs.sum())
    out = pd.DataFrame({"feature": mean_abs.index.astype(str), "mean_abs_shap": mean_abs.to_numpy(dtype=float)})
    out["share"] = out["mean_abs_shap"] / total if total > 0 else np.nan
    return out.sort_values(["mean_abs_shap", "feature"], ascending=[False, True], kind="stable").reset_index(drop=True)


def importance_by_group(values: pd.DataFrame, *, sensitive_features: pd.Series) -> pd.DataFrame:
    """Mean |SHAP| per feature within each group (DataFrame indexed by group, one column per
    feature). Rows whose group is missing are left out."""
    groups = pd.Series(np.asarray(sensitive_features, dtype=object), index=values.index).astype("string")
    return values.abs().groupby(groups, dropna=True).mean()


def group_importance_table(explanation: Explanation, column: str, *, min_group_size: int = 30) -> pd.DataFrame:
    """Long table for one sensitive column: group, n, feature, mean_abs_shap, share (of the
    group's total), rank, and ``small`` (fewer than ``min_group_size`` rows in the sample)."""
    by_group = importance_by_group(explanation.values, sensitive_features=explanation.rows[column])
    counts = explanation.rows[column].astype("string").value_counts()
    long = by_group.stack().rename("mean_abs_shap").reset_index()
    long.columns = ["group", "feature", "mean_abs_shap"]
    long["share"] = long["mean_abs_shap"] / long.groupby("group")["mean_abs_shap"].transform("sum")
    long["rank"] = long.groupby("group")["mean_abs_shap"].rank(ascending=False, method="first").astype(int)
    long["n"] = long["group"].map(counts).astype(int)
    long["small"] = long["n"] < min_group_size
    return long.sort_values(["group", "rank"]).reset_index(drop=True)


def largest_group_difference(table: pd.DataFrame) -> dict | None:
    """The feature whose share of importance differs most between the (large enough) groups of
    a :func:`group_importance_table`: feature, the groups with the highest and lowest share,
    both shares and the gap in share points; None with fewer than two large groups, or when
    no group's importance has a share (every SHAP value 0)."""
    big = table[~table["small"]]
    if big["group"].nunique() < 2:
        return None
    wide = big.pivot(index="feature", columns="group", values="share")
    gap = (wide.max(axis=1) - wide.min(axis=1)).dropna()
    if gap.empty:  # no group has any importance (every SHAP value 0): shares are undefined
        return None
    feature = gap.idxmax()
    hi, lo = wide.loc[feature].idxmax(), wide.loc[feature].idxmin()
    return {"feature": str(feature), "high_group": str(hi), "high_share": float(wide.loc[feature, hi]),
            "low_group": str(lo), "low_share": float(wide.loc[feature, lo]), "gap": float(gap.max())}


def importance_shift(reference: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| per feature in reference and current rows, their shares of the total and the
    change in share (current − reference, in share points), features in current order."""
    ref, cur = global_importance(reference).set_index("feature"), global_importance(current).set_index("feature")
    out = pd.DataFrame({"reference": ref["mean_abs_shap"], "current": cur["mean_abs_shap"],
                        "reference_share": ref["share"], "current_share": cur["share"]}).reindex(cur.index)
    out["change"] = out["current_share"] - out["reference_share"]
    return out.reset_index().rename(columns={"index": "feature"})


def additivity_check(values: pd.DataFrame | np.ndarray, base_values: np.ndarray, output: np.ndarray,
                     tolerance: float = ADDITIVITY_TOLERANCE) -> Additivity | None:
    """Check base + sum(SHAP) = output on every row with a known output; None when no output is known."""
    known = np.isfinite(np.asarray(output, dtype=float)) & np.isfinite(np.asarray(base_values, dtype=float))
    if not known.any():
        return None
    gap = np.abs(np.asarray(base_values, dtype=float)[known] + np.asarray(values, dtype=float)[known].sum(axis=1)
                 - np.asarray(output, dtype=float)[known])
    worst = float(gap.max())
    return Additivity(holds=bool(worst <= tolerance), max_error=worst, tolerance=tolerance, rows=int(known.sum()))


def fold_columns(values: np.ndarray, sources: list[str], features: list[str]) -> pd.DataFrame:
    """Sum SHAP values of transformed columns per original feature.

    Inputs: rows × transformed-columns SHAP values, the original feature of each transformed
    column, the original features (output column order). Output: rows × features. A feature
    without transformed columns (dropped by the preprocessing) gets 0.
    """
    member = np.zeros((len(sources), len(features)))
    position = {f: j for j, f in enumerate(features)}
    for i, src in enumerate(sources):
        member[i, position[src]] = 1.0
    return pd.DataFrame(np.asarray(values, dtype=float) @ member, columns=features)
