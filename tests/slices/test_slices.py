"""Slice tables, binning, intervals, the Simpson check and the slices section — checked against
hand counts, scikit-learn, statsmodels and scipy, never against the code's own output."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, precision_score, recall_score, roc_auc_score

from sightline.core.errors import MissingInputError
from sightline.slices import compare_versions
from sightline.slices.encoding import encode_column
from sightline.slices.simpson import NO_PARADOX, PARADOX, simpson_check
from sightline.slices.tables import slice_table

# -- a hand-counted example ---------------------------------------------------------------------
# g = A: (y, ŷ) = (1,1) (1,0) (0,0) (0,1)        -> 2 right of 4, tp 1 fn 1 tn 1 fp 1
# g = B: (1,1) (1,1) (0,0) (0,0) (0,0) (1,0)     -> 5 right of 6, tp 2 fn 1 tn 3 fp 0
HAND = pd.DataFrame({"g": list("AAAA") + list("BBBBBB"),
                     "y": [1, 1, 0, 0, 1, 1, 0, 0, 0, 1],
                     "p": [1, 0, 0, 1, 1, 1, 0, 0, 0, 0]})


def hand_table(min_size=1):
    return slice_table(HAND, ["g"], y_true=HAND["y"].to_numpy(), y_pred=HAND["p"].to_numpy(), min_size=min_size).set_index("slice")


def test_hand_counted_slice_table():
    t = hand_table()
    a, b = t.loc["g=A"], t.loc["g=B"]
    assert (a["n"], b["n"]) == (4, 6)
    assert (a["tp"], a["fp"], a["fn"], a["tn"]) == (1, 1, 1, 1)
    assert (b["tp"], b["fp"], b["fn"], b["tn"]) == (2, 0, 1, 3)
    assert a["accuracy"] == pytest.approx(2 / 4) and b["accuracy"] == pytest.approx(5 / 6)
    # overall accuracy 7/10: gap = slice − overall
    assert a["accuracy_gap"] == pytest.approx(0.5 - 0.7)
    # impact = overall − (n_rest·acc_rest + n_slice·acc_rest)/N; for A the rest is B (5/6)
    assert a["accuracy_impact"] == pytest.approx(0.7 - (6 * 5 / 6 + 4 * 5 / 6) / 10)
    assert b["accuracy_impact"] == pytest.approx(0.7 - (4 * 2 / 4 + 6 * 2 / 4) / 10)
    # precision: A 1/2, B 2/2, overall 3/4; recall: A 1/2, B 2/3, overall 3/5
    assert a["precision"] == pytest.approx(0.5) and b["precision"] == pytest.approx(1.0)
    assert a["precision_impact"] == pytest.approx(0.75 - 1.0)
    assert a["recall"] == pytest.approx(0.5) and b["recall"] == pytest.approx(2 / 3)
    assert b["recall_impact"] == pytest.approx(0.6 - 0.5)
    assert a["selection_rate"] == pytest.approx(2 / 4) and b["selection_rate"] == pytest.approx(2 / 6)
    assert a["f1"] == pytest.approx(2 * 1 / (2 * 1 + 1 + 1))
    assert a["error_rate"] == pytest.approx(0.5) and a["error_rate_impact"] == pytest.approx(0.3 - 1 / 6)
    assert a["share"] == pytest.approx(0.4)


def test_small_slices_are_marked():
    t = hand_table(min_size=5)
    assert bool(t.loc["g=A", "too_small"]) and not bool(t.loc["g=B", "too_small"])


def wilson_by_hand(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_wilson_intervals_match_the_formula():
    t = hand_table()
    for s, k, n in (("g=A", 2, 4), ("g=B", 5, 6)):
        lo, hi = wilson_by_hand(k, n)
        assert t.loc[s, "accuracy_lower"] == pytest.approx(lo) and t.loc[s, "accuracy_upper"] == pytest.approx(hi)
    # precision's interval is over predicted positives (A: 1 of 2)
    assert (t.loc["g=A", "precision_lower"], t.loc["g=A", "precision_upper"]) == pytest.approx(wilson_by_hand(1, 2))


def test_wilson_intervals_match_statsmodels():
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    t = hand_table()
    for s, k, n in (("g=A", 2, 4), ("g=B", 5, 6)):
        sm = proportion.proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (t.loc[s, "accuracy_lower"], t.loc[s, "accuracy_upper"]) == pytest.approx(sm)


def test_wilson_coverage_on_simulated_slices():
    """About 95% of slice accuracy intervals cover the true accuracy (400 slices of 60 rows)."""
    rng = np.random.default_rng(7)
    n_slices, size, p = 400, 60, 0.8
    g = np.repeat(np.arange(n_slices), size)
    y = np.ones(len(g), dtype=int)
    pred = (rng.random(len(g)) < p).astype(int)  # right with probability p
    t = slice_table(pd.DataFrame({"g": g.astype(str)}), ["g"], y_true=y, y_pred=pred, min_size=1)
    covered = ((t["accuracy_lower"] <= p) & (p <= t["accuracy_upper"])).mean()
    assert 0.91 <= covered <= 0.99


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(3)
    n = 6000
    frame = pd.DataFrame({"colour": rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]),
                          "size": rng.choice(["S", "M", "L"], n),
                          "age": rng.integers(18, 90, n).astype(float)})
    frame.loc[rng.random(n) < 0.03, "colour"] = None
    y = (rng.random(n) < 0.35).astype(int)
    score = np.clip(0.35 + 0.3 * (y - 0.35) + rng.normal(0, 0.25, n), 0, 1)
    score[frame["colour"].eq("blue").to_numpy()] = rng.random(int(frame["colour"].eq("blue").sum()))  # blue: no skill
    pred = (score >= 0.5).astype(int)
    return frame, y, pred, score


def test_metrics_per_slice_match_sklearn(synthetic):
    frame, y, pred, score = synthetic
    t = slice_table(frame, ["colour"], y_true=y, y_pred=pred, y_score=score, min_size=30).set_index("colour")
    assert set(t.index) == {"red", "green", "blue", "(missing)"}
    for label in t.index:
        m = frame["colour"].isna().to_numpy() if label == "(missing)" else (frame["colour"] == label).to_numpy()
        rest = ~m
        assert t.loc[label, "n"] == m.sum()
        assert t.loc[label, "accuracy"] == pytest.approx(accuracy_score(y[m], pred[m]))
        assert t.loc[label, "precision"] == pytest.approx(precision_score(y[m], pred[m]))
        assert t.loc[label, "recall"] == pytest.approx(recall_score(y[m], pred[m]))
        assert t.loc[label, "f1"] == pytest.approx(f1_score(y[m], pred[m]))
        assert t.loc[label, "roc_auc"] == pytest.approx(roc_auc_score(y[m], score[m]))
        # impact: overall − the metric on every other row
        assert t.loc[label, "roc_auc_impact"] == pytest.approx(roc_auc_score(y, score) - roc_auc_score(y[rest], score[rest]))
        assert t.loc[label, "f1_impact"] == pytest.approx(f1_score(y, pred) - f1_score(y[rest], pred[rest]))
        assert t.loc[label, "roc_auc_lower"] < t.loc[label, "roc_auc"] < t.loc[label, "roc_auc_upper"]


def test_f1_interval_agrees_with_row_bootstrap(synthetic):
    frame, y, pred, _ = synthetic
    t = slice_table(frame, ["colour"], y_true=y, y_pred=pred, min_size=30).set_index("colour")
    m = (frame["colour"] == "green").to_numpy()
    yy, pp = y[m], pred[m]
    rng = np.random.default_rng(11)
    boot = [f1_score(yy[i], pp[i]) for i in (rng.integers(0, len(yy), len(yy)) for _ in range(400))]
    lo, hi = np.quantile(boot, [0.025, 0.975])
    assert t.loc["green", "f1_lower"] == pytest.approx(lo, abs=0.02)
    assert t.loc["green", "f1_upper"] == pytest.approx(hi, abs=0.02)


def test_intersections_count_like_pandas(synthetic):
    frame, y, pred, _ = synthetic
    t = slice_table(frame, ["colour", "size"], y_true=y, y_pred=pred, min_size=30)
    counts = frame.fillna({"colour": "(missing)"}).groupby(["colour", "size"]).size()
    assert len(t) == len(counts)
    for row in t.itertuples():
        assert row.n == counts[(row.colour, row.size)]
        assert row.slice == f"colour={row.colour} & size={row.size}"
    assert t["order"].eq(2).all()


def test_numeric_bins_are_readable_quantile_bins():
    ages = pd.Series(np.arange(1, 101, dtype=float), name="age")
    enc = encode_column(ages, n_bins=4)
    assert enc.labels == ("1–25", "26–50", "51–75", "76–100")
    assert np.bincount(enc.codes).tolist() == [25, 25, 25, 25]
    mostly_zero = pd.Series([0] * 90 + list(range(100, 110)), name="gain")
    enc = encode_column(mostly_zero, n_bins=5)
    assert enc.labels == ("0", "100–109")
    with_missing = pd.Series([1.5, 2.5, np.nan, 3.5, 4.5, 5.5, 6.5, 7.5], name="x")
    enc = encode_column(with_missing, n_bins=2)
    assert enc.labels[-1] == "(missing)" and enc.codes[2] == len(enc.labels) - 1
    few = pd.Series([1, 2, 2, 3], name="k")  # not more distinct values than bins: categorical
    assert encode_column(few, n_bins=5).kind == "categorical"


def test_regression_and_multiclass_tables():
    rng = np.random.default_rng(5)
    g = rng.choice(["a", "b"], 500)
    y = rng.normal(10, 3, 500)
    yhat = y + rng.normal(0, 1, 500) * np.where(g == "a", 1, 3)
    t = slice_table(pd.DataFrame({"g": g}), ["g"], y_true=y, y_pred=yhat, task="regression", min_size=10).set_index("g")
    for label in ("a", "b"):
        m = g == label
        assert t.loc[label, "mean_absolute_error"] == pytest.approx(mean_absolute_error(y[m], yhat[m]))
        err = np.abs(y[m] - yhat[m])
        half = 1.959963984540054 * err.std(ddof=1) / np.sqrt(m.sum())
        assert t.loc[label, "mean_absolute_error_upper"] == pytest.approx(err.mean() + half)
    classes = rng.choice(["x", "y", "z"], 500)
    guess = np.where(rng.random(500) < 0.7, classes, "x")
    t = slice_table(pd.DataFrame({"g": g}), ["g"], y_true=classes, y_pred=guess, task="multiclass", min_size=10).set_index("g")
    assert t.loc["a", "accuracy"] == pytest.approx(accuracy_score(classes[g == "a"], guess[g == "a"]))


def test_slice_table_leaves_input_untouched(synthetic):
    frame, y, pred, _ = synthetic
    before = frame.copy()
    slice_table(frame, ["colour", "age"], y_true=y, y_pred=pred, min_size=30)
    pd.testing.assert_frame_equal(frame, before)


def test_unknown_column_is_a_clear_error(synthetic):
    frame, y, pred, _ = synthetic
    with pytest.raises(MissingInputError, match="shape"):
        slice_table(frame, ["shape"], y_true=y, y_pred=pred)


# -- Simpson's paradox ---------------------------------------------------------------------------
def outcomes_frame(cells):
    """Rows from (version, stone size, successes, total) cells."""
    rows = []
    for version, size, ok, total in cells:
        rows += [{"version": version, "size": size, "value": 1.0}] * ok
        rows += [{"version": version, "size": size, "value": 0.0}] * (total - ok)
    return pd.DataFrame(rows)


KIDNEY_STONES = [("A", "small", 81, 87), ("A", "large", 192, 263), ("B", "small", 234, 270), ("B", "large", 55, 80)]


def test_kidney_stones_paradox_is_flagged():
    frame = outcomes_frame(KIDNEY_STONES)
    result = simpson_check(frame, ["size"], versions=("A", "B"), min_size=30)
    assert result.status == PARADOX
    assert result.winner == "B"  # 289/350 vs 273/350 overall
    assert result.overall["A"]["value"] == pytest.approx(273 / 350)
    assert result.overall["B"]["value"] == pytest.approx(289 / 350)
    per = result.slices.set_index("value")
    assert (per.loc["small", "winner"], per.loc["large", "winner"]) == ("A", "A")
    assert per.loc["small", "metric_a"] == pytest.approx(81 / 87) and per.loc["large", "metric_b"] == pytest.approx(55 / 80)
    assert result.paradox_columns == ["size"]
    json.dumps(result.to_report())


def test_no_paradox_when_the_winner_wins_everywhere():
    cells = [("A", "small", 81, 87), ("A", "large", 192, 263), ("B", "small", 200, 270), ("B", "large", 40, 80)]
    result = simpson_check(outcomes_frame(cells), ["size"], versions=("A", "B"), min_size=30)
    assert result.status == NO_PARADOX and result.winner == "A" and not result.paradox_columns


def test_sample_versions_compared_on_shared_requests(sample_audit):
    result = compare_versions(sample_audit, min_size=30)
    log = sample_audit.current
    champ = log[log["model_version"] == "champion-1.0"]
    chall = log[log["model_version"] == "challenger-2.0"]
    both = champ[champ["income"].notna()].merge(chall[["request_id", "predicted"]], on="request_id", suffixes=("", "_b"))
    assert result.paired and result.n_pairs == len(both)
    assert result.overall["champion-1.0"]["value"] == pytest.approx(accuracy_score(both["income"], both["predicted"]))
    assert result.overall["challenger-2.0"]["value"] == pytest.approx(accuracy_score(both["income"], both["predicted_b"]))
    right_a, right_b = both["income"] == both["predicted"], both["income"] == both["predicted_b"]
    b, c = int((right_a & ~right_b).sum()), int((~right_a & right_b).sum())
    assert result.p_value == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue)
    assert result.status in (PARADOX, NO_PARADOX)
    by_sex = result.slices[result.slices["column"] == "sex"].set_index("value")
    women = both["sex"] == "Female"
    assert by_sex.loc["Female", "metric_b"] == pytest.approx(accuracy_score(both.loc[women, "income"], both.loc[women, "predicted_b"]))


# -- the section on the sample -------------------------------------------------------------------
@pytest.fixture(scope="module")
def section(sample_audit):
    from sightline.slices import slices_section

    return slices_section(sample_audit)


def test_section_card_metrics_match_sklearn(section, sample_audit):
    labelled = sample_audit.labelled()
    y, p = sample_audit.y_true(labelled), sample_audit.y_pred(labelled)
    metrics = {(m.type, m.slice): m for m in section.metrics}
    women = (labelled["sex"] == "Female").to_numpy()
    m = metrics[("accuracy", "sex=Female")]
    assert m.value == pytest.approx(accuracy_score(y[women], p[women])) and m.n == women.sum()
    assert (m.lower, m.upper) == pytest.approx(wilson_by_hand((y[women] == p[women]).sum(), women.sum()))
    assert metrics[("recall", "sex=Female")].value == pytest.approx(recall_score(y[women], p[women]))
    score = sample_audit.y_score(labelled)
    assert metrics[("roc_auc", "sex=Female")].value == pytest.approx(roc_auc_score(y[women], score[women]))
    assert {m.type for m in section.metrics} <= {"accuracy", "precision", "recall", "f1", "selection_rate", "roc_auc"}


def test_section_suppresses_small_slices(section, sample_audit):
    min_size = section.report["settings"]["min_size"]
    assert all(m.n >= min_size for m in section.metrics)
    labelled = sample_audit.labelled()
    small = sum(int((labelled[c].fillna("(missing)").value_counts() < min_size).sum())
                for c in section.report["settings"]["columns"] if not pd.api.types.is_numeric_dtype(labelled[c]))
    assert section.provenance["suppressed_slices"] >= small > 0  # e.g. race=Other is below 30 rows
    for rows in section.report["tables"].values():
        assert all(r["n"] >= min_size for r in rows)


def test_section_report_is_json_and_names_the_planted_slice(section):
    from sightline.report.registry import to_jsonable

    text = json.dumps(to_jsonable({**section.report, "provenance": section.provenance}))
    assert "education=Bachelors & occupation=Prof-specialty" in text
    assert section.verdict.status in ("amber", "red")
    assert {"tables", "discovered", "simpson", "overall", "settings"} <= set(section.report)
    assert section.charts and all(c.chart is not None for c in section.charts)


def test_no_labels_means_missing_input(sample_audit):
    from sightline.data.audit import Audit
    from sightline.slices import slices_section

    unlabelled = sample_audit.current.assign(income=None)
    audit = Audit(spec=sample_audit.spec, current=unlabelled, features=sample_audit.features, fingerprint="x")
    with pytest.raises(MissingInputError, match="labels|label"):
        slices_section(audit)


def small_audit(task: str, seed: int = 0, with_versions: bool = True, with_id: bool = True):
    """A synthetic audit of 4,000 rows per version for regression / multiclass smoke tests."""
    from sightline.data.audit import Audit
    from sightline.data.spec import spec_from_dict

    rng = np.random.default_rng(seed)
    n = 4000
    base = pd.DataFrame({"region": rng.choice(["n", "s", "e", "w"], n), "age": rng.integers(18, 80, n),
                         "grp": rng.choice(["a", "b"], n), "rid": np.arange(n)})
    if task == "regression":
        y = rng.normal(50, 10, n)
        noise = np.where(base["region"] == "e", 8.0, 2.0)
        frames = [base.assign(y=y, pred=y + rng.normal(0, noise), ver="v1"), base.assign(y=y, pred=y + rng.normal(0, 3, n), ver="v2")]
        extra = {}
    else:
        y = rng.choice(["cat", "dog", "fox"], n)
        right = rng.random(n) < np.where(base["region"] == "e", 0.5, 0.85)
        frames = [base.assign(y=y, pred=np.where(right, y, "cat"), ver="v1"), base.assign(y=y, pred=y, ver="v2")]
        extra = {}
    log = pd.concat(frames if with_versions else frames[:1], ignore_index=True)
    columns = {"target": "y", "prediction": "pred", "features": ["region", "age"], "sensitive": ["grp"], **extra}
    if with_versions:
        columns["model_version"] = "ver"
    if with_id:
        columns["id"] = "rid"
    spec = spec_from_dict({"name": task, "task": task, "current": "x.parquet", "columns": columns,
                           **({"primary_version": "v1"} if with_versions else {})})
    return Audit(spec=spec, current=log, features=("region", "age"), fingerprint=f"{task}{seed}")


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_section_for_regression_and_multiclass(task):
    from sightline.slices import slices_section

    audit = small_audit(task)
    section = slices_section(audit)
    expected = "mean_absolute_error" if task == "regression" else "accuracy"
    assert {m.type for m in section.metrics} == {expected}
    assert section.report["discovered"]["slices"][0]["slice"] == "region=e"
    simpson = section.report["simpson"]
    assert simpson["paired"] and simpson["winner"] == "v2"
    labelled = audit.labelled()
    east = (labelled["region"] == "e").to_numpy()
    m = {(c.type, c.slice): c for c in section.metrics}[(expected, "region=e")]
    if task == "regression":
        assert m.value == pytest.approx(mean_absolute_error(labelled["y"][east], labelled["pred"][east]))
    else:
        assert m.value == pytest.approx(accuracy_score(labelled["y"][east], labelled["pred"][east]))


def test_versions_without_request_ids_are_compared_unpaired():
    audit = small_audit("multiclass", with_id=False)
    result = compare_versions(audit, min_size=30)
    assert not result.paired and result.n_pairs is None
    v2 = audit.current[audit.current["ver"] == "v2"]
    assert result.overall["v2"]["value"] == pytest.approx(accuracy_score(v2["y"], v2["pred"]))
    assert "not the same requests" in result.settings["compared_on"]


def test_single_version_log_has_no_simpson_check():
    from sightline.slices import slices_section

    section = slices_section(small_audit("multiclass", with_versions=False))
    assert section.report["simpson"]["status"] == "unavailable"
    assert section.verdict.status in ("amber", "red")


@pytest.mark.parametrize("settings, key", [({"min_size": "thirty"}, "slices.min_size"), ({"max_order": 5}, "slices.max_order"),
                                           ({"n_bins": 1}, "slices.n_bins"), ({"columns": 3}, "slices.columns")])
def test_bad_settings_are_explained(sample_audit, settings, key):
    from sightline.data.audit import Audit
    from sightline.report.registry import compute_section

    audit = Audit(spec=sample_audit.spec.replace(slices=settings), current=sample_audit.current,
                  features=sample_audit.features, fingerprint="bad")
    section = compute_section("slices", audit)  # no exception: the area explains the problem
    assert section.verdict.status == "unavailable" and key in section.verdict.headline


def test_configured_columns_are_used_and_unknown_ones_named(sample_audit):
    from sightline.data.audit import Audit
    from sightline.slices import slices_section

    audit = Audit(spec=sample_audit.spec.replace(slices={"columns": ["age", "shoe_size"], "n_bins": 4}),
                  current=sample_audit.current, features=sample_audit.features, fingerprint="cols")
    section = slices_section(audit)
    assert section.report["settings"]["columns"] == ["age"]
    assert len(section.report["tables"]["age"]) == 4  # four quantile bins
    assert "shoe_size" in section.verdict.detail


def test_simpson_report_leaves_out_small_slices():
    cells = KIDNEY_STONES + [("A", "tiny", 3, 4), ("B", "tiny", 2, 4)]
    report = simpson_check(outcomes_frame(cells), ["size"], versions=("A", "B"), min_size=30).to_report()
    assert report["suppressed_slices"] == 1
    assert {r["value"] for r in report["slices"]} == {"small", "large"}
    json.dumps(report)


# -- fast paths equal the straightforward computation ------------------------------------------
def _encode_reference(values: pd.Series, n_bins: int):
    """The straightforward binning: np.unique, np.quantile on the raw values, pandas groupby
    min/max per bin (what encode_column computed before it sorted once)."""
    x = values.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(x)
    distinct = np.unique(x[finite])
    if len(distinct) <= n_bins:
        return None
    cuts = np.unique(np.quantile(x[finite], np.linspace(0, 1, n_bins + 1)[1:-1]))
    cuts = cuts[cuts < distinct[-1]]
    codes = np.searchsorted(cuts, np.where(finite, x, 0.0), side="left")
    frame = pd.DataFrame({"code": codes[finite], "x": x[finite]}).groupby("code")["x"].agg(["min", "max"])
    integer = bool(np.all(np.mod(distinct, 1) == 0))
    from sightline.slices.encoding import _format_number

    labels = []
    for code in range(len(cuts) + 1):
        if code in frame.index:
            lo, hi = frame.loc[code, "min"], frame.loc[code, "max"]
            lo_s, hi_s = _format_number(lo, integer), _format_number(hi, integer)
            labels.append(lo_s if lo_s == hi_s else f"{lo_s}{' to ' if lo < 0 else '–'}{hi_s}")
        else:
            labels.append(f"≤{_format_number(cuts[code], integer)}" if code < len(cuts) else f">{_format_number(cuts[-1], integer)}")
    if not finite.all():
        codes = np.where(finite, codes, len(cuts) + 1)
        labels.append("(missing)")
    return codes, tuple(labels), tuple(float(c) for c in cuts)


@pytest.mark.parametrize("seed", range(6))
def test_numeric_binning_equals_the_straightforward_binning(seed):
    """One sort (distinct values, quantiles, bin bounds) gives exactly the codes, labels and edges
    of np.unique + np.quantile + a groupby min/max, ties, -0.0, NaN and ±inf included."""
    rng = np.random.default_rng(seed)
    n = 5_000
    columns = [rng.normal(size=n), np.round(rng.normal(size=n) * 3) / 2,  # -0.0 and 0.0 both occur
               np.where(rng.random(n) < 0.9, 0.0, rng.lognormal(size=n)), rng.integers(0, 40, n).astype(float),
               np.where(np.arange(n) < 4_500, 1.0, rng.integers(0, 40, n)), rng.choice([-2.5, 0.0, 1e6, 3.25, 7.0, 1000.5], n)]
    for x in columns:
        x = x.copy()
        x[rng.random(n) < 0.03] = np.nan
        x[rng.random(n) < 0.005] = rng.choice([np.inf, -np.inf])
        for n_bins in (2, 3, 5, 7):
            got = encode_column(pd.Series(x, name="x"), n_bins=n_bins)
            want = _encode_reference(pd.Series(x), n_bins)
            if want is None:
                assert got.kind == "categorical"
                continue
            assert got.kind == "numeric"
            np.testing.assert_array_equal(got.codes, want[0])
            assert got.labels == want[1] and got.edges == want[2]


def test_auc_pair_counts_equal_binary_searches():
    """The per-row pair counts from one pass over the sorted scores equal the binary searches
    (np.searchsorted) they replace, with ties, -0.0 and missing scores."""
    from sightline.slices.outcomes import Outcomes

    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(2, 4_000))
        y = (rng.random(n) < rng.random()).astype(int)
        s = np.round(rng.random(n), int(rng.integers(1, 4)))
        s[rng.random(n) < 0.1] = np.nan
        s[rng.random(n) < 0.05] = -0.0
        if not np.isfinite(s).any():
            continue
        parts = Outcomes("binary", y, y, s)._auc_rows
        ok = np.isfinite(s)
        pos, neg = (y == 1) & ok, (y == 0) & ok
        s_neg, s_pos = np.sort(s[neg]), np.sort(s[pos])
        want = np.zeros(n)
        lo, hi = np.searchsorted(s_neg, s[pos], "left"), np.searchsorted(s_neg, s[pos], "right")
        want[pos] = lo + 0.5 * (hi - lo)
        lo, hi = np.searchsorted(s_pos, s[neg], "left"), np.searchsorted(s_pos, s[neg], "right")
        want[neg] = (len(s_pos) - hi) + 0.5 * (hi - lo)
        np.testing.assert_array_equal(parts["pairs"], want)
        assert parts["u_all"] == float(want[pos].sum())


def test_slice_data_holds_the_labelled_rows_without_copying_them(sample_audit):
    """SliceData keeps positions into the primary rows: its outcomes, columns and frame are
    those of audit.labelled(), and its codes fit the smallest integer type."""
    from sightline.slices import slice_data

    data = slice_data(sample_audit)
    labelled = sample_audit.labelled()
    assert data.source is sample_audit.primary and data.n == len(labelled)
    np.testing.assert_array_equal(data.outcomes.y_true, sample_audit.y_true(labelled))
    np.testing.assert_array_equal(data.outcomes.y_pred, sample_audit.y_pred(labelled))
    np.testing.assert_array_equal(data.outcomes.y_score, sample_audit.y_score(labelled))
    pd.testing.assert_frame_equal(data.frame, labelled)
    for c in ("age", "sex"):
        pd.testing.assert_series_equal(data.column(c), labelled[c].reset_index(drop=True))
        reference = encode_column(labelled[c], n_bins=data.n_bins)
        np.testing.assert_array_equal(data.encoded[c].codes, reference.codes)
        assert data.encoded[c].codes.dtype == np.int8


def test_sorted_quantiles_equal_numpy_quantile_bit_for_bit():
    """Quantiles read off the sorted values (no partition) are np.quantile's, sign of zero
    included (columns holding zeros keep np.quantile), on ties, halves and exact zeros."""
    from sightline.slices.encoding import _sorted_quantiles

    rng = np.random.default_rng(11)
    for rep in range(400):
        n = int(rng.integers(1, 2_000))
        kind = rep % 5
        x = [rng.normal(size=n), np.round(rng.normal(size=n) * 3) / 2, rng.integers(0, 5, n).astype(float),
             np.where(rng.random(n) < 0.5, 0.0, -0.0), np.round(rng.normal(size=n) * 3) / 2 + 0.25][kind]
        xs = np.sort(x)
        for n_bins in (2, 3, 5, 7, 20):
            q = np.linspace(0, 1, n_bins + 1)[1:-1]
            got, want = _sorted_quantiles(xs, q), np.quantile(xs, q)
            assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))


def test_categorical_codes_equal_pandas_factorize():
    """A categorical column's codes, read from its categories, are pd.factorize's (order of first
    appearance, missing -1, unused categories dropped), also when a category first shows up
    late; and encode_column gives the same result as on the plain values."""
    from sightline.slices.encoding import _factorized

    rng = np.random.default_rng(12)
    for n, k, late in ((10, 3, False), (5_000, 8, False), (20_000, 60, True), (9_000, 200, True)):
        values = rng.choice([f"v{i}" for i in range(k)], n).astype(object)
        values[rng.random(n) < 0.05] = None
        if late:
            values[:5_000][values[:5_000] == "v1"] = "v2"  # v1 appears only after the first rows
        cats = pd.Series(pd.Categorical(values, categories=[f"v{i}" for i in range(k + 3)][::-1]), name="c")
        codes, uniques, counts = _factorized(cats)
        want_codes, want_uniques = pd.factorize(cats, use_na_sentinel=True)
        np.testing.assert_array_equal(codes, want_codes)
        assert list(uniques) == list(want_uniques)
        np.testing.assert_array_equal(counts, np.bincount(want_codes[want_codes >= 0], minlength=len(want_uniques)))
        got, plain = encode_column(cats), encode_column(pd.Series(values, name="c"))
        np.testing.assert_array_equal(got.codes, plain.codes)
        assert got.labels == plain.labels and got.codes.dtype == plain.codes.dtype
