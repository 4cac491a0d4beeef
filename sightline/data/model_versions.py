"""Model versions in one log: which rows belong to a version, how many each has, the requests
two versions both scored, and the metric differences between them.

:func:`version_differences` is the one model-version comparison: the Performance section, the
Slices page's Simpson check and Model versions read their differences from it (through
:mod:`sightline.stats.differences`), so one pair of versions gets one set of intervals everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sightline.data.audit import Audit, comparable_labels
from sightline.data.request_ids import ids_disjoint
from sightline.stats.differences import (
    MAX_BOOTSTRAP_ROWS,
    N_RESAMPLES,
    SEED,
    independent_proportion_difference,
    metric_row,
    metric_table,
    paired_metric_differences,
    paired_proportion_difference,
    unpaired_metric_differences,
)


def version_rows(values: pd.Series, version: str) -> np.ndarray:
    """Boolean mask of the rows whose version, as a string, is ``version`` — the same as
    ``values.astype(str) == version``; for a categorical column (Parquet's dictionary columns)
    only the distinct values are converted, not a million rows."""
    if not isinstance(values.dtype, pd.CategoricalDtype):  # e.g. None and NaN are one value to factorize, two strings
        return (values.astype(str) == version).to_numpy()
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.isin(codes, np.flatnonzero(pd.Series(uniques).astype(str).to_numpy() == version))


def version_counts(values: pd.Series) -> dict[str, int]:
    """Rows per version, as ``values.astype(str).value_counts().to_dict()`` (most rows first).
    For a categorical column, counted on its codes: the distinct values, in order of first
    appearance, are converted to strings and their counts sorted as ``value_counts`` sorts them."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype(str).value_counts().to_dict()
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    names, first = pd.factorize(pd.Series(uniques).astype(str).to_numpy(), use_na_sentinel=False)
    counts = np.bincount(names[codes], minlength=len(first)) if len(codes) else np.zeros(len(first), dtype=np.int64)
    return pd.Series(counts, index=pd.Index(first, dtype=object)).sort_values(ascending=False).to_dict()


def paired_requests(audit: Audit, candidate: str) -> pd.DataFrame:
    """The requests both the primary version and ``candidate`` scored, joined on the id column.

    Output: one row per shared request with the baseline's features, label and timestamp, and
    per version ``pred_base``/``pred_cand`` (metric form, see :meth:`Audit.y_pred`),
    ``score_base``/``score_cand`` and ``latency_base``/``latency_cand`` (NaN when not logged).
    Duplicated ids keep their first row. The user's frame is not modified.
    """
    spec, cols = audit.spec, audit.spec.columns
    vcol = cols.model_version
    if not cols.id or cols.id not in audit.current.columns:
        return pd.DataFrame()
    log = audit.current
    # Strings are hashed once (factorize); pairing, de-duplication and the join then run on integers.
    vcodes, vnames = pd.factorize(log[vcol])
    vnames = np.array([str(v) for v in vnames], dtype=object)
    in_base, in_cand = (np.isin(vcodes, np.flatnonzero(vnames == v)) for v in (audit.primary_version, candidate))
    if ids_disjoint(log[cols.id], in_base, in_cand):  # A/B or canary: nothing to pair, no id hashed
        matched, cand_pos, keep = np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype=bool)
    else:
        ids, _ = pd.factorize(log[cols.id])

        def first_rows(rows: np.ndarray) -> np.ndarray:
            """Positions of the rows, the first row of each id only (missing ids dropped)."""
            pos = np.flatnonzero(rows & (ids >= 0))
            _, first = np.unique(ids[pos], return_index=True)
            return pos[np.sort(first)]

        base_pos, cand_pos = first_rows(in_base), first_rows(in_cand)
        where_base = np.full(ids.max() + 1 if len(ids) else 0, -1, dtype=np.int64)
        where_base[ids[base_pos]] = base_pos
        matched = where_base[ids[cand_pos]]
        keep = matched >= 0
    base, cand = log.iloc[matched[keep]], log.iloc[cand_pos[keep]]

    def labels(frame: pd.DataFrame, column: str, convert) -> np.ndarray:
        """``convert`` (an Audit helper) applied to the distinct values only, then spread to the rows:
        parsing labels once per class instead of once per row."""
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        return np.asarray(convert(pd.DataFrame({column: uniques})))[codes]

    def own(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
        out = pd.DataFrame({"id": frame[cols.id].to_numpy()}, index=pd.RangeIndex(len(frame)))
        if spec.task != "regression" and cols.prediction and cols.prediction in frame.columns:
            # a missing multiclass prediction as None (it then matches no label; pd.NA cannot be compared)
            out[f"pred_{suffix}"] = comparable_labels(labels(frame, cols.prediction, audit.y_pred))
        else:
            out[f"pred_{suffix}"] = audit.y_pred(frame)
        score = audit.y_score(frame)
        out[f"score_{suffix}"] = np.nan if score is None else score
        lat = cols.latency_ms
        out[f"latency_{suffix}"] = (pd.to_numeric(frame[lat], errors="coerce").to_numpy(dtype=float)
                                    if lat and lat in frame.columns else np.nan)
        return out

    left = own(base, "base")
    extra = [c for c in dict.fromkeys(list(audit.features) + [cols.target, cols.timestamp]) if c and c in base.columns]
    right = own(cand, "cand").drop(columns="id")
    joined = pd.concat([left, base[extra].reset_index(drop=True), right], axis=1)  # rows are aligned by construction
    if cols.target and cols.target in cand.columns:
        # a label that reached only one version's row is still the request's label
        joined[cols.target] = joined[cols.target].where(joined[cols.target].notna(), cand[cols.target].to_numpy())
    if spec.task == "regression":
        joined["disagree"] = (joined["pred_cand"] - joined["pred_base"]).abs()
    else:
        joined["disagree"] = (joined["pred_cand"] != joined["pred_base"]).astype(float)
    return joined


@dataclass(frozen=True)
class VersionDifferences:
    """Metric differences of ``candidate`` against the primary version (candidate − primary).

    ``metrics``: the table of :func:`sightline.stats.differences.metric_table` (one row per
    metric: ``baseline``, ``candidate``, ``difference``, ``lower``, ``upper`` (95%), ``p_value``,
    ``method``, ``n``, ``higher_is_better``, ``significant``), or None when too few rows are
    labelled. ``paired``: measured on the same requests (joined on the id column).
    ``n_labelled``: labelled shared requests (paired) or the smaller version's labelled rows.
    """

    candidate: str
    paired: bool
    n_labelled: int
    metrics: pd.DataFrame | None


def version_differences(audit: Audit, candidate: str, pairs: pd.DataFrame | None = None, *,
                        n_resamples: int = N_RESAMPLES, max_rows: int = MAX_BOOTSTRAP_ROWS,
                        seed: int = SEED) -> VersionDifferences:
    """The metric differences of ``candidate`` against the primary version.

    Paired on the labelled requests both scored when they share requests (``pairs``: the output
    of :func:`paired_requests`, computed when None), else unpaired on each version's labelled
    rows. Binary logs also get the selection-rate difference on every row (labelled or not).
    Inputs: the audit, a version in its log, bootstrap settings. Output: :class:`VersionDifferences`.
    """
    task, cols = audit.spec.task, audit.spec.columns
    pairs = paired_requests(audit, candidate) if pairs is None else pairs
    settings = {"n_resamples": n_resamples, "max_rows": max_rows, "seed": seed}
    rows: list[dict] = []
    metrics = None
    if len(pairs):
        target = cols.target
        labelled = pairs[pairs[target].notna()] if target and target in pairs.columns else pairs.iloc[0:0]
        if len(labelled) >= 2:
            metrics = paired_metric_differences(task, audit.y_true(labelled), labelled["pred_base"].to_numpy(),
                                                labelled["pred_cand"].to_numpy(), labelled["score_base"].to_numpy(),
                                                labelled["score_cand"].to_numpy(), **settings)
        if task == "binary":
            rows.append(metric_row("selection_rate", paired_proportion_difference(pairs["pred_base"].to_numpy() == 1,
                                                                                  pairs["pred_cand"].to_numpy() == 1),
                                   "paired: Newcombe hybrid score interval, McNemar exact test (all shared requests)"))
        n_labelled, paired = len(labelled), True
    else:
        base_rows = outcome_columns(audit, audit.primary)
        cand_rows = outcome_columns(audit, audit.current[version_rows(audit.current[cols.model_version], candidate)])
        lb, lc = audit.labelled(base_rows), audit.labelled(cand_rows)
        if len(lb) >= 2 and len(lc) >= 2:
            base = {"y": audit.y_true(lb), "pred": audit.y_pred(lb), "score": audit.y_score(lb)}
            cand = {"y": audit.y_true(lc), "pred": audit.y_pred(lc), "score": audit.y_score(lc)}
            metrics = unpaired_metric_differences(task, base, cand, **settings)
        if task == "binary":
            rows.append(metric_row("selection_rate", independent_proportion_difference(audit.y_pred(base_rows) == 1,
                                                                                       audit.y_pred(cand_rows) == 1),
                                   "unpaired: Newcombe hybrid score interval (all rows)"))
        n_labelled, paired = min(len(lb), len(lc)), False
    if rows:
        extra = metric_table(rows)
        metrics = extra if metrics is None else pd.concat([metrics, extra], ignore_index=True)
    return VersionDifferences(candidate, paired, int(n_labelled), metrics)


def outcome_columns(audit: Audit, frame: pd.DataFrame) -> pd.DataFrame:
    """The label, prediction and score columns of ``frame`` only: what :meth:`Audit.labelled`,
    ``y_true``, ``y_pred`` and ``y_score`` read (a copy of three columns, not of every column)."""
    cols = audit.spec.columns
    return frame[[c for c in dict.fromkeys((cols.target, cols.prediction, cols.score)) if c and c in frame.columns]]
