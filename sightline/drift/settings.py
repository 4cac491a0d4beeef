"""Drift settings and inputs: the audit's ``drift:`` section checked and filled in
(:class:`DriftSettings`, :func:`drift_settings`), the defaults and thresholds every drift view
shares, and the inputs both views compare — the reference (required), the features both sides
hold, seeded row samples, the prediction column and the labelled reference rows.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

import sightline.drift.windows as dw
from sightline.core.errors import MissingInputError, SpecError
from sightline.data.audit import Audit
from sightline.drift.methods import CAT, NUM, TESTS
from sightline.stats.windows import normalise_window

DEFAULT_SAMPLE_SIZE = 20_000   # rows per side evidently runs on (seeded random sample above it)
DEFAULT_DRIFT_SHARE = 0.5      # evidently's default: the dataset drifts when half the features do
DEFAULT_PSI_THRESHOLD = 0.1    # PSI at which a feature counts as shifted in a window ("moderate")
DRIFT_WINDOWS = ("day", "week", "month")  # the windows drift over time offers (sightline.stats.windows)
DEFAULT_WINDOW = "week"
SEED = 0
ALPHA = 0.05                   # family-wise error rate of the per-window tests (Bonferroni)
MIN_WINDOW_ROWS = 30           # windows with fewer rows are shown but never flagged
LABEL_SHIFT_MIN = 0.03         # label shift must move the class shares by ≥ 3 points (total variation) and twice the noise
MIN_REFERENCE_ROWS = 30
NO_REFERENCE = ("Drift needs a reference data set — add 'reference:' to the audit file (e.g. the validation data "
                "the model was checked on); the Operations page works without one")
OVERRIDE_KEYS = ("method", "threshold")


# ------------------------------------------------------------------ settings
@dataclass(frozen=True)
class DriftSettings:
    """The audit's ``drift:`` section with defaults filled in (see the README)."""

    method: str | None = None
    threshold: float | None = None
    columns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    window: str = DEFAULT_WINDOW
    drift_share: float = DEFAULT_DRIFT_SHARE
    sample_size: int = DEFAULT_SAMPLE_SIZE
    psi_threshold: float = DEFAULT_PSI_THRESHOLD
    seed: int = SEED


def _number(value, where: str, low: float | None = None, high: float | None = None, integer: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise SpecError(f"'{where}' must be a {'whole ' if integer else ''}number, got {value!r}")
    if (low is not None and value <= low) or (high is not None and value > high):
        raise SpecError(f"'{where}' must be {'above ' + str(low) if low is not None else ''}"
                        f"{' and at most ' + str(high) if high is not None else ''}, got {value!r}")
    return int(value) if integer else float(value)


def drift_settings(audit: Audit) -> DriftSettings:
    """Read and check ``audit.spec.drift``. Raises :class:`SpecError` naming the key and the fix."""
    raw = dict(audit.spec.drift or {})
    known = set(audit.features) | {c for c in (audit.spec.columns.score, audit.spec.columns.target,
                                                audit.spec.columns.prediction) if c}
    columns = {}
    for col, cfg in dict(raw.get("columns") or {}).items():
        col = str(col)
        if col not in known:
            close = difflib.get_close_matches(col, sorted(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "use a feature, the score or the target column"
            raise SpecError(f"'drift.columns.{col}': '{col}' is not a feature of this audit — {hint}")
        if not isinstance(cfg, Mapping):
            raise SpecError(f"'drift.columns.{col}' must be a mapping such as {{method: psi, threshold: 0.2}}")
        bad = [k for k in cfg if k not in OVERRIDE_KEYS]
        if bad:
            raise SpecError(f"'drift.columns.{col}': unknown key '{bad[0]}' — allowed keys: method, threshold")
        entry = {}
        if cfg.get("method") is not None:
            entry["method"] = str(cfg["method"])
        if cfg.get("threshold") is not None:
            entry["threshold"] = _number(cfg["threshold"], f"drift.columns.{col}.threshold", low=0)
        columns[col] = entry
    try:
        window = normalise_window(raw.get("window"), DRIFT_WINDOWS, default=DEFAULT_WINDOW)
    except ValueError:
        raise SpecError(f"'drift.window: {raw.get('window')}' — use day, week or month") from None
    method = None if raw.get("method") is None else str(raw["method"])
    _check_methods(audit, method, columns)
    return DriftSettings(
        method=method,
        threshold=None if raw.get("threshold") is None else _number(raw["threshold"], "drift.threshold", low=0),
        columns=columns, window=window,
        drift_share=_number(raw.get("drift_share", DEFAULT_DRIFT_SHARE), "drift.drift_share", low=0, high=1),
        sample_size=_number(raw.get("sample_size", DEFAULT_SAMPLE_SIZE), "drift.sample_size", low=99, integer=True),
        psi_threshold=_number(raw.get("psi_threshold", DEFAULT_PSI_THRESHOLD), "drift.psi_threshold", low=0),
    )


def _check_methods(audit: Audit, method: str | None, columns: Mapping[str, Mapping]) -> None:
    """Every test the audit names must be one evidently knows, for the type of its columns."""
    wanted = {c: o["method"] for c, o in columns.items() if "method" in o}
    if (method is None and not wanted) or audit.reference is None:
        return
    ref = audit.reference
    kind_of = {c: dw.feature_kind(ref[c]) for c in set(audit.features) | set(wanted) if c in ref.columns}
    if audit.spec.columns.target in wanted and audit.spec.task != "regression":
        kind_of[audit.spec.columns.target] = dw.CATEGORICAL
    checks = [(method, kind, "drift.method") for kind in sorted({kind_of[f] for f in audit.features if f in kind_of})
              if method is not None]
    checks += [(m, kind_of.get(c, dw.NUMERIC), f"drift.columns.{c}.method") for c, m in wanted.items()]
    if all(name in TESTS for name, _, _ in checks):  # tests sightline.drift.methods knows: no evidently import (~8 s)
        for name, kind, where in checks:
            if _evidently_kind(kind) not in TESTS[name].kinds:
                raise SpecError(_wrong_kind(where, name, kind))
        return
    from evidently.legacy.calculations.stattests import registry
    from evidently.legacy.core import ColumnType

    known = sorted(getattr(registry, "_registered_stat_tests", {}))  # evidently keeps the list private
    for name, kind, where in checks:
        try:
            registry.get_registered_stattest(name, ColumnType.Numerical if kind == dw.NUMERIC else ColumnType.Categorical)
        except registry.StatTestNotFoundError:
            raise SpecError(f"'{where}: {name}' is not a drift test evidently knows — use one of: {', '.join(known)}") from None
        except registry.StatTestInvalidFeatureTypeError:
            raise SpecError(_wrong_kind(where, name, kind)) from None


def _evidently_kind(kind: str) -> str:
    return NUM if kind == dw.NUMERIC else CAT


def _wrong_kind(where: str, name: str, kind: str) -> str:
    return (f"'{where}: {name}' does not apply to {kind} columns — e.g. "
            f"{'wasserstein, ks or psi' if kind == dw.NUMERIC else 'jensenshannon, chisquare or psi'}; "
            f"set a per-column method under drift.columns")


# ------------------------------------------------------------------ inputs

def _require_reference(audit: Audit) -> pd.DataFrame:
    ref = audit.reference
    if ref is None:
        raise MissingInputError(NO_REFERENCE)
    if len(ref) < MIN_REFERENCE_ROWS:
        raise MissingInputError(f"the reference has {len(ref):,} row{'' if len(ref) == 1 else 's'}; drift needs at least {MIN_REFERENCE_ROWS} "
                                f"to compare against — use a larger reference data set")
    return ref


def comparable_features(audit: Audit) -> tuple[list[str], dict[str, str], list[dict]]:
    """Features both sides hold with values, their kinds, and the skipped ones with the reason."""
    ref, cur = audit.reference, audit.primary
    features, kinds, skipped = [], {}, []
    for f in audit.features:
        if f not in ref.columns:
            skipped.append({"feature": f, "reason": "not in the reference"})
        elif ref[f].isna().all():
            skipped.append({"feature": f, "reason": "every value is missing in the reference"})
        elif cur[f].isna().all():
            skipped.append({"feature": f, "reason": "every value is missing in the prediction log"})
        elif pd.api.types.is_datetime64_any_dtype(ref[f]):
            skipped.append({"feature": f, "reason": "date/time features are not tested for drift"})
        else:
            features.append(f)
            kinds[f] = dw.feature_kind(ref[f], cur[f])
    return features, kinds, skipped


def binned_columns(audit: Audit, columns, kinds: Mapping[str, str]) -> dict[str, dw.BinnedColumn]:
    """Each of ``columns`` binned on the reference and applied to the primary version's log (see
    :func:`sightline.drift.windows.bin_column`): the PSI of now vs reference and the PSI per
    window both count these bins, so a section bins each column once."""
    ref, cur = audit.reference, audit.primary
    return {c: dw.bin_column(c, ref[c], cur[c], kinds.get(c) or dw.feature_kind(ref[c])) for c in columns}


def sample_rows(frame: pd.DataFrame, n: int, seed: int = SEED) -> pd.DataFrame:
    """At most ``n`` rows of ``frame``: all of them, or a seeded random sample without replacement."""
    if len(frame) <= n:
        return frame
    idx = np.sort(np.random.default_rng(seed).choice(len(frame), n, replace=False))
    return frame.iloc[idx]


def _prediction_column(audit: Audit) -> str | None:
    """The column prediction drift is measured on: the score (binary), else the prediction."""
    cols = audit.spec.columns
    if audit.spec.task == "binary" and audit.has_score and cols.score in audit.reference.columns:
        return cols.score
    if cols.prediction and cols.prediction in audit.current.columns and cols.prediction in audit.reference.columns:
        return cols.prediction
    return None


def _labelled_reference(audit: Audit) -> pd.DataFrame:
    target = audit.spec.columns.target
    ref = audit.reference
    if not target or target not in ref.columns:
        return ref.iloc[0:0]
    return ref[ref[target].notna()]
