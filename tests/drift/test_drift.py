"""Drift: PSI and tests against hand counts and scipy, evidently's snapshot read correctly, and
every effect sample_data/README.md documents found (untouched features left alone)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from sightline.core.errors import MissingInputError, SpecError
from sightline.data.audit import Audit
from sightline.data.spec import spec_from_dict
from sightline.drift import drift_over_time, drift_section, drift_settings, drift_vs_reference
from sightline.drift import windows as dw
from sightline.drift.effects import categorical_effect, feature_distribution, numeric_effect
from sightline.drift.feature_changes import detect_feature_changes, label_schema_changes, name_factor
from sightline.drift.reference import run_evidently
from sightline.drift.settings import DriftSettings, sample_rows
from sightline.report.registry import to_jsonable
from sightline.stats.windows import window_codes, window_starts

# Features sample_data/README.md leaves untouched (age drives marital_status and relationship;
# workclass gets "Gig-platform").
UNTOUCHED = ["education", "education_num", "occupation", "race", "sex", "capital_gain", "capital_loss",
             "hours_per_week", "native_country"]
WEEK = {k: pd.Timestamp("2026-06-01") + pd.Timedelta(weeks=k - 1) for k in range(1, 13)}


# ------------------------------------------------------------------ helpers
def make_audit(current: pd.DataFrame, reference: pd.DataFrame | None, features, *, drift=None, task="binary",
               target="y", timestamp="ts") -> Audit:
    cols = {"target": target, "score": "score" if "score" in current.columns else None, "features": list(features)}
    if timestamp:
        cols["timestamp"] = timestamp
    data = {"name": "t", "task": task, "current": "c.parquet", "reference": "r.parquet",
            "columns": {k: v for k, v in cols.items() if v is not None}, "drift": drift or {}}
    if task == "binary":
        data["positive_label"] = 1
    spec = spec_from_dict(data)
    return Audit(spec=spec, current=current, reference=reference, fingerprint="test", features=tuple(features))


def synthetic(n: int, seed: int, start="2026-01-05") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.beta(1, 3, n)
    return pd.DataFrame({
        "ts": pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 28 * 86400, n), unit="s"),
        "num": rng.normal(50, 10, n), "cat": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
        "score": score, "y": (rng.random(n) < score).astype(int),
    })


@pytest.fixture(scope="module")
def weekly(sample_audit):
    return drift_over_time(sample_audit, "week")


@pytest.fixture(scope="module")
def section(sample_audit):
    return drift_section(sample_audit)


# ------------------------------------------------------------------ PSI and tests, by hand
def test_psi_from_counts_equals_a_hand_computation():
    # reference shares .5/.3/.2, current .3/.3/.4
    hand = (0.3 - 0.5) * math.log(0.3 / 0.5) + 0 + (0.4 - 0.2) * math.log(0.4 / 0.2)
    assert dw.psi_from_counts([50, 30, 20], [30, 30, 40]) == pytest.approx(hand)
    rows = dw.psi_from_counts([50, 30, 20], [[30, 30, 40], [50, 30, 20], [0, 0, 0]])
    assert rows[0] == pytest.approx(hand) and rows[1] == pytest.approx(0) and np.isnan(rows[2])


def test_psi_of_raw_values_with_an_unseen_category_by_hand():
    ref = ["a"] * 50 + ["b"] * 50
    cur = ["a"] * 40 + ["b"] * 40 + ["new"] * 20
    # bins a, b, (not in reference), (missing); empty shares floored at 1e-4
    e = dw.PSI_EPS
    hand = (0.4 - 0.5) * math.log(0.4 / 0.5) * 2 + (0.2 - e) * math.log(0.2 / e)
    assert dw.population_stability_index(ref, cur) == pytest.approx(hand)


def test_numeric_psi_uses_reference_deciles():
    ref = np.arange(1, 101, dtype=float)       # deciles at 10.9, 20.8, … : ten bins of ten values
    cur = np.concatenate([np.arange(1, 51), np.arange(1, 51)]).astype(float)  # only the lower half, twice
    e = dw.PSI_EPS
    hand = 5 * (0.2 - 0.1) * math.log(0.2 / 0.1) + 5 * (e - 0.1) * math.log(e / 0.1)
    assert dw.population_stability_index(ref, cur) == pytest.approx(hand)


def test_chi_square_matches_scipy_and_pools_sparse_bins():
    ref, cur = np.array([50, 30, 20, 0]), np.array([[30, 30, 40, 0], [5, 5, 5, 1]])
    want = [chi2_contingency(np.array([ref, c])[:, (ref + c) > 0], correction=False)[1] for c in cur]
    assert dw.chi2_pvalue_from_counts(ref, cur, min_expected=0) == pytest.approx(want)
    # pooled: the bins with expected < 5 in the small window merge, so one odd row is not "significant"
    assert dw.chi2_pvalue_from_counts(ref, cur)[1] > 0.1


def test_flagged_windows_merge_into_runs():
    starts = pd.date_range("2026-06-01", periods=5, freq="7D")
    text = dw.flagged_windows_text(starts, [False, True, False, True, True], "week")
    assert text == "the week of 2026-06-08 and the 2 weeks from 2026-06-22 to 2026-06-29"


# ------------------------------------------------------------------ evidently, read right
def test_evidently_defaults_by_size_and_type_match_scipy():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"num": rng.normal(0, 1, 3000), "cat": rng.choice(list("abc"), 3000)})
    cur = pd.DataFrame({"num": rng.normal(0.5, 1, 3000), "cat": rng.choice(list("abc"), 3000, p=[0.6, 0.3, 0.1])})
    kinds = {"num": dw.NUMERIC, "cat": dw.CATEGORICAL}
    rows, dataset = run_evidently(ref, cur, ["num", "cat"], kinds, DriftSettings())
    rows = rows.set_index("column")
    # > 1,000 reference rows: normed Wasserstein for numbers, Jensen-Shannon for categories (threshold 0.1)
    assert rows.loc["num", "method"] == "Wasserstein distance (normed)"
    assert rows.loc["num", "statistic"] == pytest.approx(wasserstein_distance(ref["num"], cur["num"]) / np.std(ref["num"]))
    r = ref["cat"].value_counts(normalize=True).sort_index()
    c = cur["cat"].value_counts(normalize=True).sort_index()
    assert rows.loc["cat", "method"] == "Jensen-Shannon distance"
    assert rows.loc["cat", "statistic"] == pytest.approx(jensenshannon(r, c), rel=1e-6)
    assert rows["drifted"].tolist() == [True, True] and rows["p_value"].isna().all()
    assert dataset == {"n_drifted": 2, "share": 1.0, "drifted": True}
    # <= 1,000 reference rows: a K-S p-value
    small, _ = run_evidently(ref.head(500), cur.head(500), ["num"], kinds, DriftSettings())
    assert small.loc[0, "method"] == "K-S p_value" and small.loc[0, "statistic"] is None
    assert small.loc[0, "p_value"] == pytest.approx(ks_2samp(ref["num"].head(500), cur["num"].head(500)).pvalue)


def test_per_column_overrides_reach_evidently():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"num": rng.normal(0, 1, 3000), "other": rng.normal(0, 1, 3000)})
    cur = pd.DataFrame({"num": rng.normal(0.3, 1, 3000), "other": rng.normal(0, 1, 3000)})
    kinds = {"num": dw.NUMERIC, "other": dw.NUMERIC}
    strict, _ = run_evidently(ref, cur, ["num", "other"], kinds, DriftSettings(columns={"num": {"method": "psi", "threshold": 0.05}}))
    lax, _ = run_evidently(ref, cur, ["num", "other"], kinds, DriftSettings(columns={"num": {"method": "psi", "threshold": 0.5}}))
    strict, lax = strict.set_index("column"), lax.set_index("column")
    assert strict.loc["num", "method"] == "PSI" and strict.loc["num", "threshold"] == 0.05
    assert 0.05 < strict.loc["num", "statistic"] < 0.5        # the same PSI, judged by two thresholds
    assert strict.loc["num", "drifted"] and not lax.loc["num", "drifted"]
    assert strict.loc["other", "method"] == "Wasserstein distance (normed)"  # untouched column keeps the default


def test_bad_drift_settings_name_the_key(sample_audit):
    def settings(**drift):
        return drift_settings(Audit(spec=sample_audit.spec.replace(drift=drift), current=sample_audit.current,
                                    reference=sample_audit.reference, features=sample_audit.features))

    with pytest.raises(SpecError, match="did you mean 'age'"):
        settings(columns={"agee": {"method": "psi"}})
    with pytest.raises(SpecError, match="drift_share"):
        settings(drift_share=2)
    with pytest.raises(SpecError, match="use day, week or month"):
        settings(window="fortnight")
    with pytest.raises(SpecError, match="'drift.columns.workclass.method: wasserstein' does not apply to categorical"):
        settings(columns={"workclass": {"method": "wasserstein"}})
    with pytest.raises(SpecError, match="'drift.method: nonsense' is not a drift test evidently knows — use one of: .*psi"):
        settings(method="nonsense")
    assert settings(columns={"age": {"method": "psi", "threshold": 0.2}}).columns == {"age": {"method": "psi", "threshold": 0.2}}
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"num": rng.normal(size=200)})
    with pytest.raises(SpecError, match="no stattest found of name nonsense|nonsense"):
        run_evidently(frame, frame, ["num"], {"num": dw.NUMERIC}, DriftSettings(method="nonsense"))


# ------------------------------------------------------------------ no drift where there is none
def test_two_random_halves_of_the_same_data_do_not_drift(sample_audit):
    ref = sample_audit.reference
    idx = np.random.default_rng(3).permutation(len(ref))
    half_a, half_b = ref.iloc[idx[: len(ref) // 2]], ref.iloc[idx[len(ref) // 2:]]
    audit = make_audit(half_a, half_b, sample_audit.features, target="income", timestamp=None)
    audit = Audit(spec=audit.spec.replace(positive_label=">50K"), current=half_a, reference=half_b,
                  fingerprint="halves", features=sample_audit.features)
    vs = drift_vs_reference(audit)
    assert not vs.features["drifted"].any(), vs.features
    assert (vs.features["psi"] < 0.02).all()
    assert vs.dataset["n_drifted"] == 0 and not vs.dataset["drifted"]


def test_missing_reference_explains_what_to_add():
    audit = make_audit(synthetic(500, 4), None, ["num", "cat"])
    with pytest.raises(MissingInputError, match="add 'reference:'"):
        drift_section(audit)


# ------------------------------------------------------------------ the sample's injected effects
def test_sample_age_shift_is_found_and_untouched_features_are_not(section):
    features = pd.DataFrame(section.report["features"]).set_index("feature")
    assert features.loc["age", "drifted"]
    assert not features.loc[UNTOUCHED, "drifted"].any()
    assert set(features.columns) >= {"method", "statistic", "p_value", "threshold", "drifted", "psi", "effect"}


def test_sample_covariate_shift_on_age_in_late_weeks(weekly):
    psi = weekly.psi.set_index(["feature", "window"])
    for week in (10, 11, 12):
        assert psi.loc[("age", WEEK[week]), "drifted"], week
    for week in (1, 2, 3, 5, 6):
        assert not psi.loc[("age", WEEK[week]), "drifted"], week
    assert psi.loc[("age", WEEK[12]), "psi"] == pytest.approx(0.16, abs=0.02)  # README: 0.16 in week 12


def test_sample_untouched_features_are_never_flagged_in_any_week(weekly):
    flagged = weekly.psi[weekly.psi["drifted"] & weekly.psi["feature"].isin(UNTOUCHED)]
    assert flagged.empty, flagged


def test_sample_unit_bug_is_named_a_unit_change_in_week_4(weekly):
    changes = weekly.feature_changes
    assert changes[["feature", "change", "from", "to", "factor"]].values.tolist() == [
        ["age", "unit_change", "2026-06-22", "2026-06-22", 12.0]]
    assert "months instead of years (×12) in the week of 2026-06-22" in changes.loc[0, "message"]
    psi = weekly.psi.set_index(["feature", "window"])
    assert psi.loc[("age", WEEK[4]), "psi"] > 5            # README: 8.2
    assert psi.loc[("score", WEEK[4]), "drifted"]           # the buggy ages were really scored


def test_sample_unit_bug_is_found_inside_a_month_too(sample_audit):
    monthly = drift_over_time(sample_audit, "month")
    row = monthly.feature_changes.iloc[0]
    assert (row["feature"], row["change"], row["from"], row["factor"]) == ("age", "unit_change", "2026-06-01", 12.0)
    assert row["rows"] == 1050                               # every row of week 4, nothing else


def test_sample_new_category_and_when_it_appeared(weekly):
    gig = weekly.unseen.set_index("category").loc["Gig-platform"]
    assert gig["feature"] == "workclass" and gig["first_window"] == "2026-07-27" and gig["windows"] == 4
    assert gig["first_window_share"] == pytest.approx(0.06, abs=0.002)
    psi = weekly.psi.set_index(["feature", "window"])
    assert [bool(psi.loc[("workclass", WEEK[k]), "drifted"]) for k in range(1, 13)] == [False] * 8 + [True] * 4


def test_sample_label_shift_in_weeks_9_and_10(weekly):
    w = weekly.windows.set_index("window")
    assert [WEEK[k] for k in range(1, 13) if w.loc[WEEK[k], "label_shift"]] == [WEEK[9], WEEK[10]]
    assert w.loc[WEEK[9], "positive_rate"] == pytest.approx(0.350, abs=0.001)   # README numbers
    assert w.loc[WEEK[10], "positive_rate"] == pytest.approx(0.368, abs=0.001)


def test_sample_concept_drift_in_the_segment_and_weeks(weekly):
    seg = weekly.segments
    top = seg[seg["significant"]].head(2)
    assert set(top["window"]) == {"2026-07-27", "2026-08-03"}
    assert set(top["feature"]) == {"occupation"} and set(top["segment"]) <= {"Sales", "Adm-clerical"}
    w = weekly.windows.set_index("window")
    assert w.loc[WEEK[9], "below_estimate"] and w.loc[WEEK[10], "below_estimate"]
    assert not w.loc[[WEEK[k] for k in (1, 2, 3, 5, 6, 7, 8)], "below_estimate"].any()


def test_sample_label_free_estimate_for_the_unlabelled_weeks(section, weekly):
    w = weekly.windows.set_index("window")
    for week in (11, 12):
        assert w.loc[WEEK[week], "coverage"] == 0 and np.isnan(w.loc[WEEK[week], "accuracy"])
        assert 0.8 < w.loc[WEEK[week], "est_accuracy"] < 0.92
    lf = section.report["label_free"]
    assert lf["unlabelled_windows"] == ["2026-08-10", "2026-08-17"]
    assert lf["unlabelled_rows"] == 2221
    assert lf["calibration"]["reference_ece"] < 0.05


def test_sample_section_report_metrics_and_verdict(section):
    report = section.report
    json.dumps(to_jsonable(report))  # report.json-safe
    assert report["dataset"].keys() == {"drift_share", "n_drifted", "n_features", "drifted", "threshold"}
    metrics = {m.type: m for m in section.metrics}
    assert metrics["drift_share"].value == pytest.approx(report["dataset"]["n_drifted"] / report["dataset"]["n_features"])
    assert metrics["dataset_drift"].value in (0.0, 1.0)
    assert {c.name for c in section.charts} >= {"drift_features", "drift_psi_heatmap", "drift_score_distribution",
                                               "drift_performance_by_window"}
    assert section.verdict.status == "red"  # a unit bug is a pipeline problem
    for words in ("age", "months", "Gig-platform", "labels are missing for the last 2 weeks", "estimated accuracy"):
        assert words in section.verdict.headline, words
    assert section.provenance["evidently"]["current_sample"] == 12_971   # under drift.sample_size: no sampling
    assert section.provenance["evidently"]["sampled"] is False


def test_sample_effect_sentences_use_the_real_medians(sample_audit):
    ref, cur = sample_audit.reference["age"], sample_audit.primary["age"]
    text = numeric_effect(ref, cur)
    assert text.startswith(f"median moved from {np.median(ref):.0f} to {np.median(cur):.0f}")
    assert "above the reference's maximum (90)" in text
    assert categorical_effect(["a"] * 98 + ["b"] * 2, ["a"] * 90 + ["c"] * 10) == "'c' went from 0% to 10% (not in the reference)"


def test_evidently_runs_on_a_bounded_seeded_sample(sample_audit):
    audit = Audit(spec=sample_audit.spec.replace(drift={"sample_size": 2000}), current=sample_audit.current,
                  reference=sample_audit.reference, features=sample_audit.features, fingerprint="small")
    vs = drift_vs_reference(audit)
    ev = vs.provenance["evidently"]
    assert (ev["current_sample"], ev["reference_sample"], ev["sampled"], ev["seed"]) == (2000, 2000, True, 0)
    first, again = sample_rows(audit.primary, 2000), sample_rows(audit.primary, 2000)
    assert first.index.equals(again.index) and len(first) == 2000      # seeded: the same sample every time
    assert sample_rows(audit.primary, 10**9) is audit.primary           # small enough: every row, no copy


# ------------------------------------------------------------------ feature changes, synthetic
def test_type_change_constant_and_empty_columns_are_named():
    ref = synthetic(4000, 5)
    cur = synthetic(4000, 6)
    week = window_starts(cur["ts"], "week")
    weeks = np.unique(week)
    cur["num"] = cur["num"].astype(object)
    cur.loc[week == weeks[1], "num"] = "n/a"                  # text where numbers belong
    cur.loc[week == weeks[2], "cat"] = "a"                    # constant
    cur.loc[week == weeks[3], "cat"] = None                   # empty
    codes, starts = window_codes(cur["ts"], "week")
    changes = detect_feature_changes(ref, cur, ["num", "cat"], {"num": dw.NUMERIC, "cat": dw.CATEGORICAL},
                                     codes, starts, "week")
    got = set(zip(changes["feature"], changes["change"], changes["from"]))
    iso = [pd.Timestamp(w).date().isoformat() for w in weeks]
    assert ("num", "type_change", iso[1]) in got
    assert ("cat", "constant", iso[2]) in got
    assert ("cat", "empty", iso[3]) in got
    assert not any(c == "unit_change" for _, c, _ in got)


def test_unit_factor_names():
    assert name_factor(11.7) == (12.0, "months instead of years")
    assert name_factor(1 / 1000)[0] == pytest.approx(0.001)
    assert name_factor(8.3) is None


def test_label_schema_change_names_the_new_class():
    ref = pd.DataFrame({"y": ["cat", "dog"] * 50})
    cur = pd.DataFrame({"y": ["cat", "dog", "bird"] * 10, "pred": ["cat"] * 30})
    out = label_schema_changes(ref, cur, target="y", prediction="pred", task="multiclass",
                               windows=np.full(30, -1), starts=pd.DatetimeIndex([]))
    assert out[["column", "role", "class", "rows"]].values.tolist() == [["y", "label", "bird", 10]]


def test_distribution_shares_match_numpy_histogram():
    rng = np.random.default_rng(7)
    ref, cur = pd.Series(rng.normal(0, 1, 1000)), pd.Series(rng.normal(0.5, 1, 1000))
    dist = feature_distribution(ref, cur, dw.NUMERIC, n_bins=10)
    edges = np.linspace(ref.min(), ref.max(), 11)
    inside = cur[(cur >= ref.min()) & (cur <= ref.max())]
    counts = np.histogram(inside, edges)[0]
    body = dist[~dist["bin"].str.startswith(("below", "above"))]
    assert body["current_n"].tolist() == counts.tolist()
    assert dist["current_n"].sum() == 1000 and dist["reference_share"].sum() == pytest.approx(1)


# ------------------------------------------------------------------ other audits: no crash, honest verdicts
def test_a_column_gone_empty_is_a_red_pipeline_finding():
    cur, ref = synthetic(3000, 7), synthetic(3000, 8)
    cur["num"] = np.nan
    section = drift_section(make_audit(cur, ref, ["num", "cat"]))
    assert section.verdict.status == "red"
    assert section.report["skipped_features"] == [{"feature": "num", "reason": "every value is missing in the prediction log"}]
    assert {r["change"] for r in section.report["feature_changes"] if r["feature"] == "num"} == {"empty"}


def test_without_timestamps_or_labels_the_estimate_still_speaks():
    cur, ref = synthetic(3000, 5).drop(columns=["ts"]), synthetic(3000, 6).drop(columns=["ts"])
    cur["y"] = np.nan
    section = drift_section(make_audit(cur, ref, ["num", "cat"], timestamp=None))
    assert section.report["windows"]["table"] == [] and section.report["psi_by_window"] == []
    assert "3,000 predictions have no label yet — estimated accuracy" in section.verdict.headline
    json.dumps(to_jsonable(section.report))


def test_multiclass_label_schema_change_is_red_and_regression_runs():
    rng = np.random.default_rng(9)

    def frame(seed, classes):
        d = synthetic(2000, seed).drop(columns=["score"])
        return d.assign(y=rng.choice(classes, 2000), pred=rng.choice(classes, 2000))

    spec = spec_from_dict({"name": "m", "task": "multiclass", "current": "c", "reference": "r",
                           "columns": {"target": "y", "prediction": "pred", "timestamp": "ts", "features": ["num", "cat"]}})
    cur, ref = frame(3, ["a", "b", "c", "d"]), frame(4, ["a", "b", "c"])
    section = drift_section(Audit(spec=spec, current=cur, reference=ref, fingerprint="m", features=("num", "cat")))
    assert section.verdict.status == "red" and "class 'd'" in section.verdict.headline
    reg = spec.replace(task="regression")
    cur = cur.assign(y=cur["num"] * 2, pred=cur["num"] * 2)
    ref = ref.assign(y=ref["num"] * 2, pred=ref["num"] * 2)
    section = drift_section(Audit(spec=reg, current=cur, reference=ref, fingerprint="r", features=("num", "cat")))
    assert section.verdict.status == "green" and section.report["prediction"]["column"] == "pred"
