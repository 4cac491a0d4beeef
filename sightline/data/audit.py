"""A loaded audit: the spec, its tables, its model and their fingerprints.

:func:`load_audit` is the one way in. The resulting :class:`Audit` is never mutated; every
analysis takes it and returns a new result. Its helpers give labels, predictions and scores
in the form scikit-learn and fairlearn expect (binary: 0/1 with 1 = ``positive_label``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sightline.core.errors import DataError, ModelError
from sightline.data.io import PARQUET_SUFFIXES, file_sha256, frame_sha256, parquet_columns, read_source
from sightline.data.model import load_model, model_output
from sightline.data.scale import LogSample, read_log_sample, scale_settings, source_rows
from sightline.data.spec import AuditSpec, Source, spec_to_yaml
from sightline.data.validation import ERROR, WARNING, Finding, feature_columns, labels_equal, refused_group_columns, validate_inputs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InputFile:
    """Provenance of one input: its role, where it came from, rows, columns, SHA-256."""

    role: str
    name: str
    rows: int | None
    columns: int | None
    sha256: str


@dataclass(frozen=True, eq=False)
class Audit:
    """Everything one audit needs. ``current`` holds every logged row (all model versions);
    most analyses use :attr:`primary` — the rows of the primary model version.

    ``spec`` is the spec the analyses run on: the audit file's, less any sensitive or slice
    column refused for grouping (too many distinct values; ``refused_groups`` names them with
    their counts, and a validation finding says so). :attr:`written_spec` is the file's own."""

    spec: AuditSpec
    current: pd.DataFrame
    reference: pd.DataFrame | None = None
    model: Any = None
    findings: tuple[Finding, ...] = ()
    inputs: tuple[InputFile, ...] = ()
    fingerprint: str = ""
    features: tuple[str, ...] = field(default=())
    # Set when the log is larger than ``scale.max_rows``: ``current`` then holds a seeded sample
    # and this says of how many rows, and where the whole log is (sightline/scale.py).
    log_sample: LogSample | None = None
    # Grouping columns left out of ``spec`` (column -> distinct values), and the spec as written
    # when that changed it (None: ``spec`` is the spec as written).
    refused_groups: dict = field(default_factory=dict)
    spec_as_written: AuditSpec | None = None

    @property
    def written_spec(self) -> AuditSpec:
        """The spec as the audit file wrote it (what to save back, or show as the settings)."""
        return self.spec_as_written if self.spec_as_written is not None else self.spec

    @property
    def sensitive(self) -> list[str]:
        """The sensitive columns the areas group by, in the audit file's order (a column refused
        for grouping — see :attr:`refused_groups` — is not among them)."""
        return list(self.spec.columns.sensitive)

    # -- row subsets ---------------------------------------------------------------------
    @cached_property
    def versions(self) -> list[str]:
        """Model versions in the log, most rows first (empty when the log has no version column)."""
        col = self.spec.columns.model_version
        if not col or col not in self.current.columns:
            return []
        values = self.current[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return [str(v) for v in _categorical_value_counts_as_str(values).index]
        return [str(v) for v in values.astype(str).value_counts().index]

    @cached_property
    def primary_version(self) -> str | None:
        """The version the audit is about: ``primary_version`` from the spec, else the one with most rows."""
        if not self.versions:
            return None
        return self.spec.primary_version or self.versions[0]

    @cached_property
    def primary(self) -> pd.DataFrame:
        """Rows of the primary model version (all rows when the log has one version)."""
        if len(self.versions) <= 1:
            return self.current
        values = self.current[self.spec.columns.model_version]
        if isinstance(values.dtype, pd.CategoricalDtype):
            return self.current[_categorical_equals_str(values, self.primary_version)]
        return self.current[values.astype(str) == self.primary_version]

    def labelled(self, frame: pd.DataFrame | None = None) -> pd.DataFrame:
        """Rows of ``frame`` (default :attr:`primary`) whose label has arrived.

        Not cached on purpose: a selection costs ~0.05 s at 1M rows, while keeping it would
        hold another ~0.5 GB for the audit's lifetime at 5M rows."""
        frame = self.primary if frame is None else frame
        target = self.spec.columns.target
        if not target or target not in frame.columns:
            return frame.iloc[0:0]
        return frame[frame[target].notna()]

    # -- columns in the form metrics expect ---------------------------------------------
    @property
    def has_labels(self) -> bool:
        return len(self.labelled()) > 0

    @property
    def has_score(self) -> bool:
        return bool(self.spec.columns.score) and self.spec.columns.score in self.current.columns

    @property
    def has_time(self) -> bool:
        return bool(self.spec.columns.timestamp) and self.spec.columns.timestamp in self.current.columns

    def y_true(self, frame: pd.DataFrame) -> np.ndarray:
        """Labels of ``frame``: binary 0/1 (1 = positive_label), multiclass strings, regression floats.
        Call on labelled rows; missing labels become 0 (binary) or NaN."""
        y = frame[self.spec.columns.target]
        if self.spec.task == "binary":
            return labels_equal(y, self.spec.positive_label).to_numpy(dtype=int)
        if self.spec.task == "multiclass":
            return y.astype("string").str.strip().to_numpy(dtype=object)
        return pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)

    def y_score(self, frame: pd.DataFrame) -> np.ndarray | None:
        """Scores of ``frame`` as floats (P(positive) for binary), or None without a score column."""
        if not self.has_score:
            return None
        return pd.to_numeric(frame[self.spec.columns.score], errors="coerce").to_numpy(dtype=float)

    def y_pred(self, frame: pd.DataFrame, threshold: float | None = None) -> np.ndarray:
        """Predictions of ``frame``: binary 0/1, multiclass strings, regression floats.

        For binary with ``threshold`` given (or no prediction column), the score is thresholded
        (score >= threshold means positive) instead of reading the logged prediction.
        """
        pred = self.spec.columns.prediction
        if self.spec.task == "binary":
            if threshold is not None or not pred or pred not in frame.columns:
                score = self.y_score(frame)
                if score is None:
                    raise DataError("no prediction column and no score to threshold — map columns.prediction or columns.score")
                return (score >= (self.spec.threshold if threshold is None else threshold)).astype(int)
            return labels_equal(frame[pred], self.spec.positive_label).to_numpy(dtype=int)
        if self.spec.task == "multiclass":
            return frame[pred].astype("string").str.strip().to_numpy(dtype=object)
        return pd.to_numeric(frame[pred], errors="coerce").to_numpy(dtype=float)

    def timestamps(self, frame: pd.DataFrame) -> pd.Series | None:
        """The timestamp column of ``frame`` as datetime64 (unparseable values NaT), or None."""
        if not self.has_time:
            return None
        ts = frame[self.spec.columns.timestamp]
        if pd.api.types.is_datetime64_any_dtype(ts):
            return ts
        return pd.to_datetime(ts, errors="coerce", format="mixed")

    def input_file(self, role: str) -> InputFile | None:
        return next((i for i in self.inputs if i.role == role), None)


def _read(spec: AuditSpec, source: Source, role: str) -> tuple[pd.DataFrame, InputFile, LogSample | None]:
    """One input table, its provenance and — for a log too large for memory — how it was sampled."""
    if role == "current":
        settings = scale_settings(spec)
        population = source_rows(source, Path(spec.base_dir))
        if population is not None and population > settings.max_rows:
            df, drawn = read_log_sample(source, Path(spec.base_dir), population, settings)
            digest = frame_sha256(df) if source.is_sql else file_sha256(source.resolve(spec.base_dir))
            name = f"{source.describe()} :: {source.query}" if source.is_sql else source.resolve(spec.base_dir).name
            return df, InputFile(role, name, population, int(df.shape[1]), digest), drawn
    selected = _columns_used(spec) if role == "current" else None
    df = read_source(source, spec.base_dir, columns=selected[0] if selected else None)
    if source.is_sql:
        digest, name = frame_sha256(df), f"{source.describe()} :: {source.query}"
    else:
        path = source.resolve(spec.base_dir)
        digest, name = file_sha256(path), path.name
    n_columns = selected[1] if selected else int(df.shape[1])  # the file's columns, read or not
    return df, InputFile(role, name, int(df.shape[0]), n_columns, digest), None


def _columns_used(spec: AuditSpec) -> tuple[list[str], int] | None:
    """The columns of a Parquet log that the audit uses — the mapped roles, features, sensitive
    columns, logged ``shap_*`` values, and every column the reference also has (so comparing the
    two tables finds what it found before) — in file order, with the file's column count.

    None (read every column) when the features are not listed (they are then every unnamed
    column), the log or a reference is not a Parquet file, or a named column is missing from
    the log (validation then names it, listing all the log's columns).
    """
    cols = spec.columns
    if spec.current.is_sql or cols.features is None:
        return None
    path = spec.current.resolve(spec.base_dir)
    names = parquet_columns(path) if path.suffix.lower() in PARQUET_SUFFIXES else None
    if names is None:
        return None
    also: list[str] = []
    if spec.reference is not None:
        ref_path = None if spec.reference.is_sql else spec.reference.resolve(spec.base_dir)
        ref_names = parquet_columns(ref_path) if ref_path is not None and ref_path.suffix.lower() in PARQUET_SUFFIXES else None
        if ref_names is None:
            return None
        also = ref_names
    named = set(cols.roles().values()) | set(cols.features) | set(cols.sensitive)
    if not named <= set(names):
        return None
    keep = named | set(also) | {c for c in names if str(c).startswith("shap_")}
    return [c for c in names if c in keep], len(names)


def _parse_time(spec: AuditSpec, df: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as datetime64 in memory (the file is untouched); tz-aware values become UTC-naive."""
    col = spec.columns.timestamp
    if not col or col not in df.columns:
        return df
    ts = df[col]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        ts = pd.to_datetime(ts, errors="coerce", format="mixed", utc=True)
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    if ts is df[col]:
        return df
    df = df.copy(deep=False)
    df[col] = ts
    return df


def load_audit(spec: AuditSpec, *, model_errors: str = "raise") -> Audit:
    """Read, validate and assemble an audit.

    Inputs: the spec; ``model_errors`` "raise" (CLI: a bad model is bad input) or "warn"
    (dashboard: record it as a finding and keep going without the model).
    Output: the :class:`Audit`. Raises :class:`DataError` for unreadable sources or error-level
    findings (the first is named, with the count of others), :class:`ModelError` for a bad model.
    """
    current, cur_info, log_sample = _read(spec, spec.current, "current")
    reference, ref_info = (None, None)
    if spec.reference is not None:
        reference, ref_info, _ = _read(spec, spec.reference, "reference")
    refused = refused_group_columns(spec, current)
    findings = validate_inputs(spec, current, reference, refused=refused)
    errors = [f for f in findings if f.level == ERROR]
    if errors:
        more = f" (and {len(errors) - 1} more problem(s): run 'python -m sightline validate')" if len(errors) > 1 else ""
        raise DataError(f"{errors[0].subject}: {errors[0].message}{more}")
    current = _parse_time(spec, current)
    features = tuple(f for f in feature_columns(spec, current) if f in current.columns)
    inputs = [cur_info] + ([ref_info] if ref_info else [])
    model = None
    model_path = spec.model_path()
    if model_path is not None:
        try:
            model = load_model(model_path)
            sample = (reference if reference is not None else current).head(50)
            model_output(model, sample[[f for f in features if f in sample.columns]], spec.task, spec.positive_label)
            inputs.append(InputFile("model", model_path.name, None, None, file_sha256(model_path)))
        except ModelError as exc:
            if model_errors == "raise":
                raise
            findings.append(Finding(WARNING, "model", f"{exc} — pages that need the model use a surrogate instead"))
            model = None
    # The card's written sections do not change any number: leave them out of the fingerprint so
    # editing the card does not recompute every analysis.
    digest = hashlib.sha256(spec_to_yaml(spec.replace(card={})).encode())
    for item in inputs:
        digest.update(item.sha256.encode())
    run_spec = without_groups(spec, refused)
    return Audit(spec=run_spec, current=current, reference=reference, model=model, findings=tuple(findings),
                 inputs=tuple(inputs), fingerprint=digest.hexdigest()[:16], features=features, log_sample=log_sample,
                 refused_groups={c: n for c, (n, _) in refused.items()},
                 spec_as_written=spec if run_spec is not spec else None)


def without_groups(spec: AuditSpec, refused) -> AuditSpec:
    """``spec`` without the refused grouping columns (keys of ``refused``) in
    ``columns.sensitive`` and ``slices.columns`` — the one place fairness, calibration, slices,
    explainability and the summary learn the cap. ``spec`` itself when nothing is refused.
    A ``slices.columns`` list left empty is dropped, so slices use their default columns."""
    if not refused:
        return spec
    sensitive = tuple(c for c in spec.columns.sensitive if c not in refused)
    slices = dict(spec.slices or {})
    configured = slices.get("columns")
    if isinstance(configured, (str, list, tuple)):
        kept = [c for c in ([configured] if isinstance(configured, str) else configured) if str(c) not in refused]
        if kept:
            slices["columns"] = kept
        else:
            slices.pop("columns")
    return spec.replace(columns=dataclasses.replace(spec.columns, sensitive=sensitive), slices=slices)


def sample_audit_path() -> Path:
    """The bundled sample audit file (``sample_data/audit.yaml`` beside the package)."""
    return Path(__file__).resolve().parents[2] / "sample_data" / "audit.yaml"


# A 1M-row categorical version column costs ~0.15 s to turn into strings, twice per audit; the
# category codes give the same answers from a handful of strings.
def _category_strings(values: pd.Series) -> np.ndarray:
    """``str`` of each category, then of a missing value (what ``astype(str)`` gives each row, by code + 1)."""
    return np.array([str(c) for c in values.cat.categories] + [str(np.nan)], dtype=object)


def _categorical_equals_str(values: pd.Series, text: str) -> np.ndarray:
    """``values.astype(str) == text`` as a boolean array, for a categorical Series."""
    return (_category_strings(values) == text)[values.cat.codes.to_numpy()]  # code -1 (missing) → "nan"


def _categorical_value_counts_as_str(values: pd.Series) -> pd.Series:
    """``values.astype(str).value_counts()`` for a categorical Series: counts per string, in the
    order pandas gives (first appearance, then sorted by count, descending, by the same sort)."""
    codes = values.cat.codes.to_numpy()
    present, first, counts = np.unique(codes, return_index=True, return_counts=True)
    names = _category_strings(values)[present]  # code -1 (missing) indexes the last entry, "nan"
    totals: dict[str, list[int]] = {}
    for name, at, n in zip(names, first, counts):
        seen = totals.setdefault(name, [at, 0])
        seen[0], seen[1] = min(seen[0], at), seen[1] + int(n)
    ordered = sorted(totals.items(), key=lambda kv: kv[1][0])
    counted = pd.Series([n for _, (_, n) in ordered], index=pd.Index([k for k, _ in ordered], dtype=object), name="count")
    return counted.sort_values(ascending=False)


def comparable_labels(values) -> np.ndarray:
    """Class labels as a NumPy array that ``==`` and ``!=`` can compare element by element: a
    missing label (``pd.NA``, NaN, NaT) becomes None, which equals no label. ``pd.NA`` itself
    cannot be compared (its truth value raises), and multiclass labels arrive as strings with
    ``pd.NA`` for a missing prediction (:meth:`Audit.y_pred`). A missing
    prediction thus counts as wrong, as in the Performance area. Numeric arrays come back as they are."""
    values = np.asarray(values)
    if values.dtype != object:
        return values
    missing = pd.isna(values)
    if not missing.any():
        return values
    out = values.copy()
    out[missing] = None
    return out
