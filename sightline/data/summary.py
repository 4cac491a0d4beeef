"""What was loaded: rows, time span, label coverage, model versions, features, sensitive groups."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from sightline.data.audit import Audit
from sightline.stats.windows import window_codes


@dataclass(frozen=True)
class DataSummary:
    """A loaded audit in numbers. Times are ISO strings; coverage is a fraction in [0, 1]."""

    name: str
    task: str
    current_rows: int
    primary_rows: int
    reference_rows: int | None
    start: str | None
    end: str | None
    days: float | None
    labelled_rows: int
    label_coverage: float
    last_label_time: str | None
    versions: dict
    primary_version: str | None
    features: list
    numeric_features: list
    categorical_features: list
    sensitive: dict
    has_model: bool
    inputs: list
    log_rows: int = 0  # rows in the whole log (= current_rows unless the log was sampled)
    sample: dict | None = None  # how a log too large for memory was sampled (sightline/scale.py)
    # Sensitive / slice columns left out of every grouping: column -> distinct values (see
    # sightline.data.validation.MAX_GROUPS); a validation finding says the same in words.
    refused_groups: dict = field(default_factory=dict)
    # Labelled rows of every model version together (in memory): the validation note's coverage
    # counts these, while ``label_coverage`` is of the primary version only.
    current_labelled_rows: int = 0
    # column -> group -> labelled rows of the primary version: what Performance, Calibration and
    # Fairness count a group's error rates on (``sensitive`` counts every primary row).
    sensitive_labelled: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _iso(ts) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()


def data_summary(audit: Audit) -> DataSummary:
    """Summarise a loaded audit for the Overview page and report.json.

    Subsets: time span, ``label_coverage``, ``labelled_rows`` and the sensitive groups count the
    primary version's rows (``sensitive_labelled`` its labelled rows); ``versions``,
    ``current_rows`` and ``current_labelled_rows`` every version in memory; ``log_rows`` the whole log."""
    spec, primary = audit.spec, audit.primary
    labelled = audit.labelled()
    ts = audit.timestamps(primary)
    start = end = last_label = days = None
    if ts is not None and ts.notna().any():
        start, end = ts.min(), ts.max()
        days = round((end - start).total_seconds() / 86400, 2)
        lts = audit.timestamps(labelled)
        last_label = lts.max() if lts is not None and len(lts) else None
    version_col = spec.columns.model_version
    versions = (audit.current[version_col].astype(str).value_counts().to_dict()
                if version_col and version_col in audit.current.columns else {})
    numeric = [f for f in audit.features if pd.api.types.is_numeric_dtype(primary[f])]
    sensitive = {c: {str(k): int(v) for k, v in primary[c].value_counts(dropna=False).items()}
                 for c in spec.columns.sensitive if c in primary.columns}
    sensitive_labelled = {c: {str(k): int(v) for k, v in labelled[c].value_counts(dropna=False).items()} for c in sensitive}
    return DataSummary(
        name=spec.name, task=spec.task,
        current_rows=int(len(audit.current)), primary_rows=int(len(primary)),
        reference_rows=None if audit.reference is None else int(len(audit.reference)),
        start=_iso(start), end=_iso(end), days=days,
        labelled_rows=int(len(labelled)),
        label_coverage=float(len(labelled) / len(primary)) if len(primary) else 0.0,
        last_label_time=_iso(last_label),
        versions={str(k): int(v) for k, v in versions.items()},
        primary_version=audit.primary_version,
        features=list(audit.features), numeric_features=numeric,
        categorical_features=[f for f in audit.features if f not in numeric],
        sensitive=sensitive, has_model=audit.model is not None,
        inputs=[asdict(i) for i in audit.inputs],
        log_rows=audit.log_sample.population if audit.log_sample else int(len(audit.current)),
        sample=audit.log_sample.provenance() if audit.log_sample else None,
        refused_groups=dict(getattr(audit, "refused_groups", None) or {}),
        current_labelled_rows=int(len(audit.labelled(audit.current))),
        sensitive_labelled=sensitive_labelled,
    )


def label_coverage_by_window(audit: Audit, window: str = "week") -> pd.DataFrame:
    """Rows and labelled share per time window of the primary version.

    Inputs: the audit; ``window`` a name of :data:`sightline.stats.windows.WINDOWS` (weeks start
    on Monday, in the log's own wall-clock time). Output columns: ``window`` (window start,
    tz-naive), ``rows``, ``labelled``, ``coverage`` (0–1), one row per window with rows, in time
    order. Empty without timestamps.
    """
    ts = audit.timestamps(audit.primary)
    if ts is None:
        return pd.DataFrame(columns=["window", "rows", "labelled", "coverage"])
    target = audit.spec.columns.target
    codes, starts = window_codes(ts, window)
    has = codes >= 0
    labelled = audit.primary[target].notna().to_numpy() if target else np.zeros(len(codes), dtype=bool)
    out = pd.DataFrame({"window": starts, "rows": np.bincount(codes[has], minlength=len(starts)),
                        "labelled": np.bincount(codes[has & labelled], minlength=len(starts))})
    out["coverage"] = out["labelled"] / out["rows"]
    return out
