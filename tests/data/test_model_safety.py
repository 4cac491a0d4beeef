"""A model file is data, never code: hostile .skops files are refused before anything in them is
built, and run nothing; real fitted models still load and predict exactly as before saving.

Each payload below is a real skops file that would write a marker file when used. The test
first proves that: loaded with skops trusting every type it names, the payload does write the
marker. Then Sightline must refuse it (naming the offending types) and the marker must stay
absent, through ``load_model``, the command line and the dashboard.
"""

from __future__ import annotations

import builtins
import functools
import io
import json
import operator
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from sightline.core.errors import ModelError
from sightline.data import model as model_module
from sightline.data import model_types
from sightline.data.model import load_model
from sightline.data.model_types import allowed_type_names

pytestmark = pytest.mark.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parents[2]


# -- building payloads ----------------------------------------------------------------------

def _fitted_classifier() -> LogisticRegression:
    """A fitted one-input classifier: the last step of every payload pipeline."""
    return LogisticRegression().fit(np.array([[0.0], [1.0], [0.0], [1.0]]), [0, 1, 0, 1])


def _step(func, **kw) -> FunctionTransformer:
    """A FunctionTransformer that calls ``func`` on its input, as if fitted."""
    step = FunctionTransformer(func=func, kw_args=kw or None)
    step.fit(pd.DataFrame({"x": [0.0]}))
    for attr in ("n_features_in_", "feature_names_in_"):
        step.__dict__.pop(attr, None)  # accept whatever columns the log has
    return step


def _pipeline(*funcs) -> Pipeline:
    return Pipeline([(f"s{i}", step) for i, step in enumerate(funcs)] + [("clf", _fitted_classifier())])


class _TouchOnUnpickle:
    """A pickle that creates a file when it is read (what ``pandas.read_pickle`` would run)."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _payloads(tmp_path: Path) -> dict[str, tuple[Pipeline, str, list[str]]]:
    """Name -> (pipeline, the one input column's name, type names the refusal must show).

    ``max`` over a DataFrame returns its largest column name, so a column *named* like a
    command is what the next step receives: the log itself carries the attack.
    """
    marker = str(tmp_path / "marker")
    pickle_path = tmp_path / "payload.pkl"
    pickle_path.write_bytes(pickle.dumps(_TouchOnUnpickle(marker)))
    system = f"{os.system.__module__}.system"  # posix.system: how skops names it
    return {
        "exec": (_pipeline(_step(max), _step(builtins.exec)), f"open({marker!r}, 'w').close()",
                 ["builtins.max", "builtins.exec"]),
        "eval": (_pipeline(_step(max), _step(builtins.eval)), f"open({marker!r}, 'w').close()",
                 ["builtins.max", "builtins.eval"]),
        "os.system": (_pipeline(_step(max), _step(os.system)), f"touch {marker}", ["builtins.max", system]),
        "pandas.read_pickle": (_pipeline(_step(max), _step(pd.read_pickle)), str(pickle_path),
                               ["builtins.max", f"{pd.read_pickle.__module__}.read_pickle"]),
        "operator.methodcaller": (_pipeline(_step(operator.methodcaller("to_csv", marker))), "x",
                                  ["operator.methodcaller"]),
        "operator.attrgetter": (_pipeline(_step(operator.attrgetter("to_csv")), _step(operator.methodcaller("__call__", marker))),
                                "x", ["operator.attrgetter", "operator.methodcaller"]),
        "functools.partial(os.system)": (_pipeline(_step(max), _step(functools.partial(os.system))), f"touch {marker}",
                                         ["functools.partial", system]),
        "numpy.save": (_pipeline(_step(max), _step(np.save, arr=np.zeros(1))), marker + ".npy",
                       ["builtins.max", "numpy.save"]),
    }


def _log(column: str, rows: int = 4) -> pd.DataFrame:
    return pd.DataFrame({column: np.arange(rows, dtype=float)})


def _markers(tmp_path: Path) -> list[Path]:
    return [p for p in tmp_path.iterdir() if p.name.startswith("marker")]


def _dump(obj, path: Path) -> Path:
    sio.dump(obj, path)
    return path


PAYLOADS = ["exec", "eval", "os.system", "pandas.read_pickle", "operator.methodcaller", "operator.attrgetter",
            "functools.partial(os.system)", "numpy.save"]


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_payload_would_run_if_its_types_were_trusted(tmp_path, name):
    """The test can fail: trusting what the file names (as skops allows) writes the marker."""
    pipeline, column, _ = _payloads(tmp_path)[name]
    path = _dump(pipeline, tmp_path / "evil.skops")
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    try:
        loaded.predict_proba(_log(column))
    except Exception:
        pass  # the step after the payload fails; the payload has already run
    assert _markers(tmp_path), f"{name}: the payload did not fire, so its refusal would prove nothing"


@pytest.mark.parametrize("name", PAYLOADS)
def test_load_model_refuses_the_payload_and_runs_nothing(tmp_path, name):
    pipeline, column, expected = _payloads(tmp_path)[name]
    path = _dump(pipeline, tmp_path / "evil.skops")
    with pytest.raises(ModelError) as err:
        load_model(path)
    message = str(err.value)
    assert "evil.skops" in message and "allow-list" in message and "\n" not in message
    for type_name in expected:
        assert type_name in message, (type_name, message)
    assert not _markers(tmp_path)


def test_every_refused_type_is_named_sorted_and_the_list_is_cut(tmp_path):
    funcs = [builtins.exec, builtins.eval, builtins.getattr, builtins.__import__, builtins.open, os.system,
             os.remove, operator.add, np.save, np.load, pd.read_csv, subprocess.call]
    path = _dump(_pipeline(*[_step(f) for f in funcs]), tmp_path / "many.skops")
    message = str(pytest.raises(ModelError, load_model, path).value)
    shown = message.split("allow-list: ")[1].split(" — ")[0]
    names = shown.split(" and ")[0].split(", ")
    assert names == sorted(names) and len(names) == model_types.MAX_SHOWN_TYPES
    assert shown.endswith(f"and {len(funcs) - model_types.MAX_SHOWN_TYPES} more")


def test_a_numpy_ufunc_is_refused_although_skops_trusts_it_by_default(tmp_path):
    """skops trusts numpy ufuncs out of the box; Sightline trusts no function at all."""
    path = _dump(_pipeline(_step(np.log1p)), tmp_path / "ufunc.skops")
    assert sio.get_untrusted_types(file=path) == []  # skops alone would load it without asking
    message = str(pytest.raises(ModelError, load_model, path).value)
    assert "numpy.log1p" in message


# -- crafted schema.json (types that cannot be dumped directly) -----------------------------

def _rewrite_schema(source: Path, target: Path, edit) -> Path:
    """Copy a skops archive, passing its parsed schema.json through ``edit``."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "schema.json":
                data = json.dumps(edit(json.loads(data))).encode()
            zout.writestr(item, data)
    return target


def _system_at_load(marker: str) -> dict:
    """A schema that calls os.system('touch marker') while skops builds it (no predict needed)."""
    return {"__class__": "system", "__module__": os.system.__module__, "__loader__": "ConstructorFromReduceNode",
            "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                        "content": [{"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
                                     "content": json.dumps(f"touch {marker}"), "is_json": True}]},
            "protocol": 2, "_skops_version": "0.16"}


def test_a_crafted_constructor_call_runs_at_load_time_under_skops_but_not_here(tmp_path):
    marker = tmp_path / "marker"
    path = _rewrite_schema(_dump(_fitted_classifier(), tmp_path / "real.skops"), tmp_path / "crafted.skops",
                           lambda _: _system_at_load(str(marker)))
    sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert marker.exists()  # the crafted file runs a command as soon as skops builds it
    marker.unlink()
    message = str(pytest.raises(ModelError, load_model, path).value)
    assert f"{os.system.__module__}.system" in message and not marker.exists()


@pytest.mark.parametrize("module, name, loader", [
    ("subprocess", "Popen", "ObjectNode"),          # a class, but not a model's
    ("builtins", "type", "TypeNode"),
    ("sklearn.linear_model._logistic", "LogisticRegression", "FunctionNode"),  # allowed name, calling loader
    ("sklearn.linear_model._logistic", "LogisticRegression", "ConstructorFromReduceNode"),
    ("sklearn.utils.validation", "check_array", "ObjectNode"),  # a scikit-learn function
    ("builtins", "exec\nsecond line", "FunctionNode"),  # shown on one line
])
def test_a_crafted_entry_is_refused_by_name(tmp_path, module, name, loader):
    def edit(schema):
        schema["content"]["content"]["classes_"] = {"__class__": name, "__module__": module, "__loader__": loader,
                                                    "content": {"__class__": "tuple", "__module__": "builtins",
                                                                "__loader__": "TupleNode", "content": []}}
        return schema

    path = _rewrite_schema(_dump(_fitted_classifier(), tmp_path / "real.skops"), tmp_path / "crafted.skops", edit)
    message = str(pytest.raises(ModelError, load_model, path).value)
    assert f"{module}.{name}".replace("\n", "?") in message and "\n" not in message


def test_a_crafted_bit_generator_name_is_refused(tmp_path):
    """numpy rebuilds a Generator by calling the numpy.random attribute its state names."""
    X = np.random.default_rng(0).normal(size=(300, 2))
    model = HistGradientBoostingClassifier(max_iter=5, early_stopping=True, random_state=0).fit(X, X[:, 0] > 0)

    def rename(node):
        if isinstance(node, dict):
            if node.get("__loader__") == "RandomGeneratorNode":
                node["content"]["bit_generator"]["content"]["bit_generator"]["content"] = json.dumps("seed")
                return True
            return any(rename(v) for v in node.values())
        return isinstance(node, list) and any(rename(v) for v in node)

    def edit(schema):
        assert rename(schema)
        return schema

    path = _rewrite_schema(_dump(model, tmp_path / "real.skops"), tmp_path / "crafted.skops", edit)
    assert "numpy.random.seed" in str(pytest.raises(ModelError, load_model, path).value)


def test_the_allow_list_holds_exact_class_names_only():
    import importlib
    import inspect

    names = allowed_type_names()
    assert "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier" in names
    assert {"numpy.ndarray", "numpy.dtype", "numpy.float64", "numpy.int64", "scipy.sparse._csr.csr_matrix",
            "sklearn.tree._tree.Tree", "builtins.slice"} <= names
    for name in names:
        module, _, attr = name.rpartition(".")
        assert inspect.isclass(getattr(importlib.import_module(module), attr)), name
    forbidden = {"builtins.exec", "builtins.eval", "builtins.getattr", "builtins.__import__", "builtins.open",
                 "builtins.type", "functools.partial", "operator.methodcaller", "operator.attrgetter",
                 "operator.itemgetter", "numpy.save", "numpy.load", "pandas.io.pickle.read_pickle",
                 "sklearn.utils.validation.check_array", "subprocess.Popen", "os.system", "posix.system"}
    assert not names & forbidden
    assert not any(n.startswith(("os.", "posix.", "subprocess.", "pandas.", "operator.", "functools.", "io.",
                                 "pathlib.", "shutil.", "importlib.", "pickle.", "joblib.")) for n in names)


# -- hostile archives: bounded, never an internal error -------------------------------------

def _skops_zip(path: Path, schema: bytes | str, extra: dict | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("schema.json", schema)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize("schema, words", [
    ("{not json", "schema.json"),
    ("[1, 2]", "protocol"),
    ('{"protocol": 99}', "protocol"),
    ('{"protocol": true}', "protocol"),
    ("[" * 200_000 + "]" * 200_000, "schema.json"),  # nesting deeper than Python's recursion limit
    (json.dumps({"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", "protocol": 2}), "malformed"),
    (json.dumps({"__class__": "LogisticRegression", "__module__": "sklearn.linear_model._logistic",
                 "__loader__": "ObjectNode", "content": {"__class__": "dict", "__module__": "builtins",
                                                         "__loader__": "DictNode", "content": {"coef_": {
                                                             "__class__": "ndarray", "__module__": "numpy",
                                                             "__loader__": "NdArrayNode", "type": "numpy",
                                                             "file": "missing.npy"}}, "key_types": {
                                                             "__class__": "list", "__module__": "builtins",
                                                             "__loader__": "ListNode", "content": []}},
                 "protocol": 2}), "malformed"),
])
def test_malformed_schema_is_a_clear_model_error(tmp_path, schema, words):
    path = _skops_zip(tmp_path / "bad.skops", schema)
    message = str(pytest.raises(ModelError, load_model, path).value)
    assert "bad.skops" in message and words in message and "\n" not in message


def test_not_a_zip_and_no_schema(tmp_path):
    (tmp_path / "noise.skops").write_bytes(os.urandom(4096))
    assert "not a skops model file" in str(pytest.raises(ModelError, load_model, tmp_path / "noise.skops").value)
    path = _skops_zip(tmp_path / "empty.skops", "{}")
    with zipfile.ZipFile(tmp_path / "noschema.skops", "w") as z:
        z.writestr("other.json", "{}")
    assert "schema.json" in str(pytest.raises(ModelError, load_model, tmp_path / "noschema.skops").value)
    assert "protocol" in str(pytest.raises(ModelError, load_model, path).value)


def test_a_huge_declared_size_is_refused_unread(tmp_path):
    """A zip whose central directory declares a 4 GB entry (a zip bomb's signature) is refused
    from the declared size alone."""
    path = _dump(_fitted_classifier(), tmp_path / "bomb.skops")
    blob = bytearray(path.read_bytes())
    at = blob.index(b"PK\x01\x02")  # first central-directory record; uncompressed size at +24
    blob[at + 24: at + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    path.write_bytes(bytes(blob))
    message = str(pytest.raises(ModelError, load_model, path).value)
    assert "would unpack to" in message and "cap" in message


def test_a_deflated_zip_bomb_is_refused_by_its_declared_size(tmp_path, monkeypatch):
    monkeypatch.setattr(model_module, "MAX_UNPACKED_BYTES", 50 * 2**20)
    path = tmp_path / "bomb.skops"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("schema.json", '{"protocol": 2}')
        z.writestr("zeros.npy", b"\0" * (64 * 2**20))
    assert path.stat().st_size < 2**20
    assert "would unpack to" in str(pytest.raises(ModelError, load_model, path).value)


def test_a_file_above_the_size_cap_is_refused_unread(tmp_path, monkeypatch):
    path = _dump(_fitted_classifier(), tmp_path / "big.skops")
    monkeypatch.setattr(model_module, "MAX_MODEL_BYTES", path.stat().st_size - 1)
    message = str(pytest.raises(ModelError, load_model, path).value)
    assert "big.skops" in message and "MB" in message
    assert model_module.MAX_MODEL_BYTES == path.stat().st_size - 1
    monkeypatch.undo()
    assert load_model(path).predict([[1.0]]).tolist() == [1]


def test_pickle_missing_and_not_a_model_keep_their_messages(tmp_path):
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(_fitted_classifier()))
    assert "pickle/joblib files are refused" in str(pytest.raises(ModelError, load_model, tmp_path / "m.pkl").value)
    assert "not found" in str(pytest.raises(ModelError, load_model, tmp_path / "nope.skops").value)
    path = _dump(StandardScaler().fit([[1.0], [2.0]]), tmp_path / "scaler.skops")
    assert "not a model" in str(pytest.raises(ModelError, load_model, path).value)


def test_a_crafted_tree_that_points_outside_itself_is_refused(tmp_path):
    """A tree's child indices are followed without bounds checks: an out-of-range child would
    read outside the array (a crash of the whole server) on the first prediction."""
    X = np.random.default_rng(0).normal(size=(200, 3))
    forest = RandomForestRegressor(n_estimators=2, max_depth=3, random_state=0).fit(X, X[:, 0])
    path = _dump(forest, tmp_path / "forest.skops")
    load_model(path)  # the untouched forest loads

    # the node array is a .npy file inside the archive: rewrite it with one child out of range
    with zipfile.ZipFile(path) as z:
        entries = {i.filename: z.read(i) for i in z.infolist()}
    tree_file = next(n for n, d in entries.items() if n.endswith(".npy") and b"left_child" in d[:400])
    nodes = np.load(io.BytesIO(entries[tree_file]), allow_pickle=False)
    nodes["left_child"][0] = 10**6
    buffer = io.BytesIO()
    np.save(buffer, nodes, allow_pickle=False)
    entries[tree_file] = buffer.getvalue()
    crafted = tmp_path / "crafted.skops"
    with zipfile.ZipFile(crafted, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    message = str(pytest.raises(ModelError, load_model, crafted).value)
    assert "points outside its tree" in message


def test_a_forest_tree_reading_more_inputs_than_the_forest_checks_is_refused(tmp_path):
    """A forest checks the input's width once and hands it to its trees unchecked: a tree fitted
    on more columns than the forest would read past the end of each row."""
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X3, X6 = rng.normal(size=(100, 3)), rng.normal(size=(100, 6))
    forest = RandomForestRegressor(n_estimators=2, max_depth=3, random_state=0).fit(X3, X3[:, 0])
    forest.estimators_[1] = DecisionTreeRegressor(max_depth=3).fit(X6, X6[:, 5])
    message = str(pytest.raises(ModelError, load_model, _dump(forest, tmp_path / "forest.skops")).value)
    assert "different number of inputs than the ensemble" in message


def test_a_crafted_gradient_boosting_predictor_is_refused(tmp_path):
    X = np.random.default_rng(0).normal(size=(300, 2))
    y = (X[:, 0] > 0).astype(int)
    fine = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    assert load_model(_dump(fine, tmp_path / "fine.skops")).predict(X).tolist() == fine.predict(X).tolist()

    outside = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    outside._predictors[2][0].nodes["right"][0] = 10**6
    message = str(pytest.raises(ModelError, load_model, _dump(outside, tmp_path / "outside.skops")).value)
    assert "points outside its tree" in message

    wider = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    wider._predictors[0][0].nodes["feature_idx"][0] = 7
    message = str(pytest.raises(ModelError, load_model, _dump(wider, tmp_path / "wider.skops")).value)
    assert "reads an input the model does not have" in message

    # a re-encoding step in front of the trees could hand them fewer columns than they read
    reencoded = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    reencoded._preprocessor = ColumnTransformer([("keep", "passthrough", [0])]).fit(X)
    message = str(pytest.raises(ModelError, load_model, _dump(reencoded, tmp_path / "reencoded.skops")).value)
    assert "re-encodes its inputs" in message


def test_a_text_vectorizer_reading_file_names_is_refused(tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = ["alpha beta", "beta gamma"]
    vec = TfidfVectorizer().fit(docs)
    vec.input = "filename"  # would open every path found in the log's text column
    model = Pipeline([("v", vec), ("clf", LogisticRegression().fit(TfidfVectorizer().fit_transform(docs), [0, 1]))])
    path = _dump(model, tmp_path / "vec.skops")
    secret = tmp_path / "secret.txt"
    secret.write_text("gamma gamma")
    # trusted as skops would: the server file's words become the model's input
    assert sio.load(path, trusted=sio.get_untrusted_types(file=path))[0].transform([str(secret)]).nnz == 1
    message = str(pytest.raises(ModelError, load_model, path).value)
    assert "read files named in the data" in message


# -- real models still load and predict the same ---------------------------------------------

def _frame(n: int = 300) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(7)
    X = pd.DataFrame({"age": rng.integers(18, 80, n).astype(float), "hours": rng.normal(40, 8, n),
                      "city": rng.choice(["Basel", "Bern", "Chur"], n), "plan": rng.choice(["a", "b"], n)})
    X.loc[::11, "hours"] = np.nan
    y = pd.Series(np.where(X.age + rng.normal(0, 10, n) > 48, "yes", "no"))
    return X, y, X.age * 1.5 + rng.normal(0, 3, n)


def _column_pipeline(last):
    prep = ColumnTransformer([
        ("num", Pipeline([("fill", __import__("sklearn.impute", fromlist=["SimpleImputer"]).SimpleImputer()),
                          ("scale", StandardScaler())]), ["age", "hours"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"]),
    ])
    return Pipeline([("prep", prep), ("model", last)])


@pytest.mark.parametrize("name", ["hist_gradient_boosting", "logistic", "column_transformer_pipeline", "random_forest",
                                  "hgb_with_early_stopping"])
def test_real_models_load_and_predict_as_before(tmp_path, name):
    X, y, y_num = _frame()
    numeric = X[["age", "hours"]]
    cases = {
        "hist_gradient_boosting": (HistGradientBoostingClassifier(max_iter=30, random_state=0), numeric, y),
        "logistic": (LogisticRegression(), numeric.fillna(0), y),
        "column_transformer_pipeline": (_column_pipeline(LogisticRegression()), X, y),
        "random_forest": (_column_pipeline(RandomForestRegressor(n_estimators=10, random_state=0)), X, y_num),
        "hgb_with_early_stopping": (HistGradientBoostingClassifier(early_stopping=True, max_iter=40, random_state=0),
                                    numeric, y),
    }
    model, features, target = cases[name]
    model.fit(features, target)
    loaded = load_model(_dump(model, tmp_path / f"{name}.skops"))
    assert type(loaded) is type(model)
    method = "predict" if name == "random_forest" else "predict_proba"
    assert np.array_equal(getattr(loaded, method)(features), getattr(model, method)(features))


def test_the_bundled_model_loads_and_reproduces_the_logged_scores(sample_spec):
    from sightline.data.model import model_output

    loaded = load_model(ROOT / "sample_data" / "model.skops")
    log = pd.read_parquet(ROOT / "sample_data" / "reference.parquet").head(300)
    features = list(sample_spec.columns.features)
    scores = model_output(loaded, log[features], "binary", sample_spec.positive_label)
    # the reference log's scores were written by make_sample.py from the in-memory model
    assert np.allclose(scores, log["score"].to_numpy(), atol=1e-9)


# -- the whole audit: command line and dashboard ---------------------------------------------

def _malicious_audit(tmp_path: Path, name: str = "exec") -> Path:
    pipeline, column, _ = _payloads(tmp_path)[name]
    _dump(pipeline, tmp_path / "evil.skops")
    rng = np.random.default_rng(1)
    n = 200
    log = pd.DataFrame({column: rng.normal(size=n), "y": rng.integers(0, 2, n)})
    log["score"] = rng.uniform(size=n)
    log["pred"] = (log.score > 0.5).astype(int)
    log.to_csv(tmp_path / "log.csv", index=False)
    audit = {"name": "Hostile model", "task": "binary", "positive_label": 1, "current": "log.csv",
             "model": "evil.skops", "columns": {"target": "y", "score": "score", "prediction": "pred",
                                                 "features": [column]}}
    path = tmp_path / "audit.yaml"
    path.write_text(yaml.safe_dump(audit, sort_keys=False))
    return path


def _run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "sightline", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["exec", "os.system", "pandas.read_pickle"])
def test_the_command_line_refuses_the_model_and_runs_nothing(tmp_path, name):
    audit = _malicious_audit(tmp_path, name)
    _, _, expected = _payloads(tmp_path)[name]
    for args in (["validate", audit], ["report", audit, "--out", tmp_path / "out"]):
        result = _run_cli(*args)
        assert result.returncode == 2, (args, result.returncode, result.stdout, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "evil.skops" in lines[0] and all(t in lines[0] for t in expected), lines[0]
        assert not _markers(tmp_path)
    assert not (tmp_path / "out" / "report.json").exists()


@pytest.mark.slow
def test_the_dashboard_refuses_the_model_and_runs_nothing(tmp_path):
    from streamlit.testing.v1 import AppTest

    from sightline.data.spec import load_spec
    from tests.pages.page_text import page_text

    spec = load_spec(_malicious_audit(tmp_path, "exec"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["sightline.spec"] = spec  # components.state.SPEC_KEY, as open_spec sets it
    at.switch_page("pages/explainability.py")
    at.run()
    assert not at.exception, at.exception
    # the page keeps working on a surrogate and points to the Data page for the reason
    assert "could not be used" in page_text(at) and "surrogate" in page_text(at)
    assert not _markers(tmp_path)

    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception, at.exception
    warnings = "\n".join(str(w.value) for kind in (at.warning, at.error) for w in kind)
    assert "evil.skops" in warnings and "builtins.exec" in warnings and "allow-list" in warnings, page_text(at)
    assert not _markers(tmp_path)
