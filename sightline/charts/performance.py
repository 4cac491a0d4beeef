"""Charts of the Performance page and the model card's performance section.

Pure builders: the results of :mod:`sightline.performance.section` in, an Altair chart out. Each chart's
data is exactly the DataFrame it was given (plus, for reference lines, a tiny frame of its own).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from sightline.charts import PRIMARY, SECONDARY, STATUS_COLORS, WIDTH
from sightline.core.vocabulary import METRIC_LABELS, metric_name

GREY = STATUS_COLORS["grey"]
SQUARE = 260  # side of square plots (ROC, PR), pixels: two fit side by side


def padded(chart):
    """``chart`` sized as its spec says (Vega-Lite's default "pad" autosize), stated explicitly:
    Streamlit otherwise imposes "fit", squeezing axes, legend and title into the given width and
    height, and the page would not look like the model card's PNG of the same chart."""
    return chart.properties(autosize=alt.AutoSizeParams(type="pad", contains="padding"))


def roc_chart(roc: pd.DataFrame, *, auc: float, operating_point=None) -> alt.LayerChart:
    """ROC curve with the diagonal of random guessing and, optionally, the operating point.

    Inputs: :func:`sightline.performance.section.roc_curve_points` output; the ROC AUC for the title; a row
    of :func:`sightline.performance.section.threshold_curve` (``false_positive_rate``, ``recall``,
    ``threshold``) marking where the model's threshold sits.
    """
    diagonal = pd.DataFrame({"false_positive_rate": [0.0, 1.0], "true_positive_rate": [0.0, 1.0]})
    axis_x = alt.X("false_positive_rate:Q", title="false positive rate (share of negatives flagged)",
                   scale=alt.Scale(domain=[0, 1]))
    axis_y = alt.Y("true_positive_rate:Q", title="true positive rate (recall)", scale=alt.Scale(domain=[0, 1]))
    curve = alt.Chart(roc).mark_line(color=PRIMARY, interpolate="step-after").encode(
        x=axis_x, y=axis_y,
        tooltip=[alt.Tooltip("threshold:Q", format=".3f"), alt.Tooltip("false_positive_rate:Q", format=".3f"),
                 alt.Tooltip("true_positive_rate:Q", format=".3f")])
    guess = alt.Chart(diagonal).mark_line(color=GREY, strokeDash=[4, 4]).encode(x="false_positive_rate:Q", y="true_positive_rate:Q")
    layers = [guess, curve]
    if operating_point is not None:
        op = pd.DataFrame({"false_positive_rate": [float(operating_point["false_positive_rate"])],
                           "true_positive_rate": [float(operating_point["recall"])],
                           "threshold": [float(operating_point["threshold"])]})
        layers.append(alt.Chart(op).mark_point(color=SECONDARY, size=90, filled=True).encode(
            x="false_positive_rate:Q", y="true_positive_rate:Q",
            tooltip=[alt.Tooltip("threshold:Q", title="threshold in use", format=".2f"),
                     alt.Tooltip("false_positive_rate:Q", format=".3f"), alt.Tooltip("true_positive_rate:Q", format=".3f")]))
    return padded(alt.layer(*layers).properties(title=f"ROC curve (AUC {auc:.3f})", width=SQUARE, height=SQUARE))


def pr_chart(pr: pd.DataFrame, *, average_precision: float, prevalence: float, operating_point=None) -> alt.LayerChart:
    """Precision-recall curve with the guessing level (the positive share) and the operating point.

    Inputs: :func:`sightline.performance.section.pr_curve_points` output, average precision for the title,
    the positive share, optionally a threshold-curve row (``recall``, ``precision``, ``threshold``).
    """
    curve = alt.Chart(pr).mark_line(color=PRIMARY).encode(
        x=alt.X("recall:Q", title="recall (share of positives found)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("precision:Q", title="precision (share of flagged that are positive)", scale=alt.Scale(domain=[0, 1])),
        order="recall:Q",
        tooltip=[alt.Tooltip("threshold:Q", format=".3f"), alt.Tooltip("recall:Q", format=".3f"),
                 alt.Tooltip("precision:Q", format=".3f")])
    base = alt.Chart(pd.DataFrame({"precision": [prevalence]})).mark_rule(color=GREY, strokeDash=[4, 4]).encode(y="precision:Q")
    layers = [base, curve]
    if operating_point is not None:
        op = pd.DataFrame({"recall": [float(operating_point["recall"])],
                           "precision": [float(operating_point["precision"])],
                           "threshold": [float(operating_point["threshold"])]})
        layers.append(alt.Chart(op).mark_point(color=SECONDARY, size=90, filled=True).encode(
            x="recall:Q", y="precision:Q",
            tooltip=[alt.Tooltip("threshold:Q", title="threshold in use", format=".2f"),
                     alt.Tooltip("recall:Q", format=".3f"), alt.Tooltip("precision:Q", format=".3f")]))
    return padded(alt.layer(*layers).properties(title=f"Precision-recall (AP {average_precision:.3f})", width=SQUARE, height=SQUARE))


def confusion_chart(long: pd.DataFrame, *, title: str = "Confusion matrix") -> alt.LayerChart:
    """Confusion matrix heat map: count and share of the actual class written in each cell,
    colour = that share (no legend: the numbers are in the cells).

    Input: :func:`sightline.performance.section.confusion_long` output (actual, predicted, count,
    share_of_actual, correct).
    """
    k = long["actual"].nunique()
    side = max(200, min(60 * k, 520))
    order = list(dict.fromkeys(long["actual"]))
    base = alt.Chart(long).encode(
        x=alt.X("predicted:N", title="predicted", sort=order, axis=alt.Axis(labelAngle=0 if k <= 4 else -40)),
        y=alt.Y("actual:N", title="actual", sort=order))
    cells = base.mark_rect().encode(
        color=alt.Color("share_of_actual:Q", legend=None, scale=alt.Scale(scheme="blues", domain=[0, 1])),
        tooltip=["actual:N", "predicted:N", alt.Tooltip("count:Q", format=","),
                 alt.Tooltip("share_of_actual:Q", title="share of actual class", format=".1%")])
    # typed, not the dict alt.condition returns: Altair resolves a dict against every colour
    # schema on encode (~0.1 s CPU a chart in a fresh process) for the same spec
    ink = alt.ColorValue(**alt.condition("datum.share_of_actual > 0.5", alt.value("white"), alt.value("black")))
    text = base.mark_text(fontSize=14 if k <= 4 else 10, dy=-7 if k <= 4 else 0).encode(text=alt.Text("count:Q", format=","), color=ink)
    layers = [cells, text]
    if k <= 4:  # room for the share under the count
        layers.append(base.mark_text(fontSize=11, dy=9).encode(text=alt.Text("share_of_actual:Q", format=".0%"), color=ink))
    return padded(alt.layer(*layers).properties(title=title, width=side, height=side))


def threshold_chart(curve: pd.DataFrame, threshold: float) -> alt.LayerChart:
    """Precision, recall and selection rate against the threshold, the chosen one marked.

    Input: :func:`sightline.performance.section.threshold_curve` output, the threshold to mark.
    """
    long = curve.melt(id_vars=["threshold"], value_vars=["precision", "recall", "selection_rate"],
                      var_name="measure", value_name="value")
    long["measure"] = long["measure"].map(metric_name)
    lines = alt.Chart(long).mark_line().encode(
        x=alt.X("threshold:Q", title="threshold (score ≥ threshold → flagged positive)", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("value:Q", title="rate", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="top"), scale=alt.Scale(
            domain=[metric_name(m) for m in ("precision", "recall", "selection_rate")], range=[PRIMARY, SECONDARY, "#6a9f58"])),
        tooltip=[alt.Tooltip("threshold:Q", format=".2f"), "measure:N", alt.Tooltip("value:Q", format=".3f")])
    rule = alt.Chart(pd.DataFrame({"threshold": [float(threshold)]})).mark_rule(color="black", strokeDash=[3, 3]).encode(
        x="threshold:Q", tooltip=[alt.Tooltip("threshold:Q", title="chosen threshold", format=".2f")])
    return padded(alt.layer(lines, rule).properties(title=f"Precision, recall and selection rate by threshold (chosen: {threshold:.2f})",
                                             width=WIDTH - 60, height=240))


def baseline_chart(metrics: pd.DataFrame, baselines: pd.DataFrame, *, names=None) -> alt.LayerChart:
    """The model's metrics (with 95% intervals) next to the naive baselines', one row per metric.

    Inputs: the metrics table (value/lower/upper indexed by metric) and the baselines table
    (metric × baseline) of :mod:`sightline.performance.section`; ``names``: metrics to show (default: those
    in both tables where higher is better and values lie in [0, 1]).
    """
    names = names or [m for m in metrics.index if m in baselines.index and m not in ("log_loss", "brier_score")]
    label = {"majority_class": "majority class", "class_prior_random": "random (class shares)"}
    rows = [{"metric": METRIC_LABELS.get(m, m), "source": "model", "value": metrics.loc[m, "value"],
             "lower": metrics.loc[m, "lower"], "upper": metrics.loc[m, "upper"]} for m in names]
    rows += [{"metric": METRIC_LABELS.get(m, m), "source": label.get(b, b), "value": baselines.loc[m, b],
              "lower": np.nan, "upper": np.nan} for m in names for b in baselines.columns]
    data = pd.DataFrame(rows)
    data = data[np.isfinite(data["value"].astype(float))]
    sources = ["model"] + [label.get(b, b) for b in baselines.columns]
    y = alt.Y("metric:N", title=None, sort=[METRIC_LABELS.get(m, m) for m in names])
    color = alt.Color("source:N", title=None, scale=alt.Scale(domain=sources, range=[PRIMARY, GREY, "#b0b0b0", SECONDARY][:len(sources)]))
    points = alt.Chart(data).mark_point(filled=True, size=90).encode(
        x=alt.X("value:Q", title="value (higher is better)", scale=alt.Scale(domain=[0, 1])), y=y, color=color,
        shape=alt.Shape("source:N", title=None, scale=alt.Scale(domain=sources, range=["circle", "square", "triangle", "diamond"][:len(sources)])),
        tooltip=["metric:N", "source:N", alt.Tooltip("value:Q", format=".3f"),
                 alt.Tooltip("lower:Q", title="95% CI lower", format=".3f"), alt.Tooltip("upper:Q", title="95% CI upper", format=".3f")])
    bars = alt.Chart(data[data["source"] == "model"]).mark_rule(color=PRIMARY, strokeWidth=2).encode(x="lower:Q", x2="upper:Q", y=y)
    return padded(alt.layer(bars, points).properties(title="The model against naive baselines", width=WIDTH - 200,
                                              height=28 * len(names) + 20))


def per_class_chart(per_class: pd.DataFrame) -> alt.Chart:
    """Precision, recall and F1 of each class as dots (support in the tooltip).

    Input: the per-class table of :func:`sightline.performance.section.multiclass_metrics` (indexed by class).
    """
    data = per_class.reset_index().rename(columns={per_class.index.name or "index": "class"})
    long = data.melt(id_vars=["class", "support"], value_vars=["precision", "recall", "f1"], var_name="measure", value_name="value")
    return padded(alt.Chart(long).mark_point(filled=True, size=80).encode(
        x=alt.X("value:Q", scale=alt.Scale(domain=[0, 1]), title="value"),
        y=alt.Y("class:N", title="class", sort=list(data["class"])),
        color=alt.Color("measure:N", title=None),
        tooltip=["class:N", "measure:N", alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("support:Q", format=",")],
    ).properties(title="Precision, recall and F1 per class", width=WIDTH - 160, height=max(120, 24 * len(data))))


def error_by_bin_chart(bins: pd.DataFrame) -> alt.LayerChart:
    """Mean absolute error per prediction bin (bars) and mean error, i.e. bias (ticks).

    Input: :func:`sightline.performance.section.error_by_bin` output.
    """
    x = alt.X("bin:N", title="predicted value (quantile bins, lowest first)", sort=list(bins["bin"]),
              axis=alt.Axis(labelAngle=-30))
    tooltip = ["bin:N", alt.Tooltip("n:Q", format=","), alt.Tooltip("mean_predicted:Q", format=".4g"),
               alt.Tooltip("mean_actual:Q", format=".4g"), alt.Tooltip("mean_absolute_error:Q", title="MAE", format=".4g"),
               alt.Tooltip("mean_error:Q", title="mean error (bias)", format=".4g")]
    bars = alt.Chart(bins).mark_bar(color=PRIMARY).encode(x=x, y=alt.Y("mean_absolute_error:Q", title="error"), tooltip=tooltip)
    ticks = alt.Chart(bins).mark_tick(color=SECONDARY, thickness=3, size=30).encode(x=x, y="mean_error:Q", tooltip=tooltip)
    return padded(alt.layer(bars, ticks).properties(title="Where the error lives: MAE (bars) and bias (orange ticks) per prediction range",
                                             width=WIDTH - 60, height=240))


def residual_chart(sample: pd.DataFrame) -> alt.LayerChart:
    """Errors (predicted − actual) against the prediction, with the zero line.

    Input: :func:`sightline.performance.section.residual_sample` output (at most a few thousand points;
    ``attrs["rows"]``, when set, is the number of rows it was drawn from).
    """
    rows = int(sample.attrs.get("rows", len(sample)))
    points = alt.Chart(sample).mark_circle(size=12, opacity=0.35, color=PRIMARY).encode(
        x=alt.X("predicted:Q", title="predicted value"), y=alt.Y("error:Q", title="error (predicted − actual)"),
        tooltip=[alt.Tooltip("predicted:Q", format=".4g"), alt.Tooltip("actual:Q", format=".4g"), alt.Tooltip("error:Q", format=".4g")])
    zero = alt.Chart(pd.DataFrame({"error": [0.0]})).mark_rule(color="black").encode(y="error:Q")
    title = f"Errors of {rows:,} predictions" if rows == len(sample) else f"Errors of {len(sample):,} random predictions (of {rows:,})"
    return padded(alt.layer(points, zero).properties(title=title, width=WIDTH - 60, height=260))
