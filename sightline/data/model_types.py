"""The allow-list of types a model file may hold, and the refusal that names the others.

A model is data, not code: a skops file is loaded only when every type its ``schema.json``
names is on :func:`allowed_type_names`, a list of *exact* type names (never a module prefix):

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
"""

from __future__ import annotations

import importlib
import inspect
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from sightline.core.errors import ModelError

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


def shown_name(name: str) -> str:
    """A type name as it may appear in a one-line message: printable, at most 100 characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)
    return clean if len(clean) <= 100 else clean[:99] + "…"


def refused_types(schema: dict) -> set[str]:
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


def refusal(path: Path, refused: set[str] | list[str]) -> ModelError:
    names = sorted(shown_name(n) for n in refused)
    more = len(names) - MAX_SHOWN_TYPES
    shown = ", ".join(names[:MAX_SHOWN_TYPES]) + (f" and {more} more" if more > 0 else "")
    return ModelError(
        f"{path}: refused to load the model: it holds type(s) not on Sightline's allow-list: {shown} — "
        "only scikit-learn estimators, their fitted parts and numpy/scipy arrays are loaded, never a function "
        "(a FunctionTransformer's func, functools.partial, a score_func, HistGradientBoosting's "
        "categorical_features='from_dtype'); rebuild the model from scikit-learn classes and save it again "
        "with skops.io.dump"
    )


