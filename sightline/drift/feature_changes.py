"""Feature changes: a column whose unit, type or content changed, a category or class never seen.

These are not gradual drift but pipeline events (Huyen, ch. 8): a unit logged in months instead
of years, numbers arriving as text, a column gone constant or empty, a new category, a new
class. Each is found per time window against the reference and reported once per run of
consecutive windows, with a sentence that names the feature, the change and when it happened.

Scale (unit) check: for a numeric feature, the window's quantiles (10th, 25th, 50th, 75th,
90th) are divided by the reference's (where the reference's is not 0). A unit change multiplies
every quantile by the same factor, so the ratios agree; a shift of the population does not.
When they agree (max/min ≤ :data:`RATIO_AGREEMENT`) and their median is ≥ :data:`MIN_SCALE_JUMP`
(or ≤ its inverse), the window's scale jumped; a factor within 10% of a common unit factor
(×12 months/years, ×60, ×100, ×1000 …) is named.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from sightline.drift.windows import CATEGORICAL, NUMERIC, as_categories, as_numbers, category_labels, runs, window_span

log = logging.getLogger(__name__)

QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
RATIO_AGREEMENT = 1.25       # max/min of the quantile ratios for a "same factor" scale change
MIN_SCALE_JUMP = 3.0         # smaller factors are left to the drift tests
FACTOR_TOLERANCE = 0.10      # a measured factor within 10% of a known one is named
MIN_WINDOW_ROWS = 20         # windows with fewer rows are not judged
MISSING_JUMP = 0.20          # missing share 20 points above the reference's is reported
# Common unit factors and how they read. The inverse of each is recognised as well.
UNIT_FACTORS = {
    12: ("months instead of years", "years instead of months"),
    7: ("days instead of weeks", "weeks instead of days"),
    24: ("hours instead of days", "days instead of hours"),
    52: ("weeks instead of years", "years instead of weeks"),
    60: ("minutes instead of hours (or seconds instead of minutes)", "hours instead of minutes (or minutes instead of seconds)"),
    100: ("percent or cents (×100)", "fractions instead of percent (÷100)"),
    1000: ("thousandths (e.g. milliseconds instead of seconds, grams instead of kilograms)",
           "thousands (e.g. seconds instead of milliseconds, kilograms instead of grams)"),
    3600: ("seconds instead of hours", "hours instead of seconds"),
    1_000_000: ("millionths (e.g. microseconds instead of seconds)", "millions instead of units"),
}
CHANGE_KINDS = ("unit_change", "scale_change", "type_change", "constant", "empty", "missing_jump")


def _fmt(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.3g}"


def name_factor(factor: float) -> tuple[float, str] | None:
    """The common unit factor ``factor`` is close to, and how it reads; None if none is."""
    for base, (up, down) in UNIT_FACTORS.items():
        if abs(factor / base - 1) <= FACTOR_TOLERANCE:
            return float(base), up
        if abs(factor * base - 1) <= FACTOR_TOLERANCE:
            return 1.0 / base, down
    return None


def scale_ratio(reference_quantiles: np.ndarray, current_quantiles: np.ndarray) -> float:
    """The common factor between two sets of quantiles, or NaN when they do not share one.

    Uses quantiles whose reference value is non-zero and whose current value has the same sign;
    needs at least two of them, agreeing within :data:`RATIO_AGREEMENT`.
    """
    ref = np.asarray(reference_quantiles, dtype=float)
    cur = np.asarray(current_quantiles, dtype=float)
    ok = (ref != 0) & np.isfinite(ref) & np.isfinite(cur) & (np.sign(ref) == np.sign(cur))
    if ok.sum() < 2:
        return float("nan")
    ratios = cur[ok] / ref[ok]
    if ratios.max() / ratios.min() > RATIO_AGREEMENT:
        return float("nan")
    return float(np.median(ratios))


def _window_reduce(ufunc, values: np.ndarray, order: np.ndarray | None, bounds: np.ndarray, empty) -> np.ndarray:
    """``ufunc`` (np.minimum / np.maximum) over each window's rows; ``empty`` for windows without rows.

    ``order`` sorts the rows by window (None: they already are, as a log in time order is)."""
    n_w = len(bounds) - 1
    out = np.full(n_w, empty, dtype=values.dtype if np.issubdtype(values.dtype, np.number) else float)
    sorted_values = values if order is None else values[order]
    has = bounds[1:] > bounds[:-1]
    if has.any():
        out[has] = ufunc.reduceat(sorted_values, bounds[:-1][has])
    return out


def _is_sorted(values: np.ndarray) -> bool:
    return len(values) < 2 or not bool((values[1:] < values[:-1]).any())


def _windowed_quantiles(x: np.ndarray, windows: np.ndarray, n_windows: int, *,
                        windows_sorted: bool | None = None) -> np.ndarray:
    """Quantiles (:data:`QUANTILES`) of ``x`` per window: shape (n_windows, len(QUANTILES)); NaN when empty.

    The numbers of ``Series.groupby(windows).quantile(QUANTILES)`` (pandas' linear interpolation:
    with h = q·(n − 1), i = ⌊h⌋, value = v[i] + (v[i+1] − v[i])·(h − i) over the sorted window),
    to the last bit. Each window's values are sorted with ``np.sort`` (numpy's vectorised sort of
    floats beats ``np.partition`` at the ten ranks five quantiles need, and pandas' groupby).
    ``windows_sorted``: whether ``windows`` is non-decreasing, if the caller knows (a log in time
    order): each window is then a slice of ``x``, its NaN dropped there, with no copy of all rows.
    """
    out = np.full((n_windows, len(QUANTILES)), np.nan)
    if windows_sorted is None:
        windows_sorted = _is_sorted(windows)
    if windows_sorted:
        bounds, v = np.searchsorted(windows, np.arange(n_windows + 1)), x
    else:
        keep = (windows >= 0) & ~np.isnan(x)
        w, v = windows[keep], x[keep]
        order = np.argsort(w, kind="stable")
        w, v = w[order], v[order]
        bounds = np.searchsorted(w, np.arange(n_windows + 1))
    qs = np.asarray(QUANTILES, dtype=float)
    for k in range(n_windows):
        values = v[bounds[k]:bounds[k + 1]]
        if windows_sorted:
            values = values[~np.isnan(values)]
        if not len(values):
            continue
        h = qs * (len(values) - 1)
        i = h.astype(np.int64)
        frac = h % 1
        j = np.minimum(i + 1, len(values) - 1)
        ranked = np.sort(values)
        lo, hi = ranked[i], ranked[j]
        out[k] = np.where(frac == 0, lo, lo + (hi - lo) * frac)
    return out


def _finding(feature, change, first, last, n, starts, window, rows, message, **extra) -> dict:
    return {"feature": feature, "change": change,
            "from": starts[first].date().isoformat(), "to": starts[last].date().isoformat(),
            "windows": int(n), "rows": int(rows), "message": message, **extra}


def detect_feature_changes(reference: pd.DataFrame, current: pd.DataFrame, features, kinds: dict,
                           windows: np.ndarray, starts: pd.DatetimeIndex, window: str) -> pd.DataFrame:
    """Unit/scale changes, type changes, columns gone constant or empty, jumps in missing values.

    Inputs: reference and current frames, the features and their kinds (numeric/categorical),
    each current row's window index (-1 none) and the window starts, the window name.
    Output: one row per finding and run of consecutive windows: ``feature``, ``change`` (one of
    :data:`CHANGE_KINDS`), ``from``/``to`` (window starts), ``windows``, ``rows``, ``message``,
    and for scale changes ``factor``. Empty when nothing changed. Without timestamps the whole
    log is one window.
    """
    if len(starts) == 0:  # no time column: the whole log is one window
        windows = np.zeros(len(current), dtype=np.int64)
        starts = pd.DatetimeIndex([pd.Timestamp("1970-01-01")])
        window, whole = "log", True
    else:
        whole = False
    n_w = len(starts)
    in_window = windows >= 0
    every_row = bool(in_window.all())

    def per_window(flags: np.ndarray) -> np.ndarray:
        """How many rows per window have ``flags`` set (float, as the rates below divide it)."""
        return np.bincount(windows[flags if every_row else flags & in_window], minlength=n_w).astype(float)

    rows_per_window = np.bincount(windows if every_row else windows[in_window], minlength=n_w)
    judged = rows_per_window >= MIN_WINDOW_ROWS
    order = None if _is_sorted(windows) else np.argsort(windows, kind="stable")  # one sort serves every
    bounds = np.searchsorted(windows if order is None else windows[order], np.arange(n_w + 1))  # feature's min / max
    when = (lambda a, b, n: "in the prediction log") if whole else (lambda a, b, n: "in " + window_span(starts[a], starts[b], window, n))
    out: list[dict] = []
    for f in features:
        if f not in reference.columns or f not in current.columns:
            continue
        ref, cur = reference[f], current[f]
        kind = kinds.get(f, CATEGORICAL)
        ref_missing = float(ref.isna().mean()) if len(ref) else 0.0
        missing = cur.isna().to_numpy()
        n_missing = per_window(missing)
        miss_rate = n_missing / np.maximum(rows_per_window, 1)
        # -- empty, or many more missing values than the reference
        empty = judged & (miss_rate >= 1.0) & (ref_missing < 0.5)
        for a, b in runs(empty):
            out.append(_finding(f, "empty", a, b, b - a + 1, starts, window, rows_per_window[a:b + 1].sum(),
                                f"'{f}' arrived empty (every value missing) {when(a, b, b - a + 1)}; the reference has it "
                                f"{1 - ref_missing:.0%} filled — check the logging pipeline"))
        jump = judged & ~empty & (miss_rate >= ref_missing + MISSING_JUMP)
        for a, b in runs(jump):
            peak = float(miss_rate[a:b + 1].max())
            out.append(_finding(f, "missing_jump", a, b, b - a + 1, starts, window, rows_per_window[a:b + 1].sum(),
                                f"'{f}' was missing for up to {peak:.0%} of rows {when(a, b, b - a + 1)} "
                                f"(reference: {ref_missing:.0%})"))
        # -- type change: the reference holds numbers, the log holds text (or the reverse)
        x = as_numbers(cur) if kind == NUMERIC else None
        if kind == NUMERIC and not pd.api.types.is_numeric_dtype(cur):
            text = ~missing & np.isnan(x)
            text_rate = per_window(text) / np.maximum(rows_per_window, 1)
            examples = ", ".join(repr(v) for v in cur[text].drop_duplicates().head(2).tolist())
            for a, b in runs(judged & (text_rate > 0)):
                out.append(_finding(f, "type_change", a, b, b - a + 1, starts, window, rows_per_window[a:b + 1].sum(),
                                    f"'{f}' holds text such as {examples} {when(a, b, b - a + 1)}, where the reference "
                                    f"holds numbers — those values count as missing in the drift tests"))
        elif kind == CATEGORICAL and pd.api.types.is_numeric_dtype(cur) and not pd.api.types.is_bool_dtype(cur) \
                and pd.api.types.infer_dtype(ref, skipna=True) == "string":
            out.append(_finding(f, "type_change", 0, n_w - 1, n_w, starts, window, int(len(cur)),
                                f"'{f}' holds numbers in the prediction log where the reference holds text categories "
                                f"— check the encoding upstream"))
        # -- constant: one distinct value in a window although the reference varies
        if kind == NUMERIC:
            valid = ~np.isnan(x)
            lo = _window_reduce(np.minimum, np.where(valid, x, np.inf), order, bounds, np.inf)
            hi = _window_reduce(np.maximum, np.where(valid, x, -np.inf), order, bounds, -np.inf)
            rx = as_numbers(ref)
            rx = rx[~np.isnan(rx)]
            ref_varies = len(rx) > 0 and rx.min() != rx.max()
            value_of = lo
        else:
            if isinstance(cur.dtype, pd.CategoricalDtype):
                codes, uniques = cur.cat.codes.to_numpy().astype(np.int64), cur.cat.categories
            else:
                codes, uniques = pd.factorize(cur)
            valid = codes >= 0
            big = np.iinfo(np.int64).max
            lo = _window_reduce(np.minimum, np.where(valid, codes, big), order, bounds, big)
            hi = _window_reduce(np.maximum, np.where(valid, codes, -1), order, bounds, -1)
            ref_varies = len(category_labels(ref)) > 1
            value_of = lo
        filled = rows_per_window - n_missing
        constant = judged & (filled >= MIN_WINDOW_ROWS) & (lo == hi) & bool(ref_varies)
        for a, b in runs(constant):
            v = value_of[a]
            shown = _fmt(v) if kind == NUMERIC else repr(str(uniques[int(v)]))
            out.append(_finding(f, "constant", a, b, b - a + 1, starts, window, rows_per_window[a:b + 1].sum(),
                                f"'{f}' was constant ({shown}) {when(a, b, b - a + 1)}; the reference varies — "
                                f"a default value or a stuck upstream source?"))
        # -- unit / scale change
        if kind == NUMERIC:
            if len(rx) == 0:
                continue
            ref_q = np.quantile(rx, QUANTILES)
            cur_q = _windowed_quantiles(x, windows, n_w, windows_sorted=order is None)
            ratio = np.array([scale_ratio(ref_q, cur_q[w]) if judged[w] else np.nan for w in range(n_w)])
            jumped = np.isfinite(ratio) & ((ratio >= MIN_SCALE_JUMP) | (ratio <= 1 / MIN_SCALE_JUMP))
            for a, b in runs(jumped):
                factor = float(np.median(ratio[a:b + 1]))
                named = name_factor(factor)
                med_ref, med_cur = float(np.median(rx)), float(np.nanmedian(cur_q[a:b + 1, 2]))
                span = when(a, b, b - a + 1)
                if named:
                    base, reading = named
                    sign = f"×{base:g}" if base >= 1 else f"÷{1 / base:g}"
                    msg = (f"'{f}' looks like it was logged in {reading} ({sign}) {span}: "
                           f"median {_fmt(med_ref)} → {_fmt(med_cur)}")
                    out.append(_finding(f, "unit_change", a, b, b - a + 1, starts, window, rows_per_window[a:b + 1].sum(),
                                        msg, factor=base, measured_factor=factor))
                else:
                    msg = (f"'{f}' jumped in scale ×{factor:.3g} {span} (median {_fmt(med_ref)} → {_fmt(med_cur)}) — "
                           f"check for a unit or pipeline change")
                    out.append(_finding(f, "scale_change", a, b, b - a + 1, starts, window, rows_per_window[a:b + 1].sum(),
                                        msg, factor=factor, measured_factor=factor))
            out += _partial_unit_changes(f, rx, ref_q, x, windows, starts, window, judged & ~jumped,
                                         rows_per_window, when)
    cols = ["feature", "change", "from", "to", "windows", "rows", "message", "factor", "measured_factor"]
    frame = pd.DataFrame(out, columns=cols)
    if whole and len(frame):
        frame[["from", "to"]] = None
    return frame


def _partial_unit_changes(f, rx, ref_q, x, windows, starts, window, eligible, rows_per_window, when) -> list[dict]:
    """A unit change that hit only some rows of a window (a month holding one buggy week, one
    client logging months): the values outside the reference's range, if at least
    :data:`MIN_WINDOW_ROWS` and 1% of the window, whose quantiles are a common unit factor times
    the reference's."""
    n_w = len(starts)
    # NaN-ignoring max and min: when nothing lies outside the range, no mask over every row is needed
    if not len(x) or not (np.fmax.reduce(x) > rx.max() or np.fmin.reduce(x) < rx.min()):
        return []
    outside = ~np.isnan(x) & ((x > rx.max()) | (x < rx.min())) & (windows >= 0)
    if not outside.any():
        return []
    n_out = np.bincount(windows[outside], minlength=n_w)
    share = n_out / np.maximum(rows_per_window, 1)
    q = _windowed_quantiles(np.where(outside, x, np.nan), windows, n_w)
    flags, factors = np.zeros(n_w, bool), np.full(n_w, np.nan)
    for w in range(n_w):
        if eligible[w] and n_out[w] >= MIN_WINDOW_ROWS and share[w] >= 0.01:
            r = scale_ratio(ref_q, q[w])
            if np.isfinite(r) and (r >= MIN_SCALE_JUMP or r <= 1 / MIN_SCALE_JUMP) and name_factor(r):
                flags[w], factors[w] = True, r
    found = []
    for a, b in runs(flags):
        base, reading = name_factor(float(np.nanmedian(factors[a:b + 1])))
        sign = f"×{base:g}" if base >= 1 else f"÷{1 / base:g}"
        rows = int(n_out[a:b + 1].sum())
        found.append(_finding(f, "unit_change", a, b, b - a + 1, starts, window, rows,
                              f"'{f}' looks like it was logged in {reading} ({sign}) for {rows:,} rows "
                              f"({rows / rows_per_window[a:b + 1].sum():.0%}) {when(a, b, b - a + 1)}: those values lie outside "
                              f"the reference's range, median {_fmt(float(np.nanmedian(q[a:b + 1, 2])))} vs {_fmt(float(np.median(rx)))}",
                              factor=base, measured_factor=float(np.nanmedian(factors[a:b + 1]))))
    return found


def unseen_categories(reference: pd.DataFrame, current: pd.DataFrame, features, kinds: dict,
                      windows: np.ndarray, starts: pd.DatetimeIndex) -> pd.DataFrame:
    """Categories of the log that the reference never had, and when each first appeared.

    Output columns: ``feature``, ``category``, ``rows``, ``share`` (of all logged rows),
    ``first_window`` (start, None without timestamps), ``first_window_share`` (share of that
    window's rows), ``windows`` (how many windows it appears in). Largest first.
    """
    cols = ["feature", "category", "rows", "share", "first_window", "first_window_share", "windows"]
    out = []
    n_w = len(starts)
    rows_per_window = np.bincount(windows[windows >= 0], minlength=n_w) if n_w else np.array([])
    for f in features:
        if kinds.get(f) != CATEGORICAL or f not in reference.columns or f not in current.columns:
            continue
        known = category_labels(reference[f])
        col = current[f]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes, uniques = col.cat.codes.to_numpy(), col.cat.categories
        else:
            codes, uniques = pd.factorize(col)
        names = np.asarray([str(u) for u in uniques], dtype=object)
        unknown = np.append(known.get_indexer(names) < 0, False)   # missing (-1) is never "new"
        if not unknown.any():
            continue
        new = unknown[codes]
        if not new.any():
            continue
        values = pd.Series(names[codes[new]])
        w = windows[new] if n_w else np.full(int(new.sum()), -1)
        frame = pd.DataFrame({"category": values.to_numpy(), "w": w})
        for cat, g in frame.groupby("category", sort=False):
            ws = g["w"][g["w"] >= 0]
            first = int(ws.min()) if len(ws) else None
            out.append({
                "feature": f, "category": str(cat), "rows": int(len(g)), "share": len(g) / len(current),
                "first_window": starts[first].date().isoformat() if first is not None else None,
                "first_window_share": float((ws == first).sum() / rows_per_window[first]) if first is not None else None,
                "windows": int(ws.nunique()),
            })
    return pd.DataFrame(out, columns=cols).sort_values("rows", ascending=False, ignore_index=True)


def label_schema_changes(reference: pd.DataFrame, current: pd.DataFrame, *, target: str | None,
                         prediction: str | None, task: str, windows,
                         starts: pd.DatetimeIndex) -> pd.DataFrame:
    """Classes in the log's labels or predictions that the reference's labels never had.

    Classification only (empty for regression). ``windows``: window index of each row of
    ``current`` (-1 outside every window), or a function of a boolean row mask giving the window
    index of those rows only — so the log is windowed only when a new class turns up.
    Output columns: ``column``, ``role`` (label or prediction), ``class``, ``rows``, ``first_window``.
    """
    cols = ["column", "role", "class", "rows", "first_window"]
    if task == "regression" or not target or target not in reference.columns:
        return pd.DataFrame(columns=cols)
    labels = pd.Series(pd.unique(as_categories(reference[target]).dropna()), dtype=object)  # strip each distinct
    known = pd.Index(labels.astype(str).str.strip().unique())                                 # label once
    if len(known) == 0:
        return pd.DataFrame(columns=cols)
    out = []
    for role, col in (("label", target), ("prediction", prediction)):
        if not col or col not in current.columns:
            continue
        codes, uniques = pd.factorize(current[col])  # strip each distinct value once, not every row
        stripped = pd.Index([str(u).strip() for u in uniques])
        unknown = np.append(known.get_indexer(stripped) < 0, False)  # code -1 (missing) is never new
        new = unknown[codes]
        if not new.any():
            continue
        cls = np.asarray(list(stripped), dtype=object)[codes[new]]
        frame = pd.DataFrame({"cls": cls, "w": (windows(new) if callable(windows) else windows[new]) if len(starts) else -1})
        for cls, g in frame.groupby("cls"):
            ws = g["w"][g["w"] >= 0]
            out.append({"column": col, "role": role, "class": str(cls), "rows": int(len(g)),
                        "first_window": starts[int(ws.min())].date().isoformat() if len(ws) else None})
    return pd.DataFrame(out, columns=cols)
