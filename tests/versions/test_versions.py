"""Model-version comparison: metric differences against scikit-learn on the joined frame,
weighted (bootstrap) metrics against scikit-learn on repeated rows, interval coverage on
simulated data, hand-counted disagreement, and the sample's planted effects."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest, norm
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, precision_score, recall_score, roc_auc_score

from sightline.core.errors import MissingInputError
from sightline.data.model_versions import paired_requests
from sightline.stats.differences import bootstrap_metric_differences, independent_proportion_difference, paired_proportion_difference
from sightline.stats.resampled import bootstrap_indices, resampled_binary_metrics, resampled_roc_auc
from sightline.versions import ONE_VERSION, compare_versions, versions_report, versions_verdict
from sightline.versions.pairs import disagreement_by_score_band, disagreement_by_slice

CHAMPION, CHALLENGER = "champion-1.0", "challenger-2.0"


# --------------------------------------------------------------------------- weighted metrics
def test_resampled_auc_equals_sklearn_on_each_resample_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300) + 0.3 * y, 1)  # heavy ties
    idx = bootstrap_indices(300, 5, seed=2)
    got = resampled_roc_auc(y, s, idx)
    for b in range(5):
        assert got[b] == pytest.approx(roc_auc_score(y[idx[b]], s[idx[b]]), abs=1e-12)
    assert resampled_roc_auc(y, s, np.arange(300)[None, :])[0] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert np.isnan(resampled_roc_auc(np.array([1, 1, 0]), np.array([0.2, 0.3, 0.1]), np.array([[0, 1, 1]])))[0]


def test_resampled_binary_metrics_equal_sklearn_on_each_resample():
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    idx = bootstrap_indices(200, 4, seed=3)
    assert idx.shape == (4, 200) and idx.min() >= 0 and idx.max() < 200
    got = resampled_binary_metrics(y, p, idx)
    for b in range(4):
        assert got["precision"][b] == pytest.approx(precision_score(y[idx[b]], p[idx[b]]))
        assert got["recall"][b] == pytest.approx(recall_score(y[idx[b]], p[idx[b]]))
        assert got["f1"][b] == pytest.approx(f1_score(y[idx[b]], p[idx[b]]))


# --------------------------------------------------------------------------- paired proportions
def test_paired_proportion_difference_counts_and_mcnemar():
    # 2x2 by hand: both right 60, only baseline right 5, only candidate right 15, neither 20
    base = np.r_[np.ones(60), np.ones(5), np.zeros(15), np.zeros(20)].astype(bool)
    cand = np.r_[np.ones(60), np.zeros(5), np.ones(15), np.zeros(20)].astype(bool)
    out = paired_proportion_difference(base, cand)
    assert (out["baseline"], out["candidate"], out["difference"]) == pytest.approx((0.65, 0.75, 0.10))
    assert (out["only_baseline"], out["only_candidate"], out["n"]) == (5, 15, 100)
    assert out["p_value"] == pytest.approx(binomtest(15, 20, 0.5).pvalue)
    assert out["lower"] < 0.10 < out["upper"]
    mcnemar = pytest.importorskip("statsmodels.stats.contingency_tables").mcnemar
    assert out["p_value"] == pytest.approx(mcnemar([[60, 5], [15, 20]], exact=True).pvalue)


def test_independent_difference_matches_statsmodels_newcombe():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    base = np.r_[np.ones(70), np.zeros(30)].astype(bool)
    cand = np.r_[np.ones(90), np.zeros(30)].astype(bool)
    out = independent_proportion_difference(base, cand)
    lo, hi = proportion.confint_proportions_2indep(90, 120, 70, 100, method="newcomb")
    assert (out["lower"], out["upper"]) == pytest.approx((lo, hi), abs=1e-9)


def test_paired_interval_coverage_on_simulated_data():
    """Correlated correctness with a known true accuracy difference of +0.03: the 95% interval
    should cover it close to 95% of the time (Monte Carlo band for 600 runs)."""
    rng = np.random.default_rng(7)
    n, runs, covered = 400, 600, 0
    # joint distribution of (baseline right, candidate right): both .72, only base .06, only cand .09, neither .13
    probs = [0.72, 0.06, 0.09, 0.13]
    for _ in range(runs):
        cell = rng.choice(4, n, p=probs)
        base, cand = np.isin(cell, [0, 1]), np.isin(cell, [0, 2])
        out = paired_proportion_difference(base, cand)
        covered += out["lower"] <= 0.03 <= out["upper"]
    assert 0.92 <= covered / runs <= 0.98


def test_paired_bootstrap_auc_interval_coverage_on_simulated_data():
    """Binormal scores: AUC = Φ(d / √2) per version, so the true difference is known."""
    rng = np.random.default_rng(11)
    d_base, d_cand = 1.0, 1.3
    truth = norm.cdf(d_cand / np.sqrt(2)) - norm.cdf(d_base / np.sqrt(2))
    runs, covered = 120, 0
    for r in range(runs):
        y = rng.integers(0, 2, 400)
        shared = rng.normal(size=400)  # the versions' scores are correlated, as on the same requests
        noise_a, noise_b = rng.normal(size=400), rng.normal(size=400)
        sa = y * d_base + (0.6 * shared + 0.8 * noise_a)
        sb = y * d_cand + (0.6 * shared + 0.8 * noise_b)
        pred = np.zeros(400, dtype=int)  # unused by ROC AUC
        row = bootstrap_metric_differences({"y": y, "pred": pred, "score": sa}, {"y": y, "pred": pred, "score": sb},
                                           ["roc_auc"], paired=True, n_resamples=300, max_rows=20_000, seed=r)[0]
        assert row["difference"] == pytest.approx(roc_auc_score(y, sb) - roc_auc_score(y, sa))
        covered += row["lower"] <= truth <= row["upper"]
    assert 0.87 <= covered / runs <= 0.99


# --------------------------------------------------------------------------- disagreement, by hand
def test_disagreement_by_score_band_by_hand():
    score = np.array([0.05, 0.07, 0.45, 0.48, 0.49, 0.55, 1.0, np.nan])
    dis = np.array([0, 0, 1, 1, 0, 1, 0, 1])
    out = disagreement_by_score_band(score, dis).set_index("band")
    assert out.loc["0.0–0.1", ["n", "disagreements"]].tolist() == [2, 0]
    assert out.loc["0.4–0.5", ["n", "disagreements"]].tolist() == [3, 2]
    assert out.loc["0.5–0.6", "rate"] == 1.0
    assert out.loc["0.9–1.0", "n"] == 1  # a score of exactly 1 belongs to the top band
    assert out["n"].sum() == 7  # the missing score is left out


def test_disagreement_by_slice_by_hand():
    frame = pd.DataFrame({"color": ["red"] * 4 + ["blue"] * 6, "size": ["S", "L"] * 5,
                          "disagree": [1, 1, 1, 0, 0, 0, 0, 1, 0, 0.0]})
    out = disagreement_by_slice(frame, ["color", "size"], min_size=3).set_index("slice")
    assert out.loc["color=red", ["n", "disagreements"]].tolist() == [4, 3]
    assert out.loc["color=blue", "rate"] == pytest.approx(1 / 6)
    assert out.loc["color=red & size=S", ["n", "disagreements"]].tolist() == [2, 2]
    assert bool(out.loc["color=red & size=S", "small"])  # 2 < min_size
    assert out.loc["color=red", "lift"] == pytest.approx(0.75 / 0.4)
    assert out.index[0] == "color=red"  # most disagreement first among slices that are not small


# --------------------------------------------------------------------------- the sample audit
@pytest.fixture(scope="module")
def comparison(sample_audit):
    return compare_versions(sample_audit, CHALLENGER)


def _joined_by_hand(audit) -> pd.DataFrame:
    log = audit.current
    champ = log[log["model_version"] == CHAMPION].set_index("request_id")
    chall = log[log["model_version"] == CHALLENGER].set_index("request_id")
    return champ.join(chall[["score", "predicted", "latency_ms"]], rsuffix="_c", how="inner")


def test_metric_differences_equal_sklearn_on_the_joined_frame(sample_audit, comparison):
    joined = _joined_by_hand(sample_audit)
    assert comparison.paired and comparison.n_shared == len(joined)
    lab = joined[joined["income"].notna()]
    y = (lab["income"] == ">50K").astype(int)
    pa, pc = (lab["predicted"] == ">50K").astype(int), (lab["predicted_c"] == ">50K").astype(int)
    table = comparison.metrics.set_index("metric")
    expected = {
        "accuracy": accuracy_score(y, pc) - accuracy_score(y, pa),
        "precision": precision_score(y, pc) - precision_score(y, pa),
        "recall": recall_score(y, pc) - recall_score(y, pa),
        "f1": f1_score(y, pc) - f1_score(y, pa),
        "roc_auc": roc_auc_score(y, lab["score_c"]) - roc_auc_score(y, lab["score"]),
        "brier_score": brier_score_loss(y, lab["score_c"]) - brier_score_loss(y, lab["score"]),
    }
    for metric, diff in expected.items():
        assert table.loc[metric, "difference"] == pytest.approx(diff, abs=1e-12), metric
        assert table.loc[metric, "lower"] <= table.loc[metric, "difference"] <= table.loc[metric, "upper"], metric
        assert table.loc[metric, "n"] == len(lab)
    assert table.loc["accuracy", "baseline"] == pytest.approx(accuracy_score(y, pa))
    sel = (joined["predicted_c"] == ">50K").mean() - (joined["predicted"] == ">50K").mean()
    assert table.loc["selection_rate", "difference"] == pytest.approx(sel)
    assert comparison.agreement["rate"] == pytest.approx((joined["predicted"] == joined["predicted_c"]).mean())
    assert comparison.scores["pearson"] == pytest.approx(np.corrcoef(joined["score"], joined["score_c"])[0, 1])


def test_bootstrap_on_a_sample_keeps_full_point_estimates(sample_audit, comparison):
    small = compare_versions(sample_audit, CHALLENGER, max_rows=500, n_resamples=200)
    a, b = small.metrics.set_index("metric"), comparison.metrics.set_index("metric")
    np.testing.assert_allclose(a["difference"], b["difference"], atol=1e-12)
    assert a.loc["roc_auc", "lower"] <= a.loc["roc_auc", "difference"] <= a.loc["roc_auc", "upper"]


def test_sample_planted_weak_slice_is_where_they_disagree_most(comparison):
    top = comparison.by_slice[~comparison.by_slice["small"]].iloc[0]
    assert "education=Bachelors" in top["slice"] and "occupation=Prof-specialty" in top["slice"]
    assert top["candidate_right"] > top["baseline_right"]  # the champion's caching bug is fixed in the challenger
    band = comparison.by_band.set_index("band")
    assert band.loc["0.4–0.5", "rate"] > band.loc["0.0–0.1", "rate"]  # near the threshold more flips


def test_sample_verdict_and_latency(comparison):
    verdict = versions_verdict(comparison)
    assert verdict.headline.startswith(f"Version {CHALLENGER} agrees with {CHAMPION} on ")
    assert "95% CI" in verdict.headline
    assert "slower" in verdict.headline  # the shadow challenger is slower (median 60 vs 40 ms by construction)
    assert comparison.latency.loc[CHALLENGER, "p50_ms"] > comparison.latency.loc[CHAMPION, "p50_ms"]


def test_paired_requests_keep_the_label_and_leave_the_log_untouched(sample_audit):
    before = sample_audit.current.copy()
    pairs = paired_requests(sample_audit, CHALLENGER)
    assert pairs["id"].is_unique and len(pairs) == (sample_audit.current["model_version"] == CHALLENGER).sum()
    pd.testing.assert_frame_equal(sample_audit.current, before)


def test_one_version_explains_itself(sample_audit):
    one = dataclasses.replace(sample_audit, current=sample_audit.current[sample_audit.current["model_version"] == CHAMPION])
    with pytest.raises(MissingInputError, match="single model version"):
        compare_versions(one)
    report = versions_report(one, {})
    assert report["status"] == "single_version" and report["reason"] == ONE_VERSION


def test_unpaired_comparison_without_id_column(sample_audit):
    cols = dataclasses.replace(sample_audit.spec.columns, id=None)
    audit = dataclasses.replace(sample_audit, spec=sample_audit.spec.replace(columns=cols))
    comp = compare_versions(audit, CHALLENGER)
    assert not comp.paired and not comp.agreement
    log = sample_audit.current[sample_audit.current["income"].notna()]
    acc = {v: accuracy_score(g["income"] == ">50K", g["predicted"] == ">50K") for v, g in log.groupby("model_version")}
    table = comp.metrics.set_index("metric")
    assert table.loc["accuracy", "difference"] == pytest.approx(acc[CHALLENGER] - acc[CHAMPION])
    assert any("columns.id" in note for note in comp.notes)
    assert versions_verdict(comp).status in ("green", "amber", "red")


# --------------------------------------------------------------------------- fast paths
def _auc_float_reference(y_true, y_score, idx):
    """The resampled AUC computed with float weights over all resamples at once (the
    straightforward form of the Mann–Whitney count per resample)."""
    y = np.asarray(y_true).astype(np.int64)
    uniq, rank = np.unique(np.asarray(y_score, dtype=np.float64), return_inverse=True)
    b, g = idx.shape[0], len(uniq)
    key = (rank[idx] + (np.arange(b) * g)[:, None]).ravel()
    total = np.bincount(key, minlength=b * g).reshape(b, g).astype(np.float64)
    pos = np.bincount(key, weights=y[idx].ravel().astype(np.float64), minlength=b * g).reshape(b, g)
    neg = total - pos
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


@pytest.mark.parametrize("seed", range(4))
def test_resampled_auc_in_chunks_equals_the_float_computation_bit_for_bit(seed):
    """Integer counts in chunks of resamples give exactly the floats of the one-shot float
    computation (its sums are of whole and half numbers, so exact), whatever the chunk size."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 3_000))
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    s = np.round(rng.random(n), int(rng.integers(1, 5)))
    idx = bootstrap_indices(n, 60, seed)
    want = _auc_float_reference(y, s, idx)
    for chunk in (1, 997, 50_000, 4_000_000):
        np.testing.assert_array_equal(resampled_roc_auc(y, s, idx, chunk_cells=chunk), want)


def test_version_rows_and_counts_equal_astype_str():
    """Selecting and counting versions from a categorical's distinct values gives exactly
    astype(str)'s rows and value_counts (order included); other columns take the plain path."""
    from sightline.data.model_versions import version_counts, version_rows

    rng = np.random.default_rng(7)
    for trial in range(40):
        n = int(rng.integers(0, 400))
        if trial % 3 == 0:
            values = pd.Series(pd.Categorical.from_codes(rng.integers(-1, 4, n), [1, "1", 2.0, "v2"]))
        elif trial % 3 == 1:
            values = pd.Series(rng.choice(["v1", "v2", "v10", None], n), dtype="category")
        else:
            values = pd.Series(np.array(["v1", None, np.nan, 1, 1.0], dtype=object)[rng.integers(0, 5, n)])
        as_str = values.astype(str)
        assert list(version_counts(values).items()) == list(as_str.value_counts().to_dict().items())
        for v in set(as_str) | {"absent"}:
            np.testing.assert_array_equal(version_rows(values, v), (as_str == v).to_numpy())


@pytest.mark.parametrize("seed", range(4))
def test_resampled_classification_metrics_equal_the_separate_counts_bit_for_bit(seed):
    """One count of (class, score rank) cells per resample gives exactly the floats of
    resampled_binary_metrics and resampled_roc_auc — predictions made by thresholding the score
    (the shared path) or not (the fallback) — and scikit-learn's metrics on a resample."""
    from sightline.stats.resampled import resampled_classification_metrics

    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 2_000))
    s = np.round(rng.random(n), int(rng.integers(1, 4)))
    y = (rng.random(n) < s).astype(int)
    idx = bootstrap_indices(n, 70, seed)
    for p in ((s >= 0.5).astype(int), rng.integers(0, 2, n)):
        got = resampled_classification_metrics(y, p, s, idx, chunk_cells=int(rng.integers(1, 50_000)))
        want = resampled_binary_metrics(y, p, idx)
        want["roc_auc"] = resampled_roc_auc(y, s, idx)
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
        assert got["roc_auc"][0] == pytest.approx(roc_auc_score(y[idx[0]], s[idx[0]]), abs=1e-12)
        assert got["f1"][0] == pytest.approx(f1_score(y[idx[0]], p[idx[0]]))


def test_performance_and_model_versions_show_one_comparison(sample_audit):
    """One pair of versions, one set of intervals: the Performance section's comparison is the
    Model versions comparison (the same function, rows and resamples)."""
    from sightline.performance import performance_section

    perf = performance_section(sample_audit).report["versions"]
    assert [v["version"] for v in perf] == [CHALLENGER] and perf[0]["paired"]
    comp = compare_versions(sample_audit, CHALLENGER)
    assert perf[0]["n"] == comp.n_labelled
    for row in comp.metrics.to_dict(orient="records"):
        got = perf[0]["metrics"][row["metric"]]
        for key in ("baseline", "candidate", "difference", "lower", "upper", "p_value"):
            want = row[key]
            assert (got[key] is None and not np.isfinite(want)) or got[key] == pytest.approx(want, rel=1e-12), (row["metric"], key)


def test_simpson_check_reads_the_same_comparison(sample_audit):
    """The Slices page's Simpson check compares the same pairs with the same test as Model versions:
    equal accuracies, pair count and McNemar p-value (checked by hand with scipy's binomtest)."""
    from sightline.slices import compare_versions as simpson_versions

    simpson = simpson_versions(sample_audit, min_size=30)
    acc = compare_versions(sample_audit, CHALLENGER).metrics.set_index("metric").loc["accuracy"]
    assert simpson.paired and simpson.n_pairs == acc["n"]
    assert simpson.overall[CHAMPION]["value"] == pytest.approx(acc["baseline"], rel=1e-12)
    assert simpson.overall[CHALLENGER]["value"] == pytest.approx(acc["candidate"], rel=1e-12)
    assert simpson.p_value == pytest.approx(acc["p_value"], rel=1e-12)
    pairs = paired_requests(sample_audit, CHALLENGER)
    pairs = pairs[pairs["income"].notna()]
    y = sample_audit.y_true(pairs)
    only_base = int(((pairs["pred_base"] == y) & (pairs["pred_cand"] != y)).sum())
    only_cand = int(((pairs["pred_base"] != y) & (pairs["pred_cand"] == y)).sum())
    assert simpson.p_value == pytest.approx(binomtest(only_cand, only_base + only_cand, 0.5).pvalue)
