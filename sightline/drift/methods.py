"""evidently 0.7's column drift tests in numpy/scipy, without importing evidently.

Importing evidently costs ~8 s of CPU (pydantic class building) and its ``Report.run`` another
few seconds of rendering widgets nobody reads; the tests themselves are a few numpy/scipy
calls. This module reproduces, call for call, what evidently 0.7 does for one column
(``evidently/legacy/calculations/data_drift.py:get_one_column_drift`` reached from
``evidently.metrics.ValueDrift``) and for the dataset (``DriftedColumnsCount``):

* **Cleaning**: ±inf become NaN and NaN rows are dropped, on each side separately
  (:func:`clean`). DriftedColumnsCount's legacy path does this only for a side that holds a NaN
  somewhere, so there a side with inf but no NaN keeps its infs (:func:`inf_kept`).
* **Default test** (:func:`default_test`, evidently's ``_get_default_stattest``): ``n`` = number
  of distinct values of both (cleaned) sides, ``r`` = cleaned reference rows.
  r ≤ 1000: numeric → K–S if n > 5, chi-square if 2 < n ≤ 5, Z-test if n ≤ 2;
  categorical → chi-square if n > 2, else Z-test.
  r > 1000: numeric → Wasserstein (normed) if n > 5, else Jensen–Shannon; categorical →
  Jensen–Shannon.
* **Tests** (:data:`TESTS`; name, display name as evidently reports it, column types a user may
  name it for, default threshold, drifted rule):
  ``wasserstein`` — ``scipy.stats.wasserstein_distance / max(std(reference), 0.001)``,
  drifted when ≥ threshold (0.1); ``jensenshannon`` — ``scipy.spatial.distance.jensenshannon``
  of binned shares (:func:`binned_shares`), ≥ 0.1; ``psi`` — Σ (r − c)·ln(r / c) over binned
  shares with empty bins filled, ≥ 0.1; ``ks`` — ``scipy.stats.ks_2samp`` p-value,
  drifted when **≤** 0.05; ``chisquare`` — ``scipy.stats.chisquare`` of current counts against
  reference counts scaled to the current size, p < 0.05; ``z`` — two-proportion Z-test of
  "is the smallest value" vs the rest, p < 0.05 (1.0 when both sides hold the same single value).
* **Binning** for Jensen–Shannon and PSI: numeric columns with more than 20 distinct reference
  values get ``np.histogram_bin_edges(reference + current, "sturges")``; everything else one
  bin per distinct value of either side. Shares are counts / side size. PSI (not
  Jensen–Shannon) replaces a share of 0 by min(non-zero share) / 10⁶ when that minimum is
  ≤ 0.0001, else by 0.0001.
* **Dataset** (:func:`dataset_drift`): share = drifted columns / columns; the dataset drifts
  when share ≥ drift_share (DriftedColumnsCount's test is ``share < drift_share``; its failure
  is the drift).

Units: distances are unitless (Wasserstein in reference standard deviations); p-values are
probabilities. Every function here is tested equal to evidently's own Report on random data in
``tests/test_drift_tests.py`` (against the version in :data:`EVIDENTLY_CHECKED`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

import sightline.drift.windows as dw

EVIDENTLY_CHECKED = "0.7.23"   # the evidently release this module was read from and tested against
NUM, CAT = "num", "cat"        # evidently's column-type names (ColumnType.Numerical / .Categorical)
RESULT_COLUMNS = ["column", "method", "statistic", "p_value", "threshold", "drifted"]  # run_evidently's rows
PREFIX_ROWS = 1_000             # values a distinct-count check looks at before hashing all of them


@dataclass(frozen=True)
class StatTest:
    """One of evidently's registered tests: how it is named, where it applies, how it decides."""

    name: str                  # the name an audit writes (evidently's registry key)
    display_name: str          # how evidently reports it (ValueDrift's resolved ``method``)
    kinds: tuple[str, ...]     # column types evidently lets a user name it for
    default_threshold: float
    rule: str                  # "ge": drifted when score ≥ threshold; "le": p ≤ threshold; "lt": p < threshold

    @property
    def is_p_value(self) -> bool:
        return self.rule != "ge"


TESTS = {t.name: t for t in (
    StatTest("wasserstein", "Wasserstein distance (normed)", (NUM,), 0.1, "ge"),
    StatTest("jensenshannon", "Jensen-Shannon distance", (CAT, NUM), 0.1, "ge"),
    StatTest("psi", "PSI", (CAT, NUM), 0.1, "ge"),
    StatTest("ks", "K-S p_value", (NUM,), 0.05, "le"),
    StatTest("chisquare", "chi-square p_value", (CAT,), 0.05, "lt"),
    StatTest("z", "Z-test p_value", (CAT,), 0.05, "lt"),
)}


class NotReproduced(ValueError):
    """A case this module does not reproduce (a method it lacks, a side left empty): run evidently."""


@dataclass(frozen=True)
class ColumnDrift:
    """One column's test result, as evidently's ValueDrift reports it."""

    test: StatTest
    score: float        # the distance, or the p-value for p-value tests
    threshold: float
    drifted: bool


def implements(method: str | None, kind: str) -> bool:
    """Whether :func:`column_drift` reproduces ``method`` (None = evidently's default) for a
    column of ``kind`` (``num``/``cat``). A registered test named for a type it does not apply to
    is not implemented: evidently raises there, and the caller should let it."""
    return method is None or (method in TESTS and kind in TESTS[method].kinds)


def clean(values, kind: str, *, keep_inf: bool = False) -> np.ndarray:
    """The values evidently tests: ±inf → NaN (unless ``keep_inf``), then missing values dropped.

    Input: an array-like of floats (``num``) or of str/None (``cat``). Output: float64 or object
    ndarray.
    """
    if kind == NUM:
        x = np.asarray(values, dtype=float)
        return x[~np.isnan(x)] if keep_inf else x[np.isfinite(x)]
    x = np.asarray(values, dtype=object)
    return x[pd.notna(x)]


def _counts(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of each distinct value of either side (NaN-free inputs), in evidently's key order.

    evidently orders the values as ``list(set(reference.unique()) | set(current.unique()))``;
    building the same set here gives the same order in this process, so sums over the values
    add up in the same order and the results agree to the last bit.
    """
    ref_u, cur_u = pd.unique(reference), pd.unique(current)
    keys = list(set(ref_u) | set(cur_u))
    position = {k: i for i, k in enumerate(keys)}
    ref_counts, cur_counts = np.zeros(len(keys)), np.zeros(len(keys))
    for side, uniques, counts in ((reference, ref_u, ref_counts), (current, cur_u, cur_counts)):
        codes = pd.factorize(side)[0]  # codes follow pd.unique's order
        counts[[position[u] for u in uniques]] = np.bincount(codes, minlength=len(uniques))
    return ref_counts, cur_counts


def _n_unique(*sides: np.ndarray, above: int | None = None) -> int:
    """Distinct non-missing values across the sides (pandas ``nunique``).

    With ``above``, callers only ask whether the count exceeds ``above``: when the first
    :data:`PREFIX_ROWS` values of each side already hold more, that smaller count is returned
    (still ``> above``) without hashing every row."""
    if above is not None:
        head = int(pd.Series(np.concatenate([side[:PREFIX_ROWS] for side in sides])).nunique())
        if head > above:
            return head
    return int(pd.Series(np.concatenate(sides)).nunique())


def default_test(reference: np.ndarray, current: np.ndarray, kind: str) -> StatTest:
    """evidently's default test for cleaned ``reference``/``current`` (see the module docstring)."""
    n_values = _n_unique(reference, current, above=5)   # only compared with 2 and 5 below
    if len(reference) <= 1000:
        if kind == NUM and n_values > 5:
            return TESTS["ks"]
        return TESTS["chisquare"] if n_values > 2 else TESTS["z"]
    if kind == NUM:
        return TESTS["jensenshannon"] if n_values <= 5 else TESTS["wasserstein"]
    return TESTS["jensenshannon"]


def binned_shares(reference: np.ndarray, current: np.ndarray, kind: str, n_bins: int = 30,
                  fill_zeroes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Shares per bin of each side, as evidently bins for Jensen–Shannon (``fill_zeroes=False``)
    and PSI (see the module docstring). ``n_bins`` is evidently's argument; its bins ignore it."""
    if kind == NUM and _n_unique(reference, above=20) > 20:
        bins = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
        ref = np.histogram(reference, bins)[0] / len(reference)
        cur = np.histogram(current, bins)[0] / len(current)
    else:
        rc, cc = _counts(reference, current)
        ref, cur = rc / len(reference), cc / len(current)
    if fill_zeroes:
        for shares in (ref, cur):
            low = min(shares[shares != 0])
            np.place(shares, shares == 0, low / 10**6 if low <= 0.0001 else 0.0001)
    return ref, cur


def _score(test: StatTest, reference: np.ndarray, current: np.ndarray, kind: str) -> float:
    """The test's distance or p-value, by the same numpy/scipy calls evidently makes."""
    if test.name == "wasserstein":
        from scipy.stats import wasserstein_distance

        norm = max(float(np.std(reference)), 0.001)
        return wasserstein_distance(reference, current) / norm
    if test.name == "jensenshannon":
        from scipy.spatial.distance import jensenshannon

        return jensenshannon(*binned_shares(reference, current, kind, fill_zeroes=False), None)
    if test.name == "psi":
        r, c = binned_shares(reference, current, kind)
        return np.sum((r - c) * np.log(r / c))
    if test.name == "ks":
        from scipy.stats import ks_2samp

        return ks_2samp(reference, current)[1]
    if test.name == "chisquare":
        from scipy.stats import chisquare

        rc, cc = _counts(reference, current)
        k_norm = current.shape[0] / reference.shape[0]
        return chisquare(cc, rc * k_norm)[1]
    # Z-test for two proportions: "equals the smallest value" vs everything else
    ref_u, cur_u = pd.unique(reference), pd.unique(current)
    if len(ref_u) == 1 and len(cur_u) == 1 and ref_u[0] == cur_u[0]:
        return 1
    from scipy.stats import norm

    key = sorted(set(ref_u) | set(cur_u))[0]
    n1, n2 = len(reference), len(current)
    p1 = float(np.count_nonzero(reference != key)) / n1
    p2 = float(np.count_nonzero(current != key)) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)   # evidently's expression, kept for identical rounding
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return 2 * (1 - norm.cdf(np.abs(z)))


def column_drift(reference, current, kind: str, method: str | None = None, threshold: float | None = None, *,
                 keep_inf: tuple[bool, bool] = (False, False)) -> ColumnDrift:
    """evidently's drift test of one column (ValueDrift's result).

    Inputs: raw values of each side (floats for ``num``, str/None for ``cat``), the test's name
    (None: evidently's default) and threshold (None: the test's default); ``keep_inf`` keeps
    ±inf in the (reference, current) side (DriftedColumnsCount's quirk, see the module
    docstring). Raises :class:`NotReproduced` for a method not implemented here for ``kind``
    and for a side with no values left after cleaning (evidently raises its own error there;
    let it).
    """
    if not implements(method, kind):
        raise NotReproduced(f"drift test {method!r} is not implemented for {kind} columns")
    ref, cur = clean(reference, kind, keep_inf=keep_inf[0]), clean(current, kind, keep_inf=keep_inf[1])
    if not len(ref) or not len(cur):
        raise NotReproduced(f"no values left to test in the {'reference' if not len(ref) else 'current'} sample")
    test = default_test(ref, cur, kind) if method is None else TESTS[method]
    limit = test.default_threshold if threshold is None else threshold
    # evidently's divide-by-zero on empty bins and inf in std give the same NaN/inf here; run_evidently
    # silenced the warnings around evidently's Report, so they are silenced here too
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = _score(test, ref, cur, kind)
    drifted = {"ge": score >= limit, "le": score <= limit, "lt": score < limit}[test.rule]
    return ColumnDrift(test, score, limit, bool(drifted))


def inf_kept(values, kind: str) -> bool:
    """Whether DriftedColumnsCount tests this side with its infs: it holds ±inf but no NaN
    (its legacy path cleans only a side that has a missing value)."""
    if kind != NUM:
        return False
    x = np.asarray(values, dtype=float)
    return bool(np.isinf(x).any() and not np.isnan(x).any())


def dataset_drift(drifted: list[bool], drift_share: float) -> dict:
    """DriftedColumnsCount's result: ``{"n_drifted", "share", "drifted"}`` (share ≥ drift_share)."""
    n = int(sum(bool(d) for d in drifted))
    share = n / len(drifted)
    return {"n_drifted": n, "share": float(share), "drifted": not share < drift_share}


def report_results(values: Mapping[str, tuple], kinds: Mapping[str, str], requested: Sequence[tuple],
                   *, n_counted: int, drift_share: float) -> tuple[list[dict], dict]:
    """What evidently's Report gives for a ValueDrift per request and a DriftedColumnsCount.

    Inputs: each column's raw (reference, current) values and type (``num``/``cat``);
    ``requested``: (column, method or None, threshold or None) per ValueDrift, in order; the
    first ``n_counted`` of them are DriftedColumnsCount's columns (none: no dataset result).
    Output: rows ``{"column", "method" (display name), "statistic" (distances), "p_value"
    (p-value tests), "threshold", "drifted"}`` and ``{"n_drifted", "share", "drifted"}`` (or
    ``{}``). Raises :class:`NotReproduced` (or numpy's own error where evidently meets it too).
    """
    rows, drifted = [], {}
    for c, method, threshold in requested:
        r = column_drift(*values[c], kinds[c], method, threshold)
        score = float(r.score)
        rows.append({"column": c, "method": r.test.display_name, "statistic": None if r.test.is_p_value else score,
                     "p_value": score if r.test.is_p_value else None, "threshold": float(r.threshold),
                     "drifted": r.drifted})
        drifted.setdefault(c, r.drifted)
    if not n_counted:
        return rows, {}
    flags = []
    for c, method, threshold in requested[:n_counted]:
        keep = tuple(inf_kept(v, kinds[c]) for v in values[c])
        # DriftedColumnsCount tests a side holding inf but no NaN with its infs (ValueDrift drops them)
        flags.append(column_drift(*values[c], kinds[c], method, threshold, keep_inf=keep).drifted if any(keep)
                     else drifted[c])
    return rows, dataset_drift(flags, drift_share)


def _requested_tests(columns, extra, settings) -> list[tuple[str, str | None, float | None]]:
    """(column, method, threshold) of every ValueDrift run_evidently asks for, in its order.

    ``settings.method``/``threshold`` reach ``columns`` only; per-column overrides reach any.
    """
    out = []
    for c in columns:
        o = settings.columns.get(c, {})
        out.append((c, o.get("method", settings.method), o.get("threshold", settings.threshold)))
    for c in extra:
        o = settings.columns.get(c, {})
        out.append((c, o.get("method"), o.get("threshold")))
    return out


def reproduce_run_evidently(reference: pd.DataFrame, current: pd.DataFrame, columns, kinds, settings,
                            extra) -> tuple[pd.DataFrame, dict] | None:
    """:func:`sightline.drift.reference.run_evidently`'s output (same arguments: ``kinds`` in
    sightline's numeric/categorical, ``settings`` a DriftSettings) without evidently; None when a
    requested test (or a case such as a side with no values) is not reproduced here."""
    requested = _requested_tests(columns, extra, settings)
    kind_of = {c: NUM if kinds[c] == dw.NUMERIC else CAT for c, _, _ in requested}
    if not all(implements(m, kind_of[c]) for c, m, _ in requested):
        return None
    # the values evidently receives (drift_reference._evidently_frame): floats, or category labels as str/None
    values = {}
    for c in kind_of:
        if kind_of[c] == NUM:
            values[c] = (dw.as_numbers(reference[c]), dw.as_numbers(current[c]))
        else:
            values[c] = (dw.as_categories(reference[c]).to_numpy(dtype=object),
                         dw.as_categories(current[c]).to_numpy(dtype=object))
    try:
        rows, dataset = report_results(values, kind_of, requested, n_counted=len(columns), drift_share=settings.drift_share)
    except ValueError:  # NotReproduced, or a numpy/scipy error evidently would meet too: let evidently say it
        return None
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    out.attrs["engine"] = "sightline"
    return out, dataset
