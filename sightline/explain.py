"""Explainability: SHAP feature importance, with the model, from logged SHAP values, or via a surrogate.

Three ways in, tried in this order:

1. **The model artifact** (``model:`` in the audit). A scikit-learn Pipeline is split into its
   preprocessing and its final estimator; tree ensembles are explained exactly by
   ``shap.TreeExplainer`` (path-dependent, no background needed), linear models by
   ``shap.LinearExplainer`` (background: a reference sample), and one-hot or otherwise encoded
   columns are folded back to the original features by summing their SHAP values. Any other
   model is explained on the original features by permutation SHAP (:func:`permutation_shap`,
   the algorithm of ``shap.PermutationExplainer``) over the model's probability (background: a
   reference sample), on a smaller sample set by a budget of model evaluations.
2. **Precomputed SHAP values** in the log: one column ``shap_<feature>`` per feature, and
   optionally ``shap_base_value`` (the expected value), in the model's own output space.
3. **A surrogate** (:mod:`sightline.surrogate`) fitted to the logged scores or predictions,
   labelled as a surrogate everywhere and always shown with its fidelity.

SHAP runs on a bounded sample (``explain.sample_size``, default 2000 rows) of the primary
model's logged rows, stratified by predicted class, seeded by ``explain.seed``. Every result
carries its provenance: source, explainer, output space, sample size, additivity check.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np
import pandas as pd

from sightline.audit import Audit
from sightline.errors import DataError, MissingInputError, ModelError, SpecError
from sightline.model import model_feature_names
from sightline.sections import AMBER, GREEN, Chart, Section, Verdict
from sightline.surrogate import LOW_FIDELITY, Fidelity, Surrogate, fit_surrogate, logit

log = logging.getLogger(__name__)

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
            return f"additivity holds: base value + SHAP values = model output on all {self.rows:,} rows (largest gap {self.max_error:.1e})"
        return (f"additivity FAILS: base value + SHAP values differ from the model output by up to {self.max_error:.3g} "
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
    """
    size = len(strata) if strata is not None else int(size)
    rng = np.random.default_rng(seed)
    if n >= size:
        return np.arange(size)
    if strata is None:
        return np.sort(rng.choice(size, size=n, replace=False))
    codes, _ = pd.factorize(pd.Series(np.asarray(strata)).astype("string").fillna("<missing>"))
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
    order = np.lexsort((rng.random(size), codes))
    sorted_codes = codes[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(size) - starts[sorted_codes]
    return np.sort(order[rank < alloc[sorted_codes]])


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
    both shares and the gap in share points; None with fewer than two large groups."""
    big = table[~table["small"]]
    if big["group"].nunique() < 2:
        return None
    wide = big.pivot(index="feature", columns="group", values="share")
    gap = wide.max(axis=1) - wide.min(axis=1)
    feature = str(gap.idxmax())
    hi, lo = wide.loc[feature].idxmax(), wide.loc[feature].idxmin()
    return {"feature": feature, "high_group": str(hi), "high_share": float(wide.loc[feature, hi]),
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


# ---------------------------------------------------------------------------- tracing encoded columns
class _Untraceable(Exception):
    """A transformed column cannot be attributed to exactly one original feature."""


def _column_positions(cols, names: list[str]) -> list[int]:
    if callable(cols):
        raise _Untraceable("callable column selector")
    if isinstance(cols, slice):
        if isinstance(cols.start, str) or isinstance(cols.stop, str):
            start = names.index(cols.start) if cols.start is not None else 0
            stop = names.index(cols.stop) + 1 if cols.stop is not None else len(names)
            return list(range(start, stop))
        return list(range(len(names)))[cols]
    arr = np.atleast_1d(np.asarray(cols))
    if arr.size == 0:
        return []
    if arr.dtype == bool:
        return list(np.flatnonzero(arr))
    if np.issubdtype(arr.dtype, np.integer):
        return [int(i) for i in arr]
    try:
        return [names.index(str(c)) for c in arr]
    except ValueError as exc:
        raise _Untraceable(str(exc)) from None


def transformed_sources(step, inputs: list[str]) -> list[str]:
    """The original feature behind each output column of a fitted preprocessing ``step``.

    Walks ColumnTransformers, Pipelines and FeatureUnions; a leaf transformer's output names
    (``get_feature_names_out``) are matched to its inputs (``age`` → ``age``; ``sex_Male`` →
    ``sex``; with one input, every output comes from it). Raises ``_Untraceable`` when an
    output mixes features (e.g. PCA, interactions), so the caller explains the whole model instead.
    """
    return [src for _, src in _trace(step, [(f, f) for f in inputs])]


def _trace(step, inputs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if step is None or (isinstance(step, str) and step == "passthrough"):
        return inputs
    if isinstance(step, str) and step == "drop":
        return []
    names = [n for n, _ in inputs]
    if isinstance(step, ColumnTransformer):
        out = []
        for _, trans, cols in step.transformers_:
            positions = _column_positions(cols, names)
            if positions and not (isinstance(trans, str) and trans == "drop"):
                out += _trace(trans, [inputs[i] for i in positions])
        return out
    if isinstance(step, Pipeline):
        for _, sub in step.steps:
            inputs = _trace(sub, inputs)
        return inputs
    if isinstance(step, FeatureUnion):
        return [pair for _, sub in step.transformer_list for pair in _trace(sub, inputs)]
    try:
        outs = [str(o) for o in step.get_feature_names_out(names)]
    except Exception as exc:  # transformers without output names cannot be traced
        raise _Untraceable(f"{type(step).__name__}: {exc}") from None
    if len(inputs) == 1:
        return [(o, inputs[0][1]) for o in outs]
    source = dict(inputs)
    traced = []
    for o in outs:
        matches = [n for n in names if o == n or o.startswith(n + "_") or o == f"missingindicator_{n}"]
        if not matches:
            raise _Untraceable(f"{type(step).__name__} output '{o}'")
        traced.append((o, source[max(matches, key=len)]))
    return traced


# ---------------------------------------------------------------------------- model-agnostic SHAP
def permutation_shap(f: Callable[[np.ndarray], np.ndarray], X: np.ndarray, background: np.ndarray, *,
                     n_permutations: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interventional SHAP values of any model by antithetic permutation sampling.

    Inputs: ``f`` maps an (m, F) array to m outputs (or (m, K)); the rows to explain ``X`` (n, F);
    the ``background`` rows (B, F) that stand in for "feature unknown"; ``n_permutations`` pairs
    of a random feature order and its reverse. Walking an order, features switch one by one from
    background to the row's values; each switch's change in the mean output over the background
    is credited to that feature. When F! ≤ 2 × n_permutations every order is walked and the values
    are the exact Shapley values of v(S) = mean_b f(x_S, b_rest). Either way they add up
    exactly: base (mean f over the background) + sum = f(x).
    Output: (values (n, F[, K]), base values (n[, K]), f(X)). Same algorithm as
    ``shap.PermutationExplainer``, vectorised in numpy (no numba compilation on first use).
    """
    import itertools
    import math

    n, F = X.shape
    rng = np.random.default_rng(seed)
    if math.factorial(F) <= 2 * n_permutations:
        orders = [np.array(p) for p in itertools.permutations(range(F))]
    else:
        orders = []
        for _ in range(n_permutations):
            p = rng.permutation(F)
            orders += [p, p[::-1]]
    B = len(background)
    base_out = np.asarray(f(background)).mean(axis=0)
    output = np.asarray(f(X))
    values = np.zeros((n, F) + output.shape[1:])
    if F == 1:
        orders = []
        values[:, 0] = output - base_out
    chunk = max(1, MAX_ROWS_PER_CALL // (B * (F - 1) or 1))
    for order in orders:
        # steps 1..F-1 (step 0 is all background, step F is the row itself: known already)
        masks = np.tril(np.ones((F + 1, F), dtype=bool), -1)[:, np.argsort(order)][1:F]
        for i in range(0, n, chunk):
            x = X[i:i + chunk]
            mixed = np.where(masks[None, :, None, :], x[:, None, None, :], background[None, None, :, :])
            mid = np.asarray(f(mixed.reshape(-1, F))).reshape((len(x), F - 1, B) + output.shape[1:]).mean(axis=2)
            path = np.concatenate([np.broadcast_to(base_out, (len(x), 1) + output.shape[1:]), mid,
                                   output[i:i + chunk][:, None]], axis=1)
            values[i:i + chunk][:, order] += np.diff(path, axis=1)
    values /= max(1, len(orders))
    return values, np.broadcast_to(base_out, (n,) + output.shape[1:]).copy(), output


# ---------------------------------------------------------------------------- backends
def _positive_index(classes, positive_label) -> int:
    names = [str(c) for c in classes]
    return names.index(str(positive_label)) if str(positive_label) in names else 1


def _dense(X) -> np.ndarray:
    import scipy.sparse as sp

    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=float)


class _ModelBackend:
    """Explains a fitted model with TreeExplainer / LinearExplainer on its final estimator
    (folding encoded columns back) or permutation SHAP on the whole model."""

    source = "model"

    def __init__(self, model, inputs: list[str], task: str, positive_label, background: pd.DataFrame, settings: ExplainSettings):
        from sklearn.pipeline import Pipeline

        self.model, self.inputs, self.task, self.positive_label = model, list(inputs), task, positive_label
        self.settings = settings
        self.features = list(inputs)
        prep, est = (model[:-1], model[-1]) if isinstance(model, Pipeline) and len(model.steps) > 1 else (None, model)
        self.prep, self.est = prep, est
        self.notes: list[str] = []
        kind = self._kind(est)
        self.sources = None
        if kind in ("tree", "linear"):
            try:
                self.sources = transformed_sources(prep, self.inputs) if prep is not None else list(self.inputs)
            except _Untraceable as exc:
                log.info("cannot fold transformed columns (%s); using a model-agnostic explainer", exc)
                self.notes.append("The preprocessing mixes features, so the whole model is explained model-agnostically.")
                kind = "agnostic"
        self.kind = kind
        self.background = background
        self._explainer = None
        self.space = None
        where = f"the final step of the {type(model).__name__}" if prep is not None else "the model"
        self.explained = f"{type(est).__name__} ({where})" if kind != "agnostic" else f"{type(model).__name__} (whole model)"

    @staticmethod
    def _kind(est) -> str:
        name = type(est).__name__
        if name in TREE_ESTIMATORS or name == "Booster":
            return "tree"
        if type(est).__module__.startswith("sklearn.linear_model") and hasattr(est, "coef_"):
            return "linear"
        return "agnostic"

    @property
    def method(self) -> str:
        return {"tree": "TreeExplainer", "linear": "LinearExplainer", "agnostic": "permutation SHAP"}[self.kind]

    def max_rows(self, sample_size: int) -> int:
        """Rows to explain: the sample size, or fewer for the model-agnostic explainer (budget)."""
        if self.kind != "agnostic":
            return sample_size
        per_row = len(self._background_rows()) * 2 * (len(self.inputs) + 1)  # one antithetic pair of permutations
        return int(min(sample_size, max(20, AGNOSTIC_EVAL_BUDGET // per_row)))

    # -- model calls, with bad-model errors turned into ModelError --------------------
    def _call(self, what: str, func, *args):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return func(*args)
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"the model failed while {what} ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}) — "
                             "check that columns.features matches what the model was trained on") from None

    def _background_rows(self) -> pd.DataFrame:
        n = min(self.settings.background_size, len(self.background))
        return self.background.iloc[stratified_sample(None, n, size=len(self.background), seed=self.settings.seed)]

    def prepare(self, probe: pd.DataFrame) -> None:
        """Build the shap explainer and find the output space its values add up to, on a few rows."""
        import shap

        if self.sources is not None and self.prep is not None and self.kind in ("tree", "linear"):
            width = self._transform(probe.head(2)).shape[1]
            if width != len(self.sources):  # the traced names do not line up with the matrix
                self.notes.append("The preprocessing output could not be mapped to the features, so the whole model is explained model-agnostically.")
                self.kind, self.explained = "agnostic", f"{type(self.model).__name__} (whole model)"
        if self.kind == "tree":
            try:
                self._explainer = shap.TreeExplainer(self.est)
            except Exception as exc:  # an ensemble shap cannot parse: fall back, say so
                log.warning("TreeExplainer does not support %s (%s)", type(self.est).__name__, exc)
                self.notes.append(f"shap's TreeExplainer does not support {type(self.est).__name__}; a model-agnostic explainer is used.")
                self.kind, self.explained = "agnostic", f"{type(self.model).__name__} (whole model)"
        if self.kind == "linear":
            bg = self._transform(self._background_rows())
            self._explainer = shap.LinearExplainer(self.est, shap.maskers.Independent(bg, max_samples=len(bg)))
        if self.kind == "agnostic":
            self._setup_agnostic()
        if self.kind != "agnostic":
            try:
                values, base, outputs = self._raw(probe)
            except ModelError as exc:
                # the model itself must run on the features (else the ModelError stands); then it is
                # shap that cannot handle it, and the model-agnostic explainer takes over
                predict = getattr(self.model, "predict_proba", None) or self.model.predict
                self._call("predicting", predict, probe[self.inputs])
                log.warning("%s failed on %s (%s)", self.method, type(self.est).__name__, exc)
                self.notes.append(f"{self.method} could not explain {type(self.est).__name__}; a model-agnostic explainer is used.")
                self.kind, self.explained = "agnostic", f"{type(self.model).__name__} (whole model)"
                self._setup_agnostic()
                return
            errors = {space: np.nanmax(np.abs(base + values.sum(axis=1) - out)) for space, out in outputs.items()}
            self.space = min(errors, key=errors.get)

    def _transform(self, frame: pd.DataFrame) -> np.ndarray:
        X = frame[self.inputs]
        if self.prep is None:
            return X
        return self._call("transforming the features", lambda X: _dense(self.prep.transform(X)), X)

    def _outputs(self, Xt, wanted: str | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(predict_proba, decision_function) of the final estimator; once the output space is
        known only the one it needs is computed (multiclass always needs the probabilities)."""
        need_proba = wanted in (None, "probability") or self.task == "multiclass" or not hasattr(self.est, "decision_function")
        proba = self._call("predicting", self.est.predict_proba, Xt) if need_proba and hasattr(self.est, "predict_proba") else None
        need_decision = wanted in (None, "log-odds", "margin")
        decision = self._call("predicting", self.est.decision_function, Xt) if need_decision and hasattr(self.est, "decision_function") else None
        return proba, (None if decision is None else np.asarray(decision, dtype=float))

    def _raw(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict]:
        """Transformed-column SHAP values, base values and candidate outputs per output space,
        for the positive class (binary) or each row's predicted class (multiclass)."""
        Xt = self._transform(frame)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.kind == "tree":
                sv = self._call("computing SHAP values", lambda X: self._explainer.shap_values(X, check_additivity=False), Xt)
            else:
                sv = self._call("computing SHAP values", self._explainer.shap_values, Xt)
        sv, expected = np.asarray(sv, dtype=float), np.atleast_1d(np.asarray(self._explainer.expected_value, dtype=float))
        n, rows = len(frame), np.arange(len(frame))
        if self.task == "regression":
            pred = self._call("predicting", self.est.predict, Xt)
            return sv.reshape(n, -1), np.full(n, expected[0]), {"prediction": np.asarray(pred, dtype=float)}
        proba, decision = self._outputs(Xt, self.space)
        outputs: dict[str, np.ndarray] = {}
        if self.task == "multiclass":  # each row's predicted class
            k = np.argmax(proba if proba is not None else decision, axis=1)
            if proba is not None:
                outputs["probability"] = proba[rows, k]
            if decision is not None and decision.ndim == 2:
                outputs["margin"] = decision[rows, k]
            return sv[rows, :, k], expected[k], outputs
        pos = _positive_index(getattr(self.est, "classes_", [0, 1]), self.positive_label)
        if sv.ndim == 3:  # one slice per class: take the positive class's
            if proba is not None:
                outputs["probability"] = proba[:, pos]
            if decision is not None and decision.ndim == 1:
                outputs["log-odds"] = decision if pos == 1 else -decision
            return sv[:, :, pos], np.full(n, expected[pos if len(expected) > 1 else 0]), outputs
        # one slice: SHAP explains classes_[1]; outputs below are for classes_[1] too
        if decision is not None and decision.ndim == 1:
            outputs["log-odds"] = decision
        elif proba is not None:
            outputs["log-odds"] = logit(proba[:, 1])
        if proba is not None:
            outputs["probability"] = proba[:, 1]
        values, base = sv, np.full(n, expected[0])
        if pos == 0:  # the positive label is classes_[0]: flip the sign (log-odds) or complement (probability)
            space = self.space or min(outputs, key=lambda s: np.nanmax(np.abs(base + values.sum(1) - outputs[s])))
            values, base = -values, (-base if space == "log-odds" else 1 - base)
            outputs = {s: (-o if s == "log-odds" else 1 - o) for s, o in outputs.items()}
        return values, base, outputs

    # -- model-agnostic ------------------------------------------------------------------
    def _setup_agnostic(self) -> None:
        bg = self._background_rows()[self.inputs]
        self._categories = {c: pd.unique(bg[c].dropna().astype(object)) for c in self.inputs
                            if not pd.api.types.is_numeric_dtype(bg[c]) or pd.api.types.is_bool_dtype(bg[c])}
        self._explainer = self._encode(bg)  # the background, encoded
        self.space = "prediction" if self.task == "regression" else "probability"

    def _encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Categorical columns as category codes (so rows can be mixed as numbers); unseen → new codes."""
        out = np.empty((len(frame), len(self.inputs)))
        for j, c in enumerate(self.inputs):
            if c in self._categories:
                seen = list(self._categories[c])
                extra = [v for v in pd.unique(frame[c].dropna().astype(object)) if v not in set(seen)]
                self._categories[c] = np.asarray(seen + extra, dtype=object)
                codes = pd.Categorical(frame[c].astype(object), categories=self._categories[c]).codes
                out[:, j] = codes
            else:
                out[:, j] = pd.to_numeric(frame[c], errors="coerce")
        return out

    def _decode(self, arr: np.ndarray) -> pd.DataFrame:
        cols = {}
        for j, c in enumerate(self.inputs):
            if c in self._categories:
                codes = arr[:, j].astype(int)
                vals = np.asarray(self._categories[c], dtype=object)[np.clip(codes, 0, None)]
                vals[codes < 0] = None
                cols[c] = vals
            else:
                cols[c] = arr[:, j]
        return pd.DataFrame(cols)

    def _agnostic_output(self, arr: np.ndarray) -> np.ndarray:
        X = self._decode(arr)
        if self.task == "regression":
            return np.asarray(self._call("predicting", self.model.predict, X), dtype=float)
        proba = self._call("predicting", self.model.predict_proba, X)
        if self.task == "binary":
            return proba[:, _positive_index(getattr(self.model, "classes_", [0, 1]), self.positive_label)]
        return proba

    def _agnostic(self, frame: pd.DataFrame, permutations: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        enc = self._encode(frame[self.inputs])
        values, base, output = permutation_shap(self._agnostic_output, enc, self._explainer,
                                                n_permutations=permutations, seed=self.settings.seed)
        if values.ndim == 3:  # multiclass: each row's predicted class
            k, rows = np.argmax(output, axis=1), np.arange(len(frame))
            values, base, output = values[rows, :, k], base[rows, k], output[rows, k]
        return pd.DataFrame(values, columns=self.inputs), base.reshape(-1), output

    # -- the one entry point -------------------------------------------------------------
    def explain(self, frame: pd.DataFrame, precise: bool = False) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """SHAP values (rows × original features), base values and model outputs of ``frame``."""
        if self._explainer is None:
            self.prepare(frame.head(20))
        if self.kind == "agnostic":
            return self._agnostic(frame, permutations=10 if precise else 1)
        values, base, outputs = self._raw(frame)
        return fold_columns(values, self.sources, self.features), base, outputs[self.space]


class _PrecomputedBackend:
    """Reads logged ``shap_<feature>`` columns (and ``shap_base_value`` when present)."""

    source, method, kind = "precomputed", "logged SHAP values", "precomputed"

    def __init__(self, features: list[str], audit: Audit):
        self.features = features
        self.audit = audit
        self.explained = "the logged model (SHAP values computed when the predictions were made)"
        self.notes: list[str] = []
        self.space = "unknown"

    def max_rows(self, sample_size: int) -> int:
        return sample_size

    def can_explain(self, frame: pd.DataFrame) -> bool:
        return all(SHAP_PREFIX + f in frame.columns for f in self.features)

    def explain(self, frame: pd.DataFrame, precise: bool = False):
        values = frame[[SHAP_PREFIX + f for f in self.features]].apply(pd.to_numeric, errors="coerce")
        values.columns = self.features
        values = values.reset_index(drop=True).fillna(0.0)
        n = len(frame)
        if SHAP_BASE_COLUMN not in frame.columns:
            return values, np.full(n, np.nan), np.full(n, np.nan)
        base = pd.to_numeric(frame[SHAP_BASE_COLUMN], errors="coerce").to_numpy(dtype=float)
        candidates = {}
        if self.audit.spec.task == "binary" and self.audit.has_score:
            score = self.audit.y_score(frame)
            candidates = {"probability": score, "log-odds": logit(score)}
        elif self.audit.spec.task == "regression":
            candidates = {"prediction": self.audit.y_pred(frame)}
        if not candidates:
            return values, base, np.full(n, np.nan)
        recon = base + values.to_numpy().sum(axis=1)
        if self.space == "unknown":
            errors = {s: np.nanmax(np.abs(recon - o)) for s, o in candidates.items()}
            self.space = min(errors, key=errors.get)
        return values, base, candidates[self.space]


class _SurrogateBackend:
    """TreeExplainer on a :class:`~sightline.surrogate.Surrogate` (original features, no folding)."""

    source, method, kind = "surrogate", "TreeExplainer", "tree"

    def __init__(self, surrogate: Surrogate, features: list[str], task: str):
        import shap

        self.surrogate, self.features, self.task = surrogate, features, task
        self.explained = f"surrogate {surrogate.name} fitted to the {surrogate.target}"
        self.notes: list[str] = []
        self.space = {"regression": "prediction", "multiclass": "margin"}.get(task, "log-odds")
        self._explainer = shap.TreeExplainer(surrogate.model)

    def max_rows(self, sample_size: int) -> int:
        return sample_size

    def explain(self, frame: pd.DataFrame, precise: bool = False):
        X = self.surrogate.encoder.transform(frame)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sv = np.asarray(self._explainer.shap_values(X, check_additivity=False), dtype=float)
        expected = np.atleast_1d(np.asarray(self._explainer.expected_value, dtype=float))
        output = self.surrogate.output(frame)
        n = len(frame)
        if sv.ndim == 3:  # multiclass surrogate: each row's predicted class
            rows, k = np.arange(n), np.argmax(output, axis=1)
            return pd.DataFrame(sv[rows, :, k], columns=self.features), expected[k], np.asarray(output)[rows, k]
        return pd.DataFrame(sv, columns=self.features), np.full(n, expected[0]), np.asarray(output, dtype=float)


def precomputed_shap_features(audit: Audit, frame: pd.DataFrame) -> list[str]:
    """Features with a logged ``shap_<feature>`` column in ``frame``."""
    return [f for f in audit.features if SHAP_PREFIX + f in frame.columns]


def _surrogate_backend(audit: Audit, frame: pd.DataFrame, settings: ExplainSettings) -> _SurrogateBackend:
    task, features = audit.spec.task, list(audit.features)
    if not features:
        raise MissingInputError("Explainability needs feature columns — list them under columns.features in the audit")
    if task == "binary" and audit.has_score:
        score = audit.y_score(frame)
        try:
            labels = audit.y_pred(frame)
        except DataError:
            labels = None
        # rows without a score have a NaN target and are skipped by fit_surrogate
        surrogate = fit_surrogate(frame, features, logit(score), kind="regressor",
                                  target_name="log-odds of the logged score", seed=settings.seed,
                                  agreement_labels=labels, threshold=float(logit(audit.spec.threshold)))
    elif task == "regression":
        surrogate = fit_surrogate(frame, features, audit.y_pred(frame), kind="regressor",
                                  target_name="logged prediction", seed=settings.seed)
    else:
        try:
            labels = audit.y_pred(frame)
        except DataError:
            raise MissingInputError("Explainability without a model needs logged predictions or scores — map columns.prediction or columns.score") from None
        surrogate = fit_surrogate(frame, features, labels, kind="classifier", target_name="logged predicted class", seed=settings.seed)
    return _SurrogateBackend(surrogate, features, task)


def build_backend(audit: Audit, settings: ExplainSettings):
    """The explainer for this audit: the model's, logged SHAP values, or a surrogate (in that order)."""
    frame = audit.primary
    if audit.model is not None:
        inputs = model_feature_names(audit.model) or list(audit.features)
        missing = [c for c in inputs if c not in frame.columns]
        if missing:
            raise ModelError(f"the model expects column(s) {', '.join(missing[:5])} that the prediction log does not have — "
                             "check columns.features or the model file")
        background = audit.reference if audit.reference is not None and all(c in audit.reference.columns for c in inputs) else frame
        backend = _ModelBackend(audit.model, inputs, audit.spec.task, audit.spec.positive_label, background, settings)
        backend.prepare(frame.head(20))
        return backend
    logged = precomputed_shap_features(audit, frame)
    if logged:
        backend = _PrecomputedBackend(logged, audit)
        absent = [f for f in audit.features if f not in logged]
        if absent:
            backend.notes.append(f"No logged SHAP column for {', '.join(absent)}; those features are not ranked.")
        return backend
    return _surrogate_backend(audit, frame, settings)


# ---------------------------------------------------------------------------- running
Progress = Callable[[float, str], None]


def _explain_rows(backend, frame: pd.DataFrame, positions: np.ndarray, population: int,
                  progress: Progress | None, start: float, span: float, what: str) -> Explanation:
    rows = frame.iloc[positions]
    parts, bases, outs = [], [], []
    began = time.perf_counter()
    for i in range(0, len(rows), CHUNK_ROWS):
        chunk = rows.iloc[i:i + CHUNK_ROWS]
        values, base, out = backend.explain(chunk)
        parts.append(values)
        bases.append(np.asarray(base, dtype=float))
        outs.append(np.asarray(out, dtype=float))
        if progress:
            done = min(len(rows), i + CHUNK_ROWS)
            progress(start + span * done / len(rows), f"{backend.method}: {what} {done:,} of {len(rows):,} rows")
    seconds = time.perf_counter() - began
    values = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=backend.features)
    values.index = rows.index
    return Explanation(values=values, rows=rows, base_values=np.concatenate(bases) if bases else np.array([]),
                       output=np.concatenate(outs) if outs else np.array([]), population=population, seconds=seconds)


def explain_audit(audit: Audit, settings: ExplainSettings | None = None, progress: Progress | None = None) -> ExplainResult:
    """Explain the primary model's logged predictions (and a reference sample).

    Inputs: the audit; settings (default: the audit's ``explain:``); ``progress(fraction,
    message)`` called as the work advances. Output: :class:`ExplainResult`. Raises
    :class:`MissingInputError` (no rows / no features), :class:`ModelError` (the model does not
    accept the features), :class:`SpecError` (bad settings).
    """
    import shap  # noqa: F401  (loaded before the thread limit, so the limit reaches their OpenMP runtimes)
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    settings = settings or explain_settings(audit.spec)
    # One thread per model call: the work is many small predictions, which OpenMP threads slow
    # down when the cores are shared (10x measured on a loaded 2-core machine).
    with threadpool_limits(limits=1):
        return _explain_audit(audit, settings, progress)


def _explain_audit(audit: Audit, settings: ExplainSettings, progress: Progress | None) -> ExplainResult:
    frame = audit.primary
    if len(frame) == 0:
        raise MissingInputError("Explainability needs logged predictions — the log has no rows for the primary model version")
    if not audit.features:
        raise MissingInputError("Explainability needs feature columns — list them under columns.features in the audit")
    if progress:
        progress(0.0, "Preparing the explainer…" if audit.model is not None else
                 "Reading logged SHAP values…" if precomputed_shap_features(audit, frame) else
                 "Fitting a surrogate model to the logged outputs…")
    backend = build_backend(audit, settings)
    notes = list(getattr(backend, "notes", []))
    if audit.spec.model and audit.model is None:
        notes.insert(0, "The audit names a model file but it could not be used (see the Data page); a surrogate explains the logged outputs instead.")
    strata, strata_name = _strata(audit, frame)
    n = backend.max_rows(settings.sample_size)
    positions = stratified_sample(strata, n, size=len(frame), seed=settings.seed)
    ref = audit.reference
    has_ref = ref is not None and len(ref) > 0 and all(c in ref.columns for c in backend.features)
    if has_ref and isinstance(backend, _PrecomputedBackend) and not backend.can_explain(ref):
        has_ref = False
        notes.append("The reference data has no logged SHAP columns, so importance cannot be compared with it.")
    if isinstance(backend, _ModelBackend):
        has_ref = has_ref and all(c in ref.columns for c in backend.inputs)
    span = 0.6 if has_ref else 1.0
    current = _explain_rows(backend, frame, positions, len(frame), progress, 0.0, span, "current rows")
    reference = None
    if has_ref:
        ref_strata, _ = _strata(audit, ref) if _has_prediction_columns(audit, ref) else (None, None)
        ref_positions = stratified_sample(ref_strata, min(n, len(ref)), size=len(ref), seed=settings.seed)
        reference = _explain_rows(backend, ref, ref_positions, len(ref), progress, span, 1.0 - span, "reference rows")
    elif ref is None:
        notes.append("No reference data in the audit, so importance cannot be compared with it.")
    elif not any("reference" in note for note in notes):
        notes.append("The reference data lacks some of the features the explainer needs, so importance cannot be compared with it.")
    additivity = additivity_check(current.values, current.base_values, current.output)
    if additivity is None:
        notes.append("Additivity cannot be checked: the logged SHAP values come without a shap_base_value column.")
    score_match = _score_match(audit, backend, current)
    if progress:
        progress(1.0, "Explanations computed")
    fidelity = backend.surrogate.fidelity if isinstance(backend, _SurrogateBackend) else None
    return ExplainResult(source=backend.source, method=backend.method, explained=backend.explained,
                         output_space=backend.space, settings=settings, current=current, reference=reference,
                         additivity=additivity, fidelity=fidelity, backend=backend, notes=tuple(notes),
                         score_match=score_match, stratified_by=strata_name)


def _has_prediction_columns(audit: Audit, frame: pd.DataFrame) -> bool:
    cols = audit.spec.columns
    return bool((cols.prediction and cols.prediction in frame.columns) or (cols.score and cols.score in frame.columns))


def _score_match(audit: Audit, backend, current: Explanation) -> float | None:
    """Share of explained rows whose logged score the model file reproduces (within 0.01):
    explanations describe the file, so a low share means they may not describe what was served."""
    if not isinstance(backend, _ModelBackend) or audit.spec.task != "binary" or not audit.has_score:
        return None
    from sightline.model import model_output

    logged = audit.y_score(current.rows)
    ours = model_output(audit.model, current.rows[backend.inputs], "binary", audit.spec.positive_label)
    known = np.isfinite(logged)
    return float(np.mean(np.abs(ours[known] - logged[known]) <= SCORE_MATCH_TOLERANCE)) if known.any() else None


# ---------------------------------------------------------------------------- local explanations
def find_row(audit: Audit, row_id: str) -> pd.DataFrame:
    """The logged row (of the primary version) with this id (``columns.id``, else the row
    number). Raises :class:`DataError` when there is none."""
    frame = audit.primary
    col = audit.spec.columns.id
    text = str(row_id).strip()
    if col and col in frame.columns:
        hit = frame[frame[col].astype("string").str.strip() == text]
    else:
        try:
            hit = frame.loc[[int(text)]] if int(text) in frame.index else frame.iloc[0:0]
        except ValueError:
            hit = frame.iloc[0:0]
    if hit.empty:
        where = f"in column '{col}'" if col else "(row numbers are used as ids: map columns.id to use your own)"
        raise DataError(f"no logged prediction has id '{text}' {where} — pick one from the lists or check the spelling")
    return hit.head(1)


def row_ids(audit: Audit, frame: pd.DataFrame) -> pd.Series:
    """The id of each row of ``frame`` as text (``columns.id``, else the row number)."""
    col = audit.spec.columns.id
    if col and col in frame.columns:
        return frame[col].astype("string")
    return pd.Series(frame.index.astype(str), index=frame.index)


def explain_row(result: ExplainResult, audit: Audit, row: pd.DataFrame) -> LocalExplanation:
    """SHAP values of one logged row with the result's explainer (model-agnostic: 10
    permutations instead of 1, for a steadier single-row answer)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        values, base, output = result.backend.explain(row, precise=True)
    series = values.iloc[0]
    order = series.abs().sort_values(ascending=False, kind="stable").index
    return LocalExplanation(row_id=str(row_ids(audit, row).iloc[0]), data=row.iloc[0][list(series.index)].loc[order],
                            values=series.loc[order], base_value=float(np.asarray(base)[0]),
                            output=float(np.asarray(output)[0]), output_space=result.output_space, method=result.method)


def confident_errors(audit: Audit, n: int = 10) -> pd.DataFrame:
    """The most confident wrong predictions among labelled rows: id, kind, score, predicted, actual.

    Binary: false positives with the highest scores and false negatives with the lowest;
    regression: the largest absolute errors; multiclass: the first wrong predictions.
    """
    labelled = audit.labelled()
    empty = pd.DataFrame(columns=["id", "kind", "score", "predicted", "actual"])
    if labelled.empty:
        return empty
    y, pred = audit.y_true(labelled), audit.y_pred(labelled)
    ids = row_ids(audit, labelled).to_numpy()
    target, pcol = audit.spec.columns.target, audit.spec.columns.prediction
    actual = labelled[target].astype("string").to_numpy()
    shown = labelled[pcol].astype("string").to_numpy() if pcol and pcol in labelled.columns else pred.astype(str)
    task = audit.spec.task
    if task == "binary":
        score = audit.y_score(labelled)
        score = score if score is not None else pred.astype(float)
        fp, fn = np.flatnonzero((pred == 1) & (y == 0)), np.flatnonzero((pred == 0) & (y == 1))
        fp = fp[np.argsort(-score[fp], kind="stable")[:n]]
        fn = fn[np.argsort(score[fn], kind="stable")[:n]]
        parts = [(fp, "false positive (confident yes, actually no)"), (fn, "false negative (confident no, actually yes)")]
    elif task == "regression":
        score = pred
        err = np.abs(pred - y)
        parts = [(np.argsort(-np.nan_to_num(err, nan=-1), kind="stable")[:n], "largest error")]
    else:
        score = np.full(len(labelled), np.nan)
        parts = [(np.flatnonzero(pred != y)[:n], "wrong class")]
    frames = [pd.DataFrame({"id": ids[p], "kind": kind, "score": score[p], "predicted": shown[p], "actual": actual[p]})
              for p, kind in parts if len(p)]
    return pd.concat(frames, ignore_index=True) if frames else empty


# ---------------------------------------------------------------------------- verdict and section
SPACE_TEXT = {"log-odds": "log-odds", "probability": "probability", "margin": "raw class score",
              "prediction": "prediction units", "unknown": "the logged output space"}


def output_space_text(result: ExplainResult, positive_label=None) -> str:
    """e.g. "log-odds of '>50K' (the model's raw output before the sigmoid)"."""
    space = result.output_space
    if space == "log-odds":
        return f"log-odds of {positive_label!r} (the raw output before the sigmoid; +1 multiplies the odds by e ≈ 2.7)"
    if space == "probability":
        return f"probability of {positive_label!r} (percentage points)" if positive_label is not None else "class probability"
    if space == "margin":
        return "raw score of each row's predicted class (before the softmax)"
    if space == "prediction":
        return "the prediction's own units"
    return "the output space the SHAP values were logged in (unknown: add shap_base_value to check)"


def explain_verdict(result: ExplainResult, importance: pd.DataFrame) -> Verdict:
    """Green when no single input dominates; amber for a dominant feature (possible leakage), a
    low-fidelity surrogate, failed additivity, or inputs that barely matter."""
    top = importance.head(3)
    who = "A surrogate of the model suggests its" if result.source == "surrogate" else "The model's"
    drivers = ", ".join(top["feature"].iloc[:-1]) + f" and {top['feature'].iloc[-1]}" if len(top) > 1 else top["feature"].iloc[0]
    green = (f"{who} predictions rest mostly on {drivers} ({top['share'].sum():.0%} of total importance together); "
             "no single input dominates.")
    reasons = []
    lead = importance.iloc[0]
    if lead["share"] > DOMINANT_SHARE:
        reasons.append(f"One input, {lead['feature']}, drives {lead['share']:.0%} of the model's decisions — check it does "
                       "not leak the answer (e.g. a field filled in after the outcome is known).")
    if result.fidelity is not None and result.fidelity.low:
        reasons.append(f"These explanations come from a surrogate that mimics the model only loosely "
                       f"({result.fidelity.sentence()}) — treat the ranking as rough.")
    if result.additivity is not None and not result.additivity.holds:
        reasons.append("The explanations do not add up to the model's outputs (additivity check failed) — treat them with caution.")
    negligible = importance[importance["share"] < NEGLIGIBLE_SHARE]["feature"].tolist()
    if negligible:
        names = ", ".join(negligible[:4]) + (f" and {len(negligible) - 4} more" if len(negligible) > 4 else "")
        reasons.append(f"{len(negligible)} input(s) ({names}) barely affect predictions (each under "
                       f"{NEGLIGIBLE_SHARE:.1%} of total importance) — candidates for removal.")
    detail = [result.label + f", explaining {result.explained}", f"output: {SPACE_TEXT[result.output_space]}"]
    if result.fidelity is not None:
        detail.append(result.fidelity.sentence())
    if result.additivity is not None:
        detail.append(result.additivity.sentence())
    if not reasons:
        return Verdict(GREEN, green, "; ".join(detail) + ".")
    return Verdict(AMBER, reasons[0], " ".join(reasons[1:] + [green]) + " — " + "; ".join(detail) + ".")


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    return [{c: (float(v) if isinstance(v, (float, np.floating)) else v) for c, v in zip(columns, row)}
            for row in df[columns].itertuples(index=False)]


def section_from_result(audit: Audit, result: ExplainResult) -> Section:
    """The explainability :class:`Section` of a computed :class:`ExplainResult`."""
    from sightline.charts.explain import importance_bar

    importance = global_importance(result.current.values)
    verdict = explain_verdict(result, importance)
    by_group = {}
    for col in audit.spec.columns.sensitive:
        if col in result.current.rows.columns:
            table = group_importance_table(result.current, col, min_group_size=audit.spec.fairness.min_group_size)
            by_group[col] = {"largest_difference": largest_group_difference(table),
                             "groups": _records(table, ["group", "n", "feature", "mean_abs_shap", "share", "small"])}
    shift = importance_shift(result.reference.values, result.current.values) if result.reference is not None else None
    lead = importance.iloc[0]
    report = {
        "source": result.source,
        "explainer": result.method,
        "explained_model": result.explained,
        "output_space": result.output_space,
        "sample_size": result.current.n,
        "population_rows": result.current.population,
        "global_importance": _records(importance, ["feature", "mean_abs_shap"]),
        "dominant_feature": {"feature": lead["feature"], "share": float(lead["share"])} if lead["share"] > DOMINANT_SHARE else None,
        "negligible_features": importance[importance["share"] < NEGLIGIBLE_SHARE]["feature"].tolist(),
        "additivity": result.additivity.to_dict() if result.additivity else None,
        "surrogate_fidelity": result.fidelity.to_dict() if result.fidelity else None,
        "model_reproduces_logged_scores": result.score_match,
        "importance_by_group": by_group,
        "importance_shift": None if shift is None else _records(
            shift, ["feature", "reference", "current", "reference_share", "current_share", "change"]),
        "notes": list(result.notes),
    }
    provenance = {
        "method": f"{'surrogate · ' if result.source == 'surrogate' else ''}shap {result.method}",
        "source": SOURCE_LABELS[result.source], "explained_model": result.explained,
        "output_space": result.output_space, "sample_size": result.current.n,
        "population_rows": result.current.population, "stratified_by": result.stratified_by,
        "reference_sample_size": result.reference.n if result.reference is not None else None,
        "background_size": result.settings.background_size if result.method in ("LinearExplainer", "permutation SHAP") else None,
        "seed": result.settings.seed, "rows_per_second": result.rows_per_second,
        "thresholds": {"dominant_share": DOMINANT_SHARE, "negligible_share": NEGLIGIBLE_SHARE, "notable_share_gap": NOTABLE_SHARE_GAP,
                       "low_fidelity": LOW_FIDELITY, "additivity_tolerance": ADDITIVITY_TOLERANCE},
    }
    title = "Feature importance (mean |SHAP|)" + (" — surrogate" if result.source == "surrogate" else "")
    chart = importance_bar(importance, title="Which inputs drive the predictions" + (" (surrogate)" if result.source == "surrogate" else ""),
                           subtitle=importance_subtitle(result, audit.spec.positive_label))
    tables = {"global_importance": importance}
    if shift is not None:
        tables["importance_shift"] = shift
    return Section(area="explainability", verdict=verdict, report=report, charts=(Chart("feature_importance", title, chart),),
                   provenance=provenance, tables=tables)


def importance_subtitle(result: ExplainResult, positive_label=None) -> list[str]:
    """Chart subtitle lines naming the explainer, sample, output space and (surrogate) fidelity."""
    lines = [f"{result.label}; mean |SHAP| in {SPACE_TEXT[result.output_space]}"]
    if result.fidelity is not None:
        lines.append(result.fidelity.sentence())
    return lines


def explain_section(audit: Audit) -> Section:
    """Explainability for the report, the card and the Overview (see :func:`explain_audit`)."""
    return section_from_result(audit, explain_audit(audit))
