"""One prediction at a time: find a logged row by its id, explain it with the audit's
explainer (SHAP values of that row), and list the most confident wrong predictions worth a look."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.core.errors import DataError
from sightline.data.audit import Audit
from sightline.explain.results import ExplainResult, LocalExplanation


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
    target, pcol = audit.spec.columns.target, audit.spec.columns.prediction
    frames = []
    for p, kind in parts:
        if not len(p):
            continue
        # ids and labels as text for the picked rows only (converting a million of them cost 0.2 s)
        rows = labelled.iloc[p]
        shown = rows[pcol].astype("string").to_numpy() if pcol and pcol in rows.columns else pred[p].astype(str)
        frames.append(pd.DataFrame({"id": row_ids(audit, rows).to_numpy(), "kind": kind, "score": score[p],
                                    "predicted": shown, "actual": rows[target].astype("string").to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else empty
