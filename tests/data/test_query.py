"""The DuckDB query layer equals the in-memory path: every aggregate of sightline.data.query is
checked against an independent computation on the same random rows (scikit-learn's
confusion_matrix and calibration_curve, numpy.histogram, numpy.quantile, pandas value_counts
and groupby), for a Parquet file, an in-memory frame, a DuckDB database and SQLite."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix

from sightline.core.errors import DataError
from sightline.data import aggregates as A
from sightline.data import query as Q
from sightline.stats import reliability as R
from sightline.stats.windows import window_starts

N = 20_000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    score = rng.beta(2, 3, N)
    y = rng.random(N) < score  # calibrated-ish labels
    label = np.where(y, "yes", "no").astype(object)
    label[rng.random(N) < 0.1] = None                       # late labels
    label[rng.random(N) < 0.05] = " yes "                  # stray whitespace counts as 'yes' (labels_equal)
    group = rng.choice(["A", "B", "C", "D", "E"], N, p=[0.4, 0.25, 0.15, 0.12, 0.08]).astype(object)
    group[rng.random(N) < 0.01] = None                      # a missing group is its own group
    x = rng.normal(0, 2, N)
    x[rng.random(N) < 0.03] = np.nan
    ts = pd.Timestamp("2026-01-07 13:00") + pd.to_timedelta(rng.integers(0, 60 * 24 * 3600, N), unit="s")
    return pd.DataFrame({
        "ts": ts.astype("datetime64[us]"),
        "group": pd.Categorical(group),
        "region": rng.choice(["north", "south"], N),
        "x": x,
        "count": rng.poisson(4, N).astype("int64"),
        "color": pd.Categorical(rng.choice(["red", "green", "blue", None], N, p=[0.5, 0.3, 0.15, 0.05])),
        "label": label,
        "label01": np.where(pd.isna(label), np.nan, np.where(pd.Series(label).str.strip() == "yes", 1.0, 0.0)),
        "score": score,
        "predicted": np.where(score >= 0.4, "yes", "no"),
        "version": rng.choice(["v1", "v2"], N, p=[0.8, 0.2]),
        "latency_ms": rng.lognormal(3.7, 0.5, N),
    })


@pytest.fixture(scope="module")
def parquet(frame, tmp_path_factory) -> Q.Table:
    path = tmp_path_factory.mktemp("q") / "log.parquet"
    frame.to_parquet(path, index=False)
    return Q.Table.parquet(path)


def _week(ts: pd.Series) -> pd.Series:
    """Monday 00:00 of each timestamp's week, computed without SQL by the engine's one window
    function (so the SQL windows and the in-memory ones are checked to agree)."""
    return window_starts(ts, "week")


def _expected_confusion(df: pd.DataFrame, y_pred: np.ndarray, by: list[str]) -> pd.DataFrame:
    labelled = df["label"].notna().to_numpy()
    y_true = (df["label"].astype("string").str.strip() == "yes").fillna(False).to_numpy()
    d = df.loc[labelled, by].copy()
    d["_t"], d["_p"] = y_true[labelled].astype(int), y_pred[labelled].astype(int)
    rows = []
    for key, part in d.groupby(by, dropna=False, observed=True):
        tn, fp, fn, tp = confusion_matrix(part["_t"], part["_p"], labels=[0, 1]).ravel()
        rows.append((*(key if isinstance(key, tuple) else (key,)), tp, fp, tn, fn, len(part)))
    return pd.DataFrame(rows, columns=[*by, "tp", "fp", "tn", "fn", "n"])


def _assert_frames(got: pd.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    got = got.copy()
    want = want.copy()
    for k in keys:
        if k == "window":
            got[k] = pd.to_datetime(got[k]).astype("datetime64[ns]")
            want[k] = pd.to_datetime(want[k]).astype("datetime64[ns]")
        else:
            got[k] = got[k].astype(object).fillna("<missing>")
            want[k] = want[k].astype(object).fillna("<missing>")
    got = got.sort_values(keys, na_position="last").reset_index(drop=True)
    want = want.sort_values(keys, na_position="last").reset_index(drop=True)
    pd.testing.assert_frame_equal(got[list(want.columns)], want, check_dtype=False)


# ----------------------------------------------------------------------------- confusion counts
def test_confusion_counts_by_group_equal_sklearn(frame, parquet):
    got = A.confusion_counts(parquet, target="label", positive_label="yes", prediction="predicted", by=["group", "region"])
    want = _expected_confusion(frame, (frame["predicted"] == "yes").to_numpy(), ["group", "region"])
    _assert_frames(got, want, ["group", "region"])
    assert got["n"].sum() == frame["label"].notna().sum()
    assert got["group"].isna().any()  # the missing group is kept, as its own group


def test_confusion_counts_from_score_per_week_equal_sklearn(frame, parquet):
    got = A.confusion_counts(parquet, target="label", positive_label=" yes", score="score", threshold=0.37,
                             window=("ts", "week"))
    df = frame.assign(window=_week(frame["ts"]))
    want = _expected_confusion(df, (frame["score"] >= 0.37).to_numpy(), ["window"])
    _assert_frames(got, want, ["window"])


def test_confusion_counts_numeric_label_and_filter(frame, parquet):
    got = A.confusion_counts(parquet, target="label01", positive_label=1, score="score", by=["group"],
                             where={"version": "v1", "region": ["north"]})
    part = frame[(frame["version"] == "v1") & (frame["region"] == "north")]
    want = _expected_confusion(part, (part["score"] >= 0.5).to_numpy(), ["group"])
    _assert_frames(got, want, ["group"])


def test_hand_counted_example():
    df = pd.DataFrame({"y": ["p", "p", "n", "n", "p", None], "s": [0.9, 0.2, 0.7, 0.1, 0.5, 0.9]})
    got = A.confusion_counts(Q.Table.frame_of(df), target="y", positive_label="p", score="s")
    assert got[["tp", "fp", "tn", "fn", "n"]].iloc[0].tolist() == [2, 1, 1, 1, 5]


# ----------------------------------------------------------------------------- histograms
def test_histograms_equal_numpy(frame, parquet):
    edges = {"x": [-np.inf, -2.0, -0.5, 0.0, 0.5, 2.0, np.inf], "count": [0, 2, 4, 6, 10]}
    got = A.histograms(parquet, edges, by=["region"], window=("ts", "week"))
    df = frame.assign(window=_week(frame["ts"]))
    for (region, window), part in df.groupby(["region", "window"]):
        for column, e in edges.items():
            counts, _ = np.histogram(part[column].dropna().to_numpy(dtype=float), bins=e)
            mine = got[(got["column"] == column) & (got["region"] == region)
                       & (pd.to_datetime(got["window"]) == window)].sort_values("bin")
            assert mine["count"].tolist() == counts.tolist(), (column, region, window)
            assert mine["lower"].tolist() == e[:-1] and mine["upper"].tolist() == e[1:]


def test_histogram_edges_are_numpy_closed_intervals():
    df = pd.DataFrame({"v": [0.0, 1.0, 1.0, 2.0, 3.0, -1.0, 3.5, np.nan]})
    got = A.histograms(Q.Table.frame_of(df), {"v": [0, 1, 2, 3]})
    assert got["count"].tolist() == np.histogram(df["v"].dropna(), bins=[0, 1, 2, 3])[0].tolist() == [1, 2, 2]


def test_category_counts_equal_value_counts(frame, parquet):
    got = A.category_counts(parquet, ["color", "region"], by=["version"])
    for column in ("color", "region"):
        want = frame.groupby("version")[column].value_counts(dropna=False)
        mine = got[got["column"] == column]
        assert mine["count"].sum() == len(frame)
        for (version, value), count in want.items():
            row = mine[(mine["version"] == version) & (mine["value"].isna() if pd.isna(value) else mine["value"] == value)]
            assert row["count"].tolist() == [count], (column, version, value)


def test_calibration_bins_equal_sklearn_calibration_curve(frame, parquet):
    got = A.calibration_bins(parquet, score="score", target="label", positive_label="yes",
                             edges=np.linspace(0, 1, 11), by=["group"])
    labelled = frame[frame["label"].notna()]
    for group, part in labelled.groupby("group", observed=True):
        y = (part["label"].str.strip() == "yes").astype(int)
        prob_true, prob_pred = calibration_curve(y, part["score"], n_bins=10, strategy="uniform")
        mine = got[(got["group"] == group) & (got["count"] > 0)].sort_values("bin")
        np.testing.assert_allclose(mine["positives"] / mine["count"], prob_true, rtol=1e-12)
        np.testing.assert_allclose(mine["prob_sum"] / mine["count"], prob_pred, rtol=1e-9)
        assert mine["count"].sum() == len(part)
        # the ECE from the SQL sums is the in-memory ECE of the same rows
        ece, mce = R.calibration_errors(mine["count"], mine["positives"], mine["prob_sum"])
        assert float(ece) == pytest.approx(R.expected_calibration_error(y, part["score"], n_bins=10), abs=1e-12)
        assert float(mce) == pytest.approx(R.maximum_calibration_error(y, part["score"], n_bins=10), abs=1e-12)


def test_calibration_bins_put_edge_scores_where_calibration_curve_does():
    df = pd.DataFrame({"y": ["p", "n", "p", "n", "p", "n", "p"], "s": [0.0, 0.1, 0.3, 0.5, 0.9, 1.0, None]})
    got = A.calibration_bins(Q.Table.frame_of(df), score="s", target="y", positive_label="p", edges=np.linspace(0, 1, 11))
    s = np.array([0.0, 0.1, 0.3, 0.5, 0.9, 1.0])
    want = np.bincount(R.bin_ids(s, np.linspace(0, 1, 11)), minlength=10)
    assert got["count"].tolist() == want.tolist() == [2, 0, 1, 0, 1, 0, 0, 0, 1, 1]
    assert got[["bin_lower", "bin_upper"]].iloc[0].tolist() == [0.0, 0.1]


# ----------------------------------------------------------------------------- coverage, quantiles, counts
def test_label_coverage_equals_pandas(frame, parquet):
    got = A.label_coverage(parquet, target="label", timestamp="ts", unit="week")
    df = frame.assign(window=_week(frame["ts"]), has=frame["label"].notna())
    want = df.groupby("window").agg(rows=("has", "size"), labelled=("has", "sum")).reset_index()
    want["coverage"] = want["labelled"] / want["rows"]
    _assert_frames(got, want, ["window"])


@pytest.mark.parametrize("standard_sql", [False, True])
def test_quantiles_equal_numpy(frame, parquet, standard_sql):
    got = A.quantiles(parquet, "latency_ms", q=[0.5, 0.9, 0.95, 0.99, 0.999], by=["version"], window=("ts", "day"),
                      standard_sql=standard_sql)
    df = frame.assign(window=frame["ts"].dt.normalize())
    assert list(got.columns[-5:]) == ["p50", "p90", "p95", "p99", "p99_9"]
    assert len(got) == df.groupby(["version", "window"]).ngroups
    for (version, window), part in df.groupby(["version", "window"]):
        row = got[(got["version"] == version) & (pd.to_datetime(got["window"]) == window)].iloc[0]
        want = np.quantile(part["latency_ms"], [0.5, 0.9, 0.95, 0.99, 0.999])
        np.testing.assert_allclose(row[["p50", "p90", "p95", "p99", "p99_9"]].to_numpy(dtype=float), want, rtol=1e-12)
        assert row["n"] == len(part)


def test_quantiles_ignore_missing_values(frame, parquet):
    got = A.quantiles(parquet, "x", q=[0.25, 0.75])
    np.testing.assert_allclose(got[["p25", "p75"]].iloc[0].to_numpy(dtype=float),
                               np.quantile(frame["x"].dropna(), [0.25, 0.75]), rtol=1e-12)
    assert got["n"].iloc[0] == frame["x"].notna().sum()


def test_row_counts_equal_value_counts(frame, parquet):
    got = A.row_counts(parquet, by=["version", "region"], window=("ts", "month"))
    df = frame.assign(window=frame["ts"].dt.to_period("M").dt.start_time)
    want = df.groupby(["version", "region", "window"]).size().rename("rows").reset_index()
    _assert_frames(got, want, ["version", "region", "window"])


# ----------------------------------------------------------------------------- sources
def test_every_source_gives_the_same_counts(frame, parquet, tmp_path):
    db = tmp_path / "logs.db"
    with duckdb.connect(str(db)) as con:
        con.register("f", frame)
        con.execute("CREATE TABLE logs AS SELECT * FROM f")
    csv = tmp_path / "log.csv"
    frame.to_csv(csv, index=False)
    tables = [parquet, Q.Table.frame_of(frame), Q.Table.sql(f"duckdb:///{db}", "SELECT * FROM logs;"), Q.Table.file(csv)]
    results = [A.confusion_counts(t, target="label", positive_label="yes", prediction="predicted", by=["region"]) for t in tables]
    for r in results[1:]:
        pd.testing.assert_frame_equal(r, results[0], check_dtype=False)


def test_standard_sql_runs_unchanged_on_another_engine(frame, tmp_path):
    """SQLite through SQLAlchemy runs the confusion-count and row-count SQL as generated."""
    sa = pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'logs.sqlite'}"
    engine = sa.create_engine(url)
    frame.drop(columns=["ts"]).astype({"group": object, "color": object}).to_sql("logs", engine, index=False)
    engine.dispose()
    table = Q.Table.sql(url, "SELECT * FROM logs")
    got = A.confusion_counts(table, target="label", positive_label="yes", prediction="predicted", by=["region"])
    want = _expected_confusion(frame, (frame["predicted"] == "yes").to_numpy(), ["region"])
    _assert_frames(got, want, ["region"])
    counts = A.row_counts(table, by=["version"])
    assert counts.set_index("version")["rows"].to_dict() == frame["version"].value_counts().to_dict()


# ----------------------------------------------------------------------------- samples
def test_sample_is_bounded_uniform_rows_and_repeatable(frame, parquet):
    s1 = Q.sample(parquet, 500, seed=7, columns=["score", "version", "latency_ms"], where={"version": "v1"})
    s2 = Q.sample(parquet, 500, seed=7, columns=["score", "version", "latency_ms"], where={"version": "v1"})
    s3 = Q.sample(parquet, 500, seed=8, columns=["score", "version", "latency_ms"], where={"version": "v1"})
    assert len(s1.rows) == 500 and list(s1.rows.columns) == ["score", "version", "latency_ms"]
    assert s1.population == (frame["version"] == "v1").sum() and s1.sampled
    assert set(s1.rows["version"]) == {"v1"}
    assert set(s1.rows["latency_ms"]) <= set(frame["latency_ms"])  # real rows, not synthesised
    pd.testing.assert_frame_equal(s1.rows.sort_values("latency_ms").reset_index(drop=True),
                                  s2.rows.sort_values("latency_ms").reset_index(drop=True))
    assert set(s1.rows["latency_ms"]) != set(s3.rows["latency_ms"])
    assert s1.provenance()["sample_size"] == 500


def test_sample_of_a_small_population_is_every_row(frame, parquet):
    s = Q.sample(parquet, 10 * N, columns=["latency_ms"])
    assert len(s.rows) == N and not s.sampled and s.provenance()["method"] == "all rows"


def test_sample_refuses_an_engine_that_cannot_bound_it():
    with pytest.raises(DataError, match="reservoir"):
        Q.sample(Q.Table.sql("sqlite://", "SELECT 1 AS a"), 10)


# ----------------------------------------------------------------------------- bad input
def test_bad_input_is_named(parquet, tmp_path):
    with pytest.raises(DataError, match="not found"):
        Q.Table.parquet(tmp_path / "missing.parquet")
    with pytest.raises(DataError, match="no_such_column"):
        A.row_counts(parquet, by=["no_such_column"])
    with pytest.raises(ValueError, match="increasing"):
        A.histograms(parquet, {"x": [1.0, 0.0]})
    with pytest.raises(ValueError, match="window unit"):
        A.row_counts(parquet, window=("ts", "fortnight"))


def test_identifiers_and_values_are_quoted():
    df = pd.DataFrame({'we"ird col': ["it's", "it's", "x"], "y": ["p", "n", "p"], "s": [0.9, 0.8, 0.1]})
    got = A.confusion_counts(Q.Table.frame_of(df), target="y", positive_label="p", score="s", by=['we"ird col'],
                             where={'we"ird col': "it's"})
    assert got[["tp", "fp", "n"]].iloc[0].tolist() == [1, 1, 2]


def test_primary_where_follows_the_audit_rule(frame, parquet, sample_spec):
    spec = sample_spec.replace(columns=sample_spec.columns.__class__(model_version="version"), primary_version=None)
    assert A.primary_where(spec, parquet) == {"version": frame["version"].value_counts().idxmax()}
    assert A.primary_where(spec.replace(primary_version="v2"), parquet) == {"version": "v2"}
    assert A.primary_where(spec.replace(columns=spec.columns.__class__()), parquet) == {}
