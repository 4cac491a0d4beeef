"""Loading model artifacts safely.

Only skops files are read: skops lists every type the file would instantiate, and we accept
them only when they come from libraries that define models (scikit-learn, numpy, scipy,
LightGBM, XGBoost). Pickle and joblib files are refused, since loading them runs arbitrary code.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sightline.errors import ModelError

TRUSTED_MODULE_PREFIXES = (
    "sklearn.", "numpy.", "numpy", "scipy.", "lightgbm.", "xgboost.", "builtins.", "collections.",
    "_collections_abc.", "pandas.", "imblearn.", "skops.",
)


def load_model(path: Path | str):
    """Load a fitted estimator from a ``.skops`` file.

    Input: the file's path. Output: the estimator. Raises :class:`ModelError` when the file is
    missing, not a skops file, holds types from untrusted modules, or is not a fitted model.
    """
    import skops.io as sio

    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: model file not found — check 'model:' in the audit")
    if path.suffix.lower() in (".pkl", ".pickle", ".joblib", ".sav"):
        raise ModelError(
            f"{path}: pickle/joblib files are refused because loading them can run any code — "
            "save the model with skops.io.dump(model, 'model.skops')"
        )
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises zipfile/json errors for non-skops files
        raise ModelError(f"{path}: not a skops model file ({type(exc).__name__}) — save it with skops.io.dump") from None
    refused = [t for t in untrusted if not t.startswith(TRUSTED_MODULE_PREFIXES)]
    if refused:
        raise ModelError(
            f"{path}: refused to load types from untrusted modules: {', '.join(refused[:5])} — "
            "only scikit-learn, LightGBM and XGBoost models are loaded"
        )
    try:
        model = sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise ModelError(f"{path}: the skops file could not be loaded ({str(exc).splitlines()[0][:160]})") from None
    if not (hasattr(model, "predict") or hasattr(model, "predict_proba")):
        raise ModelError(f"{path}: holds a {type(model).__name__}, which is not a model (no predict method)")
    return model


def model_output(model, X: pd.DataFrame, task: str, positive_label=None):
    """The model's output on ``X``: P(positive) for binary, class probabilities for
    multiclass, predictions for regression. Raises :class:`ModelError` when the model does not
    accept the features (missing columns, wrong types).
    """
    try:
        if task == "binary":
            proba = model.predict_proba(X)
            classes = [str(c) for c in getattr(model, "classes_", [0, 1])]
            col = classes.index(str(positive_label)) if str(positive_label) in classes else 1
            return proba[:, col]
        if task == "multiclass":
            return model.predict_proba(X)
        return model.predict(X)
    except Exception as exc:
        raise ModelError(
            f"the model does not accept the audit's features ({str(exc).splitlines()[0][:200]}) — "
            "check that columns.features matches what the model was trained on"
        ) from None


def model_feature_names(model) -> list[str] | None:
    """The input columns a fitted model expects, when it recorded them (``feature_names_in_``)."""
    names = getattr(model, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else None
