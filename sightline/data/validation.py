"""Checks of loaded data against the audit spec.

Each problem is a :class:`Finding` with a level: ``error`` (the audit cannot run as written),
``warning`` (some analyses are limited) or ``info``. The message names the column or value and
the fix. Nothing here changes the data.

Groups are bounded: a sensitive column, or a non-numeric ``slices.columns`` entry, whose distinct
values exceed :data:`MAX_GROUPS`, or (on at least :data:`IDENTIFIER_MIN_ROWS` rows) exceed
:data:`IDENTIFIER_SHARE` of its non-missing rows, is an identifier or a continuous number, not a
group: :func:`refused_group_columns` names it, :func:`grouping_findings` says so, and
:func:`sightline.data.audit.load_audit` leaves it out of every grouping (fairness, calibration, slices)
while the other areas still run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sightline.core.text import short_label
from sightline.data.spec import AuditSpec

ERROR, WARNING, INFO = "error", "warning", "info"

# Grouping caps. Fairness compares every pair of groups (~500,000 pairs at 1,000 groups), and
# every group is a row of a table, a bar of a chart and a line of the card; a column with more
# values than this is not a set of groups a reviewer can read.
MAX_GROUPS = 1000
# A column with a distinct value for more than half of its rows is an identifier (user ids,
# timestamps, free text) even below MAX_GROUPS; judged only from this many non-missing rows up,
# so small logs with a handful of rows keep their columns.
IDENTIFIER_SHARE = 0.5
IDENTIFIER_MIN_ROWS = 100


@dataclass(frozen=True)
class Finding:
    """One validation result: ``level`` (error/warning/info), ``subject`` (file or column), ``message``."""

    level: str
    subject: str
    message: str

    def line(self) -> str:
        return f"{self.level}: {self.subject}: {self.message}"


def labels_equal(values: pd.Series, label) -> pd.Series:
    """Boolean Series: which values equal ``label``, comparing numbers as numbers (1 == 1.0)
    and everything else as stripped strings. Missing values compare False."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        try:
            return values == float(label)
        except (TypeError, ValueError):
            return pd.Series(False, index=values.index)
    # Compare the few distinct labels, not every row: 4× faster on a million-row log.
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    match = pd.Index(uniques).astype("string").str.strip() == str(label).strip()
    hit = np.append(np.asarray(match, dtype=bool), False)  # code -1 (missing) maps to the last slot
    return pd.Series(hit[codes], index=values.index)


def _examples(values: pd.Series, n: int = 3) -> str:
    return ", ".join(short_label(repr(v)) for v in values.drop_duplicates().head(n).tolist())


def feature_columns(spec: AuditSpec, current: pd.DataFrame) -> list[str]:
    """The audit's features: ``columns.features`` when given, else every column that no role
    names (precomputed ``shap_*`` columns excluded)."""
    if spec.columns.features is not None:
        return list(spec.columns.features)
    named = set(spec.columns.roles().values())
    return [c for c in current.columns if c not in named and not str(c).startswith("shap_")]


def _distinct(values: pd.Series) -> int:
    """Distinct non-missing values of a column (unhashable cells compared as text)."""
    try:
        return int(values.nunique(dropna=True))
    except TypeError:  # lists or dicts in cells
        return int(values.dropna().astype(str).nunique())


def too_many_groups(distinct: int, rows: int) -> bool:
    """Whether ``distinct`` values in ``rows`` non-missing rows are too many to compare as
    groups (see :data:`MAX_GROUPS`, :data:`IDENTIFIER_SHARE`, :data:`IDENTIFIER_MIN_ROWS`)."""
    return distinct > MAX_GROUPS or (rows >= IDENTIFIER_MIN_ROWS and distinct > IDENTIFIER_SHARE * rows)


def _slice_columns(spec: AuditSpec) -> list[str]:
    configured = (spec.slices or {}).get("columns")
    if isinstance(configured, str):
        return [configured]
    if isinstance(configured, (list, tuple)):
        return [str(c) for c in configured]
    return []


def refused_group_columns(spec: AuditSpec, current: pd.DataFrame) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Columns the audit names for grouping that hold too many distinct values to be groups.

    Inputs: the spec and the prediction log. Output: column -> (distinct non-missing values,
    the settings that name it: ``columns.sensitive`` and/or ``slices.columns``), in the audit's
    order. Sensitive columns are judged whatever their type (fairness compares raw values);
    ``slices.columns`` entries only when not numeric (slices cut numbers into quantile bins).
    Columns missing from the log are left to the mapping check.
    """
    named: dict[str, list[str]] = {}
    for col in spec.columns.sensitive:
        named.setdefault(col, []).append("columns.sensitive")
    for col in _slice_columns(spec):
        if col in current.columns and not (pd.api.types.is_numeric_dtype(current[col]) and not pd.api.types.is_bool_dtype(current[col])):
            named.setdefault(col, []).append("slices.columns")
    out = {}
    for col, where in named.items():
        if col not in current.columns or isinstance(current[col], pd.DataFrame):  # duplicated names: other checks
            continue
        values = current[col]
        distinct = _distinct(values)
        if too_many_groups(distinct, int(values.notna().sum())):
            out[col] = (distinct, tuple(dict.fromkeys(where)))
    return out


def grouping_findings(refused: dict[str, tuple[int, tuple[str, ...]]]) -> list[Finding]:
    """One warning per refused grouping column (from :func:`refused_group_columns`)."""
    out = []
    for col, (distinct, where) in refused.items():
        kind = "an identifier, not a group" if distinct > MAX_GROUPS else "nearly one value per row: an identifier, not a group"
        out.append(Finding(WARNING, f"column '{col}'",
                           f"'{col}' has {distinct:,} distinct values: {kind} (groups are capped at {MAX_GROUPS:,} values "
                           f"and at {IDENTIFIER_SHARE:.0%} of the rows) — it is left out of fairness, calibration and "
                           f"slices; the other areas still run. Remove it from {' and '.join(where)}, or bin it into a "
                           "few groups first"))
    return out


def _check_mapped_columns(spec: AuditSpec, current: pd.DataFrame, name: str) -> list[Finding]:
    out = []
    cols = set(current.columns)
    for role, col in spec.columns.roles().items():
        if col not in cols:
            out.append(Finding(ERROR, f"columns.{role}",
                               f"column '{col}' is not in {name} (columns: {_short(current.columns)}) "
                               "— fix the mapping in the audit"))
    for key in ("features", "sensitive"):
        for col in getattr(spec.columns, key) or ():
            if col not in cols:
                out.append(Finding(ERROR, f"columns.{key}", f"column '{col}' is not in {name} — remove it from columns.{key} or fix the spelling"))
    return out


def _short(columns) -> str:
    names = [str(c) for c in columns]
    return ", ".join(names[:12]) + (f", … ({len(names)} in all)" if len(names) > 12 else "")


def _check_score(spec: AuditSpec, current: pd.DataFrame) -> list[Finding]:
    col = spec.columns.score
    if not col or col not in current.columns:
        return []
    s = current[col]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        bad = s[pd.to_numeric(s, errors="coerce").isna() & s.notna()]
        return [Finding(ERROR, f"column '{col}'",
                        f"scores must be numbers; found non-numeric values such as {_examples(bad)} "
                        "— clean the column or map another one as score")]
    if s.isna().all():
        return [Finding(ERROR, f"column '{col}'", "the score column is empty (all values missing)")]
    out = []
    if spec.task in ("binary", "multiclass"):
        outside = s[(s < 0) | (s > 1)]
        if len(outside):
            out.append(Finding(ERROR, f"column '{col}'",
                               f"{len(outside):,} scores lie outside [0, 1] (e.g. {_examples(outside)}) "
                               "— a probability is expected; if these are logits, apply a sigmoid first"))
    if s.isna().any():
        out.append(Finding(WARNING, f"column '{col}'", f"{int(s.isna().sum()):,} rows have no score; score-based metrics skip them"))
    return out


def _check_target(spec: AuditSpec, current: pd.DataFrame, reference: pd.DataFrame | None) -> list[Finding]:
    col = spec.columns.target
    if not col or col not in current.columns:
        if spec.task != "regression" and not col:
            return [Finding(WARNING, "columns.target",
                            "no target column is mapped: performance, calibration and fairness-by-outcome need labels; drift and prediction monitoring still "
                            "work")]
        return []
    y = current[col]
    labelled = y.notna()
    if not labelled.any():
        return [Finding(WARNING, f"column '{col}'",
                        "no labels have arrived yet (all missing): performance pages wait for labels; drift and prediction monitoring still "
                        "work")]
    out = []
    if not labelled.all():
        out.append(Finding(INFO, f"column '{col}'",
                           f"labels present for {labelled.mean():.1%} of logged rows, all model versions together ({int((~labelled).sum()):,} awaiting "
                           "labels); accuracy metrics use labelled rows only"))
    if spec.task == "regression":
        if not pd.api.types.is_numeric_dtype(y):
            out.append(Finding(ERROR, f"column '{col}'",
                               "a regression target must be numeric; found values such as "
                               f"{_examples(y[pd.to_numeric(y, errors='coerce').isna() & labelled])}"))
        return out
    classes = y[labelled].astype("string").str.strip().unique().tolist()
    if spec.task == "binary":
        if not labels_equal(y, spec.positive_label).any():
            out.append(Finding(ERROR, "positive_label",
                               f"'{spec.positive_label}' matches no label in '{col}' (labels seen: {', '.join(map(repr, sorted(classes)[:6]))}) "
                               "— set positive_label to one of them"))
        if len(classes) > 2:
            out.append(Finding(ERROR, f"column '{col}'",
                               f"task is binary but '{col}' holds {len(classes)} classes ({', '.join(map(repr, sorted(classes)[:6]))}) "
                               "— use task: multiclass or fix the labels"))
    if reference is not None and col in reference.columns:
        ref_classes = set(reference[col].dropna().astype("string").str.strip().unique().tolist())
        new = sorted(set(classes) - ref_classes)
        if new and ref_classes:
            out.append(Finding(WARNING, f"column '{col}'",
                               f"label-schema change: class(es) {', '.join(map(repr, new))} appear in production but never in the "
                               "reference"))
    return out


def _check_prediction(spec: AuditSpec, current: pd.DataFrame) -> list[Finding]:
    pred, score = spec.columns.prediction, spec.columns.score
    if not pred and not score:
        return [Finding(ERROR, "columns", "neither a prediction nor a score column is mapped — map at least one (columns.prediction or columns.score)")]
    if spec.task == "regression" and not pred:
        return [Finding(ERROR, "columns.prediction", "a regression audit needs the predicted value column (columns.prediction)")]
    if not pred or pred not in current.columns:
        return []
    p = current[pred]
    if p.isna().all():
        return [Finding(ERROR, f"column '{pred}'", "the prediction column is empty (all values missing)")]
    if spec.task == "binary":
        classes = p.dropna().astype("string").str.strip().unique().tolist()
        if len(classes) > 2:
            return [Finding(ERROR, f"column '{pred}'", f"task is binary but predictions hold {len(classes)} values ({', '.join(map(repr, classes[:6]))})")]
        if spec.positive_label is not None and not labels_equal(p, spec.positive_label).any() and len(classes) == 2:
            return [Finding(ERROR, f"column '{pred}'",
                            f"no prediction equals positive_label '{spec.positive_label}' (values seen: {', '.join(map(repr, classes))}) "
                            "— predictions must use the same labels as the target")]
    return []


def _check_features(spec: AuditSpec, current: pd.DataFrame, reference: pd.DataFrame | None) -> list[Finding]:
    out = []
    features = [f for f in feature_columns(spec, current) if f in current.columns]
    if not features:
        out.append(Finding(WARNING, "columns.features", "no feature columns: drift and explainability need the model's inputs in the log"))
    for f in features:
        if current[f].isna().all():
            out.append(Finding(WARNING, f"column '{f}'",
                               "every value is missing in the prediction log "
                               "— drift and importance skip it; check the logging pipeline"))
    if reference is not None:
        missing = [f for f in features if f not in reference.columns]
        if missing:
            out.append(Finding(WARNING, "reference",
                               f"feature(s) {', '.join(missing[:8])} are not in the reference "
                               "— drift skips them; add them to the reference or to columns.features"))
        extra = [c for c in reference.columns if c not in current.columns]
        if extra:
            out.append(Finding(INFO, "reference", f"column(s) only in the reference, ignored: {', '.join(map(str, extra[:8]))}"))
        for f in features:
            if f in reference.columns and reference[f].isna().all():
                out.append(Finding(WARNING, f"column '{f}'", "every value is missing in the reference — drift skips it"))
    return out


def _check_timestamp(spec: AuditSpec, current: pd.DataFrame) -> list[Finding]:
    col = spec.columns.timestamp
    if not col or col not in current.columns:
        return []
    ts = current[col]
    if pd.api.types.is_datetime64_any_dtype(ts):
        return []
    parsed = pd.to_datetime(ts, errors="coerce", utc=False, format="mixed")
    bad = parsed.isna() & ts.notna()
    if parsed.isna().all():
        return [Finding(ERROR, f"column '{col}'", f"no value parses as a date/time (e.g. {_examples(ts)}) — map another column as timestamp, or none")]
    if bad.any():
        return [Finding(WARNING, f"column '{col}'",
                        f"{int(bad.sum()):,} values are not dates (e.g. {_examples(ts[bad])}); those rows are left out of time "
                        "windows")]
    return []


def _check_other_roles(spec: AuditSpec, current: pd.DataFrame, skip: set[str] = frozenset()) -> list[Finding]:
    out = []
    lat = spec.columns.latency_ms
    if lat and lat in current.columns:
        values = pd.to_numeric(current[lat], errors="coerce")
        if values.isna().all():
            out.append(Finding(WARNING, f"column '{lat}'", "no latency value is a number — the operations page cannot show latency"))
        elif (values < 0).any():
            out.append(Finding(WARNING, f"column '{lat}'", f"{int((values < 0).sum()):,} negative latencies; they are left out of percentiles"))
    ver = spec.columns.model_version
    if ver and ver in current.columns and spec.primary_version is not None:
        seen = current[ver].dropna().astype(str).unique().tolist()
        if spec.primary_version not in seen:
            out.append(Finding(ERROR, "primary_version", f"'{spec.primary_version}' is not a model version in '{ver}' (seen: {', '.join(seen[:6])})"))
    rid = spec.columns.id
    if rid and rid in current.columns:
        keys = [rid] + ([ver] if ver and ver in current.columns else [])
        dup = current.duplicated(subset=keys).sum()
        if dup:
            out.append(Finding(WARNING, f"column '{rid}'", f"{int(dup):,} duplicated ids (per model version) — requests logged twice inflate every count"))
    for col in spec.columns.sensitive:
        if col in current.columns and col not in skip:  # a refused column is named once, by grouping_findings
            counts = current[col].value_counts(dropna=True)
            tiny = counts[counts < spec.fairness.min_group_size]
            if len(tiny):
                out.append(Finding(INFO, f"column '{col}'",
                                   f"{len(tiny)} group(s) below min_group_size={spec.fairness.min_group_size} "
                                   f"({', '.join(short_label(v) for v in tiny.index[:5])}) are flagged and kept out of verdicts and exports"))
    return out


def validate_inputs(spec: AuditSpec, current: pd.DataFrame, reference: pd.DataFrame | None,
                    refused: dict[str, tuple[int, tuple[str, ...]]] | None = None) -> list[Finding]:
    """Every check of the loaded tables against the spec.

    Inputs: the spec, the prediction log, the reference (or None); ``refused``, the result of
    :func:`refused_group_columns` when the caller has it (computed here otherwise).
    Output: findings, errors first.
    """
    if refused is None:
        refused = refused_group_columns(spec, current)
    findings: list[Finding] = grouping_findings(refused)
    findings += _check_mapped_columns(spec, current, f"the prediction log ({spec.current.describe()})")
    findings += _check_prediction(spec, current)
    findings += _check_score(spec, current)
    findings += _check_target(spec, current, reference)
    findings += _check_features(spec, current, reference)
    findings += _check_timestamp(spec, current)
    findings += _check_other_roles(spec, current, skip=set(refused))
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    return sorted(findings, key=lambda f: order[f.level])


def has_errors(findings) -> bool:
    return any(f.level == ERROR for f in findings)


def finite_or_nan(values) -> np.ndarray:
    """Float array with non-numeric values as NaN (never raises)."""
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
