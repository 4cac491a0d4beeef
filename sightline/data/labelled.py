"""The primary model version's labelled rows as arrays: what every label-based area scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sightline.core.errors import MissingInputError

NO_TARGET = "Performance needs ground truth: map the label column as columns.target in the audit file"


NO_LABELS = ("Performance needs labels, and none of the {rows:,} predictions of {version} has its label yet — "
             "the page fills in as outcomes arrive; Drift and Operations work meanwhile")


# ------------------------------------------------------------------ the audit's data
@dataclass(frozen=True)
class LabelledData:
    """The primary version's labelled rows as arrays, and how many rows they are out of."""

    frame: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray | None
    y_score: np.ndarray | None
    rows: int
    version: str | None
    negative_label: str | None = None


def labelled_data(audit, *, predictions: bool = True) -> LabelledData:
    """Labels, predictions and scores of the primary version's labelled rows.

    ``predictions=False`` skips reading the prediction column (``y_pred`` is then None): binary
    calibration needs only labels and scores, and matching label strings costs time on 1M rows.
    Raises :class:`MissingInputError` without a target column or when no label has arrived;
    regression rows whose label or prediction is not a number are left out.
    """
    spec = audit.spec
    if not spec.columns.target:
        raise MissingInputError(NO_TARGET)
    frame = audit.labelled()
    version = audit.primary_version
    if len(frame) == 0:
        raise MissingInputError(NO_LABELS.format(rows=len(audit.primary), version=version or "the model"))
    y_true = audit.y_true(frame)
    y_pred = audit.y_pred(frame) if predictions or spec.task != "binary" else None
    score = audit.y_score(frame)
    negative = None
    if spec.task == "binary":
        others = frame[spec.columns.target][y_true == 0]
        negative = str(others.mode().iloc[0]).strip() if len(others) else f"not {spec.positive_label}"
    if spec.task == "regression":
        ok = np.isfinite(y_true) & np.isfinite(y_pred)
        frame, y_true, y_pred = frame[ok], y_true[ok], y_pred[ok]
        score = None
        if len(frame) == 0:
            raise MissingInputError("Performance needs numeric labels and predictions; no labelled row has both")
    return LabelledData(frame, y_true, y_pred, score, len(audit.primary), version, negative)
