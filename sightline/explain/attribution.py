"""SHAP algorithms independent of any backend: tracing a fitted preprocessing step's output
columns back to the original features, and model-agnostic permutation SHAP
(:func:`permutation_shap`, the algorithm of ``shap.PermutationExplainer``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sightline.explain.results import MAX_ROWS_PER_CALL


# ---------------------------------------------------------------------------- tracing encoded columns
class _Untraceable(Exception):
    """A transformed column cannot be attributed to exactly one original feature."""


def _column_positions(cols, names: list[str]) -> list[int]:
    if callable(cols):
        raise _Untraceable("callable column selector")
    if isinstance(cols, slice):
        if isinstance(cols.start, str) or isinstance(cols.stop, str):
            start = names.index(cols.start) if cols.start is not None else 0
            stop = names.index(cols.stop) + 1 if cols.stop is not None else len(names)
            return list(range(start, stop))
        return list(range(len(names)))[cols]
    arr = np.atleast_1d(np.asarray(cols))
    if arr.size == 0:
        return []
    if arr.dtype == bool:
        return list(np.flatnonzero(arr))
    if np.issubdtype(arr.dtype, np.integer):
        return [int(i) for i in arr]
    try:
        return [names.index(str(c)) for c in arr]
    except ValueError as exc:
        raise _Untraceable(str(exc)) from None


def transformed_sources(step, inputs: list[str]) -> list[str]:
    """The original feature behind each output column of a fitted preprocessing ``step``.

    Walks ColumnTransformers, Pipelines and FeatureUnions; a leaf transformer's output names
    (``get_feature_names_out``) are matched to its inputs (``age`` → ``age``; ``sex_Male`` →
    ``sex``; with one input, every output comes from it). Raises ``_Untraceable`` when an
    output mixes features (e.g. PCA, interactions), so the caller explains the whole model instead.
    """
    return [src for _, src in _trace(step, [(f, f) for f in inputs])]


def _trace(step, inputs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if step is None or (isinstance(step, str) and step == "passthrough"):
        return inputs
    if isinstance(step, str) and step == "drop":
        return []
    names = [n for n, _ in inputs]
    if isinstance(step, ColumnTransformer):
        out = []
        for _, trans, cols in step.transformers_:
            positions = _column_positions(cols, names)
            if positions and not (isinstance(trans, str) and trans == "drop"):
                out += _trace(trans, [inputs[i] for i in positions])
        return out
    if isinstance(step, Pipeline):
        for _, sub in step.steps:
            inputs = _trace(sub, inputs)
        return inputs
    if isinstance(step, FeatureUnion):
        return [pair for _, sub in step.transformer_list for pair in _trace(sub, inputs)]
    try:
        outs = [str(o) for o in step.get_feature_names_out(names)]
    except Exception as exc:  # transformers without output names cannot be traced
        raise _Untraceable(f"{type(step).__name__}: {exc}") from None
    if len(inputs) == 1:
        return [(o, inputs[0][1]) for o in outs]
    source = dict(inputs)
    traced = []
    for o in outs:
        matches = [n for n in names if o == n or o.startswith(n + "_") or o == f"missingindicator_{n}"]
        if not matches:
            raise _Untraceable(f"{type(step).__name__} output '{o}'")
        traced.append((o, source[max(matches, key=len)]))
    return traced


# ---------------------------------------------------------------------------- model-agnostic SHAP
def permutation_shap(f: Callable[[np.ndarray], np.ndarray], X: np.ndarray, background: np.ndarray, *,
                     n_permutations: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interventional SHAP values of any model by antithetic permutation sampling.

    Inputs: ``f`` maps an (m, F) array to m outputs (or (m, K)); the rows to explain ``X`` (n, F);
    the ``background`` rows (B, F) that stand in for "feature unknown"; ``n_permutations`` pairs
    of a random feature order and its reverse. Walking an order, features switch one by one from
    background to the row's values; each switch's change in the mean output over the background
    is credited to that feature. When F! ≤ 2 × n_permutations every order is walked and the values
    are the exact Shapley values of v(S) = mean_b f(x_S, b_rest). Either way they add up
    exactly: base (mean f over the background) + sum = f(x).
    Output: (values (n, F[, K]), base values (n[, K]), f(X)). Same algorithm as
    ``shap.PermutationExplainer``, vectorised in numpy (no numba compilation on first use).
    """
    import itertools
    import math

    n, F = X.shape
    rng = np.random.default_rng(seed)
    if math.factorial(F) <= 2 * n_permutations:
        orders = [np.array(p) for p in itertools.permutations(range(F))]
    else:
        orders = []
        for _ in range(n_permutations):
            p = rng.permutation(F)
            orders += [p, p[::-1]]
    B = len(background)
    base_out = np.asarray(f(background)).mean(axis=0)
    output = np.asarray(f(X))
    values = np.zeros((n, F) + output.shape[1:])
    if F == 1:
        orders = []
        values[:, 0] = output - base_out
    chunk = max(1, MAX_ROWS_PER_CALL // (B * (F - 1) or 1))
    for order in orders:
        # steps 1..F-1 (step 0 is all background, step F is the row itself: known already)
        masks = np.tril(np.ones((F + 1, F), dtype=bool), -1)[:, np.argsort(order)][1:F]
        for i in range(0, n, chunk):
            x = X[i:i + chunk]
            mixed = np.where(masks[None, :, None, :], x[:, None, None, :], background[None, None, :, :])
            mid = np.asarray(f(mixed.reshape(-1, F))).reshape((len(x), F - 1, B) + output.shape[1:]).mean(axis=2)
            path = np.concatenate([np.broadcast_to(base_out, (len(x), 1) + output.shape[1:]), mid,
                                   output[i:i + chunk][:, None]], axis=1)
            values[i:i + chunk][:, order] += np.diff(path, axis=1)
    values /= max(1, len(orders))
    return values, np.broadcast_to(base_out, (n,) + output.shape[1:]).copy(), output
