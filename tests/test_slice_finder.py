"""Worst-slice discovery: finds planted bad slices, finds nothing on pure noise, drops redundant
children, and its p-values agree with statsmodels / scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sightline.slice_finder import find_worst_slices
from sightline.slices import encode_columns

COLUMNS = ["region", "plan", "device", "tenure"]


def make_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "region": rng.choice(["north", "south", "east", "west", "centre"], n),
        "plan": rng.choice(["free", "basic", "pro", "team"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "device": rng.choice(["ios", "android", "web"], n),
        "tenure": rng.integers(0, 120, n).astype(float),
    })


def search(frame, errors, **kw):
    enc = encode_columns(frame, COLUMNS, n_bins=4)
    return find_worst_slices([enc[c] for c in COLUMNS], errors, **kw)


def planted(n=20000, seed=0, base=0.10, bad=0.35):
    frame = make_frame(n, seed)
    rng = np.random.default_rng(seed + 100)
    in_slice = ((frame["region"] == "east") & (frame["plan"] == "pro")).to_numpy()
    errors = (rng.random(n) < np.where(in_slice, bad, base)).astype(float)
    return frame, errors, in_slice


def test_planted_bad_slice_is_found_and_ranked_first():
    frame, errors, in_slice = planted()
    result = search(frame, errors, min_size=30, max_order=3)
    assert len(result.slices), "the planted slice must be found"
    top = result.slices.iloc[0]
    assert top["slice"] == "region=east & plan=pro"
    assert top["n"] == in_slice.sum()
    assert top["error_rate"] == pytest.approx(errors[in_slice].mean())
    assert top["rest_error_rate"] == pytest.approx(errors[~in_slice].mean())
    assert top["sentence"].startswith("region = east and plan = pro (n=")
    # Its children (e.g. "& device=ios") say nothing new: dropped as redundant.
    assert not result.slices["slice"].str.startswith("region=east & plan=pro &").any()
    assert result.n_redundant > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_findings_on_noise(seed):
    """Errors independent of every column: the correction keeps false findings at zero."""
    frame = make_frame(20000, seed)
    errors = (np.random.default_rng(seed + 50).random(len(frame)) < 0.15).astype(float)
    result = search(frame, errors, min_size=30, max_order=3)
    assert result.n_examined > 300  # many slices were tested …
    assert len(result.slices) == 0  # … and none is reported


def test_raw_p_value_matches_statsmodels_ztest():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    frame, errors, in_slice = planted(n=8000, seed=4)
    top = search(frame, errors, min_size=30, max_order=2).slices.iloc[0]
    k, n = int(errors[in_slice].sum()), int(in_slice.sum())
    k_rest, n_rest = int(errors[~in_slice].sum()), int((~in_slice).sum())
    _, p = proportion.proportions_ztest([k, k_rest], [n, n_rest], alternative="larger")  # pooled two-proportion z-test
    assert top["p_value"] == pytest.approx(p, rel=1e-6)


def test_small_slice_p_value_is_an_exact_binomial_test():
    """Fewer than 10 expected errors: exact binomial test against the rest's error rate."""
    rng = np.random.default_rng(9)
    tiny = pd.DataFrame({"g": np.where(np.arange(4000) < 40, "rare", "common"), "h": rng.choice(["x", "y"], 4000)})
    e = np.zeros(4000)
    e[:12] = 1  # 12 errors in the 40-row slice
    e[40:40 + 80] = 1  # 80 errors in the other 3960 rows
    enc = encode_columns(tiny, ["g", "h"])
    found = find_worst_slices([enc["g"], enc["h"]], e, min_size=30, max_order=1).slices.set_index("slice")
    expected = stats.binomtest(12, 40, 80 / 3960, alternative="greater").pvalue
    assert found.loc["g=rare", "p_value"] == pytest.approx(expected, rel=1e-6)
    fisher = stats.fisher_exact([[12, 28], [80, 3880]], alternative="greater").pvalue
    assert abs(np.log10(found.loc["g=rare", "p_value"]) - np.log10(fisher)) < 0.5  # same order as Fisher's exact test


def test_child_not_worse_than_parent_is_redundant():
    frame = make_frame(20000, 5)
    rng = np.random.default_rng(6)
    bad = (frame["plan"] == "team").to_numpy()
    errors = (rng.random(len(frame)) < np.where(bad, 0.30, 0.10)).astype(float)
    result = search(frame, errors, min_size=30, max_order=3)
    assert result.slices.iloc[0]["slice"] == "plan=team"
    assert not result.slices["slice"].str.contains("plan=team &").any()
    assert not result.slices["slice"].str.contains("& plan=team").any()


def test_sampled_search_recounts_on_all_rows():
    frame, errors, in_slice = planted(n=60000, seed=7)
    result = search(frame, errors, min_size=30, max_order=3, max_search_rows=15000)
    assert result.sampled and result.search_rows == 15000
    top = result.slices.iloc[0]
    assert top["slice"] == "region=east & plan=pro"
    assert top["n"] == in_slice.sum()  # counted on all 60,000 rows, not the sample
    assert result.provenance()["sampled"] is True


def test_sampled_search_shortlists_large_slices(monkeypatch):
    """After a sampled search only a shortlist is re-counted on all rows; a large, moderately
    worse slice must make it even when many small noisy slices have a higher lift."""
    import sightline.slice_finder as finder

    monkeypatch.setattr(finder, "MAX_RECHECK", 10)
    frame = make_frame(60000, 12)
    rng = np.random.default_rng(12)
    free = (frame["plan"] == "free").to_numpy()
    errors = (rng.random(len(frame)) < np.where(free, 0.16, 0.10)).astype(float)
    result = search(frame, errors, min_size=30, max_order=3, max_search_rows=15000)
    assert result.sampled and "plan=free" in result.slices["slice"].tolist()


def test_regression_errors():
    frame = make_frame(10000, 8)
    rng = np.random.default_rng(8)
    bad = ((frame["device"] == "web") & (frame["tenure"] < 30)).to_numpy()
    abs_err = np.abs(rng.normal(0, np.where(bad, 3.0, 1.0)))
    result = search(frame, abs_err, binary_errors=False, min_size=30, max_order=2)
    assert "device=web" in result.slices.iloc[0]["slice"] and "tenure=" in result.slices.iloc[0]["slice"]
    assert "mean absolute error" in result.slices.iloc[0]["sentence"]


def test_no_errors_means_nothing_to_find():
    frame = make_frame(1000, 9)
    assert len(search(frame, np.zeros(1000)).slices) == 0


def test_sample_planted_weak_slice_is_found(sample_audit):
    """sample_data: education = Bachelors and occupation = Prof-specialty gets stale scores."""
    from sightline.slices import discover, slice_data

    data = slice_data(sample_audit)
    result = discover(data, min_size=30, max_order=3)
    slices = result.slices["slice"].tolist()
    assert "education=Bachelors & occupation=Prof-specialty" in slices[:5]
    row = result.slices.set_index("slice").loc["education=Bachelors & occupation=Prof-specialty"]
    labelled = sample_audit.labelled()
    mask = ((labelled["education"] == "Bachelors") & (labelled["occupation"] == "Prof-specialty")).to_numpy()
    assert row["n"] == mask.sum()
    wrong = sample_audit.y_true(labelled) != sample_audit.y_pred(labelled)
    assert row["error_rate"] == pytest.approx(wrong[mask].mean())
    assert row["p_adjusted"] < 0.001
