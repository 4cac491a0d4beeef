"""Which rows of a log belong to a model version, and how many rows each version has."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
