"""Calibration's shared work — bin ids computed once, resamples drawn once, positives of the
chance simulation counted by a matrix product — gives the numbers of the straightforward
computation bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sightline.calibration import bootstrap as CB
from sightline.calibration import errors as E
from sightline.stats import reliability as R
from sightline.stats.bootstrap import BootstrapSettings, SharedResampleWeights, resample_weights


def _noise_by_bincount(y_prob, edges, *, n_sim, max_rows, seed):
    """calibration_noise as it was written first: float draws summed per bin by a bincount
    (then the one ECE of those sums)."""
    y_prob = np.asarray(y_prob, dtype=float)
    n = len(y_prob)
    rng = np.random.default_rng(seed)
    p = y_prob if n <= max_rows else y_prob[rng.choice(n, max_rows, replace=False)]
    k = len(edges) - 1
    ids = R.bin_ids(p, edges)
    count, prob = np.bincount(ids, minlength=k), np.bincount(ids, weights=p, minlength=k)
    out = []
    for start in range(0, n_sim, 25):
        draws = (rng.random((min(25, n_sim - start), len(p))) < p).astype(float)
        b = draws.shape[0]
        offsets = (np.arange(b)[:, None] * k + ids[None, :]).ravel()
        sums = np.bincount(offsets, weights=draws.ravel(), minlength=b * k).reshape(b, k)
        out.append(R.calibration_errors(count, sums, prob)[0])
    return np.concatenate(out) * np.sqrt(len(p) / n)


@pytest.mark.parametrize("seed", range(8))
def test_noise_equals_bincount_of_the_same_draws(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3_000))
    p = np.round(rng.beta(2, 3, n), int(rng.integers(1, 4)))
    edges = R.bin_edges(p, n_bins=int(rng.integers(2, 20)), strategy=("uniform", "quantile")[seed % 2])
    max_rows, n_sim = int(rng.integers(50, 2_000)), int(rng.integers(1, 80))
    want = _noise_by_bincount(p, edges, n_sim=n_sim, max_rows=max_rows, seed=seed)
    np.testing.assert_array_equal(CB.calibration_noise(p, edges, n_sim=n_sim, max_rows=max_rows, seed=seed), want)
    np.testing.assert_array_equal(CB.calibration_noise(p, edges, n_sim=n_sim, max_rows=max_rows, seed=seed,
                                                      ids=R.bin_ids(p, edges)), want)


def test_shared_weights_are_the_resample_weights():
    shared = SharedResampleWeights()
    first = shared(300, 60, 4)
    assert shared(300, 60, 4) is first  # drawn once
    for got, want in zip(first, resample_weights(300, 60, 4), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(4))
def test_metrics_and_groups_with_shared_work_equal_plain_calls(seed):
    """calibration_metrics / calibration_by_group given ids, table and shared weights (as the
    audit passes them) equal the calls that compute everything themselves."""
    rng = np.random.default_rng(seed)
    n = 3_000
    p = rng.beta(1.5, 3, n)
    y = (rng.random(n) < p ** 1.2).astype(float)
    settings = BootstrapSettings(n_resamples=60, max_rows=int(rng.choice([500, 5_000])), seed=seed)
    strategy = ("uniform", "quantile")[seed % 2]
    edges = R.bin_edges(p, n_bins=8, strategy=strategy)
    ids = R.bin_ids(p, edges)
    weights = SharedResampleWeights()
    table = R.reliability_table(y, p, edges=edges, ids=ids)
    pd.testing.assert_frame_equal(table, R.reliability_table(y, p, edges=edges), check_exact=True)
    pd.testing.assert_frame_equal(
        E.calibration_metrics(y, p, edges=edges, ids=ids, table=table, weights=weights, settings=settings),
        E.calibration_metrics(y, p, edges=edges, settings=settings), check_exact=True)
    groups = rng.choice(["a", "b", "c", "tiny"], n, p=[0.5, 0.3, 0.195, 0.005])
    got = E.calibration_by_group(y, p, sensitive_features=groups, n_bins=8, strategy=strategy, settings=settings,
                                 edges=edges, ids=ids, weights=weights)
    want = E.calibration_by_group(y, p, sensitive_features=groups, n_bins=8, strategy=strategy, settings=settings)
    for g, w in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(g, w, check_exact=True)
