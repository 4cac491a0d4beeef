"""Operations engine: latency percentiles against numpy, hand-counted throughput and invalid
rates, incident detection on planted spikes, and the sample's documented latency incidents."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from sightline.core.errors import MissingInputError
from sightline.operations import operations_result, operations_verdict
from sightline.operations.incidents import flag_slow_windows, latency_incidents
from sightline.operations.invalid import INVALID_REASONS, invalid_prediction_flags, invalid_rates
from sightline.report.compose import operations_section
from sightline.stats.timing import PERCENTILES, group_percentiles, latency_by_window, latency_percentiles, throughput_by_window
from sightline.stats.windows import window_starts


# --------------------------------------------------------------------------- percentiles
def test_group_percentiles_equal_numpy_with_ties_and_nan():
    rng = np.random.default_rng(1)
    values = np.round(rng.lognormal(3.5, 0.8, 5_000), 0)  # rounding makes many ties
    values[rng.choice(5_000, 50, replace=False)] = np.nan
    codes = rng.integers(0, 7, 5_000)
    qs = (0, 1, 50, 90, 95, 99, 99.9, 100)
    got = group_percentiles(values, codes, 8, qs)  # group 7 is empty
    for g in range(7):
        v = values[(codes == g) & ~np.isnan(values)]
        np.testing.assert_allclose(got[g], np.percentile(v, qs), rtol=1e-12)
    assert np.isnan(got[7]).all()


def test_group_percentiles_single_value_group():
    got = group_percentiles(np.array([5.0, 1.0, 2.0]), np.array([0, 1, 1]), 2, (50, 99))
    np.testing.assert_allclose(got, [[5.0, 5.0], np.percentile([1.0, 2.0], [50, 99])])


def test_latency_percentiles_per_version_equal_numpy_and_drop_invalid_timings():
    rng = np.random.default_rng(2)
    lat = pd.Series(rng.lognormal(3.7, 0.7, 3_000), dtype=object)
    lat[:5] = [-1.0, None, "slow", np.inf, np.nan]  # not timings: left out and counted as missing
    versions = np.where(rng.random(3_000) < 0.3, "b", "a")
    out = latency_percentiles(lat, versions)
    for v in ("a", "b"):
        mask = versions == v
        mask[:5] = False
        clean = lat[mask].astype(float).to_numpy()
        np.testing.assert_allclose(out.loc[v, ["p50_ms", "p90_ms", "p95_ms", "p99_ms"]].to_numpy(float),
                                   np.percentile(clean, PERCENTILES), rtol=1e-12)
        assert out.loc[v, "n"] == mask.sum()
        assert out.loc[v, "max_ms"] == clean.max()
    assert out["missing"].sum() == 5


def test_latency_by_window_equal_numpy_per_window_and_version():
    rng = np.random.default_rng(3)
    n = 4_000
    ts = pd.Series(pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.uniform(0, 10 * 86400, n), unit="s"))
    lat = rng.lognormal(3.5, 0.6, n)
    versions = rng.choice(["champion", "shadow"], n)
    starts = window_starts(ts, "day")
    out = latency_by_window(lat, starts, versions)
    frame = pd.DataFrame({"w": starts, "v": versions, "lat": lat})
    assert len(out) == frame.groupby(["w", "v"]).ngroups
    for (w, v), part in frame.groupby(["w", "v"]):
        row = out[(out["window"] == w) & (out["model_version"] == v)].iloc[0]
        np.testing.assert_allclose(row[["p50_ms", "p90_ms", "p95_ms", "p99_ms"]].to_numpy(float),
                                   np.percentile(part["lat"], PERCENTILES), rtol=1e-12)
        assert row["n"] == len(part)


def test_operations_offers_hour_day_and_week_windows(sample_audit):
    assert operations_result(sample_audit, "Hourly").window == "hour"  # any spelling normalise_window reads
    with pytest.raises(ValueError, match="hour, day, week"):
        operations_result(sample_audit, "month")  # throughput per minute needs windows of one length


# --------------------------------------------------------------------------- throughput
def test_throughput_counts_by_hand_with_empty_windows():
    ts = pd.Series(pd.to_datetime([
        "2026-01-01 00:05", "2026-01-01 00:10", "2026-01-01 00:59",   # A: 3 in hour 0
        "2026-01-01 02:00", "2026-01-01 02:30",                       # A: 0 in hour 1, 2 in hour 2
        "2026-01-01 02:45",                                           # B: 1 in hour 2 (its only hour)
        None,                                                         # no timestamp: not counted
    ]))
    versions = ["A", "A", "A", "A", "A", "B", "A"]
    out = throughput_by_window(window_starts(ts, "hour"), versions, "hour")
    a = out[out["model_version"] == "A"]
    assert a["requests"].tolist() == [3, 0, 2]
    assert a["window"].tolist() == pd.to_datetime(["2026-01-01 00:00", "2026-01-01 01:00", "2026-01-01 02:00"]).tolist()
    b = out[out["model_version"] == "B"]
    assert b["requests"].tolist() == [1] and b["window"].iloc[0] == pd.Timestamp("2026-01-01 02:00")
    np.testing.assert_allclose(a["requests_per_minute"], np.array([3, 0, 2]) / 60)


# --------------------------------------------------------------------------- invalid predictions
def _bad_log() -> pd.DataFrame:
    return pd.DataFrame({
        "ts": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 01:00", "2026-01-01 02:00", "2026-01-01 03:00",
                              "2026-01-02 00:00", "2026-01-02 01:00", "2026-01-02 02:00", "2026-01-02 03:00"]),
        "pred": ["yes", None, "no", "  ", "yes", "no", "yes", None],
        "score": [0.9, 0.2, np.nan, 0.1, 1.5, -0.2, "abc", np.nan],
        "v": ["a", "a", "a", "a", "a", "b", "b", "b"],
    })


def test_invalid_flags_on_planted_bad_rows():
    flags = invalid_prediction_flags(_bad_log(), prediction="pred", score="score", task="binary")
    assert flags["missing_prediction"].tolist() == [False, True, False, True, False, False, False, True]
    assert flags["missing_score"].tolist() == [False, False, True, False, False, False, True, True]
    assert flags["score_out_of_range"].tolist() == [False, False, False, False, True, True, False, False]
    assert flags["invalid"].tolist() == [False, True, True, True, True, True, True, True]
    # a regression "score" may be any number: only missing ones count
    reg = invalid_prediction_flags(_bad_log(), prediction="pred", score="score", task="regression")
    assert not reg["score_out_of_range"].any()


def test_invalid_rates_per_version_and_window_by_hand():
    log = _bad_log()
    flags = invalid_prediction_flags(log, prediction="pred", score="score", task="binary")
    per_version = invalid_rates(flags, log["v"]).set_index("model_version")
    assert per_version.loc["a", ["rows", "invalid"]].tolist() == [5, 4]
    assert per_version.loc["b", ["rows", "invalid"]].tolist() == [3, 3]
    assert per_version.loc["a", "rate"] == pytest.approx(4 / 5)
    assert per_version.loc["a", list(INVALID_REASONS)].tolist() == [2, 1, 1]
    per_day = invalid_rates(flags, log["v"], window_starts(log["ts"], "day"))
    day2a = per_day[(per_day["window"] == pd.Timestamp("2026-01-02")) & (per_day["model_version"] == "a")].iloc[0]
    assert (day2a["rows"], day2a["invalid"]) == (1, 1)
    day1a = per_day[(per_day["window"] == pd.Timestamp("2026-01-01")) & (per_day["model_version"] == "a")].iloc[0]
    assert (day1a["rows"], day1a["invalid"], day1a["rate"]) == (4, 3, 0.75)


# --------------------------------------------------------------------------- incidents
def _steady_log(spike_day: int | None, n_days: int = 20, per_day: int = 200, seed: int = 4):
    rng = np.random.default_rng(seed)
    day = np.repeat(np.arange(n_days), per_day)
    ts = pd.Series(pd.Timestamp("2026-02-02") + pd.to_timedelta(day, unit="D") + pd.to_timedelta(rng.uniform(0, 86400, len(day)), unit="s"))
    lat = 40 * rng.lognormal(0, 0.5, len(day))
    if spike_day is not None:
        hit = (day == spike_day) & (ts.dt.hour.isin([10, 11])).to_numpy()
        lat[hit] *= 8
    return ts, lat


def test_planted_spike_is_the_only_incident():
    ts, lat = _steady_log(spike_day=12)
    by = latency_by_window(lat, window_starts(ts, "day"))
    flagged = flag_slow_windows(by, factor=2.0, min_requests=20)
    assert flagged.loc[flagged["incident"], "window"].tolist() == [pd.Timestamp("2026-02-14")]
    # the typical p99 is the median of the window p99s
    assert flagged["typical_p99_ms"].iloc[0] == pytest.approx(np.median(by["p99_ms"]))
    incidents = latency_incidents(flagged, "day")
    assert len(incidents) == 1 and incidents["end"].iloc[0] == pd.Timestamp("2026-02-15")


def test_no_spike_no_incident():
    ts, lat = _steady_log(spike_day=None)
    flagged = flag_slow_windows(latency_by_window(lat, window_starts(ts, "day")), factor=2.0)
    assert not flagged["incident"].any()


def test_consecutive_flagged_windows_merge_into_one_incident():
    by = pd.DataFrame({"window": pd.date_range("2026-01-01", periods=8, freq="h"), "model_version": "m",
                       "n": 150, "p99_ms": [100, 100, 400, 500, 100, 450.0, 100, 100]})  # usual p99: 100
    incidents = latency_incidents(flag_slow_windows(by, factor=2.0), "hour")
    assert incidents["windows"].tolist() == [2, 1]
    assert incidents["peak_p99_ms"].tolist() == [500, 450]
    assert incidents["start"].tolist() == [pd.Timestamp("2026-01-01 02:00"), pd.Timestamp("2026-01-01 05:00")]


def test_small_windows_use_the_slow_share_test():
    by = pd.DataFrame({"window": pd.date_range("2026-01-01", periods=4, freq="h"), "model_version": "m",
                       "n": [8, 9, 10, 10], "p99_ms": [90.0, 95.0, 900.0, 100.0]})
    # 8 of 10 requests above the version's p99 is far beyond the expected 1%; 1 of 9 is not
    flagged = flag_slow_windows(by, slow_counts=[0, 1, 8, 0], factor=2.0, min_requests=100)
    assert flagged["incident"].tolist() == [False, False, True, False]


# --------------------------------------------------------------------------- the sample audit
def test_sample_percentiles_equal_numpy(sample_audit):
    result = operations_result(sample_audit)
    log = sample_audit.current
    for version, part in log.groupby("model_version"):
        np.testing.assert_allclose(result.latency.loc[version, ["p50_ms", "p90_ms", "p95_ms", "p99_ms"]].to_numpy(float),
                                   np.percentile(part["latency_ms"], PERCENTILES), rtol=1e-12)


def test_sample_finds_both_documented_latency_incidents(sample_audit):
    daily = operations_result(sample_audit, "day").incidents
    found = set(zip(daily["model_version"], daily["start"].dt.strftime("%Y-%m-%d")))
    assert found == {("champion-1.0", "2026-06-17"), ("champion-1.0", "2026-08-11"), ("challenger-2.0", "2026-08-11")}
    hourly = operations_result(sample_audit, "hour").incidents
    champ = hourly[hourly["model_version"] == "champion-1.0"]
    # README: 2026-06-17 14:00-16:00 and 2026-08-11 09:00-11:00 (UTC)
    for start, end in (("2026-06-17 14:00", "2026-06-17 16:00"), ("2026-08-11 09:00", "2026-08-11 11:00")):
        hit = champ[(champ["start"] < pd.Timestamp(end)) & (champ["end"] > pd.Timestamp(start))]
        assert len(hit) == 1
        assert pd.Timestamp(start) <= hit["start"].iloc[0] and hit["end"].iloc[0] <= pd.Timestamp(end)
    assert len(champ) == 2


def test_sample_shadow_challenger_is_slower(sample_audit):
    lat = operations_result(sample_audit).latency
    assert lat.loc["challenger-2.0", "p50_ms"] > 1.3 * lat.loc["champion-1.0", "p50_ms"]
    assert lat.loc["challenger-2.0", "p99_ms"] > lat.loc["champion-1.0", "p99_ms"]


def test_sample_section_metrics_report_and_charts(sample_audit):
    from sightline.charts import chart_png
    from sightline.report.registry import to_jsonable

    section = operations_section(sample_audit)
    assert section.verdict.status == "amber"  # incidents, no latency gate, no invalid predictions
    assert "17 Jun" in section.verdict.headline and "11 Aug" in section.verdict.headline
    metrics = {(m.type, m.slice): m for m in section.metrics}
    champion = sample_audit.current[sample_audit.current["model_version"] == "champion-1.0"]["latency_ms"]
    challenger = sample_audit.current[sample_audit.current["model_version"] == "challenger-2.0"]["latency_ms"]
    assert metrics[("latency_p99_ms", "")].value == pytest.approx(np.percentile(champion, 99))
    assert metrics[("latency_p50_ms", "model_version=challenger-2.0")].value == pytest.approx(np.percentile(challenger, 50))
    assert metrics[("invalid_prediction_rate", "")].value == 0.0
    assert {t for t, _ in metrics} == {"latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms", "invalid_prediction_rate"}
    text = json.dumps(to_jsonable({**section.report, "provenance": section.provenance}))
    report = json.loads(text)
    assert report["latency"]["overall"]["p99_ms"] == pytest.approx(np.percentile(champion, 99))
    assert len(report["incidents"]) == 3
    assert report["versions"]["status"] == "compared"
    assert "challenger-2.0" in report["versions"]["comparisons"]
    assert [c.name for c in section.charts][:2] == ["latency_over_time", "throughput"]
    assert chart_png(section.charts[0].chart)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("gate, status", [(100, "red"), (500, "amber"), (5_000, "green")])
def test_latency_gate_decides_the_verdict(sample_audit, gate, status):
    audit = dataclasses.replace(sample_audit, spec=sample_audit.spec.replace(gates={"max_p99_latency_ms": gate}))
    # champion p99 is ~211 ms overall; the two incident days reach ~720-780 ms
    assert operations_verdict(operations_result(audit)).status == status


def test_missing_latency_and_time(sample_audit):
    cols = sample_audit.spec.columns
    no_latency = dataclasses.replace(sample_audit, spec=sample_audit.spec.replace(columns=dataclasses.replace(cols, latency_ms=None)))
    result = operations_result(no_latency)
    assert not result.has_latency and result.has_time
    assert result.throughput["requests"].sum() == len(sample_audit.current)
    verdict = operations_verdict(result)  # not measured is not "Healthy": amber, and the headline says why
    assert verdict.status == "amber" and "latency is not measured" in verdict.headline
    nothing = dataclasses.replace(sample_audit, spec=sample_audit.spec.replace(
        columns=dataclasses.replace(cols, latency_ms=None, timestamp=None)))
    with pytest.raises(MissingInputError, match="latency"):
        operations_result(nothing)


# --------------------------------------------------------------------------- fast paths
def _percentiles_group_by_group(values, codes, n_groups, percentiles):
    """The independent reference: numpy.percentile of each group's values, one group at a time."""
    out = np.full((n_groups, len(percentiles)), np.nan)
    for g in range(n_groups):
        v = values[(codes == g) & ~np.isnan(values)]
        if len(v):
            out[g] = np.percentile(v, percentiles)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_group_percentiles_equal_numpy_percentile_per_group(seed):
    """One pass over all groups gives numpy.percentile's value for every group, to the last bit."""
    rng = np.random.default_rng(seed)
    for n_groups in (1, 7, 300, 5_000):
        values = np.round(rng.lognormal(3, 1, 20_000), int(rng.integers(0, 3)))
        values[rng.random(20_000) < 0.05] = np.nan
        if seed % 2:
            values[rng.random(20_000) < 0.05] = -0.0
            values[rng.random(20_000) < 0.05] = 0.0
        codes = rng.integers(-1, n_groups, 20_000)
        qs = (0, 1, 50, 90, 95, 99, 100)
        got, want = group_percentiles(values, codes, n_groups, qs), _percentiles_group_by_group(values, codes, n_groups, qs)
        np.testing.assert_array_equal(got, want)


def _by_window_groupby(latency, starts, versions):
    """latency_by_window with a pandas groupby (the straightforward version)."""
    from sightline.stats.timing import PERCENTILE_COLUMNS, valid_latency, version_labels

    lat = valid_latency(latency)
    keys = pd.DataFrame({"window": pd.Series(starts).to_numpy(), "model_version": version_labels(versions, len(lat))})
    ok = ~np.isnan(lat) & keys["window"].notna().to_numpy()
    keys, lat = keys[ok], lat[ok]
    groups = keys.groupby(["model_version", "window"], sort=True, observed=True)
    sizes = groups.size()
    out = sizes.index.to_frame(index=False)[["window", "model_version"]]
    pct = group_percentiles(lat, groups.ngroup().to_numpy(), len(out), PERCENTILES + (100,))
    out["n"] = sizes.to_numpy()
    for j, col in enumerate(list(PERCENTILE_COLUMNS) + ["max_ms"]):
        out[col] = pct[:, j]
    out["model_version"] = out["model_version"].astype(str)
    return out.sort_values(["model_version", "window"], ignore_index=True)


def _invalid_rates_groupby(flags, versions, starts=None):
    """invalid_rates with a pandas groupby (the straightforward version)."""
    from sightline.stats.timing import version_labels

    data = flags.reset_index(drop=True).astype(int)
    data["model_version"] = version_labels(versions, len(flags))
    keys = ["model_version"]
    if starts is not None:
        data["window"] = pd.Series(starts).to_numpy()
        data = data.dropna(subset=["window"])
        keys = ["window", "model_version"]
    out = data.groupby(keys, sort=True, observed=True).agg(rows=("invalid", "size"), invalid=("invalid", "sum"),
                                                          **{r: (r, "sum") for r in INVALID_REASONS}).reset_index()
    out["model_version"] = out["model_version"].astype(str)
    out.insert(len(keys) + 2, "rate", out["invalid"] / out["rows"])
    return out.sort_values(keys[::-1], ignore_index=True)


@pytest.mark.parametrize("seed", range(6))
def test_window_tables_equal_pandas_groupby(seed):
    """Per-window latency and invalid-prediction tables counted on integer group codes equal the
    pandas groupby versions (values, dtypes, order), for hour/day/week windows, missing
    timestamps and latencies, and version labels as strings, categoricals or absent."""
    rng = np.random.default_rng(seed)
    n = 5_000
    unit = ("s", "us", "ns")[seed % 3]
    ts = pd.Series(pd.Timestamp("2026-03-02") + pd.to_timedelta(rng.uniform(0, 20 * 86400, n), unit="s")).astype(f"datetime64[{unit}]")
    ts[rng.random(n) < 0.05] = pd.NaT
    starts = window_starts(ts, ("hour", "day", "week")[seed % 3])
    lat = rng.lognormal(3.5, 0.6, n)
    lat[rng.random(n) < 0.05] = np.nan
    versions = [rng.choice(["champion", "shadow", "b"], n), pd.Categorical.from_codes(rng.integers(0, 3, n), ["z", "a", "m"]),
                None][seed % 3]
    pd.testing.assert_frame_equal(latency_by_window(lat, starts, versions), _by_window_groupby(lat, starts, versions), check_exact=True)
    frame = pd.DataFrame({"pred": rng.choice(["yes", "no", " ", None], n),
                          "score": np.where(rng.random(n) < 0.05, np.nan, rng.uniform(-0.1, 1.1, n))})
    flags = invalid_prediction_flags(frame, prediction="pred", score="score", task="binary")
    pd.testing.assert_frame_equal(invalid_rates(flags, versions), _invalid_rates_groupby(flags, versions), check_exact=True)
    pd.testing.assert_frame_equal(invalid_rates(flags, versions, starts), _invalid_rates_groupby(flags, versions, starts),
                                  check_exact=True)


def test_categorical_version_labels_equal_the_string_labels(sample_audit):
    """A categorical version column is labelled from its distinct values: the same categorical
    as labelling every row's string."""
    from sightline.operations.section import _version_labels
    from sightline.stats.timing import version_labels

    frame = sample_audit.current.assign(model_version=sample_audit.current["model_version"].astype("category"))
    got = version_labels(_version_labels(sample_audit, frame), len(frame))
    want = version_labels(frame["model_version"].astype(str).to_numpy(dtype=object), len(frame))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.codes, want.codes)


def test_inline_data_dict_gives_the_spec_of_altair_inline_data():
    import altair as alt

    from sightline.charts.operations import inline

    frame = pd.DataFrame({"window": pd.to_datetime(["2024-01-01", "2024-01-02"]), "v": [1.5, np.nan], "n": [3, 4]})
    data = inline(frame)
    assert data == {"values": [{"window": "2024-01-01T00:00:00", "v": 1.5, "n": 3},
                               {"window": "2024-01-02T00:00:00", "v": None, "n": 4}]}
    as_dict = alt.Chart(data).mark_line().encode(x="window:T", y="v:Q").to_dict()
    typed = alt.Chart(alt.InlineData(values=data["values"])).mark_line().encode(x="window:T", y="v:Q").to_dict()
    assert as_dict == typed


def test_headline_names_the_version_only_when_there_is_one(sample_audit):
    headline = operations_verdict(operations_result(sample_audit)).headline
    assert headline.startswith("For champion-1.0, latency") and "over all requests" in headline and "usual daily p99 of" in headline
    cols = sample_audit.spec.columns
    one = dataclasses.replace(sample_audit, spec=sample_audit.spec.replace(columns=dataclasses.replace(cols, model_version=None)))
    headline = operations_verdict(operations_result(one)).headline
    assert not headline.startswith("For ") and headline[0].isupper() and " model," not in headline
