"""Charts of the Drift page and the model card's drift graphics (pure: result in, chart out).

Inputs are the DataFrames of :mod:`sightline.drift.section` / :mod:`sightline.drift.estimation`; nothing here
computes a statistic.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sightline.charts import PRIMARY, SECONDARY, STATUS_COLORS, WIDTH
from sightline.core.vocabulary import metric_name

# Plot areas are sized exactly as given, axes and legends added around them (Vega-Lite's "pad");
# Streamlit would otherwise squeeze axes into the height ("fit"), flattening discrete heatmaps.
PAD = alt.AutoSizeParams(type="pad", contains="padding")
SIDE_COLORS = alt.Scale(domain=["reference", "production"], range=["#9e9e9e", PRIMARY])
MIN_CELL_ROWS = 30  # score-outcome cells with fewer labelled rows are not drawn


def _dates(frame: pd.DataFrame, column: str = "window") -> pd.DataFrame:
    """A copy with ``column`` as ISO date strings (ordinal axes read better than time for windows)."""
    out = frame.copy()
    if pd.api.types.is_datetime64_any_dtype(out[column]):
        out[column] = out[column].dt.date.astype(str)
    return out


SHORT_METHODS = {"Wasserstein distance (normed)": "Wasserstein", "Jensen-Shannon distance": "Jensen-Shannon",
                 "K-S p_value": "K-S p", "chi-square p_value": "chi² p", "Z-test p_value": "Z-test p", "PSI": "PSI"}
DRIFTED, NOT_DRIFTED, NO_TEST = "drifted (past the threshold)", "no drift", "no test result"
OUTCOME_COLORS = {DRIFTED: STATUS_COLORS["red"], NOT_DRIFTED: "#9fb8d8", NO_TEST: STATUS_COLORS["grey"]}
SCORE_CAP = 3.0      # bars longer than 3× the threshold are drawn at 3 (the label gives the real number)
TEST_COLUMN_WIDTH = 250
_TINY_P = 1e-300     # p = 0 (a test underflow) counts as this small, so its bar is long, not undefined


def score_vs_threshold(features: pd.DataFrame) -> pd.Series:
    """Each feature's drift-test score on the threshold's scale: 1 = exactly at evidently's
    threshold, above 1 = past it (drifted), 0 = no difference at all; NaN without a test result.

    Distances (Wasserstein, Jensen-Shannon, PSI…) drift when ``statistic ≥ threshold``: the score
    is ``statistic ÷ threshold``. P-value tests (K-S, chi-square, Z-test) drift when
    ``p < threshold``: the score is ``log p ÷ log threshold`` (p = threshold gives 1, p = 1 gives 0,
    p a hundred times smaller than the threshold about 2.5 for a threshold of 0.05). So a bar is
    past 1 exactly when the test says drifted, whatever the test.

    Input: the ``features`` table of :class:`~sightline.drift.reference.DriftVsReference`
    (statistic, p_value, threshold). Output: a float Series on the same index.
    """
    stat = pd.to_numeric(features["statistic"], errors="coerce")
    p = pd.to_numeric(features["p_value"], errors="coerce")
    t = pd.to_numeric(features["threshold"], errors="coerce")
    is_p = stat.isna() & p.notna()
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.where(t > 0, stat / t, np.nan)
        p_score = np.where((t > 0) & (t < 1), np.log(p.clip(lower=_TINY_P)) / np.log(t), np.nan)
    return pd.Series(np.where(is_p, p_score, distance), index=features.index, dtype=float)


def _small(x: float) -> str:
    """Two significant digits without scientific notation ("<0.001" below a thousandth)."""
    return "<0.001" if 0 < abs(x) < 0.001 else f"{x:.2g}" if abs(x) < 1000 else f"{x:,.0f}"


def _test_text(method, score, threshold, drifted, is_p, vs_threshold) -> str:
    """"Wasserstein 2.7 ≥ 0.1 (27× the threshold)": evidently's own number against its threshold,
    the sign by the test's outcome; a distance's multiple only where its bar is capped."""
    if pd.isna(score) or pd.isna(threshold):
        return "no test result"
    sign = ("<" if is_p else "≥") if drifted else ("≥" if is_p else "<")
    value = "<0.001" if is_p and score < 0.001 else _small(score)  # a p-value of 0 is an underflow, not zero
    capped = f" ({vs_threshold:,.0f}× the threshold)" if not is_p and pd.notna(vs_threshold) and vs_threshold > SCORE_CAP else ""
    return f"{SHORT_METHODS.get(method, method)} {value} {sign} {_small(threshold)}{capped}"


def feature_drift_chart(features: pd.DataFrame) -> alt.HConcatChart | alt.Chart:
    """One bar per feature whose length and colour both tell evidently's drift test: the bar is
    the test's score divided by its threshold (:func:`score_vs_threshold`, dashed line at 1),
    red when the test says drifted (always past the line), blue-grey otherwise. Beside the bars,
    in a column of their own (never over the line), the test's own numbers and the feature's PSI.

    Input: :class:`~sightline.drift.reference.DriftVsReference` ``features`` (feature, method,
    statistic, p_value, threshold, drifted, psi, effect). Output: bars and the text column side by side.
    """
    if features.empty:  # an empty hconcat has no size: Vega cannot draw it
        return alt.Chart(pd.DataFrame({"text": ["No feature was compared with the reference."]}), width=WIDTH, height=40,
                         title="Which features drifted").mark_text(align="left", x=0, fontSize=12).encode(text="text:N")
    data = features.copy()
    data["vs_threshold"] = score_vs_threshold(data)
    data["outcome"] = np.where(data["vs_threshold"].isna(), NO_TEST, np.where(data["drifted"].astype(bool), DRIFTED, NOT_DRIFTED))
    data["bar"] = data["vs_threshold"].clip(upper=SCORE_CAP)
    is_p = data["statistic"].isna() & data["p_value"].notna()
    data["score"] = data["statistic"].where(~is_p, data["p_value"])
    data["test"] = [_test_text(m, v, t, d, p, r) + (f" · PSI {_small(psi)}" if pd.notna(psi) else "")
                    for m, v, t, d, p, r, psi in zip(data["method"], data["score"], data["threshold"], data["drifted"], is_p,
                                                     data["vs_threshold"], data["psi"])]
    top = float(min(SCORE_CAP, max(1.5, float(data["bar"].max()) * 1.05 if data["bar"].notna().any() else 1.5)))
    order = list(data.assign(_k=data["vs_threshold"].fillna(-1)).sort_values(["_k", "feature"], ascending=[False, True])["feature"])
    y = alt.Y("feature:N", sort=order, title=None)
    shown = set(data["outcome"])
    height = 22 * max(len(data), 1)
    tooltip = ["feature:N", "method:N", alt.Tooltip("score:Q", format=".3g", title="test statistic / p-value"),
               alt.Tooltip("threshold:Q", format=".3g"), alt.Tooltip("vs_threshold:Q", format=".2f", title="score ÷ threshold"),
               "outcome:N", alt.Tooltip("psi:Q", format=".3f", title="PSI (all rows)"), alt.Tooltip("effect:N", title="what moved")]
    bars = alt.Chart(data).mark_bar().encode(
        y=y, x=alt.X("bar:Q", title=f"test score ÷ its threshold (dashed line = 1; capped at {SCORE_CAP:g})",
                     scale=alt.Scale(domain=[0, top], nice=False)),
        color=alt.Color("outcome:N", title=None, scale=alt.Scale(domain=[o for o in OUTCOME_COLORS if o in shown],
                                                                  range=[c for o, c in OUTCOME_COLORS.items() if o in shown]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=tooltip)
    rule = alt.Chart(pd.DataFrame({"x": [1.0], "what": ["the test's drift threshold"]})).mark_rule(
        strokeDash=[4, 3], color="#333").encode(x="x:Q", tooltip=[alt.Tooltip("what:N", title="dashed line")])
    left = alt.layer(bars, rule, width=WIDTH - TEST_COLUMN_WIDTH - 90, height=height)
    right = alt.Chart(data, width=TEST_COLUMN_WIDTH, height=height, view=alt.ViewBackground(stroke=None),
                      title=alt.TitleParams("evidently's test · PSI", fontSize=11, anchor="start", fontWeight="normal")
                      ).mark_text(align="left", fontSize=10, color="#444").encode(
        y=alt.Y("feature:N", sort=order, axis=None), x=alt.value(0), text="test:N", tooltip=tooltip)
    subtitle = ["Bar length and colour both show evidently's drift test for the feature: a bar past the dashed line (red) drifted.",
                "Distance tests: statistic ÷ threshold; p-value tests: log p ÷ log threshold. PSI (all rows) is listed beside."]
    return alt.hconcat(left, right, spacing=8, autosize=PAD,
                       title=alt.TitleParams("Which features drifted: each feature's test score against its threshold",
                                             subtitle=subtitle, anchor="start")).resolve_scale(y="shared")


def psi_heatmap(psi: pd.DataFrame, window: str) -> alt.Chart:
    """Feature × window heatmap of PSI (capped at 0.5), drifted cells marked with a dot.

    Input: :class:`~sightline.drift.section.DriftOverTime` ``psi`` (window, feature, role, rows, psi,
    p_value, drifted). The prediction row (score) is drawn last, labelled as such.
    """
    data = _dates(psi)
    data["row"] = np.where(data["role"] == "prediction", "▶ " + data["feature"].astype(str) + " (model output)", data["feature"])
    order = list(dict.fromkeys(data.loc[data["role"] == "feature", "row"])) + list(dict.fromkeys(data.loc[data["role"] != "feature", "row"]))
    data["psi_shown"] = data["psi"].clip(upper=0.5)
    data["flag"] = np.where(data["drifted"], "●", "")
    base = alt.Chart(data)
    x = alt.X("window:O", title=f"{window} starting", axis=alt.Axis(labelAngle=-45, labelOverlap="parity"))
    y = alt.Y("row:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    rect = base.mark_rect().encode(
        x=x, y=y,
        color=alt.Color("psi_shown:Q", title="PSI", scale=alt.Scale(scheme="orangered", domain=[0, 0.5])),
        tooltip=["feature:N", alt.Tooltip("window:O", title=window), alt.Tooltip("psi:Q", format=".3f", title="PSI"),
                 alt.Tooltip("p_value:Q", format=".2g", title="chi-square p"), alt.Tooltip("rows:Q", format=","),
                 alt.Tooltip("drifted:N", title="flagged")],
    )
    dots = base.mark_text(color="white", fontSize=11).encode(x=x, y=y, text="flag:N")
    return alt.layer(rect, dots, title=f"PSI per feature and {window} (vs the reference)", width=WIDTH, height=20 * len(order),
                     autosize=PAD)


def distribution_chart(dist: pd.DataFrame, name: str, title: str | None = None) -> alt.Chart:
    """Reference and production shares per bin side by side (histogram or category bars).

    Input: :func:`sightline.drift.section.feature_distribution` output.
    """
    long = dist.melt(id_vars=["bin", "order", "reference_n", "current_n"], value_vars=["reference_share", "current_share"],
                     var_name="side", value_name="share")
    long["side"] = long["side"].map({"reference_share": "reference", "current_share": "production"})
    long["n"] = np.where(long["side"] == "reference", long["reference_n"], long["current_n"])
    sort = list(dist.sort_values("order")["bin"])
    return alt.Chart(long, title=title or f"Distribution of {name}: reference vs production", width=WIDTH, height=240,
                     autosize=PAD).mark_bar().encode(
        x=alt.X("bin:N", sort=sort, title=name, axis=alt.Axis(labelAngle=-40, labelLimit=140)),
        xOffset=alt.XOffset("side:N", sort=["reference", "production"]),
        y=alt.Y("share:Q", title="share of rows", axis=alt.Axis(format="%")),
        color=alt.Color("side:N", scale=SIDE_COLORS, title=None),
        tooltip=["bin:N", "side:N", alt.Tooltip("share:Q", format=".1%"), alt.Tooltip("n:Q", format=",", title="rows")],
    )


def performance_by_window_chart(windows: pd.DataFrame, window: str) -> alt.VConcatChart:
    """Accuracy and ROC AUC per window — realised (solid, labelled rows) and estimated from the
    scores (dashed, all rows; grey band: the 95% range of realised accuracy the estimate expects) —
    above the label coverage per window."""
    data = _dates(windows)
    long = []
    names = [metric_name("accuracy"), metric_name("roc_auc")]
    for metric, real, est in ((names[0], "accuracy", "est_accuracy"), (names[1], "roc_auc", "est_roc_auc")):
        for kind, col in (("realised", real), ("estimated", est)):
            long.append(pd.DataFrame({"window": data["window"], "series": f"{metric}, {kind}", "metric": metric,
                                      "kind": kind, "value": data[col]}))
    long = pd.concat(long, ignore_index=True).dropna(subset=["value"])
    series = [f"{name}, {kind}" for name in names for kind in ("realised", "estimated")]
    values = long["value"]
    lo = float(min(values.min(), data["est_accuracy_lower"].min())) if len(values) else 0.5
    scale = alt.Scale(domain=[max(0.0, np.floor(lo * 20) / 20 - 0.05), 1.0])
    x = alt.X("window:O", title=None, axis=alt.Axis(labels=False, ticks=False))  # the coverage panel below labels the windows
    band = alt.Chart(data).mark_area(opacity=0.18, color="#777").encode(
        x=x, y=alt.Y("est_accuracy_lower:Q", scale=scale, title="metric value"), y2="est_accuracy_upper:Q",
        tooltip=[alt.Tooltip("window:O", title=window), alt.Tooltip("est_accuracy_lower:Q", format=".1%", title="expected range from"),
                 alt.Tooltip("est_accuracy_upper:Q", format=".1%", title="to")])
    legend = alt.Legend(orient="top", title=None, symbolType="stroke", symbolStrokeWidth=2.5, columns=4)
    lines = alt.Chart(long).mark_line(point=True).encode(
        x=x, y=alt.Y("value:Q", scale=scale, title="metric value"),
        color=alt.Color("series:N", scale=alt.Scale(domain=series, range=[PRIMARY, PRIMARY, SECONDARY, SECONDARY]), legend=legend),
        strokeDash=alt.StrokeDash("series:N", scale=alt.Scale(domain=series, range=[[1, 0], [5, 4], [1, 0], [5, 4]]), legend=legend),
        tooltip=[alt.Tooltip("window:O", title=window), "metric:N", "kind:N", alt.Tooltip("value:Q", format=".3f")])
    top = alt.layer(band, lines, width=WIDTH, height=240)
    coverage = alt.Chart(data, width=WIDTH, height=70).mark_bar(color=PRIMARY, opacity=0.6).encode(
        x=alt.X("window:O", title=f"{window} starting", axis=alt.Axis(labelAngle=-45, labelOverlap="parity")),
        y=alt.Y("coverage:Q", title="labels", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("window:O", title=window), alt.Tooltip("coverage:Q", format=".0%", title="label coverage"),
                 alt.Tooltip("rows:Q", format=",")])
    return alt.vconcat(top, coverage, spacing=4, autosize=PAD,
                       title=f"Performance per {window}: realised where labels exist, estimated from the scores everywhere")


def label_rate_chart(windows: pd.DataFrame, window: str) -> alt.Chart:
    """Positive rate per window: observed (labelled rows), implied by the calibrated scores, and
    the reference's rate as a rule. Label shift moves the observed line; when the observed line
    departs from the implied one, the score→outcome relationship moved too."""
    data = _dates(windows)
    long = pd.concat([
        pd.DataFrame({"window": data["window"], "series": "observed (labels)", "rate": data["positive_rate"]}),
        pd.DataFrame({"window": data["window"], "series": "implied by the scores", "rate": data["expected_positive_rate"]}),
    ], ignore_index=True).dropna(subset=["rate"])
    x = alt.X("window:O", title=f"{window} starting", axis=alt.Axis(labelAngle=-45, labelOverlap="parity"))
    lines = alt.Chart(long).mark_line(point=True).encode(
        x=x, y=alt.Y("rate:Q", title="positive rate", axis=alt.Axis(format="%")),
        color=alt.Color("series:N", scale=alt.Scale(domain=["observed (labels)", "implied by the scores"], range=[SECONDARY, PRIMARY]), title=None),
        tooltip=[alt.Tooltip("window:O", title=window), "series:N", alt.Tooltip("rate:Q", format=".1%")])
    layers = [lines]
    if "reference_positive_rate" in data.columns:
        ref = pd.DataFrame({"rate": [float(data["reference_positive_rate"].iloc[0])], "what": ["reference positive rate"]})
        layers.append(alt.Chart(ref).mark_rule(strokeDash=[4, 3], color="#555").encode(y="rate:Q", tooltip=["what:N", alt.Tooltip("rate:Q", format=".1%")]))
    return alt.layer(*layers, title=f"Positive rate per {window}: label shift and what the scores expected", width=WIDTH, height=220,
                     autosize=PAD)


def score_outcome_chart(score_outcome: pd.DataFrame) -> alt.LayerChart:
    """Score bin × window heatmap of the observed positive rate minus the reference's in the same
    score bin (red: more positives than the same scores gave on the reference). Cells with fewer
    than :data:`MIN_CELL_ROWS` labelled rows are left blank (too noisy to read).

    Input: :class:`~sightline.drift.timeline.DriftOverTime` ``score_outcome`` (window, the
    reliability columns of :func:`sightline.stats.reliability.reliability_rows`, reference_rate,
    change_vs_reference).
    """
    data = score_outcome[(score_outcome["window"] != "reference") & (score_outcome["count"] >= MIN_CELL_ROWS)].copy()
    data["score bin"] = [f"{a:.1f}–{b:.1f}" for a, b in zip(data["bin_lower"], data["bin_upper"])]
    bins = [f"{a / 10:.1f}–{(a + 1) / 10:.1f}" for a in range(9, -1, -1)]
    x = alt.X("window:O", title="window starting", axis=alt.Axis(labelAngle=-45, labelOverlap="parity"))
    y = alt.Y("score bin:O", sort=bins, title="model score")
    rect = alt.Chart(data).mark_rect().encode(
        x=x, y=y,
        color=alt.Color("change_vs_reference:Q", title="vs reference", legend=alt.Legend(format="+.0%"),
                        scale=alt.Scale(scheme="redblue", reverse=True, domain=[-0.3, 0.3], clamp=True)),
        tooltip=["window:N", "score bin:N", alt.Tooltip("count:Q", format=",", title="labelled rows"),
                 alt.Tooltip("fraction_positive:Q", format=".1%", title="observed positive rate"),
                 alt.Tooltip("reference_rate:Q", format=".1%", title="same bin on the reference"),
                 alt.Tooltip("change_vs_reference:Q", format="+.1%", title="difference")])
    text = alt.Chart(data).mark_text(fontSize=9, color="#222").encode(
        x=x, y=y, text=alt.Text("change_vs_reference:Q", format="+.0%"))
    return alt.layer(rect, text, title="Score → outcome: positive rate per score bin, minus the reference's",
                     width=WIDTH, height=220, autosize=PAD)


def reliability_chart(reliability: pd.DataFrame, title: str = "Reference: score vs outcome rate") -> alt.Chart:
    """Reliability diagram of the reference: observed positive rate vs mean score per bin.

    Input: :func:`sightline.stats.reliability.reliability_table` rows."""
    diag = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color="#999").encode(x="x:Q", y="y:Q")
    pts = alt.Chart(reliability).mark_line(point=True, color=PRIMARY).encode(
        x=alt.X("mean_predicted:Q", title="mean score in the bin", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("fraction_positive:Q", title="observed positive rate", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("bin_lower:Q", format=".1f", title="bin from"), alt.Tooltip("bin_upper:Q", format=".1f", title="to"),
                 alt.Tooltip("mean_predicted:Q", format=".3f", title="mean score"),
                 alt.Tooltip("fraction_positive:Q", format=".3f", title="observed positive rate"),
                 alt.Tooltip("count:Q", format=",", title="rows")])
    return alt.layer(diag, pts, title=title, width=240, height=220, autosize=PAD)


def missing_heatmap(missing: pd.DataFrame, window: str) -> alt.Chart:
    """Missing-value share per feature and window (features that are never missing left out)."""
    data = _dates(missing)
    keep = data.groupby("feature")[["missing_rate", "reference_missing_rate"]].max().max(axis=1) > 0
    data = data[data["feature"].isin(keep[keep].index)]
    return alt.Chart(data, title=f"Missing values per feature and {window}", width=WIDTH, height=22 * max(1, data["feature"].nunique()),
                     autosize=PAD).mark_rect().encode(
        x=alt.X("window:O", title=f"{window} starting", axis=alt.Axis(labelAngle=-45, labelOverlap="parity")),
        y=alt.Y("feature:N", title=None),
        color=alt.Color("missing_rate:Q", title="missing", scale=alt.Scale(scheme="purples", domain=[0, max(0.05, float(data["missing_rate"].max() or 0))]),
                        legend=alt.Legend(format="%")),
        tooltip=["feature:N", alt.Tooltip("window:O", title=window), alt.Tooltip("missing_rate:Q", format=".1%", title="missing"),
                 alt.Tooltip("reference_missing_rate:Q", format=".1%", title="missing in reference")])
