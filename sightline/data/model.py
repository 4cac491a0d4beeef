"""Loading model artifacts safely, and asking a loaded model for its outputs.

Only skops files are read, and only after every type the file names is on the exact allow-list
of :mod:`sightline.data.model_types`; the check runs on the file's own ``schema.json`` before
skops builds anything, and again on skops' own list of untrusted types. After loading, the
checks of :mod:`sightline.data.model_checks` run (tree index bounds, vectorizers that read
text). Pickle and joblib files are refused, since loading them runs arbitrary code. Work is
bounded: files above :data:`MAX_MODEL_BYTES`, archives that unpack to more than
:data:`MAX_UNPACKED_BYTES` and schemas above :data:`MAX_SCHEMA_BYTES` are refused unread.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd

from sightline.core.errors import ModelError
from sightline.data.model_checks import structure_problem
from sightline.data.model_types import allowed_type_names, refusal, refused_types, shown_name

MAX_MODEL_BYTES = 500 * 2**20       # a .skops file larger than this is refused unread (500 MB)
MAX_UNPACKED_BYTES = 2 * 2**30      # sum of the archive's declared entry sizes (2 GB): zip bombs
MAX_SCHEMA_BYTES = 64 * 2**20       # schema.json, the tree of types skops would build (64 MB)
MAX_ZIP_ENTRIES = 200_000           # arrays stored in one archive
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
        refused = refused_types(schema)
    except ModelError as exc:
        raise ModelError(f"{path}: the skops file is too large to check ({exc}) — save it again with skops.io.dump") from None
    if refused:
        raise refusal(path, refused)
    try:
        # skops' own audit as a second opinion: anything it distrusts must be on our list too
        flagged = sio.get_untrusted_types(data=data)
    except Exception as exc:  # noqa: BLE001 -- any failure reading a hostile archive is bad input
        raise ModelError(f"{path}: the skops file is malformed ({type(exc).__name__}) — "
                         "save it again with skops.io.dump") from None
    refused = {t for t in flagged if t not in allowed_type_names()}
    if refused:
        raise refusal(path, refused)
    try:
        model = sio.loads(data, trusted=list(flagged))
    except Exception as exc:  # noqa: BLE001
        first = (str(exc).splitlines() or [""])[0][:160]
        raise ModelError(f"{path}: the skops file could not be loaded ({type(exc).__name__}: {shown_name(first)})") from None
    del data
    try:
        problem = structure_problem(model)
    except Exception as exc:  # noqa: BLE001 -- a crafted object that breaks the check is refused too
        problem = f"its fitted structure could not be checked ({type(exc).__name__})"
    if problem:
        raise ModelError(f"{path}: refused to use the model: {problem} — the file is damaged or crafted; "
                         "save the fitted model again with skops.io.dump")
    if not (hasattr(model, "predict") or hasattr(model, "predict_proba")):
        raise ModelError(f"{path}: holds a {type(model).__name__}, which is not a model (no predict method)")
    return model


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
