"""Checks on a loaded model before it predicts anything.

scikit-learn follows a tree's child and feature indices without bounds checks, so a crafted
``Tree`` or HistGradientBoosting ``TreePredictor`` would read outside its arrays and crash the
process on the first prediction; a text vectorizer set to read file names would read files.
:func:`structure_problem` finds both on the loaded objects.
"""

from __future__ import annotations

import numpy as np

from sightline.data.model_types import shown_name

MAX_OBJECTS_WALKED = 5_000_000  # objects visited when checking a loaded model's trees


def structure_problem(model) -> str | None:
    """Why the loaded model must not be used, or None.

    Every ``Tree`` must sit in an estimator's ``tree_`` and every HistGradientBoosting
    ``TreePredictor`` in its model's ``_predictors``, with in-bounds indices (scikit-learn
    follows them without bounds checks); text vectorizers must read text, not file names.
    """
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.feature_extraction.text import _VectorizerMixin
    from sklearn.tree._tree import Tree

    checked: set[int] = set()
    seen: set[int] = set()
    stack = [model]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool, np.generic, type)):
            continue  # values and classes hold no fitted trees
        seen.add(id(obj))
        if len(seen) > MAX_OBJECTS_WALKED:
            return f"it holds more than {MAX_OBJECTS_WALKED:,} objects"
        if isinstance(obj, Tree):
            if id(obj) not in checked:
                return "a decision tree outside an estimator"
            continue
        if isinstance(obj, TreePredictor):
            if id(obj) not in checked:
                return "a gradient-boosting tree outside its model"
            continue
        if isinstance(obj, _VectorizerMixin) and getattr(obj, "input", "content") != "content":
            return f"a {type(obj).__name__} with input={shown_name(repr(obj.input))[:40]} would read files named in the data"
        tree = getattr(obj, "tree_", None) if hasattr(obj, "__dict__") else None
        if isinstance(tree, Tree):
            problem = _tree_problem(tree, getattr(obj, "n_features_in_", None))
            if problem:
                return f"{type(obj).__name__}: {problem}"
            checked.add(id(tree))
        problem = _ensemble_problem(obj)
        if problem:
            return f"{type(obj).__name__}: {problem}"
        predictors = obj.__dict__.get("_predictors") if hasattr(obj, "__dict__") else None
        if predictors is not None:
            problem = _predictors_problem(obj, predictors)
            if problem:
                return f"{type(obj).__name__}: {problem}"
            checked.update(id(p) for row in predictors for p in row)
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())
    return None


def _tree_problem(tree, n_features_in) -> str | None:
    """Why a fitted ``sklearn.tree._tree.Tree`` is unsafe to run, or None.

    ``n_features_in``: the owning estimator's ``n_features_in_``, which scikit-learn checks the
    input against before the tree reads it (so it must be present and match the tree).
    """
    state = tree.__getstate__()
    nodes, n = state["nodes"], int(state["node_count"])
    if n < 1 or len(nodes) != n or state["values"].shape[0] != n:
        return "its tree's node count does not match its arrays"
    if n_features_in is None or tree.n_features != int(n_features_in):
        return "its tree expects a different number of inputs than the model"
    return _node_bounds(nodes["left_child"], nodes["right_child"], nodes["feature"], nodes["left_child"] == -1,
                        tree.n_features, "tree")


def _node_bounds(left, right, feature, is_leaf, n_features: int, what: str) -> str | None:
    """Children strictly after their parent and inside the array; features inside the inputs."""
    n = len(left)
    index = np.arange(n)
    inner = ~np.asarray(is_leaf, dtype=bool)
    if not inner.any():
        return None
    left, right, feature = (np.asarray(a, dtype=np.int64)[inner] for a in (left, right, feature))
    index = index[inner]
    if np.any(left <= index) or np.any(right <= index) or np.any(left >= n) or np.any(right >= n):
        return f"a {what} node points outside its tree"
    if np.any(feature < 0) or np.any(feature >= n_features):
        return f"a {what} node reads an input the model does not have"
    return None


def _ensemble_problem(owner) -> str | None:
    """Why a forest, gradient-boosting or bagging ensemble's trees do not fit its inputs, or None.

    These ensembles hand the input to their trees without the trees' own input check
    (``check_input=False``), so each tree must read exactly the columns the ensemble checked.
    """
    from sklearn.ensemble._bagging import BaseBagging
    from sklearn.ensemble._forest import BaseForest
    from sklearn.ensemble._gb import BaseGradientBoosting
    from sklearn.tree._tree import Tree

    if not isinstance(owner, (BaseForest, BaseGradientBoosting, BaseBagging)) or "estimators_" not in vars(owner):
        return None
    n_features = getattr(owner, "n_features_in_", None)
    if n_features is None:
        return "its fitted trees have no recorded input count"
    estimators = owner.estimators_
    estimators = list(np.ravel(estimators)) if isinstance(estimators, np.ndarray) else list(estimators)
    subsets = vars(owner).get("estimators_features_")
    if subsets is None:
        subsets = [None] * len(estimators)
    elif len(subsets) != len(estimators):
        return "its trees and their input subsets do not match"
    for estimator, subset in zip(estimators, subsets):
        expected = int(n_features)
        if subset is not None:
            subset = np.asarray(subset)
            if subset.ndim != 1 or not np.issubdtype(subset.dtype, np.integer) \
                    or (subset.size and (subset.min() < 0 or subset.max() >= n_features)):
                return "a tree's input subset points outside the model's inputs"
            expected = len(subset)
        tree = getattr(estimator, "tree_", None)
        if isinstance(tree, Tree) and tree.n_features != expected:
            return "a tree expects a different number of inputs than the ensemble gives it"
    return None


def _predictors_problem(owner, predictors) -> str | None:
    """Why HistGradientBoosting's ``_predictors`` are unsafe to run, or None."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    n_features = getattr(owner, "n_features_in_", None)
    mapper = getattr(owner, "_bin_mapper", None)
    categorical = getattr(mapper, "is_categorical_", None)
    if n_features is None or categorical is None or len(categorical) != int(n_features):
        return "its trees do not match its input binning"
    if getattr(owner, "_preprocessor", None) is not None:
        # only categorical_features='from_dtype' sets it, and that stores a function (refused above)
        return "it re-encodes its inputs before its trees read them"
    categorical = np.asarray(categorical, dtype=bool)
    if not isinstance(predictors, list) or not all(isinstance(row, list) for row in predictors):
        return "its trees are not stored as lists"
    for row in predictors:
        for pred in row:
            if not isinstance(pred, TreePredictor):
                return "its trees hold something that is not a tree"
            nodes = getattr(pred, "nodes", None)
            raw = getattr(pred, "raw_left_cat_bitsets", None)
            binned = getattr(pred, "binned_left_cat_bitsets", None)
            if not isinstance(nodes, np.ndarray) or nodes.ndim != 1 or len(nodes) < 1 or nodes.dtype.names is None \
                    or not {"left", "right", "feature_idx", "is_leaf", "is_categorical", "bitset_idx"} <= set(nodes.dtype.names):
                return "a tree's node array is malformed"
            if not isinstance(raw, np.ndarray) or not isinstance(binned, np.ndarray) or raw.shape != binned.shape \
                    or raw.ndim != 2 or raw.shape[1] != 8:
                return "a tree's category sets are malformed"
            problem = _node_bounds(nodes["left"], nodes["right"], nodes["feature_idx"], nodes["is_leaf"],
                                   int(n_features), "tree")
            if problem:
                return problem
            cat = (~nodes["is_leaf"].astype(bool)) & nodes["is_categorical"].astype(bool)
            if cat.any():
                bitset = nodes["bitset_idx"][cat].astype(np.int64)
                if np.any(bitset < 0) or np.any(bitset >= len(raw)) or not categorical[nodes["feature_idx"][cat]].all():
                    return "a tree's categorical split points outside its category sets"
    return None


