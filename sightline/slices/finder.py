"""Automatic worst-slice discovery: a lattice search over one, two and three columns.

In the spirit of SliceLine (Sagadeeva & Boehm, SIGMOD 2021): every slice is a conjunction of
``column = value`` predicates (numeric columns binned), enumerated level by level and scored by

    score = α · (ē_slice / ē − 1) − (1 − α) · (N / n_slice − 1)

where ē is the mean error (share of wrong predictions; absolute error for regression) and N the
row count, so a slice ranks high when its error lift is large *and* it is big. Slices below the
minimum support are never scored, and neither are their children (a child is never larger
than its parent). Only counts are touched (:mod:`sightline.slices.lattice`): for 0/1 errors, a
few joint tables of several columns × the error bit, each one ``np.bincount`` over the rows,
from which every combination's counts are summed out exactly.

A slice is *significant* when it is worse than the rest of the data — one-sided two-proportion
z-test on its error count (Fisher's exact test where fewer than 10 errors are expected; Welch
z-test of mean absolute error for regression), Benjamini–Hochberg adjusted over *every* slice
examined — and its error is at least ``min_lift`` × the overall error (significant is not
always important). Overlapping slices then inherit each other's significance (a parent of a
bad slice looks bad because of it; so do its siblings and near-duplicates), so the list is
built greedily, best score first:

1. a child of a significant parent must be at least ``redundancy_lift`` × the parent's error
   and significantly worse than the parent's other rows, else it is redundant;
2. a slice inside an already listed slice is listed only by rule 1 against that slice;
3. any other slice is listed only if its rows *not covered by the slices listed so far* are
   still significantly (Bonferroni over all slices examined) and ``min_lift`` × worse than
   the uncovered rest — so relationship=Husband is not listed again after
   marital_status=Married-civ-spouse, nor education_num=13 after education=Bachelors.

At most ``max_results`` slices are listed.

Large logs: the search runs on a seeded random sample of at most ``max_search_rows`` labelled
rows (minimum support scaled down with the sampling fraction); each slice found is then
re-counted on all rows, and its p-value recomputed on all rows and Bonferroni-adjusted for
every slice examined (conservative). The provenance says which path was taken.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sightline.core.numbers import format_value
from sightline.core.vocabulary import slice_name
from sightline.slices.encoding import EncodedColumn
from sightline.slices.lattice import lattice_counts
from sightline.slices.tables import slice_description
from sightline.stats.significance import bh_adjusted_below, p_worse_than_rest

log = logging.getLogger(__name__)

DEFAULT_ALPHA = 0.95           # SliceLine's weight of error lift against size
DEFAULT_FDR = 0.01             # Benjamini–Hochberg false discovery rate (thousands of overlapping slices are tested)
DEFAULT_MIN_LIFT = 1.2         # report only slices with ≥ 20% more error than overall
DEFAULT_REDUNDANCY_LIFT = 1.1  # a child must be ≥ 10% worse than the rest of its parent
DEFAULT_MAX_SEARCH_ROWS = 250_000
MAX_RECHECK = 300              # candidates re-counted on all rows after a sampled search
DEFAULT_MAX_RESULTS = 50       # slices listed at most
COVER_ROWS = 200_000           # rows (seeded sample) on which coverage by listed slices is measured


@dataclass(frozen=True)
class SliceSearch:
    """The result of :func:`find_worst_slices`.

    ``slices``: the significant, non-redundant worst slices, best score first, with columns
    ``slice`` ("a=x & b=y"), ``description``, ``columns``, ``order``, ``n``, ``errors``,
    ``error_rate``, ``rest_error_rate``, ``lift`` (error_rate / overall), ``score``,
    ``p_value``, ``p_adjusted``, ``sentence`` (one plain line). Error rates are shares (0–1),
    or mean absolute errors for regression.
    """

    slices: pd.DataFrame
    overall_error: float
    n_rows: int
    n_examined: int
    n_significant: int
    n_redundant: int
    search_rows: int
    settings: dict = field(default_factory=dict)
    n_covered: int = 0
    truncated: bool = False
    # Each listed slice as ((column, level code), ...), aligned with ``slices``' rows: the exact
    # key of the slice, which the ``slice`` text cannot give back when a name or value holds
    # "=" or " & " (or two values print alike).
    keys: tuple[tuple[tuple[str, int], ...], ...] = ()

    @property
    def sampled(self) -> bool:
        return self.search_rows < self.n_rows

    def provenance(self) -> dict:
        return {"method": "lattice search (SliceLine-style score) up to order "
                          f"{self.settings.get('max_order')}; one-sided "
                          + ("two-proportion z-test (exact binomial for small slices)" if self.settings.get("binary_errors") else "Welch z-test")
                          + (", Bonferroni on all rows after a sampled search" if self.sampled else ", Benjamini–Hochberg"),
                "rows": self.n_rows, "search_rows": self.search_rows, "sampled": self.sampled,
                "slices_examined": self.n_examined, "significant": self.n_significant,
                "redundant_removed": self.n_redundant, "covered_removed": self.n_covered,
                "listed": len(self.slices), "truncated": self.truncated, **self.settings}


def _slice_values(combos: list[tuple[int, ...]], combo: np.ndarray, flat: np.ndarray, levels: list[int]) -> list[tuple[int, ...]]:
    """Each slice's value codes (one per column of its combination) from its mixed-radix number.

    ``combo`` must come in runs (the order :func:`~sightline.slices.lattice.lattice_counts` emits slices in): one
    ``np.unravel_index`` per run instead of one per slice.
    """
    out: list[tuple[int, ...]] = []
    if not len(combo):
        return out
    breaks = np.flatnonzero(combo[1:] != combo[:-1]) + 1
    for start, end in zip(np.r_[0, breaks], np.r_[breaks, len(combo)]):
        cols = combos[int(combo[start])]
        digits = np.unravel_index(flat[start:end].astype(np.int64), [levels[c] for c in cols])
        out.extend(zip(*(d.tolist() for d in digits)))
    return out


def _recount(encoded: Sequence[EncodedColumn], errors: np.ndarray, cols_list, vals_list, binary: bool = False) -> np.ndarray:
    """(rows, error sum, squared-error sum) of each slice on every row.

    Slices are grouped by their rarest predicate: its rows are found once (one scan), the codes
    of the group's other columns and the errors are gathered on those rows once, and each slice
    is then a few comparisons on that short, contiguous subset. Sums run over the slice's rows in
    row order, as a boolean mask over all rows would give them. ``binary`` (0/1 errors): the
    sums are counts, so the group's slices on the same columns share one bincount instead.
    """
    sizes = [np.bincount(e.codes, minlength=e.n_levels) for e in encoded]
    groups: dict[tuple[int, int], list[int]] = {}
    for i, (cols, vals) in enumerate(zip(cols_list, vals_list)):
        groups.setdefault(min(zip(cols, vals), key=lambda cv: sizes[cv[0]][cv[1]]), []).append(i)
    out = np.zeros((len(cols_list), 3))
    for (c0, v0), members in groups.items():
        rows = np.flatnonzero(encoded[c0].codes == v0)
        err0 = errors[rows]
        sub = {c: encoded[c].codes[rows] for c in {c for i in members for c in cols_list[i]} - {c0}}
        if binary:
            _count_members(out, members, cols_list, vals_list, c0, sub, err0, [e.n_levels for e in encoded])
            continue
        for i in members:
            mask = None
            for c, v in zip(cols_list[i], vals_list[i]):
                if c != c0:
                    mask = sub[c] == v if mask is None else mask & (sub[c] == v)
            err = err0 if mask is None else err0[mask]
            out[i] = (len(err), float(err.sum()), float((err**2).sum()))
    return out


def _count_members(out: np.ndarray, members: list[int], cols_list, vals_list, c0: int, sub: dict, err0: np.ndarray,
                   levels: list[int]) -> None:
    """Fill ``out`` rows of the slices ``members`` (all holding predicate column ``c0``'s value,
    whose rows ``sub`` and ``err0`` are gathered on) with (rows, errors, errors): one bincount of
    the other columns' values × the error bit per set of other columns (0/1 errors only)."""
    by_cols: dict[tuple[int, ...], list[int]] = {}
    for i in members:
        by_cols.setdefault(tuple(c for c in cols_list[i] if c != c0), []).append(i)
    bit = err0.astype(np.int64)
    for others, slices in by_cols.items():
        key = np.zeros(len(err0), dtype=np.int64)
        for c in others:
            key = key * levels[c] + sub[c]
        cells = np.bincount(key * 2 + bit, minlength=2 * math.prod(levels[c] for c in others))
        for i in slices:
            flat = 0
            for c, v in zip(cols_list[i], vals_list[i]):
                if c != c0:
                    flat = flat * levels[c] + v
            errs = float(cells[2 * flat + 1])
            out[i] = (int(cells[2 * flat]) + int(cells[2 * flat + 1]), errs, errs)


def _drop_redundant(found: pd.DataFrame, lookup: dict, redundancy_lift: float, binary: bool, level: float) -> np.ndarray:
    """Which significant slices are redundant children of a significant parent: the child's
    error is below ``redundancy_lift`` × the parent's, or it is not significantly worse than
    the parent's other rows (one-sided p ≥ ``level``)."""
    significant = set(zip(found["cols"], found["vals"]))
    child, parent = [], []
    for i, (cols, vals) in enumerate(zip(found["cols"], found["vals"])):
        for drop in range(len(cols)) if len(cols) > 1 else ():
            key = (cols[:drop] + cols[drop + 1:], vals[:drop] + vals[drop + 1:])
            if key in significant:
                child.append(i)
                parent.append(lookup[key])
    redundant = np.zeros(len(found), dtype=bool)
    if not child:
        return redundant
    child = np.asarray(child)
    pn, perr, psq = (np.asarray(x, dtype=float) for x in zip(*parent))
    n, err, sq = (found[k].to_numpy(dtype=float)[child] for k in ("n", "err", "err_sq"))
    with np.errstate(invalid="ignore", divide="ignore"):
        weak = (pn <= n) | (err / n < redundancy_lift * perr / pn)
        weak |= p_worse_than_rest(n, err, sq, pn, perr, psq, binary) >= level  # vs the parent's other rows
    np.logical_or.at(redundant, child, weak)
    return redundant


def _greedy(found: pd.DataFrame, codes: list[np.ndarray], errors: np.ndarray, lookup: dict, *, overall: float,
            redundancy_lift: float, min_lift: float, level: float, support: int, binary: bool, max_results: int,
            seed: int) -> tuple[np.ndarray, bool]:
    """Rules 2 and 3 of the module docstring, walking ``found`` in its (ranked) order.

    Coverage is measured on a seeded sample of at most :data:`COVER_ROWS` rows. Output: which
    rows of ``found`` are listed, and whether the walk stopped at ``max_results``.
    """
    n_rows = len(errors)
    rows = np.sort(np.random.default_rng(seed).choice(n_rows, COVER_ROWS, replace=False)) if n_rows > COVER_ROWS else None
    sub = codes if rows is None else [c[rows] for c in codes]
    e = errors if rows is None else errors[rows]
    e_sq = e * e
    support = max(1, int(round(support * len(e) / n_rows)))
    covered = np.zeros(len(e), dtype=bool)
    listed = np.zeros(len(found), dtype=bool)
    kept: list[tuple[frozenset, tuple]] = []  # (predicates, (n, err, err_sq)) of listed slices
    for i, (cols, vals, n, err, sq) in enumerate(zip(found["cols"], found["vals"], found["n"], found["err"], found["err_sq"])):
        if len(kept) >= max_results:
            return listed, True
        preds = frozenset(zip(cols, vals))
        ancestors = [stats for k, stats in kept if k < preds]
        if ancestors:  # rule 2: judged against each listed slice it lies in
            ok = all(err / n >= redundancy_lift * perr / pn and pn > n
                     and p_worse_than_rest([n], [err], [sq], pn, perr, psq, binary, small="fisher")[0] < level
                     for pn, perr, psq in ancestors)
        else:  # rule 3: what is left after the slices listed so far must still be worse
            mask = np.ones(len(e), dtype=bool)
            for c, v in zip(cols, vals):
                mask &= sub[c] == v
            own = mask & ~covered
            n_own = int(own.sum())
            if n_own < support or n_own == 0:
                ok = False
            else:
                outside = ~(covered | mask)
                err_own, sq_own = float(e[own].sum()), float(e_sq[own].sum())
                n_all, err_all, sq_all = n_own + int(outside.sum()), err_own + float(e[outside].sum()), sq_own + float(e_sq[outside].sum())
                ok = (err_own / n_own >= min_lift * overall
                      and p_worse_than_rest([n_own], [err_own], [sq_own], n_all, err_all, sq_all, binary, small="fisher")[0] < level)
        if ok:
            listed[i] = True
            kept.append((preds, (n, err, sq)))
            mask = np.ones(len(e), dtype=bool)
            for c, v in zip(cols, vals):
                mask &= sub[c] == v
            covered |= mask
    return listed, False


def _format_p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def find_worst_slices(
    encoded: Sequence[EncodedColumn],
    errors: np.ndarray,
    *,
    binary_errors: bool = True,
    max_order: int = 3,
    min_size: int = 30,
    alpha: float = DEFAULT_ALPHA,
    fdr: float = DEFAULT_FDR,
    min_lift: float = DEFAULT_MIN_LIFT,
    redundancy_lift: float = DEFAULT_REDUNDANCY_LIFT,
    max_search_rows: int = DEFAULT_MAX_SEARCH_ROWS,
    max_results: int = DEFAULT_MAX_RESULTS,
    seed: int = 0,
) -> SliceSearch:
    """Slices where the model is significantly worse than on the rest of the data.

    Inputs: encoded columns (aligned with ``errors``), the per-row error (0/1 wrong
    prediction with ``binary_errors``; else a non-negative error such as |y − ŷ|), the
    largest number of columns combined, the minimum slice size, SliceLine's α, the false
    discovery rate, the minimum error lift, the redundancy threshold, the search-sample cap
    and its seed. Output: a :class:`SliceSearch` (slices ranked by score).
    """
    errors = np.asarray(errors, dtype=float)
    n_rows = len(errors)
    max_order = max(1, min(int(max_order), len(encoded)))
    settings = {"max_order": max_order, "min_size": int(min_size), "alpha": alpha, "fdr": fdr, "min_lift": min_lift,
                "redundancy_lift": redundancy_lift, "max_results": int(max_results),
                "max_search_rows": int(max_search_rows), "seed": seed,
                "binary_errors": bool(binary_errors), "columns": [e.name for e in encoded]}
    empty = pd.DataFrame(columns=["slice", "description", "columns", "order", "n", "errors", "error_rate", "rest_error_rate",
                                  "lift", "score", "p_value", "p_adjusted", "sentence"])
    overall = float(errors.mean()) if n_rows else float("nan")
    if n_rows == 0 or not encoded or not overall > 0:
        return SliceSearch(empty, overall, n_rows, 0, 0, 0, n_rows, settings)

    # Search on all rows, or on a seeded sample of a very large log.
    if n_rows > max_search_rows:
        idx = np.sort(np.random.default_rng(seed).choice(n_rows, max_search_rows, replace=False))
        support = max(10, math.ceil(min_size * max_search_rows / n_rows))
    else:
        idx, support = None, int(min_size)
    codes = [e.codes if idx is None else e.codes[idx] for e in encoded]
    e_s = errors if idx is None else errors[idx]
    levels = [e.n_levels for e in encoded]
    combos, cand = lattice_counts(codes, levels, e_s, binary_errors, max_order, support)
    n_s, err_s, sq_s = len(e_s), float(e_s.sum()), float((e_s**2).sum())
    search_rows = n_s
    n_examined = len(cand["n"])
    if not n_examined:
        return SliceSearch(empty, overall, n_rows, 0, 0, 0, search_rows, settings)

    # Score and test every slice examined (vectorised); correct for all of them at once.
    n_c = cand["n"].astype(float)
    lift = cand["err"] / n_c / (err_s / n_s)
    p_value = p_worse_than_rest(n_c, cand["err"], cand["err_sq"], n_s, err_s, sq_s, binary_errors)
    threshold = fdr if idx is None else max(fdr, 0.2)  # a sampled search passes a liberal shortlist on
    p_adjusted = bh_adjusted_below(p_value, threshold)
    pick = np.flatnonzero((p_adjusted <= threshold) & (lift >= min_lift))
    total_n, total_err, total_sq = n_s, err_s, sq_s
    if idx is not None and len(pick):
        # Re-count the shortlist on every row, test on every row (Bonferroni over all examined).
        # Shortlist the best half by score (large and much worse) and the best half by p-value.
        score_s = alpha * (lift[pick] - 1) - (1 - alpha) * (n_s / n_c[pick] - 1)
        by_score = np.argsort(-score_s, kind="stable")[: MAX_RECHECK // 2]
        by_p = np.argsort(p_value[pick], kind="stable")[: MAX_RECHECK // 2]
        pick = pick[np.union1d(by_score, by_p)]
    found = pd.DataFrame({
        "cols": [combos[i] for i in cand["combo"][pick]],
        "n": cand["n"][pick].astype(int), "err": cand["err"][pick], "err_sq": cand["err_sq"][pick],
        "p_value": p_value[pick], "p_adjusted": p_adjusted[pick]})
    found["vals"] = _slice_values(combos, cand["combo"][pick], cand["flat"][pick], levels)

    if idx is not None and len(found):
        full = _recount(encoded, errors, found["cols"].tolist(), found["vals"].tolist(), binary_errors).reshape(-1, 3)
        total_n, total_err, total_sq = n_rows, float(errors.sum()), float((errors**2).sum())
        found["n"], found["err"], found["err_sq"] = full[:, 0].astype(int), full[:, 1], full[:, 2]
        found["p_value"] = p_worse_than_rest(found["n"], found["err"], found["err_sq"], total_n, total_err, total_sq, binary_errors)
        found["p_adjusted"] = np.minimum(1.0, found["p_value"] * n_examined)
    found["error_rate"] = found["err"] / found["n"]
    found["lift"] = found["error_rate"] / overall
    found["score"] = alpha * (found["lift"] - 1) - (1 - alpha) * (total_n / found["n"] - 1)
    found = found[(found["n"] >= min_size) & (found["p_adjusted"] <= fdr) & (found["lift"] >= min_lift)].reset_index(drop=True)
    lookup = {(c, v): (n, e, q) for c, v, n, e, q in zip(found["cols"], found["vals"], found["n"], found["err"], found["err_sq"])}
    n_significant = len(found)
    if not n_significant:
        return SliceSearch(empty, overall, n_rows, n_examined, 0, 0, search_rows, settings)

    level = fdr / n_examined  # Bonferroni over every slice examined, for the follow-up tests
    redundant = _drop_redundant(found, lookup, redundancy_lift, binary_errors, level)
    found = found[~redundant].sort_values(["score", "p_value", "n"], ascending=[False, True, False])
    listed, truncated = _greedy(found, [e.codes for e in encoded], errors, lookup, overall=overall,
                                redundancy_lift=redundancy_lift, min_lift=min_lift, level=level, support=min_size,
                                binary=binary_errors, max_results=max_results, seed=seed)
    n_covered = int((~listed).sum()) if not truncated else int((~listed[: int(np.flatnonzero(listed).max()) + 1]).sum())
    found = found[listed]
    names = [e.name for e in encoded]
    kinds = {e.name: e.kind for e in encoded}
    rows, keys = [], []
    for r in found.itertuples(index=False):
        pairs = [(names[c], encoded[c].labels[v]) for c, v in zip(r.cols, r.vals)]
        keys.append(tuple((names[c], int(v)) for c, v in zip(r.cols, r.vals)))
        rest = (total_err - r.err) / (total_n - r.n) if total_n > r.n else float("nan")
        desc = slice_description(pairs, kinds)
        what = "error rate" if binary_errors else "mean absolute error"
        fmt = (lambda x: f"{x:.0%}") if binary_errors else (lambda x: format_value(x))
        sentence = (f"{desc} (n={int(r.n):,}): {what} {fmt(r.error_rate)} vs {fmt(overall)} overall, "
                    f"{r.lift:.1f}× worse, {_format_p(r.p_adjusted)}")
        rows.append({"slice": slice_name(pairs), "description": desc, "columns": " & ".join(p[0] for p in pairs),
                     "order": len(pairs), "n": int(r.n), "errors": float(r.err), "error_rate": float(r.error_rate),
                     "rest_error_rate": float(rest), "lift": float(r.lift), "score": float(r.score),
                     "p_value": float(r.p_value), "p_adjusted": float(r.p_adjusted), "sentence": sentence})
    log.info("slice search: %d examined, %d significant, %d redundant, %d covered, %d listed", n_examined,
             n_significant, int(redundant.sum()), n_covered, len(rows))
    return SliceSearch(pd.DataFrame(rows, columns=empty.columns), overall, n_rows, n_examined, n_significant,
                       int(redundant.sum()), search_rows, settings, n_covered=n_covered, truncated=truncated,
                       keys=tuple(keys))
