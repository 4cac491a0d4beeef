"""Streamlit pieces of the Slices page: controls, slice tables, worst-slice list, Simpson panel."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from components import chart_view
from sightline.charts.slices import simpson_chart, slice_labels, slice_metric_chart
from sightline.core.numbers import RATE, format_value
from sightline.core.vocabulary import METRICS
from sightline.slices import DEFAULT_N_BINS, TASK_METRICS

COLUMNS_KEY = "slices.columns"      # the columns to slice by
COMBINE_KEY = "slices.combine"      # each column alone, or their intersections
METRIC_KEY = "slices.metric"
MIN_SIZE_KEY = "slices.min_size"
BINS_KEY = "slices.n_bins"
SORT_KEY = "slices.sort"
SIMPSON_COLUMN_KEY = "slices.simpson_column"

SORTS = ("worst first", "largest impact first", "slice order")
ALONE, TOGETHER = "each column on its own", "intersections of the chosen columns"
HELP = {
    "n": "Labelled predictions in the slice.",
    "share": "The slice's share of all labelled predictions.",
    "lower": "Lower end of the 95% confidence interval: with this many rows, the true value is very likely above it.",
    "upper": "Upper end of the 95% confidence interval.",
    "gap": "Slice value minus the overall value (in percentage points for rates).",
    "impact": "How much the overall value would change if this slice performed like the rest of the data: "
              "overall − value on all other rows. Large negative impact on accuracy = this slice drags the total down.",
    "note": "Slices smaller than the minimum size are greyed out: too few rows to trust, and left out of verdicts and exports.",
}


@dataclass(frozen=True)
class SliceSettings:
    columns: tuple[str, ...]
    combine: bool
    metric: str
    min_size: int
    n_bins: int
    sort: str


def slice_controls(columns: list[str], defaults: list[str], task: str, has_auc: bool, min_size: int, n_bins: int) -> SliceSettings:
    """The column, metric, size, bin and sort pickers; returns the chosen settings."""
    metrics = [m for m in TASK_METRICS[task] if m != "roc_auc" or has_auc]
    left, right = st.columns([3, 2])
    chosen = left.multiselect("Slice by", columns, default=[c for c in defaults if c in columns], key=COLUMNS_KEY,
                              help="Categorical columns are used as they are; numeric columns are cut into quantile bins.")
    mode = right.radio("Show", (ALONE, TOGETHER), key=COMBINE_KEY, horizontal=False,
                       help="Intersections combine two or three columns, e.g. sex = Female and race = Black.")
    c1, c2, c3, c4 = st.columns(4)
    metric = c1.selectbox("Metric", metrics, format_func=lambda m: METRICS[m].label, key=METRIC_KEY,
                          help=" ".join(f"{METRICS[m].label}: {METRICS[m].help}" for m in metrics))
    size = c2.number_input("Minimum slice size", min_value=1, value=int(min_size), step=10, key=MIN_SIZE_KEY,
                           help=HELP["note"] + " The audit's default is slices.min_size (else fairness.min_group_size).")
    bins = c3.slider("Bins for numeric columns", 2, 10, int(n_bins or DEFAULT_N_BINS), key=BINS_KEY,
                     help="Numeric columns are cut at their quantiles into this many bins of about equal size.")
    sort = c4.selectbox("Order", SORTS, key=SORT_KEY, help="Worst first puts the slices with the worst metric on top.")
    return SliceSettings(tuple(chosen), mode == TOGETHER, metric, int(size), int(bins), sort)


def sort_table(table: pd.DataFrame, metric: str, sort: str) -> pd.DataFrame:
    """Rows in the chosen order; too-small slices always last (except in slice order)."""
    if sort == "slice order":
        return table
    better = METRICS[metric].higher_is_better
    if sort == "largest impact first":
        key = table[f"{metric}_impact"].abs()
        ascending = False
    else:
        key = table[metric]
        ascending = bool(better)  # higher is better: lowest first; otherwise highest first
    order = pd.DataFrame({"small": table["too_small"], "key": key}).sort_values(["small", "key"], ascending=[True, ascending],
                                                                                na_position="last")
    return table.loc[order.index]


def _styled(table: pd.DataFrame, metric: str, min_size: int):
    """The display table of one metric, small slices greyed (pandas Styler)."""
    pct = METRICS[metric].percent and metric != "roc_auc"
    cols = {"description": "slice", "n": "n", "share": "share", metric: METRICS[metric].label,
            f"{metric}_lower": "CI lower", f"{metric}_upper": "CI upper", f"{metric}_gap": "gap to overall",
            f"{metric}_impact": "impact on overall"}
    view = table[list(cols)].rename(columns=cols)
    names = str(table["columns"].iloc[0]) if len(table) and table["columns"].nunique() == 1 else ""
    view["slice"] = slice_labels(table)  # values only when every row slices the same columns
    if names and " & " in names:
        view = view.rename(columns={"slice": "slice (" + " · ".join(names.split(" & ")) + ")"})
    view["note"] = table["too_small"].map({True: f"too small (< {min_size})", False: ""})
    fmt_value = "{:.1%}" if pct else "{:.3f}"
    fmt_delta = (lambda v: f"{v * 100:+.1f} pp") if pct else (lambda v: f"{v:+.3f}")
    small = table["too_small"].to_numpy()
    styler = view.style.format({"n": "{:,}", "share": "{:.1%}", METRICS[metric].label: fmt_value, "CI lower": fmt_value,
                                "CI upper": fmt_value, "gap to overall": fmt_delta, "impact on overall": fmt_delta}, na_rep="–")
    return styler.apply(lambda row: ["color: #9e9e9e; font-style: italic" if small[row.name] else "" for _ in row], axis=1)


def render_slice_view(table: pd.DataFrame, metric: str, overall: float, *, min_size: int, title: str, max_rows: int = 1000) -> None:
    """Bar chart of one metric per slice (with CI and the overall line) and its table."""
    shown = table.reset_index(drop=True)
    chart_view.show(st, slice_metric_chart(shown, metric, overall, title=title), width="stretch")
    if len(shown) > 40:
        st.caption(f"The chart shows the first 40 slices large enough to judge, of {len(shown):,}, in the chosen order; "
                   "the table has them all.")
    with st.expander(f"Table: {METRICS[metric].label.lower()} per slice with 95% CI, gap and impact", expanded=False):
        if len(shown) > max_rows:
            st.caption(f"Showing the first {max_rows:,} of {len(shown):,} slices in the chosen order.")
            shown = shown.head(max_rows)
        st.dataframe(_styled(shown, metric, min_size), hide_index=True, width="stretch",
                     column_config={"n": st.column_config.Column(help=HELP["n"]),
                                    "share": st.column_config.Column(help=HELP["share"]),
                                    "CI lower": st.column_config.Column(help=HELP["lower"]),
                                    "CI upper": st.column_config.Column(help=HELP["upper"]),
                                    "gap to overall": st.column_config.Column(help=HELP["gap"]),
                                    "impact on overall": st.column_config.Column(help=HELP["impact"]),
                                    "note": st.column_config.Column(help=HELP["note"])})
        st.caption("Grey rows are below the minimum size. All metrics for these slices: download below.")
        st.download_button("Download every metric for these slices (CSV)", table.to_csv(index=False).encode(),
                           file_name="slices.csv", mime="text/csv", key=f"download_{title}")


def _p_text(p: float) -> str:
    """An adjusted p-value as people read it: "<0.001" rather than 1.4e-49."""
    return format_value(p) if not p < 0.001 else "<0.001"


def render_worst_slices(discovered: dict, chart, provenance: dict, task: str, top: int = 5) -> None:
    """The plain-language list of the worst slices found, their chart and table, and the method."""
    slices = pd.DataFrame(discovered["slices"])
    if slices.empty:
        st.success(f"No slice is significantly worse than the rest: {discovered['slices_examined']:,} slices checked.")
    else:
        total = ("at least " if discovered.get("truncated") else "") + f"{len(slices):,}"
        st.markdown(f"**{total} distinct slices** are significantly worse than the rest of the data. The {min(top, len(slices))} "
                    "top-ranked (large *and* much worse ranks highest):")
        for sentence in slices["sentence"].head(top):
            st.markdown(f"- {sentence}")
        if chart is not None:
            chart_view.show(st, chart, width="stretch")
        what = "mean absolute error" if task == "regression" else "error rate"
        with st.expander(f"Table: the {len(slices)} listed slices"):
            fmt = (lambda v: format_value(v)) if task == "regression" else "{:.1%}"
            view = slices[["description", "n", "error_rate", "rest_error_rate", "lift", "score", "p_adjusted"]]
            st.dataframe(view.style.format({"n": "{:,}", "error_rate": fmt, "rest_error_rate": fmt, "lift": "{:.2f}×",
                                            "score": "{:.3f}", "p_adjusted": _p_text}),
                         hide_index=True, width="stretch",
                         column_config={"description": "slice",
                                        "error_rate": st.column_config.Column(what, help=f"The {what} inside the slice."),
                                        "rest_error_rate": st.column_config.Column("rest", help=f"The {what} on all other rows."),
                                        "lift": st.column_config.Column("× overall", help="Slice error divided by the overall error."),
                                        "score": st.column_config.Column(
                                            "score", help="SliceLine score: rewards error lift, penalises small size. Used for ranking."),
                                        "p_adjusted": st.column_config.Column(
                                            "p (adjusted)", help="Chance of a difference this large if the slice were no worse than the rest, "
                                                                 "corrected for the number of slices checked.")})
    d = provenance.get("discovery", {})
    with st.expander("How the search works"):
        st.markdown(
            f"Every slice of up to {d.get('max_order')} columns combined (numeric columns in quantile bins) with at least "
            f"{d.get('min_size')} rows was checked — **{d.get('slices_examined', 0):,} slices** on "
            f"{d.get('search_rows', 0):,} rows" + (" (a random sample; found slices were re-counted on all rows)" if d.get("sampled") else "")
            + f". Method: {d.get('method')}. A slice is listed when it is significantly worse than the rest "
            f"(false discovery rate {d.get('fdr')}) **and** its error is at least {d.get('min_lift')}× the overall error. "
            f"Overlapping slices share their significance, so of {d.get('significant', 0):,} such slices, "
            f"{d.get('redundant_removed', 0):,} were dropped as redundant children (not clearly worse than their parent slice) and "
            f"{d.get('covered_removed', 0):,} because they were no longer worse once the rows of better-ranked listed slices were "
            f"set aside (e.g. a parent that only looks bad because of a listed child); at most {d.get('max_results')} are listed.")


def render_simpson(simpson: dict, prefer: tuple[str, ...] = ()) -> None:
    """The two-version comparison: verdict sentence, overall numbers, per-column wins, per-slice chart.
    ``prefer``: columns to show first when no column shows the paradox (e.g. the sensitive ones)."""
    if simpson["status"] == "unavailable":
        st.info(simpson["message"])
        st.caption("This check needs a log with two model versions (e.g. a shadow or canary deployment), ideally scored on "
                   "the same requests and linked by a request id (columns.id).")
        return
    (st.warning if simpson["status"] == "paradox" else st.success)(simpson["message"])
    a, b, metric = simpson["version_a"], simpson["version_b"], simpson["metric"]
    fmt = (lambda v: format_value(v)) if metric == "mean_absolute_error" else (lambda v: format_value(v, RATE))
    label = METRICS.get(metric, METRICS["accuracy"]).label
    c = st.columns(3)
    c[0].metric(f"{label}: {a}", fmt(simpson["overall"][a]["value"]), help=f"{simpson['overall'][a]['n']:,} labelled rows.")
    c[1].metric(f"{label}: {b}", fmt(simpson["overall"][b]["value"]), help=f"{simpson['overall'][b]['n']:,} labelled rows.")
    p = simpson.get("p_value")
    c[2].metric("p-value of the overall difference", "–" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}"),
                help="McNemar's exact test on the shared requests (paired)" if simpson["paired"] else "Two-sample test (unpaired)")
    st.caption(f"Compared on {simpson['settings'].get('compared_on', 'labelled rows')}. A slice counts when both versions have at "
               f"least {simpson['settings'].get('large_slice_rows')} rows in it (the minimum size, and 5% of the rows).")
    columns = pd.DataFrame(simpson["columns"])
    slices = pd.DataFrame(simpson["slices"])
    if columns.empty:
        return
    options = columns["column"].tolist()
    default = next(iter(simpson["paradox_columns"] + [c for c in prefer if c in options] + options))
    column = st.selectbox("Compare the versions by", options, index=options.index(default), key=SIMPSON_COLUMN_KEY)
    chart_view.show(st, simpson_chart(slices, a, b, simpson["overall"], metric=metric, column=column), width="stretch")
    st.caption("Each row is a large slice; the dots are the two versions. If the dots swap sides between OVERALL and most "
               "slices, the overall winner loses where it matters — Simpson's paradox.")
    with st.expander("Table: wins per column and per slice"):
        st.dataframe(columns.rename(columns={"wins_a": f"{a} wins", "wins_b": f"{b} wins"}), hide_index=True, width="stretch")
        st.dataframe(slices[slices["column"] == column].rename(columns={"metric_a": a, "metric_b": b, "n_a": f"n {a}", "n_b": f"n {b}"}),
                     hide_index=True, width="stretch")
