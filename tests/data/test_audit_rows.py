"""The audit's row subsets on a categorical version column equal the plain string path
(``astype(str)``), order of ties and missing values included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sightline.data.audit import _categorical_equals_str, _categorical_value_counts_as_str


def _random_versions(seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    pool = ["v1", "v2", "v10", "2.0", 2.0, 1, "1", None]  # 1 and "1" print alike: they count together
    k = int(rng.integers(1, 7))
    names = [pool[i] for i in rng.choice(len(pool), size=k, replace=False)]
    # Few rows and few distinct values make ties in the counts common.
    rows = [names[i] for i in rng.integers(0, k, size=int(rng.integers(1, 40)))]
    return pd.Series(rows, dtype=object).astype("category")


@pytest.mark.parametrize("seed", range(200))
def test_categorical_counts_equal_the_string_value_counts(seed):
    values = _random_versions(seed)
    expected = values.astype(str).value_counts()
    got = _categorical_value_counts_as_str(values)
    assert list(got.index) == list(expected.index)
    assert list(got.to_numpy()) == list(expected.to_numpy())


@pytest.mark.parametrize("seed", range(50))
def test_categorical_equality_equals_the_string_comparison(seed):
    values = _random_versions(seed)
    for text in [*map(str, values.cat.categories), "nan", "absent"]:
        np.testing.assert_array_equal(_categorical_equals_str(values, text), (values.astype(str) == text).to_numpy())


def test_the_sample_audit_gives_the_same_versions_and_primary_rows_with_a_categorical_column(sample_audit):
    import dataclasses

    col = sample_audit.spec.columns.model_version
    as_category = sample_audit.current.assign(**{col: sample_audit.current[col].astype("category")})
    plain = sample_audit.current.assign(**{col: sample_audit.current[col].astype(object)})
    a = dataclasses.replace(sample_audit, current=as_category)
    b = dataclasses.replace(sample_audit, current=plain)
    assert a.versions == b.versions and len(a.versions) >= 2
    assert a.primary.index.equals(b.primary.index)
