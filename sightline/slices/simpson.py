"""Simpson's-paradox check between two model versions.

A version can win overall yet lose on most slices (or the reverse) when the versions saw a
different mix of traffic — the kidney-stone example: treatment A is better for small and for
large stones, B is better overall because B got more of the easy cases. When the log holds
two versions scored on the same requests (shadow or A/B with a request id), they are compared
on the shared labelled requests, which rules out a different mix by construction; a paradox
there points to slices with very different sizes and opposite effects, worth a look before
choosing a version.

For every column (numeric columns binned at their quantiles) and every *large* slice — at
least ``min_size`` rows per version and ``large_share`` of the smaller version's rows — the
winner is the version with the better metric. A column shows the paradox when the overall
winner loses on more than half of its large slices (at least two large slices needed).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sightline.core.numbers import format_value
from sightline.core.vocabulary import slice_name
from sightline.data.audit import comparable_labels
from sightline.data.model_versions import paired_requests, version_rows
from sightline.slices.encoding import DEFAULT_N_BINS, EncodedColumn, encode_column
from sightline.slices.inputs import slice_data
from sightline.stats.differences import value_difference

log = logging.getLogger(__name__)

PARADOX, NO_PARADOX, UNAVAILABLE = "paradox", "no_paradox", "unavailable"
DEFAULT_LARGE_SHARE = 0.05
# Column names of the comparison frame built from an audit (unlikely to clash with features).
VERSION, VALUE, PAIR = "_sightline_version", "_sightline_value", "_sightline_pair"


@dataclass(frozen=True)
class SimpsonResult:
    """Outcome of :func:`simpson_check`.

    ``status``: "paradox", "no_paradox" or "unavailable"; ``message``: one plain sentence.
    ``overall``: version -> {value, n}; ``winner``: the overall winner (None on a tie).
    ``slices``: one row per slice and column: ``column``, ``value`` (slice label), ``slice``
    ("col=value"), ``n_a``, ``n_b``, ``metric_a``, ``metric_b``, ``difference`` (a − b),
    ``winner`` (version name or "tie"), ``large`` (counts towards the verdict).
    ``columns``: per column ``large_slices``, ``wins_a``, ``wins_b``, ``ties``, ``paradox``.
    ``p_value``: two-sided test of the overall difference (McNemar exact when paired).
    """

    status: str
    message: str
    version_a: str | None = None
    version_b: str | None = None
    metric: str = "accuracy"
    higher_is_better: bool = True
    paired: bool = False
    n_pairs: int | None = None
    overall: dict = field(default_factory=dict)
    winner: str | None = None
    p_value: float | None = None
    slices: pd.DataFrame = field(default_factory=pd.DataFrame)
    columns: pd.DataFrame = field(default_factory=pd.DataFrame)
    settings: dict = field(default_factory=dict)

    @property
    def paradox_columns(self) -> list[str]:
        if self.columns.empty:
            return []
        return self.columns.loc[self.columns["paradox"], "column"].tolist()

    def to_report(self) -> dict:
        """JSON-ready form (tables as lists of records). Slices smaller than ``min_size`` in
        either version are left out (privacy: small groups' numbers are not exported) and counted."""
        min_size = self.settings.get("min_size", 0)
        small = (self.slices["n_a"] < min_size) | (self.slices["n_b"] < min_size) if len(self.slices) else []
        slices = self.slices[~small] if len(self.slices) else self.slices
        return {"suppressed_slices": int(np.sum(small)), "status": self.status, "message": self.message,
                "version_a": self.version_a, "version_b": self.version_b,
                "metric": self.metric, "higher_is_better": self.higher_is_better, "paired": self.paired,
                "n_pairs": self.n_pairs, "overall": self.overall, "winner": self.winner, "p_value": self.p_value,
                "paradox_columns": self.paradox_columns, "columns": self.columns.to_dict(orient="records"),
                "slices": slices.to_dict(orient="records"), "settings": self.settings}


def _fmt(value: float, metric: str) -> str:
    return format_value(value) if metric == "mean_absolute_error" else f"{value:.1%}"


def _string_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's value as a string, given as (codes, distinct strings): ``names[codes]`` is
    ``values.astype(str)``. A categorical column converts its distinct values only; any other
    column is converted row by row (factorizing first would merge None with NaN and 1 with 1.0,
    which are different strings)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        return codes, pd.Series(uniques).astype(str).to_numpy()
    codes, uniques = pd.factorize(values.astype(str).to_numpy(), use_na_sentinel=False)
    return codes, np.asarray(uniques)


def simpson_check(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    version: str = "version",
    value: str = "value",
    versions: tuple[str, str] | None = None,
    metric: str = "accuracy",
    higher_is_better: bool = True,
    min_size: int = 30,
    large_share: float = DEFAULT_LARGE_SHARE,
    n_bins: int = DEFAULT_N_BINS,
    pair: str | None = None,
    encoded: Mapping[str, EncodedColumn] | None = None,
) -> SimpsonResult:
    """Compare two versions overall and per slice, and flag Simpson's paradox.

    Inputs: a long frame (not modified) with one row per (prediction, version): the
    ``version`` column, a per-row ``value`` whose mean is the metric (1/0 correct for
    accuracy; absolute error for MAE), and the slice ``columns``; which two ``versions``
    (default: the two most frequent), the metric's name and direction, the slice-size rules,
    the bins for numeric columns, ``pair`` naming a request-id column when each request was
    scored by both versions (enables the paired McNemar test), and optionally columns already
    encoded on ``frame``'s rows. Output: a :class:`SimpsonResult`.
    """
    settings = {"min_size": int(min_size), "large_share": large_share, "n_bins": n_bins, "columns": list(columns)}
    ver_codes, ver_names = _string_codes(frame[version])
    if versions is None:
        counts = pd.Series(ver_names[ver_codes]).value_counts()
        if len(counts) < 2:
            return SimpsonResult(UNAVAILABLE, "Only one model version: nothing to compare.", metric=metric, settings=settings)
        versions = (str(counts.index[0]), str(counts.index[1]))
    a, b = versions
    in_a, in_b = np.isin(ver_codes, np.flatnonzero(ver_names == a)), np.isin(ver_codes, np.flatnonzero(ver_names == b))
    vals = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(vals)
    in_a, in_b = in_a & ok, in_b & ok
    if not in_a.any() or not in_b.any():
        return SimpsonResult(UNAVAILABLE, f"Version '{a if not in_a.any() else b}' has no labelled rows to compare.",
                             a, b, metric, higher_is_better, settings=settings)
    mean_a, mean_b = float(vals[in_a].mean()), float(vals[in_b].mean())
    sign = 1 if higher_is_better else -1
    winner = a if sign * (mean_a - mean_b) > 0 else b if sign * (mean_b - mean_a) > 0 else None
    paired = pair is not None
    if paired:
        pa = pd.Series(vals[in_a], index=frame.loc[in_a, pair].to_numpy())
        pb = pd.Series(vals[in_b], index=frame.loc[in_b, pair].to_numpy())
        shared = pa.index.intersection(pb.index)
        p_value = value_difference(pa.loc[shared].to_numpy(), pb.loc[shared].to_numpy(), paired=True)["p_value"]
        n_pairs = len(shared)
    else:
        p_value = value_difference(vals[in_a], vals[in_b], paired=False)["p_value"]
        n_pairs = None
    n_a, n_b = int(in_a.sum()), int(in_b.sum())
    large_min = max(int(min_size), int(np.ceil(large_share * min(n_a, n_b))))
    settings["large_slice_rows"] = large_min

    slice_rows, column_rows = [], []
    # Each version's rows and values once (not once per column); sums still run in row order.
    rows_a, rows_b = np.flatnonzero(in_a), np.flatnonzero(in_b)
    vals_a, vals_b = vals[rows_a], vals[rows_b]
    for col in columns:
        enc = encoded[col] if encoded and col in encoded else encode_column(frame[col], n_bins=n_bins)
        k = enc.n_levels
        codes_a, codes_b = enc.codes[rows_a], enc.codes[rows_b]
        na = np.bincount(codes_a, minlength=k)
        nb = np.bincount(codes_b, minlength=k)
        sa = np.bincount(codes_a, weights=vals_a, minlength=k)
        sb = np.bincount(codes_b, weights=vals_b, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            ma, mb = sa / na, sb / nb
        diff = ma - mb
        slice_winner = np.where(sign * diff > 0, a, np.where(sign * diff < 0, b, "tie"))
        large = (na >= large_min) & (nb >= large_min)
        for i in range(k):
            if na[i] == 0 and nb[i] == 0:
                continue
            slice_rows.append({"column": col, "value": enc.labels[i], "slice": slice_name([(col, enc.labels[i])]),
                               "n_a": int(na[i]), "n_b": int(nb[i]), "metric_a": float(ma[i]), "metric_b": float(mb[i]),
                               "difference": float(diff[i]), "winner": str(slice_winner[i]) if na[i] and nb[i] else "n/a",
                               "large": bool(large[i])})
        wins_a = int(np.sum(large & (slice_winner == a)))
        wins_b = int(np.sum(large & (slice_winner == b)))
        n_large = int(large.sum())
        loser_wins = wins_b if winner == a else wins_a if winner == b else 0
        column_rows.append({"column": col, "large_slices": n_large, "wins_a": wins_a, "wins_b": wins_b,
                            "ties": n_large - wins_a - wins_b,
                            "paradox": bool(winner is not None and n_large >= 2 and loser_wins > n_large / 2)})
    columns_df = pd.DataFrame(column_rows, columns=["column", "large_slices", "wins_a", "wins_b", "ties", "paradox"])
    slices_df = pd.DataFrame(slice_rows, columns=["column", "value", "slice", "n_a", "n_b", "metric_a", "metric_b",
                                                  "difference", "winner", "large"])
    overall = {a: {"value": mean_a, "n": n_a}, b: {"value": mean_b, "n": n_b}}
    label = metric.replace("_", " ")
    compared = f"{n_pairs:,} shared labelled requests" if paired else f"{n_a:,} and {n_b:,} labelled rows"
    if p_value is None or not np.isfinite(p_value):
        sig = ""
    elif p_value < 0.05:
        sig = ", a significant difference (" + ("p<0.001" if p_value < 0.001 else f"p={p_value:.3f}") + ")"
    else:
        sig = f", not a significant difference (p={p_value:.2f})"
    flagged = columns_df[columns_df["paradox"]]
    if winner is None:
        status, message = NO_PARADOX, (f"{a} and {b} tie overall on {label} ({_fmt(mean_a, metric)} on {compared}); "
                                       "no version wins overall, so there is no paradox to flag.")
    else:
        loser = b if winner == a else a
        lead = (f"{winner} is better overall: {label} {_fmt(overall[winner]['value'], metric)} vs "
                f"{_fmt(overall[loser]['value'], metric)} on {compared}{sig}")
        if len(flagged):
            first = flagged.iloc[0]
            lost = first["wins_b"] if winner == a else first["wins_a"]
            status = PARADOX
            message = (f"Simpson's paradox — {lead}; yet {loser} is better on {lost} of the {first['large_slices']} large "
                       f"'{first['column']}' slices" + (f" (and in {len(flagged) - 1} other column(s))" if len(flagged) > 1 else "")
                       + ". Compare the versions slice by slice before choosing.")
        else:
            status = NO_PARADOX
            message = f"No Simpson's paradox — {lead}; it is not beaten on most large slices of any column."
    return SimpsonResult(status, message, a, b, metric, higher_is_better, paired, n_pairs, overall, winner, p_value,
                         slices_df, columns_df, settings)


def version_frame(audit, data, columns: Sequence[str]):
    """The long comparison frame for an audit's primary version and the other version with
    the most rows.

    Inputs: the audit, its :class:`~sightline.slices.section.SliceData` (labelled primary rows, their
    outcomes and encoded columns: reused, not recomputed), the slice columns.
    When both versions scored the same requests (a request id is mapped), the frame holds the
    shared labelled requests twice — once per version — with the primary row's label, and the
    columns are encoded with the primary rows' bins. Otherwise each version's own labelled rows
    are used and the columns are encoded on both versions' rows together (numeric bins at the
    quantiles of both). Columns: :data:`VERSION`, :data:`VALUE` (1/0 correct, or absolute error
    for regression), :data:`PAIR` (request id, paired only); the slice columns come encoded,
    aligned with the frame's rows.

    Output: (frame, pair column or None, encoded columns or None, (primary, other) or None, a note).
    """
    spec = audit.spec
    if len(audit.versions) < 2:
        return pd.DataFrame(), None, None, None, "The log holds one model version."
    a = audit.primary_version
    b = next(v for v in audit.versions if v != a)
    col = spec.columns.model_version
    rows_b = audit.current[version_rows(audit.current[col], b)]
    idc = spec.columns.id
    regression = spec.task == "regression"

    def value(y_true, y_pred):
        if regression:
            return np.abs(y_true - y_pred)
        return (comparable_labels(y_true) == comparable_labels(y_pred)).astype(float)

    pairs = paired_requests(audit, b) if idc and idc in data.source.columns else pd.DataFrame()
    if len(pairs):
        # each labelled primary request (its first row) that the other version also scored
        ids = data.column(idc)
        where = pd.Index(pairs["id"]).get_indexer(ids)
        pos = np.flatnonzero((where >= 0) & ~ids.duplicated().to_numpy())
        if len(pos):
            shared_ids = ids.to_numpy()[pos]
            y_true = data.outcomes.y_true[pos]
            va = value(y_true, data.outcomes.y_pred[pos])
            vb = value(y_true, pairs["pred_cand"].to_numpy()[where[pos]])  # same requests and labels; the other version's predictions
            n = len(pos)
            frame = pd.DataFrame({VERSION: np.repeat([a, b], n), VALUE: np.concatenate([va, vb]),
                                  PAIR: np.concatenate([shared_ids, shared_ids])})
            encoded = {c: EncodedColumn(c, np.concatenate([data.encoded[c].codes[pos]] * 2), data.encoded[c].labels,
                                        data.encoded[c].kind, data.encoded[c].edges) for c in columns}
            return frame, PAIR, encoded, (a, b), f"the {n:,} labelled requests both versions scored"
    lb = audit.labelled(rows_b)
    if not len(lb):
        return pd.DataFrame(), None, None, (a, b), f"Version '{b}' has no labelled rows."
    values = [value(data.outcomes.y_true, data.outcomes.y_pred), value(audit.y_true(lb), audit.y_pred(lb))]
    frame = pd.DataFrame({VERSION: pd.Categorical.from_codes(np.repeat([0, 1], [len(v) for v in values]), [a, b]),
                          VALUE: np.concatenate(values)})
    # One column at a time (a copy of every slice column of both versions would be the
    # largest allocation of the page on a long log).
    encoded = {c: encode_column(pd.concat([data.column(c), lb[c]], ignore_index=True), n_bins=data.n_bins) for c in columns}
    return frame, None, encoded, (a, b), "each version's own labelled rows (not the same requests: their mix can differ)"


def compare_versions(audit, data=None, columns: Sequence[str] | None = None, *, min_size: int) -> SimpsonResult:
    """:func:`simpson_check` for an audit's two main versions (see :func:`version_frame`).

    ``data``: the audit's SliceData (built when None); ``columns``: default every sliceable one.
    """
    regression = audit.spec.task == "regression"
    metric = "mean_absolute_error" if regression else "accuracy"
    if len(audit.versions) < 2:
        return SimpsonResult(UNAVAILABLE, "No version comparison: the log holds one model version.", metric=metric,
                             higher_is_better=not regression)
    data = data if data is not None else slice_data(audit)
    columns = [c for c in (columns or data.columns) if c in data.encoded]
    frame, pair, encoded, versions, note = version_frame(audit, data, columns)
    if frame.empty or versions is None:
        return SimpsonResult(UNAVAILABLE, f"No version comparison: {note}", *(versions or (None, None)), metric, not regression)
    result = simpson_check(frame, columns, version=VERSION, value=VALUE, versions=versions, metric=metric,
                           higher_is_better=not regression, min_size=min_size, n_bins=data.n_bins, pair=pair, encoded=encoded)
    settings = {**result.settings, "compared_on": note}
    return SimpsonResult(**{**result.__dict__, "settings": settings})
