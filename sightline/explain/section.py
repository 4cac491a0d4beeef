"""Explainability: SHAP feature importance, with the model, from logged SHAP values, or via a surrogate.

Three ways in, tried in this order:

1. **The model artifact** (``model:`` in the audit). A scikit-learn Pipeline is split into its
   preprocessing and its final estimator; tree ensembles are explained exactly by
   ``shap.TreeExplainer`` (path-dependent, no background needed), linear models by
   ``shap.LinearExplainer`` (background: a reference sample), and one-hot or otherwise encoded
   columns are folded back to the original features by summing their SHAP values. Any other
   model is explained on the original features by permutation SHAP (:func:`permutation_shap`,
   the algorithm of ``shap.PermutationExplainer``) over the model's probability (background: a
   reference sample), on a smaller sample set by a budget of model evaluations.
2. **Precomputed SHAP values** in the log: one column ``shap_<feature>`` per feature, and
   optionally ``shap_base_value`` (the expected value), in the model's own output space.
3. **A surrogate** (:mod:`sightline.explain.surrogate`) fitted to the logged scores or predictions,
   labelled as a surrogate everywhere and always shown with its fidelity.

SHAP runs on a bounded sample (``explain.sample_size``, default 2000 rows) of the primary
model's logged rows, stratified by predicted class, seeded by ``explain.seed``. Every result
carries its provenance: source, explainer, output space, sample size, additivity check.

This module holds running an explanation over the audit (:func:`explain_audit`) and the
area's verdict and section (:func:`explain_section`). Settings, thresholds, result types and
importance tables live in :mod:`sightline.explain.results`; column tracing and permutation SHAP
in :mod:`sightline.explain.attribution`; the SHAP backends in :mod:`sightline.explain.backends`;
single rows in :mod:`sightline.explain.local`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from sightline.charts.explain import importance_bar
from sightline.core.errors import MissingInputError
from sightline.core.numbers import RATE, format_value
from sightline.core.section import AMBER, GREEN, Chart, Section, Verdict
from sightline.data.audit import Audit
from sightline.data.model import model_output
from sightline.explain.backends import (
    _ModelBackend,
    _PrecomputedBackend,
    _SurrogateBackend,
    build_backend,
    precomputed_shap_features,
)
from sightline.explain.results import (
    ADDITIVITY_TOLERANCE,
    CHUNK_ROWS,
    DOMINANT_SHARE,
    NEGLIGIBLE_SHARE,
    NOTABLE_SHARE_GAP,
    SCORE_MATCH_TOLERANCE,
    SOURCE_LABELS,
    ExplainResult,
    ExplainSettings,
    Explanation,
    _strata,
    additivity_check,
    explain_settings,
    global_importance,
    group_importance_table,
    importance_shift,
    largest_group_difference,
    stratified_sample,
)
from sightline.explain.surrogate import LOW_FIDELITY

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- running
Progress = Callable[[float, str], None]


def _explain_rows(backend, frame: pd.DataFrame, positions: np.ndarray, population: int,
                  progress: Progress | None, start: float, span: float, what: str) -> Explanation:
    rows = frame.iloc[positions]
    parts, bases, outs = [], [], []
    began = time.perf_counter()
    for i in range(0, len(rows), CHUNK_ROWS):
        chunk = rows.iloc[i:i + CHUNK_ROWS]
        values, base, out = backend.explain(chunk)
        parts.append(values)
        bases.append(np.asarray(base, dtype=float))
        outs.append(np.asarray(out, dtype=float))
        if progress:
            done = min(len(rows), i + CHUNK_ROWS)
            progress(start + span * done / len(rows), f"{backend.method}: {what} {done:,} of {len(rows):,} rows")
    seconds = time.perf_counter() - began
    values = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=backend.features)
    values.index = rows.index
    return Explanation(values=values, rows=rows, base_values=np.concatenate(bases) if bases else np.array([]),
                       output=np.concatenate(outs) if outs else np.array([]), population=population, seconds=seconds)


def explain_audit(audit: Audit, settings: ExplainSettings | None = None, progress: Progress | None = None) -> ExplainResult:
    """Explain the primary model's logged predictions (and a reference sample).

    Inputs: the audit; settings (default: the audit's ``explain:``); ``progress(fraction,
    message)`` called as the work advances. Output: :class:`ExplainResult`. Raises
    :class:`MissingInputError` (no rows / no features), :class:`ModelError` (the model does not
    accept the features), :class:`SpecError` (bad settings).
    """
    import shap  # noqa: F401  (loaded before the thread limit, so the limit reaches their OpenMP runtimes)
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import threadpool_limits

    settings = settings or explain_settings(audit.spec)
    # One thread per model call: the work is many small predictions, which OpenMP threads slow
    # down when the cores are shared (10x measured on a loaded 2-core machine).
    with threadpool_limits(limits=1):
        return _explain_audit(audit, settings, progress)


def _explain_audit(audit: Audit, settings: ExplainSettings, progress: Progress | None) -> ExplainResult:
    frame = audit.primary
    if len(frame) == 0:
        raise MissingInputError("Explainability needs logged predictions — the log has no rows for the primary model version")
    if not audit.features:
        raise MissingInputError("Explainability needs feature columns — list them under columns.features in the audit")
    if progress:
        progress(0.0, "Preparing the explainer…" if audit.model is not None else
                 "Reading logged SHAP values…" if precomputed_shap_features(audit, frame) else
                 "Fitting a surrogate model to the logged outputs…")
    backend = build_backend(audit, settings)
    notes = list(getattr(backend, "notes", []))
    if audit.spec.model and audit.model is None:
        notes.insert(0, "The audit names a model file but it could not be used (see the Data page); a surrogate explains the logged outputs instead.")
    strata, strata_name = _strata(audit, frame)
    n = backend.max_rows(settings.sample_size)
    positions = stratified_sample(strata, n, size=len(frame), seed=settings.seed)
    ref = audit.reference
    has_ref = ref is not None and len(ref) > 0 and all(c in ref.columns for c in backend.features)
    if has_ref and isinstance(backend, _PrecomputedBackend) and not backend.can_explain(ref):
        has_ref = False
        notes.append("The reference data has no logged SHAP columns, so importance cannot be compared with it.")
    if isinstance(backend, _ModelBackend):
        has_ref = has_ref and all(c in ref.columns for c in backend.inputs)
    span = 0.6 if has_ref else 1.0
    current = _explain_rows(backend, frame, positions, len(frame), progress, 0.0, span, "current rows")
    reference = None
    if has_ref:
        ref_strata, _ = _strata(audit, ref) if _has_prediction_columns(audit, ref) else (None, None)
        ref_positions = stratified_sample(ref_strata, min(n, len(ref)), size=len(ref), seed=settings.seed)
        reference = _explain_rows(backend, ref, ref_positions, len(ref), progress, span, 1.0 - span, "reference rows")
    elif ref is None:
        notes.append("No reference data in the audit, so importance cannot be compared with it.")
    elif not any("reference" in note for note in notes):
        notes.append("The reference data lacks some of the features the explainer needs, so importance cannot be compared with it.")
    additivity = additivity_check(current.values, current.base_values, current.output)
    if additivity is None:
        notes.append("Additivity cannot be checked: the logged SHAP values come without a shap_base_value column.")
    score_match = _score_match(audit, backend, current)
    if progress:
        progress(1.0, "Explanations computed")
    fidelity = backend.surrogate.fidelity if isinstance(backend, _SurrogateBackend) else None
    return ExplainResult(source=backend.source, method=backend.method, explained=backend.explained,
                         output_space=backend.space, settings=settings, current=current, reference=reference,
                         additivity=additivity, fidelity=fidelity, backend=backend, notes=tuple(notes),
                         score_match=score_match, stratified_by=strata_name)


def _has_prediction_columns(audit: Audit, frame: pd.DataFrame) -> bool:
    cols = audit.spec.columns
    return bool((cols.prediction and cols.prediction in frame.columns) or (cols.score and cols.score in frame.columns))


def _score_match(audit: Audit, backend, current: Explanation) -> float | None:
    """Share of explained rows whose logged score the model file reproduces (within 0.01):
    explanations describe the file, so a low share means they may not describe what was served."""
    if not isinstance(backend, _ModelBackend) or audit.spec.task != "binary" or not audit.has_score:
        return None

    logged = audit.y_score(current.rows)
    ours = model_output(audit.model, current.rows[backend.inputs], "binary", audit.spec.positive_label)
    known = np.isfinite(logged)
    return float(np.mean(np.abs(ours[known] - logged[known]) <= SCORE_MATCH_TOLERANCE)) if known.any() else None


# ---------------------------------------------------------------------------- verdict and section
SPACE_TEXT = {"log-odds": "log-odds", "probability": "probability", "margin": "raw class score",
              "prediction": "prediction units", "unknown": "the logged output space"}


def output_space_text(result: ExplainResult, positive_label=None) -> str:
    """e.g. "log-odds of '>50K' (the model's raw output before the sigmoid)"."""
    space = result.output_space
    if space == "log-odds":
        return f"log-odds of {positive_label!r} (the raw output before the sigmoid; +1 multiplies the odds by e ≈ 2.7)"
    if space == "probability":
        return f"probability of {positive_label!r} (percentage points)" if positive_label is not None else "class probability"
    if space == "margin":
        return "raw score of each row's predicted class (before the softmax)"
    if space == "prediction":
        return "the prediction's own units"
    return "the output space the SHAP values were logged in (unknown: add shap_base_value to check)"


# Total mean |SHAP| below this share of the output's own size is floating-point noise (a constant
# surrogate's trees leave ~1e-32), not importance.
NO_IMPORTANCE_SHARE = 1e-9


def no_importance(result: ExplainResult, importance: pd.DataFrame) -> bool:
    """Whether no input moves the explained output: total mean |SHAP| is 0, or under
    :data:`NO_IMPORTANCE_SHARE` of the mean absolute output (or base value) it would explain."""
    total = float(importance["mean_abs_shap"].sum())
    if not total > 0:
        return True
    sizes = [np.nanmean(np.abs(a)) for a in (result.current.output, result.current.base_values)
             if np.asarray(a).size and np.isfinite(a).any()]
    scale = max(sizes, default=0.0)
    return bool(scale > 0 and total < NO_IMPORTANCE_SHARE * scale)


# Share of checked rows whose logged score the model file must reproduce for the explanations to
# speak for the served model: below it the verdict is amber and says how many differ.
SCORE_MATCH_SHARE = 0.99


def explain_verdict(result: ExplainResult, importance: pd.DataFrame) -> Verdict:
    """Green when no single input dominates; amber for logged scores the model file does not
    reproduce (more than 1% of the checked rows), a dominant feature (possible leakage), a
    low-fidelity surrogate, failed additivity, inputs that barely matter, or no importance at
    all (every SHAP value 0). The headline is the first reason, in that order."""
    detail = [result.label + f", explaining {result.explained}", f"output: {SPACE_TEXT[result.output_space]}"]
    if result.fidelity is not None:
        detail.append(result.fidelity.sentence())
    if result.additivity is not None:
        detail.append(result.additivity.sentence())
    if no_importance(result, importance):  # shares would be 0/0 (or rounding noise): no ranking to speak of
        who = "the surrogate's" if result.source == "surrogate" else "the model's"
        return Verdict(AMBER, f"No input changes {who} output on the explained rows (every SHAP value is 0): the outputs "
                              "do not vary with the features here, so there is no importance ranking.",
                       "; ".join(detail) + ".")
    top = importance.head(3)
    who = "A surrogate of the model suggests its" if result.source == "surrogate" else "The model's"
    drivers = ", ".join(top["feature"].iloc[:-1]) + f" and {top['feature'].iloc[-1]}" if len(top) > 1 else top["feature"].iloc[0]
    green = (f"{who} predictions rest mostly on {drivers} ({top['share'].sum():.0%} of total importance together); "
             "no single input dominates.")
    reasons = []
    if result.score_match is not None and result.score_match < SCORE_MATCH_SHARE:
        reasons.append(f"The model file does not reproduce {format_value(1 - result.score_match, RATE)} of the logged scores "
                       f"it was checked against (off by more than {SCORE_MATCH_TOLERANCE:g}): for those predictions these "
                       "explanations describe the file, not what was served — check which model is deployed.")
    lead = importance.iloc[0]
    if lead["share"] > DOMINANT_SHARE:
        reasons.append(f"One input, {lead['feature']}, drives {lead['share']:.0%} of the model's decisions — check it does "
                       "not leak the answer (e.g. a field filled in after the outcome is known).")
    if result.fidelity is not None and result.fidelity.low:
        reasons.append(f"These explanations come from a surrogate that mimics the model only loosely "
                       f"({result.fidelity.sentence()}) — treat the ranking as rough.")
    if result.additivity is not None and not result.additivity.holds:
        reasons.append("The explanations do not add up to the model's outputs (additivity check failed) — treat them with caution.")
    negligible = importance[importance["share"] < NEGLIGIBLE_SHARE]["feature"].tolist()
    if negligible:
        names = ", ".join(negligible[:4]) + (f" and {len(negligible) - 4} more" if len(negligible) > 4 else "")
        reasons.append(f"{len(negligible)} input(s) ({names}) barely affect predictions (each under "
                       f"{NEGLIGIBLE_SHARE:.1%} of total importance) — candidates for removal.")
    if not reasons:
        return Verdict(GREEN, green, "; ".join(detail) + ".")
    return Verdict(AMBER, reasons[0], " ".join(reasons[1:] + [green]) + " — " + "; ".join(detail) + ".")


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    return [{c: (float(v) if isinstance(v, (float, np.floating)) else v) for c, v in zip(columns, row)}
            for row in df[columns].itertuples(index=False)]


def section_from_result(audit: Audit, result: ExplainResult) -> Section:
    """The explainability :class:`Section` of a computed :class:`ExplainResult`."""

    importance = global_importance(result.current.values)
    verdict = explain_verdict(result, importance)
    by_group = {}
    for col in audit.spec.columns.sensitive:
        if col in result.current.rows.columns:
            table = group_importance_table(result.current, col, min_group_size=audit.spec.fairness.min_group_size)
            by_group[col] = {"largest_difference": largest_group_difference(table),
                             "groups": _records(table, ["group", "n", "feature", "mean_abs_shap", "share", "small"])}
    shift = importance_shift(result.reference.values, result.current.values) if result.reference is not None else None
    lead = importance.iloc[0]
    flat = no_importance(result, importance)  # shares are then noise: no dominant or negligible input
    report = {
        "source": result.source,
        "explainer": result.method,
        "explained_model": result.explained,
        "output_space": result.output_space,
        "sample_size": result.current.n,
        "population_rows": result.current.population,
        "global_importance": _records(importance, ["feature", "mean_abs_shap"]),
        "dominant_feature": ({"feature": lead["feature"], "share": float(lead["share"])}
                             if lead["share"] > DOMINANT_SHARE and not flat else None),
        "negligible_features": [] if flat else importance[importance["share"] < NEGLIGIBLE_SHARE]["feature"].tolist(),
        "no_importance": flat,
        "additivity": result.additivity.to_dict() if result.additivity else None,
        "surrogate_fidelity": result.fidelity.to_dict() if result.fidelity else None,
        "model_reproduces_logged_scores": result.score_match,
        "importance_by_group": by_group,
        "importance_shift": None if shift is None else _records(
            shift, ["feature", "reference", "current", "reference_share", "current_share", "change"]),
        "notes": list(result.notes),
    }
    provenance = {
        "method": f"{'surrogate · ' if result.source == 'surrogate' else ''}shap {result.method}",
        "source": SOURCE_LABELS[result.source], "explained_model": result.explained,
        "output_space": result.output_space, "sample_size": result.current.n,
        "population_rows": result.current.population, "stratified_by": result.stratified_by,
        "reference_sample_size": result.reference.n if result.reference is not None else None,
        "background_size": result.settings.background_size if result.method in ("LinearExplainer", "permutation SHAP") else None,
        "seed": result.settings.seed, "rows_per_second": result.rows_per_second,
        "thresholds": {"dominant_share": DOMINANT_SHARE, "negligible_share": NEGLIGIBLE_SHARE, "notable_share_gap": NOTABLE_SHARE_GAP,
                       "low_fidelity": LOW_FIDELITY, "additivity_tolerance": ADDITIVITY_TOLERANCE},
    }
    title = "Feature importance (mean |SHAP|)" + (" — surrogate" if result.source == "surrogate" else "")
    chart = importance_bar(importance, title="Which inputs drive the predictions" + (" (surrogate)" if result.source == "surrogate" else ""),
                           subtitle=importance_subtitle(result, audit.spec.positive_label))
    tables = {"global_importance": importance}
    if shift is not None:
        tables["importance_shift"] = shift
    return Section(area="explainability", verdict=verdict, report=report, charts=(Chart("feature_importance", title, chart),),
                   provenance=provenance, tables=tables)


def importance_subtitle(result: ExplainResult, positive_label=None) -> list[str]:
    """Chart subtitle lines naming the explainer, sample, output space and (surrogate) fidelity."""
    lines = [f"{result.label}; mean |SHAP| in {SPACE_TEXT[result.output_space]}"]
    if result.fidelity is not None:
        lines.append(result.fidelity.sentence())
    return lines


def explain_section(audit: Audit) -> Section:
    """Explainability for the report, the card and the Overview (see :func:`explain_audit`)."""
    return section_from_result(audit, explain_audit(audit))
