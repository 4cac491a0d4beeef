"""Column-role suggestions for a table whose audit leaves roles out.

Heuristics a person would use: a float column within [0, 1] named like a score is the
score, a datetime column is the timestamp, a unique string column is the id, and so on.
Suggestions only pre-fill the mapping form; the user confirms them.
"""

from __future__ import annotations

import re

import pandas as pd

_NAME_HINTS = {
    "target": ("target", "label", "y_true", "actual", "ground_truth", "outcome", "income", "class"),
    "prediction": ("prediction", "predicted", "pred", "y_pred", "predicted_label", "yhat"),
    "score": ("score", "proba", "probability", "prob", "y_score", "confidence"),
    "timestamp": ("timestamp", "ts", "time", "datetime", "date", "created_at", "event_time"),
    "model_version": ("model_version", "version", "model", "variant", "model_id"),
    "latency_ms": ("latency_ms", "latency", "duration_ms", "response_time_ms", "elapsed_ms"),
    "id": ("request_id", "id", "prediction_id", "row_id", "uuid", "event_id"),
}
SENSITIVE_HINTS = ("sex", "gender", "race", "ethnicity", "age_group", "religion", "disability", "nationality")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def _looks_like_score(s: pd.Series) -> bool:
    if not pd.api.types.is_float_dtype(s):
        return False
    vals = s.dropna()
    return len(vals) > 0 and bool(vals.between(0, 1).all()) and vals.nunique() > 2


def _looks_like_time(s: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(s):
        return True
    if s.dtype == object:
        sample = s.dropna().astype(str).head(50)
        if len(sample) == 0 or not sample.str.contains(r"\d{4}-\d{2}-\d{2}").all():
            return False
        return pd.to_datetime(sample, errors="coerce").notna().all()
    return False


def suggest_roles(df: pd.DataFrame) -> dict[str, str]:
    """Suggest a column for each role, from names first and content second.

    Input: the prediction log. Output: role -> column name for the roles found (each column
    used once). Never raises.
    """
    chosen: dict[str, str] = {}
    used: set[str] = set()
    normalised = {_norm(c): c for c in df.columns}
    for role, hints in _NAME_HINTS.items():
        for hint in hints:
            col = normalised.get(hint)
            if col is not None and col not in used:
                if role == "score" and not _looks_like_score(df[col]):
                    continue
                if role == "timestamp" and not _looks_like_time(df[col]):
                    continue
                chosen[role] = col
                used.add(col)
                break
    if "score" not in chosen:
        col = next((c for c in df.columns if c not in used and _looks_like_score(df[c])), None)
        if col is not None:
            chosen["score"], _ = col, used.add(col)
    if "timestamp" not in chosen:
        col = next((c for c in df.columns if c not in used and _looks_like_time(df[c])), None)
        if col is not None:
            chosen["timestamp"], _ = col, used.add(col)
    return chosen


def suggest_sensitive(columns: list[str]) -> list[str]:
    """Columns whose names suggest a protected attribute (sex, race, …)."""
    return [c for c in columns if any(h in _norm(c) for h in SENSITIVE_HINTS)]


def suggest_task(target: pd.Series | None, score_present: bool) -> str:
    """binary, multiclass or regression, judged from the target column's values."""
    if target is None:
        return "binary" if score_present else "regression"
    vals = target.dropna()
    if pd.api.types.is_float_dtype(vals) and vals.nunique() > 20:
        return "regression"
    return "binary" if vals.nunique() <= 2 else "multiclass"
