"""The drift section's fast paths give the numbers of the straightforward computation, exactly:
PSI, chi-square and missing rates per window against a window-by-window loop, per-window
quantiles against pandas' groupby quantile, window codes against np.unique, and a section that
shares bins, calibrator and score arrays between its views against the views computed alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sightline.drift import drift_over_time, drift_section, drift_vs_reference
from sightline.drift import windows as dw
from sightline.drift.feature_changes import QUANTILES, _windowed_quantiles
from sightline.drift.timeline import label_free_summary
from sightline.stats.windows import window_codes
from tests.drift.test_drift import make_audit, synthetic


def _log(seed: int, *, shuffled: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference and a log with missing values, an unseen category, rows without a timestamp
    and a numeric feature logged partly as text; in time order or not."""
    ref, cur = synthetic(3000, seed), synthetic(6000, seed + 1)
    rng = np.random.default_rng(seed)
    cur.loc[rng.random(len(cur)) < 0.05, "num"] = np.nan
    cur.loc[rng.random(len(cur)) < 0.03, "cat"] = None
    cur.loc[rng.random(len(cur)) < 0.02, "cat"] = "new"
    cur.loc[rng.random(len(cur)) < 0.01, "ts"] = pd.NaT
    cur["text_num"] = cur["num"].astype(object)
    cur.loc[cur.index[:40], "text_num"] = "n/a"
    ref["text_num"] = ref["num"]
    cur = cur.sample(frac=1, random_state=seed) if shuffled else cur.sort_values("ts", na_position="first")
    return ref, cur.reset_index(drop=True)


@pytest.mark.parametrize("shuffled", [False, True], ids=["time-ordered", "shuffled"])
def test_psi_chi_square_and_missing_per_window_equal_a_window_by_window_loop(shuffled):
    ref, cur = _log(11, shuffled=shuffled)
    features = ["num", "cat", "text_num"]
    ot = drift_over_time(make_audit(cur, ref, features), "week")
    win, starts = window_codes(cur["ts"], "week")
    psi = ot.psi.set_index(["feature", "window"])
    missing = ot.missing.set_index(["feature", "window"])
    for col in features + ["score"]:
        binning = dw.fit_binning(col, ref[col])
        rc = np.bincount(binning.codes(ref[col]), minlength=binning.n_bins)
        for k, start in enumerate(starts):
            rows = cur[col][win == k]
            cc = np.bincount(binning.codes(rows), minlength=binning.n_bins)
            assert psi.loc[(col, start), "psi"] == dw.population_stability_index(ref[col], rows), (col, k)
            assert psi.loc[(col, start), "p_value"] == dw.chi2_pvalue_from_counts(rc, cc[None, :])[0], (col, k)
            assert psi.loc[(col, start), "rows"] == len(rows)
            if col != "score":
                assert missing.loc[(col, start), "missing_rate"] == rows.isna().mean(), (col, k)


def test_windowed_quantiles_equal_pandas_groupby_quantile_to_the_last_bit():
    rng = np.random.default_rng(5)
    for trial in range(60):
        n, n_w = int(rng.integers(1, 4000)), int(rng.integers(1, 14))
        x = [rng.normal(size=n), rng.integers(0, 4, n).astype(float), rng.lognormal(size=n) * 1e3][trial % 3]
        x[rng.random(n) < 0.1] = np.nan
        w = rng.integers(-1, n_w, n)
        if trial % 2:
            w = np.sort(w)
        keep = (w >= 0) & ~np.isnan(x)
        want = (pd.Series(x[keep]).groupby(w[keep]).quantile(list(QUANTILES)).unstack()
                .reindex(range(n_w)).to_numpy(dtype=float) if keep.any() else np.full((n_w, len(QUANTILES)), np.nan))
        np.testing.assert_array_equal(_windowed_quantiles(x, w, n_w), want)


def test_a_section_that_shares_its_inputs_reports_what_each_view_computes_alone(sample_audit):
    section = drift_section(sample_audit)
    vs = drift_vs_reference(sample_audit)
    ot = drift_over_time(sample_audit)
    alone = label_free_summary(sample_audit, ot, vs.calibration)
    features = pd.DataFrame(section.report["features"])
    pd.testing.assert_frame_equal(features, vs.features.drop(columns=["kind"]).reset_index(drop=True), check_exact=True)
    assert section.report["prediction"] == vs.prediction and section.report["label"] == vs.label
    assert section.report["dataset"] == vs.dataset
    psi = pd.DataFrame(section.report["psi_by_window"])
    assert psi["psi"].tolist() == ot.psi["psi"].tolist() and psi["p_value"].tolist() == ot.psi["p_value"].tolist()
    assert pd.DataFrame(section.report["windows"]["table"]).drop(columns="window").equals(
        ot.windows.drop(columns="window").reset_index(drop=True))
    shared = section.report["label_free"]
    for key in ("estimate_unlabelled", "realised_labelled", "estimate_labelled", "reference", "unlabelled_rows"):
        assert shared[key] == alone[key], key


def test_numeric_bin_codes_equal_numpy_searchsorted():
    rng = np.random.default_rng(8)
    for trial in range(20):
        ref = pd.Series([rng.normal(size=500), rng.integers(0, 5, 500).astype(float)][trial % 2])
        x = np.concatenate([rng.normal(size=3000) * 2, ref.to_numpy()[:50], [np.inf, -np.inf, np.nan]])
        binning = dw.fit_binning("x", ref)
        want = np.searchsorted(binning.edges, x, side="left")
        want[np.isnan(x)] = binning.missing_bin
        got = binning.codes(pd.Series(x))
        assert got.dtype == np.int64 and got.tolist() == want.tolist()
