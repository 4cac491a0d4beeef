"""Loading model artifacts safely.

A model is data, not code. Only skops files are read, and only after every type the file
names has been checked against an allow-list of *exact* type names (never a module prefix):

- the scikit-learn estimators and transformers (``sklearn.utils.all_estimators()``, each
  resolved and checked to be a class), plus the private parts a fitted model holds
  (``_PRIVATE_SKLEARN_PARTS`` and the loss/link classes of ``sklearn._loss``);
- numpy arrays, dtypes and scalar types, ``RandomState``/``Generator``, scipy sparse matrices;
- a few builtin container and value types (``str``, ``int``, ``list``, ``dict``, ``slice`` …).

Never a function: skops entries that stand for a function, a bound method, a
``functools.partial``, an ``operator`` getter or a call of a class with arguments from the file
are refused, whatever they name. So are models that need one: a ``FunctionTransformer``, a
``score_func`` (``SelectKBest``'s default ``f_classif``), HistGradientBoosting fitted on pandas
categorical columns (``categorical_features='from_dtype'`` stores a ``partial(check_array)``),
``FeatureAgglomeration``, ``SplineTransformer`` and ``BisectingKMeans``. Nearest-neighbour
search trees (``KDTree``/``BallTree``) are left out: their index arrays are not checked.
LightGBM and XGBoost are not installed here, so their exact type names could not be verified
and none is on the list; such models are refused until they are.

The check runs on the file's own ``schema.json`` before skops builds anything, and again on
skops' own list of untrusted types. After loading, decision trees and HistGradientBoosting
predictors are checked for index bounds (a crafted tree would read outside its arrays and crash
the process on the first prediction), and text vectorizers must read their input as text, not
as file names. Pickle and joblib files are refused, since loading them runs arbitrary code.
Work is bounded: files above :data:`MAX_MODEL_BYTES`, archives that unpack to more than
:data:`MAX_UNPACKED_BYTES` and schemas above :data:`MAX_SCHEMA_BYTES` are refused unread.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from sightline.core.errors import ModelError

MAX_MODEL_BYTES = 500 * 2**20       # a .skops file larger than this is refused unread (500 MB)
MAX_UNPACKED_BYTES = 2 * 2**30      # sum of the archive's declared entry sizes (2 GB): zip bombs
MAX_SCHEMA_BYTES = 64 * 2**20       # schema.json, the tree of types skops would build (64 MB)
MAX_ZIP_ENTRIES = 200_000           # arrays stored in one archive
MAX_SCHEMA_ENTRIES = 2_000_000      # typed entries (nodes) in schema.json
MAX_SHOWN_TYPES = 8                 # refused type names shown in a message; the rest are counted

# skops loaders that build a value from plain data. Every other loader calls something the file
# names: FunctionNode (a function), MethodNode (a bound method), PartialNode (functools.partial),
# OperatorFuncNode (operator.attrgetter/itemgetter/methodcaller), ConstructorFromReduceNode (a
# class called with arguments from the file), and loaders of libraries not installed.
_DATA_LOADERS = frozenset({
    "DictNode", "ListNode", "TupleNode", "SetNode", "JsonNode", "SliceNode", "BytesNode", "BytearrayNode",
    "NdArrayNode", "DTypeNode", "MaskedArrayNode", "RandomStateNode", "RandomGeneratorNode",
    "SparseMatrixNode", "ObjectNode", "TypeNode", "TreeNode", "LossNode", "CachedNode",
})

# Fitted parts of real models that are not public estimators; found by dumping fitted models
# (pipelines, HistGradientBoosting with each loss, gradient boosting, forests, calibration,
# grid search, MLP) and listing the types in their skops files.
_PRIVATE_SKLEARN_PARTS = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.compose._column_transformer.make_column_selector",
    "sklearn.metrics._scorer._PassthroughScorer",
    "sklearn.utils._bunch.Bunch",  # a dict with attribute access (Stacking/Voting named_estimators_)
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
)
# Modules whose every class is a loss or link object of a fitted model (pure arithmetic).
_LOSS_MODULES = ("sklearn._loss._loss", "sklearn._loss.loss", "sklearn._loss.link", "sklearn.linear_model._sgd_fast")

_BUILTIN_TYPES = (str, int, float, bool, complex, bytes, bytearray, list, tuple, dict, set, frozenset, slice, object)


def _type_name(cls: type) -> str:
    """``module.Class`` as skops writes it into a file (``skops.io`` uses the same rule)."""
    from skops.io._utils import get_type_name

    return get_type_name(cls)


def _resolved_class(name: str) -> type | None:
    """The class ``name`` resolves to the way skops resolves it, or None if it is not a class."""
    module, _, attr = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None
    return obj if inspect.isclass(obj) else None


@lru_cache(maxsize=1)
def allowed_type_names() -> frozenset[str]:
    """The exact type names a model file may hold (``module.Class``, as skops reports them).

    Built once from the installed libraries; each name is resolved and kept only when it is a
    class and resolves back to itself, so no function can enter the list.
    """
    import scipy.sparse
    from sklearn.gaussian_process.kernels import Kernel
    from sklearn.model_selection._split import BaseCrossValidator, BaseShuffleSplit
    from sklearn.utils import all_estimators

    classes: list[type] = [cls for _, cls in all_estimators()]
    classes += [cls for cls in (_resolved_class(n) for n in _PRIVATE_SKLEARN_PARTS) if cls is not None]
    for module_name in _LOSS_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        classes += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module_name]
    split = importlib.import_module("sklearn.model_selection._split")
    classes += [c for _, c in inspect.getmembers(split, inspect.isclass)
                if c.__module__ == split.__name__ and issubclass(c, (BaseCrossValidator, BaseShuffleSplit))]
    kernels = importlib.import_module("sklearn.gaussian_process.kernels")
    classes += [c for _, c in inspect.getmembers(kernels, inspect.isclass) if issubclass(c, Kernel)]
    # numpy: arrays, dtypes, scalar types (abstract ones too: make_column_selector(dtype_include=np.number))
    classes += [np.ndarray, np.dtype, np.ma.MaskedArray, np.random.RandomState, np.random.Generator]
    classes += list(np.sctypeDict.values())
    classes += [np.generic, np.number, np.integer, np.signedinteger, np.unsignedinteger, np.inexact,
                np.floating, np.complexfloating, np.flexible, np.character]
    sparse_names = [f"{kind}_{form}" for kind in ("csr", "csc", "coo", "bsr", "dia", "dok", "lil")
                    for form in ("matrix", "array")]
    classes += [getattr(scipy.sparse, n) for n in sparse_names if hasattr(scipy.sparse, n)]
    classes += list(_BUILTIN_TYPES)

    names = set()
    for cls in classes:
        name = _type_name(cls)
        if inspect.isclass(cls) and _resolved_class(name) is cls:
            names.add(name)
    return frozenset(names)


@lru_cache(maxsize=1)
def _bit_generator_names() -> frozenset[str]:
    """numpy's bit generators, by the bare name a Generator's state stores (``PCG64`` …)."""
    return frozenset(a for a in dir(np.random) if inspect.isclass(getattr(np.random, a))
                     and issubclass(getattr(np.random, a), np.random.BitGenerator)
                     and getattr(np.random, a) is not np.random.BitGenerator)


def _shown(name: str) -> str:
    """A type name as it may appear in a one-line message: printable, at most 100 characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)
    return clean if len(clean) <= 100 else clean[:99] + "…"


def _refused_types(schema: dict) -> set[str]:
    """Every type name in a parsed ``schema.json`` that may not be loaded.

    Walks the raw JSON (not skops' tree), so what skops trusts by default counts for nothing:
    each entry with a ``__loader__`` must use a data loader and name an allowed type.
    """
    allowed = allowed_type_names()
    refused: set[str] = set()
    stack: list = [schema]
    seen = 0
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        stack.extend(item.values())
        if "__loader__" not in item:
            continue
        seen += 1
        if seen > MAX_SCHEMA_ENTRIES:
            raise ModelError(f"more than {MAX_SCHEMA_ENTRIES:,} entries")
        loader = item["__loader__"]
        name = f"{item.get('__module__')}.{item.get('__class__')}"
        if loader == "MethodNode":
            content = item.get("content")
            func = content.get("func") if isinstance(content, dict) else None
            refused.add(f"{name}.{func}")
        elif loader not in _DATA_LOADERS:
            refused.add(name)
        elif loader == "JsonNode":
            pass  # json.loads of its content: the name is never resolved
        elif name not in allowed:
            refused.add(name)
        elif loader == "RandomGeneratorNode":
            # numpy resolves the bit generator from a plain string in the state and calls it
            try:
                bit = json.loads(item["content"]["bit_generator"]["content"]["bit_generator"]["content"])
            except (KeyError, TypeError, ValueError):
                bit = None
            if not isinstance(bit, str) or bit not in _bit_generator_names():
                refused.add(f"numpy.random.{bit}")
    return refused


def _refusal(path: Path, refused: set[str] | list[str]) -> ModelError:
    names = sorted(_shown(n) for n in refused)
    more = len(names) - MAX_SHOWN_TYPES
    shown = ", ".join(names[:MAX_SHOWN_TYPES]) + (f" and {more} more" if more > 0 else "")
    return ModelError(
        f"{path}: refused to load the model: it holds type(s) not on Sightline's allow-list: {shown} — "
        "only scikit-learn estimators, their fitted parts and numpy/scipy arrays are loaded, never a function "
        "(a FunctionTransformer's func, functools.partial, a score_func, HistGradientBoosting's "
        "categorical_features='from_dtype'); rebuild the model from scikit-learn classes and save it again "
        "with skops.io.dump"
    )


def _read_schema(path: Path, data: bytes) -> dict:
    """The parsed ``schema.json`` of a skops archive held in ``data``, within the size caps."""
    from skops.io._protocol import PROTOCOL

    not_skops = f"{path}: not a skops model file"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, RuntimeError) as exc:
        raise ModelError(f"{not_skops} ({type(exc).__name__}) — save it with skops.io.dump") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ModelError(f"{path}: the skops archive holds {len(entries):,} files, more than the "
                         f"{MAX_ZIP_ENTRIES:,} a model may have — save it again with skops.io.dump")
    unpacked = sum(e.file_size for e in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ModelError(f"{path}: the skops archive would unpack to {unpacked / 2**20:,.0f} MB, more than "
                         f"the {MAX_UNPACKED_BYTES // 2**20:,} MB cap — a model this large is not loaded")
    schema_entries = [e for e in entries if e.filename == "schema.json"]
    if len(schema_entries) != 1:
        raise ModelError(f"{not_skops} (no single schema.json inside) — save it with skops.io.dump")
    if schema_entries[0].file_size > MAX_SCHEMA_BYTES:
        raise ModelError(f"{path}: its schema.json is {schema_entries[0].file_size / 2**20:,.0f} MB, more than "
                         f"the {MAX_SCHEMA_BYTES // 2**20} MB cap — save it again with skops.io.dump")
    try:
        schema = json.loads(archive.read(schema_entries[0]))
    except (zipfile.BadZipFile, ValueError, RecursionError, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise ModelError(f"{not_skops} (unreadable schema.json: {type(exc).__name__}) — save it with skops.io.dump") from None
    protocol = schema.get("protocol") if isinstance(schema, dict) else None
    if isinstance(protocol, bool) or not isinstance(protocol, int) or not 0 <= protocol <= PROTOCOL:
        raise ModelError(f"{not_skops} (schema.json has no valid skops protocol) — save it with skops.io.dump")
    return schema


def load_model(path: Path | str):
    """Load a fitted estimator from a ``.skops`` file.

    Input: the file's path. Output: the estimator. Raises :class:`ModelError` when the file is
    missing, larger than :data:`MAX_MODEL_BYTES`, not a skops file, names a type that is not on
    :func:`allowed_type_names` (all such names are in the message), holds a malformed tree, or
    is not a fitted model. Nothing from the file is imported or called before the check passes.
    """
    import skops.io as sio

    path = Path(path)
    if path.suffix.lower() in (".pkl", ".pickle", ".joblib", ".sav"):
        raise ModelError(
            f"{path}: pickle/joblib files are refused because loading them can run any code — "
            "save the model with skops.io.dump(model, 'model.skops')"
        )
    try:
        size = path.stat().st_size
        is_file = path.is_file()
    except OSError:
        raise ModelError(f"{path}: model file not found — check 'model:' in the audit") from None
    if not is_file:
        raise ModelError(f"{path}: is not a file — 'model:' in the audit must name a .skops file")
    if size > MAX_MODEL_BYTES:
        raise ModelError(f"{path}: the model file is {size / 2**20:,.0f} MB, more than the "
                         f"{MAX_MODEL_BYTES // 2**20} MB Sightline loads — audit a smaller model file")
    # Read once and check the bytes that are loaded: the file cannot change in between.
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: the model file cannot be read ({type(exc).__name__})") from None
    if len(data) > MAX_MODEL_BYTES:
        raise ModelError(f"{path}: the model file is larger than the {MAX_MODEL_BYTES // 2**20} MB Sightline loads")
    schema = _read_schema(path, data)
    try:
        refused = _refused_types(schema)
    except ModelError as exc:
        raise ModelError(f"{path}: the skops file is too large to check ({exc}) — save it again with skops.io.dump") from None
    if refused:
        raise _refusal(path, refused)
    try:
        # skops' own audit as a second opinion: anything it distrusts must be on our list too
        flagged = sio.get_untrusted_types(data=data)
    except Exception as exc:  # noqa: BLE001 -- any failure reading a hostile archive is bad input
        raise ModelError(f"{path}: the skops file is malformed ({type(exc).__name__}) — "
                         "save it again with skops.io.dump") from None
    refused = {t for t in flagged if t not in allowed_type_names()}
    if refused:
        raise _refusal(path, refused)
    try:
        model = sio.loads(data, trusted=list(flagged))
    except Exception as exc:  # noqa: BLE001
        first = (str(exc).splitlines() or [""])[0][:160]
        raise ModelError(f"{path}: the skops file could not be loaded ({type(exc).__name__}: {_shown(first)})") from None
    del data
    try:
        problem = _structure_problem(model)
    except Exception as exc:  # noqa: BLE001 -- a crafted object that breaks the check is refused too
        problem = f"its fitted structure could not be checked ({type(exc).__name__})"
    if problem:
        raise ModelError(f"{path}: refused to use the model: {problem} — the file is damaged or crafted; "
                         "save the fitted model again with skops.io.dump")
    if not (hasattr(model, "predict") or hasattr(model, "predict_proba")):
        raise ModelError(f"{path}: holds a {type(model).__name__}, which is not a model (no predict method)")
    return model


# -- checks on the loaded objects -----------------------------------------------------------

MAX_OBJECTS_WALKED = 5_000_000  # objects visited when checking a loaded model's trees


def _structure_problem(model) -> str | None:
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
            return f"a {type(obj).__name__} with input={_shown(repr(obj.input))[:40]} would read files named in the data"
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


def model_output(model, X: pd.DataFrame, task: str, positive_label=None):
    """The model's output on ``X``: P(positive) for binary, class probabilities for
    multiclass, predictions for regression. Raises :class:`ModelError` when the model does not
    accept the features (missing columns, wrong types).
    """
    try:
        if task == "binary":
            proba = model.predict_proba(X)
            classes = [str(c) for c in getattr(model, "classes_", [0, 1])]
            col = classes.index(str(positive_label)) if str(positive_label) in classes else 1
            return proba[:, col]
        if task == "multiclass":
            return model.predict_proba(X)
        return model.predict(X)
    except Exception as exc:
        raise ModelError(
            f"the model does not accept the audit's features ({str(exc).splitlines()[0][:200]}) — "
            "check that columns.features matches what the model was trained on"
        ) from None


def model_feature_names(model) -> list[str] | None:
    """The input columns a fitted model expects, when it recorded them (``feature_names_in_``)."""
    names = getattr(model, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else None
