"""The Simpson's-paradox check's fast paths against the straightforward computation:
the comparison of two versions that share no request encodes each column on both versions'
rows without building a long frame of every column, and versions are matched by their string
form from the distinct values only — the results must be exactly those of simpson_check on
the long frame built the plain way."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sightline.slices import compare_versions, slice_data
from sightline.slices.simpson import VALUE, VERSION, simpson_check


def unpaired_audit(seed: int):
    """Two versions on different requests (canary-like), binary, with categorical and numeric
    columns, missing values and missing labels."""
    from sightline.data.audit import Audit
    from sightline.data.spec import spec_from_dict

    rng = np.random.default_rng(seed)
    n = 6_000
    ver = np.where(rng.random(n) < 0.3, "v2", "v1")
    age = rng.integers(18, 80, n).astype(float)
    age[rng.random(n) < 0.05] = np.nan
    region = pd.Categorical(rng.choice(["n", "s", "e", "w", None], n, p=[0.3, 0.3, 0.2, 0.15, 0.05]))
    y = rng.random(n) < 0.3
    right = rng.random(n) < np.where(ver == "v2", 0.8, np.where(region == "e", 0.6, 0.85))
    log = pd.DataFrame({"region": region, "age": age, "income": np.round(rng.lognormal(10, 1, n), -2),
                        "grp": pd.Categorical(rng.choice(["a", "b"], n)), "ver": pd.Categorical(ver),
                        "y": np.where(rng.random(n) < 0.1, None, np.where(y, "yes", "no")),
                        "pred": np.where(right == y, "yes", "no"), "score": rng.random(n)})
    columns = {"target": "y", "prediction": "pred", "score": "score", "model_version": "ver",
               "features": ["region", "age", "income"], "sensitive": ["grp"]}
    spec = spec_from_dict({"name": "u", "task": "binary", "positive_label": "yes", "current": "x.parquet",
                           "columns": columns, "primary_version": "v1"})
    return Audit(spec=spec, current=log, features=("region", "age", "income"), fingerprint=f"u{seed}")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unpaired_comparison_equals_simpson_check_on_the_long_frame(seed):
    audit = unpaired_audit(seed)
    data = slice_data(audit)
    got = compare_versions(audit, data, min_size=30)
    # The straightforward way: one long frame with every slice column of both versions' labelled rows.
    columns = [c for c in data.columns]
    other = audit.current[audit.current["ver"].astype(str) == "v2"]
    lb = audit.labelled(other)
    frame = pd.concat([audit.labelled()[columns].assign(**{VERSION: "v1", VALUE: (data.outcomes.y_true == data.outcomes.y_pred).astype(float)}),
                       lb[columns].assign(**{VERSION: "v2", VALUE: (audit.y_true(lb) == audit.y_pred(lb)).astype(float)})],
                      ignore_index=True)
    want = simpson_check(frame, columns, version=VERSION, value=VALUE, versions=("v1", "v2"), min_size=30, n_bins=data.n_bins)
    assert not got.paired
    for field in dataclasses.fields(want):
        a, b = getattr(got, field.name), getattr(want, field.name)
        if isinstance(b, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        elif field.name == "settings":
            assert {k: v for k, v in a.items() if k != "compared_on"} == b
        elif isinstance(b, float) and np.isnan(b):
            assert np.isnan(a), field.name
        else:
            assert a == b, field.name


def test_versions_match_as_strings_like_astype_str():
    """Version values are compared by their string form: None, NaN, 1 and 1.0 stay what
    astype(str) makes of them."""
    rng = np.random.default_rng(4)
    n = 3_000
    pool = np.array(["v1", "v2", None, np.nan, 1, 1.0], dtype=object)
    versions = pool[rng.integers(0, len(pool), n)]
    frame = pd.DataFrame({"version": versions, "value": rng.integers(0, 2, n).astype(float), "g": rng.choice(["a", "b"], n)})
    as_str = frame["version"].astype(str)
    for a, b in (("v1", "v2"), ("1", "1.0"), ("None", "nan")):
        result = simpson_check(frame, ["g"], versions=(a, b), min_size=5)
        assert result.overall[a]["n"] == int((as_str == a).sum())
        assert result.overall[b]["n"] == int((as_str == b).sum())
    top = as_str.value_counts()
    default = simpson_check(frame, ["g"], min_size=5)
    assert (default.version_a, default.version_b) == (top.index[0], top.index[1])
