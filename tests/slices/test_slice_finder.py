"""Worst-slice discovery: finds planted bad slices, finds nothing on pure noise, drops redundant
children, and its p-values agree with statsmodels / scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sightline.slices.encoding import encode_columns
from sightline.slices.finder import find_worst_slices

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
    import sightline.slices.finder as finder

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
    from sightline.slices import slice_data
    from sightline.slices.section import discover

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


# -- fast paths equal the straightforward computation ------------------------------------------
def _random_codes(seed, n=3_000, levels=(3, 5, 2, 7)):
    rng = np.random.default_rng(seed)
    codes = [rng.integers(0, k, n).astype(np.int8) for k in levels]
    return rng, codes, list(levels)


def _groupby_lattice(codes, e, support, max_order=3):
    """Every slice of every column combination (parents pruned as the search does), by pandas."""
    import itertools

    frame = pd.DataFrame({i: c for i, c in enumerate(codes)}).assign(e=e, e2=e * e)
    want, alive = {}, set()
    for order in range(1, max_order + 1):
        for cols in itertools.combinations(range(len(codes)), order):
            if order > 1 and not all(p in alive for p in itertools.combinations(cols, order - 1)):
                continue
            agg = frame.groupby(list(cols))[["e", "e2"]].agg(["size", "sum"])
            big = agg[agg[("e", "size")] >= support]
            if len(big):
                alive.add(cols)
            for key, row in big.iterrows():
                key = key if isinstance(key, tuple) else (key,)
                want[(cols, tuple(int(k) for k in key))] = (row[("e", "size")], row[("e", "sum")], row[("e2", "sum")])
    return want


@pytest.mark.parametrize("binary, max_cells", [(True, None), (True, 64), (False, None)])
def test_lattice_counts_equal_a_groupby_per_column_combination(binary, max_cells, monkeypatch):
    """lattice_counts (block tables summed out for 0/1 errors; a weighted bincount per
    combination otherwise) equals a pandas groupby of every column combination, and the slice
    values decode back to the right cells. max_cells=64 forces small blocks and combinations
    too large for any block (counted on their own)."""
    from sightline.slices import lattice as slice_lattice
    from sightline.slices.finder import _slice_values

    if max_cells:
        monkeypatch.setattr(slice_lattice, "block_cells", lambda n_rows: max_cells)
    rng, codes, levels = _random_codes(1)
    e = (rng.random(len(codes[0])) < 0.2).astype(float) if binary else rng.gamma(2.0, size=len(codes[0]))
    support = 15
    combos, cand = slice_lattice.lattice_counts(codes, levels, e, binary, 3, support)
    values = _slice_values(combos, cand["combo"], cand["flat"], levels)
    got = {(combos[k], v): (n, err, sq) for k, v, n, err, sq in zip(cand["combo"], values, cand["n"], cand["err"], cand["err_sq"])}
    want = _groupby_lattice(codes, e, support)
    assert list(got) == sorted(got, key=lambda k: (len(k[0]), k[0], k[1]))  # level, combination, value order
    assert got.keys() == want.keys()
    for k, (n, err, sq) in want.items():
        assert got[k][0] == n
        assert got[k][1] == pytest.approx(err, rel=1e-12) and got[k][2] == pytest.approx(sq, rel=1e-12)


def test_block_tables_equal_one_bincount_per_combination_bit_for_bit():
    """On many mixed-level columns (some too large for a block), the block-table counts are the
    same arrays, in the same order and dtype, as one bincount per combination with the error
    bit folded in (the computation they replace), pruning included."""
    import itertools
    import math

    from sightline.slices.lattice import column_blocks, lattice_counts

    levels = [2, 5, 50, 4, 3, 12, 6, 50, 9, 5, 20]
    rng = np.random.default_rng(5)
    n = 40_000
    codes = [rng.integers(0, k, n).astype(np.int8) for k in levels]
    e = (rng.random(n) < 0.15).astype(float)
    support = 12
    combos, cand = lattice_counts(codes, levels, e, True, 3, support)
    want_combos, parts, alive = [], {k: [] for k in ("flat", "n", "err")}, set()
    for order in (1, 2, 3):
        for cols in itertools.combinations(range(len(levels)), order):
            if order > 1 and not all(p in alive for p in itertools.combinations(cols, order - 1)):
                continue
            key = np.zeros(n, dtype=np.int64)
            for c in cols:
                key = key * levels[c] + codes[c]
            cells = np.bincount(key * 2 + e.astype(np.int64), minlength=2 * math.prod(levels[c] for c in cols))
            counts = cells[0::2] + cells[1::2]
            keep = np.flatnonzero(counts >= support)
            if len(keep):
                alive.add(cols)
                want_combos.append(cols)
                parts["flat"].append(keep)
                parts["n"].append(counts[keep])
                parts["err"].append(cells[1::2][keep].astype(float))
    assert combos == want_combos
    for k, v in parts.items():
        want = np.concatenate(v)
        assert cand[k].dtype == want.dtype and np.array_equal(cand[k], want)
    assert np.array_equal(cand["err_sq"], cand["err"])
    # The cover holds every combination that fits a block, and every block fits.
    triples = list(itertools.combinations(range(len(levels)), 3))
    blocks = column_blocks(levels, triples, 4096)
    assert all(2 * math.prod(levels[c] for c in b) <= 4096 for b in blocks)
    fitting = [t for t in triples if 2 * math.prod(levels[c] for c in t) <= 4096]
    assert all(any(set(t) <= set(b) for b in blocks) for t in fitting)


@pytest.mark.parametrize("binary", [False, True])
def test_recount_equals_boolean_masks_bit_for_bit(binary):
    """Recounting shortlisted slices from their rarest predicate's rows gives exactly the sums
    of a boolean mask over every row (same rows, same order, so the same floating-point sums);
    with 0/1 errors, from one bincount per set of columns."""
    from sightline.slices.encoding import EncodedColumn
    from sightline.slices.finder import _recount

    rng, codes, levels = _random_codes(2, n=20_000)
    encoded = [EncodedColumn(f"c{i}", c, tuple(map(str, range(k))), "categorical") for i, (c, k) in enumerate(zip(codes, levels))]
    errors = (rng.random(20_000) < 0.3).astype(float) if binary else rng.gamma(2.0, size=20_000)
    cols_list = [(0,), (1, 3), (0, 2, 3), (1, 2), (2, 3), (0, 1, 3)] * 3
    vals_list = [tuple(int(rng.integers(0, levels[c])) for c in cols) for cols in cols_list]
    got = _recount(encoded, errors, cols_list, vals_list, binary)
    for (cols, vals), row in zip(zip(cols_list, vals_list), got):
        mask = np.ones(len(errors), dtype=bool)
        for c, v in zip(cols, vals):
            mask &= codes[c] == v
        assert tuple(row) == (mask.sum(), float(errors[mask].sum()), float((errors[mask] ** 2).sum()))
