"""How a feature moved, in words and in bars: the effect sentence of each drifted column
(:func:`numeric_effect`, :func:`categorical_effect`) and the overlay distributions the Drift page
draws (:func:`feature_distribution`, :func:`column_distribution`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import sightline.drift.windows as dw
from sightline.core.errors import MissingInputError
from sightline.core.numbers import MEASURE, RATE, format_range, format_value, guess_unit
from sightline.data.audit import Audit
from sightline.drift.settings import _require_reference
from sightline.stats.binned_ranks import median_from_bins


# ------------------------------------------------------------------ effect sizes
def number_text(x: float, unit: str = MEASURE) -> str:
    """A data value in a sentence or a bin label, in the column's unit (:func:`sightline.core.numbers.format_value`):
    ``1993`` for a year, ``5,040`` for a price, ``71.6`` for a measure; ``n/a`` when missing."""
    return format_value(x, unit)


def percent_text(x: float) -> str:
    """A share in [0, 1] as a percentage (``4.3%``, ``31%``); ``n/a`` when missing."""
    return format_value(x, RATE)


def column_unit(values) -> str:
    """The unit of a column (a Series: its name and values) for :func:`number_text`."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return guess_unit(series.name, dw.as_numbers(series) if len(series) else None)


def numeric_effect(reference, current, *, binned: dw.BinnedColumn | None = None, unit: str | None = None) -> str:
    """One readable sentence on how a numeric column moved: the median (else the mean), plus the
    share of values outside the reference's range when that is above 1%. ``binned``: both
    columns' numeric bins, if the caller has them (the medians then partition one bin's values,
    not all of them). ``unit``: how to write the values (default: guessed from the reference's
    name and values, so ``year_built`` reads ``1977``, not ``1,977``)."""
    unit = unit or column_unit(pd.Series(reference))
    r_all = dw.as_numbers(pd.Series(reference))
    c_all = dw.as_numbers(pd.Series(current))
    r = r_all[~np.isnan(r_all)]
    n_c = int(np.count_nonzero(~np.isnan(c_all)))
    if not len(r) or not n_c:
        return "no values to compare"
    if binned is not None and binned.binning.kind == dw.NUMERIC:
        mr = median_from_bins(r_all, binned.reference_codes, binned.reference_counts())
        mc = median_from_bins(c_all, binned.current_codes, binned.current_counts())
    else:
        mr, mc = float(np.median(r)), float(np.median(c_all[~np.isnan(c_all)]))
    if number_text(mr, unit) != number_text(mc, unit):
        text = f"median moved from {number_text(mr, unit)} to {number_text(mc, unit)}"
    else:
        c = c_all[~np.isnan(c_all)]
        text = f"median unchanged at {number_text(mr, unit)}; mean moved from {number_text(float(r.mean()), unit)} to {number_text(float(c.mean()), unit)}"
    # NaN compares False, so counting over every row and dividing by the values is the share of
    # values; no value beyond the reference's range (the usual case) needs no comparison per row
    c_max, c_min = np.fmax.reduce(c_all), np.fmin.reduce(c_all)   # NaN-ignoring
    above = np.count_nonzero(c_all > r.max()) / n_c if c_max > r.max() else 0.0
    below = np.count_nonzero(c_all < r.min()) / n_c if c_min < r.min() else 0.0
    if above > 0.01:
        text += f"; {percent_text(above)} of values lie above the reference's maximum ({number_text(float(r.max()), unit)})"
    if below > 0.01:
        text += f"; {percent_text(below)} lie below its minimum ({number_text(float(r.min()), unit)})"
    return text


def _category_shares(values: pd.Series) -> pd.Series:
    """Share of each category (as a string; missing as "(missing)"), counted on codes, not strings."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
    else:
        codes, uniques = pd.factorize(values)
    counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
    shares = pd.Series(counts[1:] / max(len(values), 1), index=[str(u) for u in uniques])
    if counts[0]:
        shares["(missing)"] = counts[0] / len(values)
    shares = shares[shares > 0]
    # categories that read alike ("1" and 1) add up; without any, that is the shares in label order
    return shares.sort_index() if shares.index.is_unique else shares.groupby(level=0).sum()


def categorical_effect(reference, current) -> str:
    """One readable sentence: the category whose share moved most, from → to (new ones marked)."""
    r, c = _category_shares(pd.Series(reference)), _category_shares(pd.Series(current))
    both = r.index.union(c.index)
    diff = (c.reindex(both, fill_value=0) - r.reindex(both, fill_value=0))
    if diff.abs().max() == 0:
        return "category shares unchanged"
    top = diff.abs().idxmax()
    text = f"'{top}' went from {percent_text(float(r.get(top, 0.0)))} to {percent_text(float(c.get(top, 0.0)))}"
    return text + (" (not in the reference)" if top not in r.index else "")


def effect_sentence(reference: pd.Series, current: pd.Series, kind: str, binned: dw.BinnedColumn | None = None) -> str:
    """:func:`numeric_effect` or :func:`categorical_effect` by ``kind`` (``binned``: see numeric_effect)."""
    return (numeric_effect(reference, current, binned=binned) if kind == dw.NUMERIC
            else categorical_effect(reference, current))


# ------------------------------------------------------------------ distributions (overlay charts)
def feature_distribution(reference: pd.Series, current: pd.Series, kind: str | None = None, *, n_bins: int = 20,
                         max_categories: int = 15, value_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """Shares of reference and current values per bin, for an overlaid distribution chart.

    Numeric: one bin per value for integers with at most 30 distinct reference values, else
    ``n_bins`` equal-width bins over the reference's range (or ``value_range``), plus
    "below/above the reference's range" bins when values fall there. Categorical: the
    ``max_categories`` largest categories of either side, the rest as "(other)", missing as
    "(missing)". Output columns: ``bin``, ``order``, ``reference_share``, ``current_share``,
    ``reference_n``, ``current_n``.
    """
    kind = kind or dw.feature_kind(reference)
    if kind == dw.CATEGORICAL:
        r = dw.as_categories(reference).fillna("(missing)")
        c = dw.as_categories(current).fillna("(missing)")
        rs, cs = r.value_counts(), c.value_counts()
        both = rs.index.union(cs.index)
        shares = (rs.reindex(both, fill_value=0) / max(len(r), 1)).combine(cs.reindex(both, fill_value=0) / max(len(c), 1), max)
        top = list(shares.sort_values(ascending=False).index[:max_categories])
        rb = r.where(r.isin(top), "(other)")
        cb = c.where(c.isin(top), "(other)")
        labels = top + (["(other)"] if len(both) > len(top) else [])
        rn = rb.value_counts().reindex(labels, fill_value=0).to_numpy()
        cn = cb.value_counts().reindex(labels, fill_value=0).to_numpy()
    else:
        r, c = dw.as_numbers(reference), dw.as_numbers(current)
        rv = r[~np.isnan(r)]
        unit = guess_unit(getattr(reference, "name", None), rv if len(rv) else None)
        lo, hi = value_range or ((float(rv.min()), float(rv.max())) if len(rv) else (0.0, 1.0))
        uniq = np.unique(rv)
        integers = value_range is None and len(uniq) > 0 and bool(np.all(np.mod(uniq, 1) == 0))
        if integers and len(uniq) <= 30:
            edges = np.concatenate([uniq - 0.5, [uniq[-1] + 0.5]])
            inner = [number_text(v, unit) for v in uniq]
        elif integers:  # whole-number bins (17–20, 21–24 …) read better than 17–20.6
            step = int(np.ceil((hi - lo + 1) / n_bins))
            starts = np.arange(lo, hi + 1, step)
            edges = np.concatenate([starts - 0.5, [starts[-1] + step - 0.5]])
            inner = [format_range(a, a + step - 1, unit) for a in starts]
            hi = float(starts[-1] + step - 1)
        else:
            edges = np.linspace(lo, hi if hi > lo else lo + 1, n_bins + 1)
            inner = [f"{number_text(a, unit)}–{number_text(b, unit)}" for a, b in zip(edges[:-1], edges[1:])]
        labels = [f"below {number_text(lo, unit)}"] + inner + [f"above {number_text(hi, unit)}"]

        def counts(x):
            x = x[~np.isnan(x)]
            idx = np.searchsorted(edges, x, side="right")  # 0 below, len(edges) above
            idx[x == edges[-1]] = len(edges) - 1          # the top edge belongs to the last bin
            return np.bincount(idx, minlength=len(edges) + 1)

        rn, cn = counts(r), counts(c)
        keep = np.ones(len(labels), dtype=bool)
        keep[0] = rn[0] + cn[0] > 0
        keep[-1] = rn[-1] + cn[-1] > 0
        labels = [lab for lab, k in zip(labels, keep) if k]
        rn, cn = rn[keep], cn[keep]
    return pd.DataFrame({"bin": labels, "order": range(len(labels)),
                         "reference_share": rn / max(rn.sum(), 1), "current_share": cn / max(cn.sum(), 1),
                         "reference_n": rn, "current_n": cn})


def column_distribution(audit: Audit, column: str) -> pd.DataFrame:
    """:func:`feature_distribution` of one column of the audit: primary-version log vs reference.

    The binary score is binned over [0, 1]. Raises :class:`MissingInputError` without a reference.
    """
    ref = _require_reference(audit)
    if column not in ref.columns or column not in audit.primary.columns:
        raise MissingInputError(f"'{column}' is not in both the reference and the prediction log")
    is_score = column == audit.spec.columns.score and audit.spec.task == "binary"
    kind = dw.NUMERIC if is_score else dw.feature_kind(ref[column])
    return feature_distribution(ref[column], audit.primary[column], kind, value_range=(0.0, 1.0) if is_score else None)
