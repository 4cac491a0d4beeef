"""Bootstrap machinery for the performance metrics.

Holds the interval settings (:class:`BootstrapSettings`, :data:`DEFAULT_BOOTSTRAP`), the
vectorised resampling (count-weight matrices from :func:`resample_weights`, so one sort serves
every resample), the bounded row sample with its m-out-of-n rescaling
(:func:`bounded_sample`, :func:`bootstrap_intervals`), the normal interval of a mean
(:func:`mean_interval`) and :func:`single_threaded_blas`. Calibration uses them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 200      # resamples per interval; cost grows linearly
BOOTSTRAP_MAX_ROWS = 20_000    # rows the bootstrap runs on (a random sample of larger logs, rescaled)
BOOTSTRAP_SEED = 0


# ------------------------------------------------------------------ bootstrap machinery
def single_threaded_blas():
    """Context in which numpy's BLAS uses one thread. The bootstrap's matrix-vector products
    are small; OpenBLAS threads spinning for them cost 20× the CPU on a busy 2-core machine."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class BootstrapSettings:
    """How bootstrap intervals are computed: resamples, the row bound, seed, confidence."""

    n_resamples: int = BOOTSTRAP_RESAMPLES
    max_rows: int = BOOTSTRAP_MAX_ROWS
    seed: int = BOOTSTRAP_SEED
    confidence: float = CONFIDENCE

    def rows(self, n: int) -> int:
        """Rows the bootstrap uses for a data set of ``n`` rows."""
        return min(n, self.max_rows)

    def describe(self, n: int) -> str:
        m = self.rows(n)
        where = f"all {m:,} rows" if m == n else f"a random sample of {m:,} of {n:,} rows, rescaled to the full size"
        return f"bootstrap, {self.n_resamples} resamples of {where}"


DEFAULT_BOOTSTRAP = BootstrapSettings()


def bounded_sample(n: int, settings: BootstrapSettings) -> np.ndarray | None:
    """Indices of a random sample of ``settings.max_rows`` rows, or None when all rows are used."""
    if n <= settings.max_rows:
        return None
    rng = np.random.default_rng(settings.seed + 1)
    return np.sort(rng.choice(n, size=settings.max_rows, replace=False))


def resample_weights(n: int, n_resamples: int, seed: int = 0, chunk: int = 25) -> Iterator[np.ndarray]:
    """Bootstrap resamples as count matrices: each row of a yielded (b, n) float array says how
    often each of the ``n`` rows is drawn in one resample (rows sum to ``n``). Chunks of
    ``chunk`` resamples keep memory at chunk × n floats."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_resamples:
        b = min(chunk, n_resamples - done)
        idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)
        done += b


class SharedResampleWeights:
    """The chunks of :func:`resample_weights`, drawn once per (rows, resamples, seed) and then
    handed out again: statistics bootstrapped on equally many rows with one seed (calibration
    overall and per group, on the bounded sample) use the very same resamples, so drawing them
    again would only repeat work. Holds n_resamples × n floats per key; keep one per audit pass."""

    def __init__(self) -> None:
        self._chunks: dict[tuple[int, int, int], list[np.ndarray]] = {}

    def __call__(self, n: int, n_resamples: int, seed: int) -> list[np.ndarray]:
        key = (n, n_resamples, seed)
        if key not in self._chunks:
            self._chunks[key] = list(resample_weights(n, n_resamples, seed))
        return self._chunks[key]


def _percentile_interval(point: float, sample_point: float, values: np.ndarray, scale: float,
                         confidence: float) -> tuple[float, float]:
    """Percentile interval of bootstrap ``values`` moved to ``point`` and shrunk by ``scale``
    (scale 1 and sample_point == point: the plain percentile interval). NaN when fewer than
    half of the resamples gave a finite value (e.g. resamples with one class only)."""
    values = values[np.isfinite(values)]
    if len(values) == 0 or not np.isfinite(point) or not np.isfinite(sample_point):
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(point + scale * (lo - sample_point)), float(point + scale * (hi - sample_point))


def bootstrap_intervals(weighted: Callable[[np.ndarray], dict[str, np.ndarray]], n: int,
                        point: dict[str, float], settings: BootstrapSettings,
                        sample_point: dict[str, float] | None = None, scale: float = 1.0,
                        weights: SharedResampleWeights | None = None) -> dict[str, tuple[float, float]]:
    """Intervals for several statistics from one set of resamples.

    Inputs: ``weighted(W)`` returning, per statistic name, its value under each row of the
    count-weight matrix ``W`` (b × n); ``point`` the full-data estimates; ``sample_point`` the
    estimates on the bootstrapped rows when they are a sample (with ``scale`` = sqrt(m/n));
    ``weights``, a :class:`SharedResampleWeights` to take the (same) resamples from.
    Output: name -> (lower, upper); NaN when fewer than half the resamples are finite.
    """
    sample_point = point if sample_point is None else sample_point
    collected: dict[str, list[np.ndarray]] = {k: [] for k in point}
    with np.errstate(invalid="ignore", divide="ignore"):
        chunks = (resample_weights if weights is None else weights)(n, settings.n_resamples, settings.seed)
        for w in chunks:
            for name, values in weighted(w).items():
                if name in collected:
                    collected[name].append(np.asarray(values, dtype=float))
    out = {}
    for name, parts in collected.items():
        values = np.concatenate(parts) if parts else np.array([])
        if np.isfinite(values).sum() < settings.n_resamples / 2:
            out[name] = (float("nan"), float("nan"))
        else:
            out[name] = _percentile_interval(point[name], sample_point[name], values, scale, settings.confidence)
    return out


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """Mean of per-row values with a normal-approximation interval: (mean, lower, upper)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan")
    half = norm.ppf(0.5 + confidence / 2) * values.std(ddof=1) / np.sqrt(n)
    return mean, float(mean - half), float(mean + half)
