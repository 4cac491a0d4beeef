"""The one grouped confusion-count routine against scikit-learn's confusion_matrix, per group."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from sightline.stats.confusion import CELLS, confusion_cells, confusion_counts, counts_of_cells


@pytest.mark.parametrize("seed", range(4))
def test_grouped_counts_equal_sklearn_per_group(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 3000)), int(rng.integers(1, 12))
    y = rng.integers(0, 2, n)
    p = rng.integers(0, 2, n)
    codes = rng.integers(0, k, n)
    got = confusion_counts(y, p, codes, k)
    assert got.shape == (k, 4) and got.dtype == np.int64
    for g in range(k):
        mask = codes == g
        want = confusion_matrix(y[mask], p[mask], labels=[0, 1]).ravel()
        np.testing.assert_array_equal(got[g], want)
    np.testing.assert_array_equal(confusion_counts(y, p)[0], confusion_matrix(y, p, labels=[0, 1]).ravel())
    np.testing.assert_array_equal(counts_of_cells(confusion_cells(y, p), codes, k), got)


def test_hand_counted_and_empty():
    y, p = [1, 1, 0, 0, 1], [1, 0, 1, 0, 1]
    assert dict(zip(CELLS, confusion_counts(y, p)[0].tolist())) == {"tn": 1, "fp": 1, "fn": 1, "tp": 2}
    assert dict(zip(CELLS, confusion_counts(y, p, np.array([0, 0, 0, 2, 2]), 3)[1].tolist())) == dict.fromkeys(CELLS, 0)
    np.testing.assert_array_equal(confusion_counts([], []), [[0, 0, 0, 0]])
    # booleans are labels too
    np.testing.assert_array_equal(confusion_counts(np.array([True, False]), np.array([True, True]))[0], [0, 1, 0, 1])
