"""Explainability backends: where SHAP values come from.

Holds the model-artifact backend (tree, linear or permutation SHAP on a fitted estimator or
Pipeline), the precomputed backend (``shap_<feature>`` columns in the log), the surrogate backend
(:mod:`sightline.explain.surrogate`), and :func:`build_backend`, which picks one in that order.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from sightline.core.errors import DataError, MissingInputError, ModelError
from sightline.data.audit import Audit
from sightline.data.model import model_feature_names
from sightline.explain.attribution import _Untraceable, permutation_shap, transformed_sources
from sightline.explain.results import AGNOSTIC_EVAL_BUDGET, SHAP_BASE_COLUMN, SHAP_PREFIX, TREE_ESTIMATORS, ExplainSettings, fold_columns, stratified_sample
from sightline.explain.surrogate import Surrogate, fit_surrogate, logit

log = logging.getLogger(__name__)


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
    """TreeExplainer on a :class:`~sightline.explain.surrogate.Surrogate` (original features, no folding)."""

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
        output = self.surrogate.output_of_encoded(X)  # the rows encoded once, for SHAP and the output
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
    empty = [f for f in features if not frame[f].notna().any()]
    if len(empty) == len(features):
        raise MissingInputError(f"Explainability has nothing to explain: the feature column(s) {_quoted(empty)} hold no value "
                                "in the logged rows of the primary model version — fill them in, or list other columns "
                                "under columns.features")
    backend = _fit_surrogate_backend(audit, frame, settings, task, features)
    if empty:
        one = len(empty) == 1
        backend.notes.append(f"{_quoted(empty)} {'holds' if one else 'hold'} no value in the logged rows: the surrogate "
                             f"cannot use {'it' if one else 'them'}, so {'its' if one else 'their'} importance is 0.")
    return backend


def _quoted(names: list[str], at_most: int = 5) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:at_most])
    return shown + (f" and {len(names) - at_most} more" if len(names) > at_most else "")


def _fit_surrogate_backend(audit: Audit, frame: pd.DataFrame, settings: ExplainSettings, task: str,
                           features: list[str]) -> _SurrogateBackend:
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
