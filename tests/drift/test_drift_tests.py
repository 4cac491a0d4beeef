"""sightline.drift.methods equals evidently: on random data, run_evidently's fast path (no
evidently) gives the same test, statistic / p-value, threshold and drifted flag per column, and
the same DriftedColumnsCount result, as evidently's own Report (run_evidently(engine="evidently")).

Equal means equal to the last bit within one process: drift_tests sums over categories in the
order evidently does (a Python set of the values, whose order depends on the process's string
hash seed — so evidently's own Jensen–Shannon and chi-square results vary by ~1e-13 between
processes). evidently takes ~8 s to import, so each Report here tests many columns at once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sightline.drift import methods as dt
from sightline.drift import windows as dw
from sightline.drift.reference import run_evidently
from sightline.drift.settings import DriftSettings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_AUDIT = ROOT / "sample_data" / "audit.yaml"


def _numeric(rng, n, shift=0.0):
    """Numeric columns of every shape the default test choice distinguishes."""
    x = {
        "normal": rng.normal(shift, 1, n),
        "normal_big_shift": rng.normal(3 * shift, 1, n),
        "lognormal": rng.lognormal(0.4 * shift, 1, n),
        "nan_inf": rng.normal(shift, 2, n),
        "inf_only": rng.normal(shift, 1, n),          # ±inf and no NaN on one side: DriftedColumnsCount keeps them
        "few_6_to_20": rng.integers(0, 12 + int(4 * shift), n).astype(float),
        "three_values": rng.choice([1.0, 2.0, 3.0], n, p=[0.5, 0.3, 0.2] if not shift else [0.2, 0.3, 0.5]),
        "two_values": rng.choice([0.0, 1.0], n, p=[0.7, 0.3] if not shift else [0.4, 0.6]),
        "constant": np.full(n, 7.0),
        "mostly_missing": np.where(rng.random(n) < 0.9, np.nan, rng.normal(shift, 1, n)),
    }
    x["nan_inf"][rng.random(n) < 0.05] = np.nan
    x["nan_inf"][rng.random(n) < 0.02] = np.inf
    x["nan_inf"][rng.random(n) < 0.01] = -np.inf
    if not shift:  # the reference side holds the infs
        x["inf_only"][rng.random(n) < 0.01] = np.inf
    return x


def _categorical(rng, n, shift=0.0):
    base = ["a", "b", "c", "d", "e"]
    p = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
    moved = p[::-1] if shift else p
    x = {
        "cat_same": rng.choice(base, n, p=p),
        "cat_moved": rng.choice(base, n, p=moved),
        "cat_unseen": rng.choice(base + (["NEW"] if shift else []), n,
                                 p=np.append(p * 0.9, 0.1) if shift else p),
        "cat_nan": np.where(rng.random(n) < 0.1, None, rng.choice(base, n, p=p)).astype(object),
        "cat_two": rng.choice(["x", "y"], n, p=[0.5, 0.5] if not shift else [0.35, 0.65]),
        "cat_constant": np.full(n, "only", dtype=object),
        "cat_constant_other": np.full(n, "left" if not shift else "right", dtype=object),
    }
    return x


def frames(n_ref: int, n_cur: int, seed: int, shift: float) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Reference and current frames; ``shift`` moves the ``*_moved``/``*shift`` columns only a
    little when small and a lot when large, so both outcomes occur."""
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({**_numeric(rng, n_ref), **_categorical(rng, n_ref)})
    cur = pd.DataFrame({**_numeric(rng, n_cur, shift), **_categorical(rng, n_cur, shift)})
    cur["inf_only"] = cur["inf_only"].fillna(0.0)
    kinds = {c: dw.NUMERIC if pd.api.types.is_float_dtype(ref[c]) else dw.CATEGORICAL for c in ref.columns}
    return ref, cur, kinds


def assert_same(ours, theirs):
    (rows, dataset), (ev_rows, ev_dataset) = ours, theirs
    assert rows.attrs["engine"] == "sightline" and ev_rows.attrs["engine"] == "evidently"
    assert rows["column"].tolist() == ev_rows["column"].tolist()
    for a, b in zip(rows.to_dict("records"), ev_rows.to_dict("records")):
        assert (a["method"], a["threshold"], a["drifted"]) == (b["method"], b["threshold"], b["drifted"]), (a, b)
        for key in ("statistic", "p_value"):
            if b[key] is None or (isinstance(b[key], float) and np.isnan(b[key])):
                assert a[key] is None or np.isnan(a[key]), (key, a, b)
            else:  # the same numpy/scipy calls on the same values in the same order: equal to the last bit
                assert a[key] == b[key], (key, a, b)
    assert dataset == ev_dataset


def both(ref, cur, columns, kinds, settings, extra=()):
    return (run_evidently(ref, cur, columns, kinds, settings, extra=list(extra), engine="sightline"),
            run_evidently(ref, cur, columns, kinds, settings, extra=list(extra), engine="evidently"))


# ------------------------------------------------------------------ evidently's default test choice
@pytest.mark.parametrize("n_ref, n_cur, seed", [(3000, 2500, 0), (800, 600, 1)], ids=["reference>1000", "reference<=1000"])
def test_default_tests_equal_evidently(n_ref, n_cur, seed):
    ref, cur, kinds = frames(n_ref, n_cur, seed, shift=0.4)
    columns = list(ref.columns)
    ours, theirs = both(ref, cur, columns, kinds, DriftSettings())
    assert_same(ours, theirs)
    rows = ours[0].set_index("column")
    methods = set(rows["method"])
    if n_ref > 1000:
        assert methods == {"Wasserstein distance (normed)", "Jensen-Shannon distance", "K-S p_value"}
        assert rows.loc["three_values", "method"] == rows.loc["cat_moved", "method"] == "Jensen-Shannon distance"
        assert rows.loc["mostly_missing", "method"] == "K-S p_value"     # ≤ 1000 reference values left after NaN
    else:
        assert methods == {"K-S p_value", "chi-square p_value", "Z-test p_value"}
        assert rows.loc["cat_constant", "p_value"] == 1.0                 # one shared value: evidently's p = 1
    assert rows["drifted"].any() and not rows["drifted"].all()            # both outcomes are compared
    if n_ref > 1000:  # the quirk is exercised: ValueDrift drops the reference's infs, DriftedColumnsCount keeps
        assert rows.loc["inf_only", "drifted"]          # them, and its Wasserstein distance (std = NaN) then never drifts
        assert ours[1]["n_drifted"] == rows["drifted"].sum() - 1


# ------------------------------------------------------------------ named tests, thresholds, overrides, extras
def test_named_tests_thresholds_and_overrides_equal_evidently():
    ref, cur, kinds = frames(2500, 2000, 2, shift=0.15)
    columns = [c for c in ref.columns if c not in ("cat_two", "normal")]
    overrides = {
        "lognormal": {"method": "jensenshannon"},                       # numeric, > 20 values: Sturges bins
        "few_6_to_20": {"method": "jensenshannon", "threshold": 0.02},  # numeric, ≤ 20 values: one bin per value
        "nan_inf": {"method": "ks"},
        "inf_only": {"method": "wasserstein", "threshold": 0.05},       # (PSI there: evidently's error, see below)
        "normal_big_shift": {"method": "wasserstein", "threshold": 0.3},
        "cat_moved": {"method": "chisquare", "threshold": 0.01},
        "cat_unseen": {"method": "chisquare"},                          # a category the reference lacks: f_exp = 0
        "cat_nan": {"method": "jensenshannon"},
        "cat_constant_other": {"method": "z"},
        "cat_two": {"method": "z", "threshold": 0.2},                   # extra columns take only their overrides
        "normal": {"threshold": 0.02},
    }
    settings = DriftSettings(method="psi", threshold=0.05, columns=overrides, drift_share=0.3)
    ours, theirs = both(ref, cur, columns, kinds, settings, extra=["cat_two", "normal"])
    assert_same(ours, theirs)
    rows = ours[0].set_index("column")
    assert {"PSI", "Jensen-Shannon distance", "K-S p_value", "Wasserstein distance (normed)", "chi-square p_value",
            "Z-test p_value"} <= set(rows["method"])
    assert rows.loc["normal", "method"] == "Wasserstein distance (normed)" and rows.loc["normal", "threshold"] == 0.02
    assert rows.loc[rows["method"] == "PSI", "drifted"].nunique() == 2


def test_dataset_drifts_when_the_share_reaches_drift_share_exactly():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"a": rng.normal(0, 1, 2000), "b": rng.normal(0, 1, 2000),
                        "c": rng.normal(0, 1, 2000), "d": rng.normal(0, 1, 2000)})
    cur = ref.assign(a=ref["a"] + 2, b=ref["b"] + 2)                    # 2 of 4 drift: share 0.5
    kinds = dict.fromkeys(ref.columns, dw.NUMERIC)
    ours, theirs = both(ref, cur, list(ref.columns), kinds, DriftSettings(drift_share=0.5))
    assert_same(ours, theirs)
    assert ours[1] == {"n_drifted": 2, "share": 0.5, "drifted": True}   # share ≥ drift_share
    assert dt.dataset_drift([True, False, False], 0.34) == {"n_drifted": 1, "share": 1 / 3, "drifted": False}


# ------------------------------------------------------------------ when evidently runs instead
def test_a_test_sightline_does_not_reproduce_runs_evidently():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"num": rng.normal(0, 1, 1500), "other": rng.normal(0, 1, 1500)})
    cur = pd.DataFrame({"num": rng.normal(0.2, 1, 1500), "other": rng.normal(0, 1, 1500)})
    kinds = dict.fromkeys(ref.columns, dw.NUMERIC)
    settings = DriftSettings(columns={"num": {"method": "hellinger"}})
    rows, _ = run_evidently(ref, cur, ["num", "other"], kinds, settings)
    assert rows.attrs["engine"] == "evidently" and rows.loc[0, "method"] == "Hellinger distance"
    with pytest.raises(dt.NotReproduced):
        run_evidently(ref, cur, ["num", "other"], kinds, settings, engine="sightline")
    # a side with no values left: evidently's own error, not ours
    empty = ref.assign(other=np.nan)
    with pytest.raises(ValueError, match="empty column"):
        run_evidently(empty, cur, ["num", "other"], kinds, DriftSettings())
    # PSI where DriftedColumnsCount keeps a side's infs: numpy's error inside evidently, not ours
    with pytest.raises(ValueError, match="not finite"):
        run_evidently(ref.assign(other=ref["other"].replace(ref["other"].iloc[0], np.inf)), cur, ["num", "other"], kinds,
                      DriftSettings(method="psi"))


def test_the_default_path_never_imports_evidently():
    code = ("import sys; from sightline.data.spec import load_spec; from sightline.data.audit import load_audit; "
            "from sightline.drift.section import drift_section; "
            f"a = load_audit(load_spec({str(SAMPLE_AUDIT)!r})); s = drift_section(a); "
            "assert 'evidently' not in sys.modules, 'evidently imported'; "
            "print(s.provenance['evidently']['implementation'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("sightline.drift.methods") and dt.EVIDENTLY_CHECKED in out.stdout


def test_implemented_tests_follow_evidentlys_column_types():
    from evidently.legacy.calculations.stattests import registry
    from evidently.legacy.core import ColumnType

    for name, test in dt.TESTS.items():
        for kind, column_type in ((dt.NUM, ColumnType.Numerical), (dt.CAT, ColumnType.Categorical)):
            try:
                theirs = registry.get_registered_stattest(name, column_type)
            except registry.StatTestInvalidFeatureTypeError:
                assert not dt.implements(name, kind), (name, kind)
                continue
            assert dt.implements(name, kind), (name, kind)
            assert (test.display_name, test.default_threshold) == (theirs.display_name, theirs.default_threshold)


def test_distinct_count_checked_on_a_prefix_answers_every_threshold_as_the_full_count():
    rng = np.random.default_rng(31)
    sides = [rng.normal(size=5000), rng.integers(0, 4, 5000).astype(float),
             np.r_[np.zeros(3000), rng.normal(size=10)],            # the distinct values come late
             np.r_[np.ones(2000), [2.0, 3.0]], np.array(["a", "b", "c"] * 900 + ["d", "e", "f"], dtype=object)]
    for a in sides:
        for b in sides[:2] if a.dtype == float else [a[::-1]]:
            for above in (2, 5, 20):
                full = dt._n_unique(a, b)
                assert (dt._n_unique(a, b, above=above) > above) == (full > above)
                assert dt._n_unique(a, above=above) > above or dt._n_unique(a, above=above) == dt._n_unique(a)
            assert dt.default_test(a, b, dt.NUM if a.dtype == float else dt.CAT) is not None
