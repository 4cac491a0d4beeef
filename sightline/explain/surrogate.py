"""A surrogate model: a gradient-boosted tree fitted to mimic a model we only know by its log.

When an audit has neither the model artifact nor precomputed SHAP values, the Explainability
area explains a surrogate instead: a :class:`~sklearn.ensemble.HistGradientBoostingRegressor`
fitted to the logit of the logged score (binary with scores), to the logged prediction
(regression), or a :class:`~sklearn.ensemble.HistGradientBoostingClassifier` fitted to the
logged predicted class (binary without scores, multiclass). Its *fidelity* — how well it
reproduces the logged outputs on rows it was not fitted on — travels with every result, so no
surrogate number is ever shown without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sightline.core.errors import MissingInputError

log = logging.getLogger(__name__)

# Below this fidelity (R² or agreement on held-out rows) surrogate explanations get a warning.
LOW_FIDELITY = 0.8
# The surrogate is fitted on at most this many logged rows (a bounded, seeded sample).
MAX_TRAIN_ROWS = 20_000
HOLDOUT_SHARE = 0.25
# Scores are clipped to [EPS, 1 - EPS] before the logit, so 0 and 1 stay finite.
EPS = 1e-6
# The trees' smallest leaf (scikit-learn's default min_samples_leaf). With fewer than two leaves'
# worth of training rows no split is possible: the surrogate is a constant and every SHAP value
# is 0, so fitting one would only dress up an empty answer.
MIN_LEAF_ROWS = 20
MIN_TRAIN_ROWS = 2 * MIN_LEAF_ROWS


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) of probabilities clipped to [1e-6, 1 - 1e-6]."""
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Fidelity:
    """How faithfully a surrogate mimics the logged outputs, on held-out rows.

    ``metric`` is ``"r2"`` (regression targets: R² of the surrogate's output against the
    target, e.g. the logit of the logged score) or ``"agreement"`` (classification targets:
    share of rows where the surrogate predicts the logged class). ``agreement`` is also filled
    for binary score targets (surrogate score ≥ threshold vs the logged prediction).
    ``baseline`` is the agreement of always predicting the most common class.
    """

    metric: str
    value: float
    target: str
    train_rows: int
    held_out_rows: int
    agreement: float | None = None
    baseline: float | None = None

    @property
    def low(self) -> bool:
        return not np.isfinite(self.value) or self.value < LOW_FIDELITY

    def sentence(self) -> str:
        """e.g. 'surrogate fidelity R² 0.93 on 3,000 held-out rows'."""
        name = "R²" if self.metric == "r2" else "agreement"
        text = f"surrogate fidelity {name} {self.value:.2f} on {self.held_out_rows:,} held-out rows"
        if self.metric == "r2" and self.agreement is not None:
            text += f" (same predicted class on {self.agreement:.0%})"
        if self.baseline is not None:
            text += f"; always guessing the commonest class would agree on {self.baseline:.0%}"
        return text

    def to_dict(self) -> dict:
        return {"metric": self.metric, "value": self.value, "target": self.target, "train_rows": self.train_rows,
                "held_out_rows": self.held_out_rows, "agreement": self.agreement, "baseline": self.baseline,
                "low": self.low, "threshold": LOW_FIDELITY}


class FeatureEncoder:
    """Turns original feature columns into a float matrix a tree model (and TreeExplainer) takes.

    Numeric columns stay numbers; other columns become the rank of their category when
    categories are ordered by the mean target (Fisher's ordering: a single threshold split on it
    is the best binary partition of the categories for a squared-error target). Categories
    unseen when fitting, and missing values, become NaN, which the trees route as missing.
    """

    def __init__(self, features: list[str]):
        self.features = list(features)
        self.codes: dict[str, dict] = {}

    def fit(self, frame: pd.DataFrame, target: np.ndarray) -> FeatureEncoder:
        for col in self.features:
            values = frame[col]
            if _is_numeric(values):
                continue
            keys = values.astype("string")
            means = pd.Series(np.asarray(target, dtype=float), index=frame.index).groupby(keys, dropna=True).mean()
            self.codes[col] = {k: float(i) for i, k in enumerate(means.sort_values(kind="stable").index)}
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows × features float matrix of ``frame`` (category ranks for the encoded columns, NaN
        for unseen or missing categories)."""
        out = np.empty((len(frame), len(self.features)), dtype=float)
        for j, col in enumerate(self.features):
            if col in self.codes:
                out[:, j] = self._ranks(frame[col], self.codes[col])
            else:
                out[:, j] = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        return out

    @staticmethod
    def _ranks(values: pd.Series, codes: dict) -> np.ndarray:
        """Category rank of each value (by its text), NaN when unseen or missing.

        Categorical and object columns are looked up once per distinct value, then spread to the
        rows by their codes: converting every row to text cost most of the explainability area.
        Distinct values that are text already are looked up as they are (their text is
        themselves); other categories go through the same text conversion as the rows would."""
        if isinstance(values.dtype, pd.CategoricalDtype):
            row_codes, distinct = values.cat.codes.to_numpy(), values.cat.categories
        elif values.dtype == object:
            row_codes, distinct = pd.factorize(values)
        else:
            return _rank_of_text(values, codes)
        if pd.api.types.infer_dtype(distinct, skipna=False) == "string":
            lookup = np.array([codes.get(v, np.nan) for v in distinct] + [np.nan], dtype=float)
        elif isinstance(values.dtype, pd.CategoricalDtype):
            each = pd.Series(pd.Categorical.from_codes(np.arange(len(distinct)), dtype=values.dtype))
            lookup = np.append(_rank_of_text(each, codes), np.nan)
        else:  # factorize equates 1, 1.0 and True, whose texts differ: convert every row
            return _rank_of_text(values, codes)
        return lookup[row_codes]  # code -1 (missing) → the NaN at the end


def _rank_of_text(values: pd.Series, codes: dict) -> np.ndarray:
    return values.astype("string").map(codes).astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


@dataclass(frozen=True)
class Surrogate:
    """A fitted surrogate: the encoder, the tree model, what it mimics and how well.

    ``kind`` is ``"regressor"`` (explained output: the target's own units, e.g. log-odds of the
    logged score) or ``"classifier"`` (explained output: the classifier's log-odds).
    """

    encoder: FeatureEncoder
    model: object
    kind: str
    target: str
    fidelity: Fidelity

    @property
    def name(self) -> str:
        return type(self.model).__name__

    def output(self, frame: pd.DataFrame) -> np.ndarray:
        """The surrogate's raw output on ``frame`` (what its SHAP values add up to)."""
        return self.output_of_encoded(self.encoder.transform(frame))

    def output_of_encoded(self, X: np.ndarray) -> np.ndarray:
        """The surrogate's raw output on rows already encoded by ``self.encoder.transform``."""
        if self.kind == "regressor":
            return self.model.predict(X)
        raw = self.model.decision_function(X)
        return raw


def fit_surrogate(frame: pd.DataFrame, features: list[str], target: np.ndarray, *, kind: str, target_name: str,
                  seed: int = 0, agreement_labels: np.ndarray | None = None, threshold: float | None = None) -> Surrogate:
    """Fit a surrogate to ``target`` on a seeded sample of ``frame`` and measure its fidelity.

    Inputs: the logged rows, the feature columns, one target per row (``kind`` "regressor":
    floats, e.g. the logit of the logged score; "classifier": labels), a description of the
    target for the record; for binary score targets, the logged 0/1 predictions and the
    threshold in score units (agreement is then also measured). Rows with a missing target are
    skipped. Output: a :class:`Surrogate` whose fidelity was measured on held-out rows (25 %,
    never seen in fitting). Raises :class:`~sightline.core.errors.MissingInputError` when fewer than
    :data:`MIN_TRAIN_ROWS` rows with a target would remain to fit on (about 53 rows in all).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score


    target = np.asarray(target)
    keep = pd.notna(target)
    positions = np.flatnonzero(keep)
    rng = np.random.default_rng(seed)
    if len(positions) > MAX_TRAIN_ROWS / (1 - HOLDOUT_SHARE):
        positions = np.sort(rng.choice(positions, size=int(MAX_TRAIN_ROWS / (1 - HOLDOUT_SHARE)), replace=False))
    shuffled = rng.permutation(positions)
    n_hold = max(1, round(len(shuffled) * HOLDOUT_SHARE))
    hold, train = np.sort(shuffled[:n_hold]), np.sort(shuffled[n_hold:])
    if len(train) < MIN_TRAIN_ROWS:
        raise MissingInputError(
            f"Explainability without a model fits a surrogate to the {target_name}, which needs at least "
            f"{MIN_TRAIN_ROWS} rows to learn from plus {HOLDOUT_SHARE:.0%} held out to check it; the log has "
            f"{len(positions):,} row(s) with one — log more predictions, or name the model file (model: in the audit)")
    y_train, y_hold = target[train], target[hold]
    encoder_target = y_train.astype(float) if kind == "regressor" else pd.factorize(y_train)[0].astype(float)
    encoder = FeatureEncoder(features).fit(frame.iloc[train], encoder_target)
    X_train, X_hold = encoder.transform(frame.iloc[train]), encoder.transform(frame.iloc[hold])
    # A feature without a single value on the training rows cannot be split on, but scikit-learn
    # fails on an all-missing column: a constant in its place is equally unusable to the trees,
    # so the feature keeps its place (and gets SHAP value 0) without breaking the fit.
    X_train[:, np.isnan(X_train).all(axis=0)] = 0.0
    if kind == "regressor":
        model = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.1, random_state=seed)
        model.fit(X_train, y_train.astype(float))
        pred = model.predict(X_hold)
        agreement = None
        if agreement_labels is not None and threshold is not None:
            agreement = float(np.mean((pred >= threshold).astype(int) == np.asarray(agreement_labels)[hold]))
        fidelity = Fidelity("r2", float(r2_score(y_hold.astype(float), pred)), target_name, len(train), len(hold),
                            agreement=agreement)
    else:
        model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)
        model.fit(X_train, y_train)
        value = float(accuracy_score(y_hold, model.predict(X_hold)))
        baseline = float(pd.Series(y_hold).value_counts(normalize=True).iloc[0])
        fidelity = Fidelity("agreement", value, target_name, len(train), len(hold), agreement=value, baseline=baseline)
    log.info("surrogate %s fitted on %d rows: %s", type(model).__name__, len(train), fidelity.sentence())
    return Surrogate(encoder=encoder, model=model, kind=kind, target=target_name, fidelity=fidelity)
