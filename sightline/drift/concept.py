"""Concept drift: segments whose outcomes departed from what the calibrated scores imply,
beyond a uniform label shift (see :func:`concept_drift_segments`).

Everything is solved in log-odds with Newton's method. On a large log the rows are first grouped
by (window, segment, distinct calibrated score, label) — isotonic calibration leaves ~1,000
distinct scores however many rows there are — so every solve and sum runs over groups, not rows.
:func:`base_rate_shift` is the row-by-row solve the grouped one is tested against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.drift.estimation import PROBABILITY_FLOOR

MIN_VARIANCE = 1.0           # a segment's excess must be worth at least ~one row's sd to count
MEDIAN_MIN_ROWS = 100        # segments that vote on a window's uniform label shift need this many rows
LOGIT_STEP = 0.05            # log-odds grid the concept-drift search aggregates rows on
MIN_EXCESS = 0.02            # a segment must also be 2 points of outcome rate off to count (size, not only z)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def base_rate_shift(y_true, p, windows, n_windows: int, *, iterations: int = 40) -> np.ndarray:
    """Per window, the log-odds shift ``t`` that makes the scores' expected positives match the
    observed ones: sum sigmoid(logit(p) + t) = sum y over the window's labelled rows.

    Under pure label shift (P(Y) changes, P(X | Y) does not) every row's odds scale by the same
    factor exp(t), so this is the label-shift correction; what it cannot explain in a segment is
    evidence of concept drift. Newton iterations on all windows at once, row by row; NaN without
    labels, clipped to ±10 when a window's labels are all one class. (:func:`grouped_shift` solves
    the same equation on rows grouped by score.)
    """
    y = np.asarray(y_true, dtype=float)
    windows = np.asarray(windows, dtype=np.int64)
    keep = (windows >= 0) & ~np.isnan(y) & ~np.isnan(p)
    w, z, yy = windows[keep], _logit(np.asarray(p, dtype=float)[keep]), y[keep]
    observed = np.bincount(w, weights=yy, minlength=n_windows)
    n = np.bincount(w, minlength=n_windows)
    t = np.zeros(n_windows)
    for _ in range(iterations):
        q = _sigmoid(z + t[w])
        f = np.bincount(w, weights=q, minlength=n_windows) - observed
        slope = np.bincount(w, weights=q * (1 - q), minlength=n_windows)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(slope > 0, f / slope, 0.0)
        new = np.clip(t - np.clip(step, -2, 2), -10, 10)
        done = np.max(np.abs(new - t), initial=0.0) < 1e-7  # Newton: a handful of steps usually
        t = new
        if done:
            break
    t[n == 0] = np.nan
    return t


def grouped_shift(counts: np.ndarray, base: np.ndarray, observed: np.ndarray, iterations: int = 40) -> np.ndarray:
    """:func:`base_rate_shift` on grouped rows: per row ``i`` of ``counts``, the shift t with
    sum_j counts[i, j] * sigmoid(base[i, j] + t) = observed[i].

    ``counts`` (groups × columns): how many labelled rows have log-odds ``base`` (broadcast
    against ``counts``); ``observed``: positives per group. NaN for a group without rows; the
    same Newton steps, clipping and stopping rule as :func:`base_rate_shift`.
    """
    t = np.zeros(len(counts))
    for _ in range(iterations):
        q = _sigmoid(base + t[:, None])
        f = (counts * q).sum(axis=1) - observed
        slope = (counts * q * (1 - q)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(slope > 0, f / slope, 0.0)
        new = np.clip(t - np.clip(step, -2, 2), -10, 10)
        done = np.max(np.abs(new - t), initial=0.0) < 1e-7
        t = new
        if done:
            break
    t[counts.sum(axis=1) == 0] = np.nan
    return t


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, cum[-1] / 2)])


def _score_codes(p: np.ndarray, labelled: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code per row = 2 × distinct-score index + label, the distinct scores): the part of a
    row's group key that every segment shares. Rows outside ``labelled`` get code 0 (callers
    route them to a group they drop). Hashing (``pd.factorize``) instead of sorting: the codes'
    order does not matter."""
    u, values = pd.factorize(p)
    code = 2 * np.maximum(u, 0) + np.where(labelled, y, 0).astype(np.int64)
    return np.where(labelled, code, 0), np.asarray(values, dtype=float)


def _grid_counts(counts: np.ndarray, grid_index: np.ndarray, n_grid: int) -> np.ndarray:
    """``counts`` (cells × distinct scores) summed onto the log-odds grid (cells × grid points);
    integer-valued floats, so exact in any order."""
    cells = np.arange(len(counts))[:, None] * n_grid + grid_index[None, :]
    return np.bincount(cells.ravel(), weights=counts.ravel(), minlength=len(counts) * n_grid).reshape(len(counts), n_grid)


def concept_drift_segments(y_true, p, windows, n_windows: int, segments: dict, reference_y, reference_p,
                           reference_segments: dict, *, min_rows: int = 30, alpha: float = 0.05,
                           grouped: bool | None = None) -> pd.DataFrame:
    """Segments whose outcomes departed from what the scores imply, beyond a uniform label shift.

    Inputs: current labels (NaN = not arrived), calibrated ``p``, window index per row;
    ``segments``: name -> (bin codes per current row, 0..len(labels) - 1, bin labels) — e.g. each
    feature's reference-fitted bins; the reference's labels, calibrated scores and codes per
    segment (``reference_segments``: name -> codes). Everything happens in log-odds:

    * ``t_ref`` per segment: the shift the reference itself needs in that segment (a segment
      already mis-scored on the reference is not news), from :func:`base_rate_shift`;
    * ``t`` per (window, segment): the shift that would explain the window's outcomes there;
    * the window's *uniform* shift (label shift) is the row-weighted median of its segments'
      ``t`` — a median, so one drifting segment does not drag the others' expectation with it
      (segments of at least :data:`MEDIAN_MIN_ROWS` rows vote; with fewer than two of them, the
      window-wide shift of :func:`base_rate_shift` is used);
    * expected positives of a cell = sum of sigmoid(logit(p) + t_ref + uniform shift), and
      ``z`` = (observed − expected) / sqrt(max(sum q(1 − q), 1)) — the floor keeps a cell of
      near-certain scores from turning one surprising row into a "significant" segment.

    Cells with at least ``min_rows`` labelled rows are tested; a cell is ``significant`` when |z|
    exceeds the Bonferroni bound for ``alpha`` over all cells tested *and* its outcome rate is at
    least :data:`MIN_EXCESS` off (on a million rows, tiny departures are "significant" too). Output columns: ``window``
    (index), ``feature``, ``segment``, ``n``, ``observed_rate``, ``score_rate`` (mean calibrated
    score), ``expected_rate``, ``excess`` (observed − expected rate), ``z``, ``significant``;
    largest |z| first. ``grouped``: solve on rows grouped by distinct score (default: when that
    is the smaller problem) or row by row; both give the same numbers up to summation order.
    """
    from scipy.stats import norm

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p, dtype=float)
    windows = np.asarray(windows, dtype=np.int64)
    keep = (windows >= 0) & ~np.isnan(y) & ~np.isnan(p)
    # Rows are aggregated onto a grid of log-odds (step LOGIT_STEP): every Newton step then
    # costs cells x grid points, not rows, and the rounding moves a probability by < 0.7 points.
    grid = np.arange(_logit(np.array([PROBABILITY_FLOOR]))[0], -_logit(np.array([PROBABILITY_FLOOR]))[0] + LOGIT_STEP, LOGIT_STEP)

    def grid_index(probabilities: np.ndarray) -> np.ndarray:
        return np.clip(np.rint((_logit(probabilities) - grid[0]) / LOGIT_STEP).astype(np.int64), 0, len(grid) - 1)

    ry, rp = np.asarray(reference_y, dtype=float), np.asarray(reference_p, dtype=float)
    rok = ~np.isnan(ry) & ~np.isnan(rp)
    max_bins = max((len(labels) for _, labels in segments.values()), default=0)
    score_code, p_values = _score_codes(p, keep, y)
    n_codes = 2 * len(p_values)
    # Grouping pays while the group table is no larger than the rows (raw, uncalibrated scores
    # can have as many distinct values as rows: then row by row).
    use_groups = 0 < n_codes and (bool(grouped) if grouped is not None
                                  else (n_windows + 1) * max(max_bins, 1) * n_codes <= len(p))
    if use_groups:
        # Group key of a row: (segment bin, window, distinct score, label), rows not kept in an
        # extra last window that is dropped — one bincount per segment over every row.
        span = (n_windows + 1) * n_codes
        row_key = np.where(keep, windows, n_windows) * n_codes + score_code
        by_window = np.bincount(row_key, minlength=span).reshape(n_windows + 1, -1, 2)[:n_windows]
        window_t = grouped_shift(by_window.sum(axis=2).astype(float), _logit(p_values)[None, :],
                                 by_window[:, :, 1].sum(axis=1).astype(float))
        g_values = grid_index(p_values)
    else:
        w, yk, pk = windows[keep], y[keep], p[keep]
        g = grid_index(pk)
        window_t = base_rate_shift(y, p, windows, n_windows)
    ref_code, ref_values = _score_codes(rp[rok], np.ones(int(rok.sum()), bool), ry[rok])
    ref_groups = 0 < len(ref_values) and (bool(grouped) if grouped is not None
                                          else max(max_bins, 1) * 2 * len(ref_values) <= len(ref_code))
    frames = []
    for name, (codes, labels) in segments.items():
        nb = len(labels)
        rc = np.asarray(reference_segments[name])[rok]
        if ref_groups:
            ref_span = 2 * len(ref_values)
            by_bin = np.bincount(rc.astype(np.int64) * ref_span + ref_code, minlength=nb * ref_span).reshape(nb, -1, 2)
            ref_counts = by_bin.sum(axis=2).astype(float)
            t_ref = grouped_shift(ref_counts, _logit(ref_values)[None, :], by_bin[:, :, 1].sum(axis=1).astype(float))
            ref_rows = ref_counts.sum(axis=1)
        else:
            t_ref = base_rate_shift(ry[rok], rp[rok], rc, nb)
            ref_rows = np.bincount(rc, minlength=nb)
        t_ref = np.where(np.isfinite(t_ref) & (ref_rows >= min_rows), t_ref, 0.0)
        size = n_windows * nb
        if use_groups:
            groups = np.bincount(np.asarray(codes, dtype=np.int64) * span + row_key, minlength=nb * span)
            # (bin, window, score, label) -> cells in (window, bin) order, as the row-wise path
            groups = groups.reshape(nb, n_windows + 1, -1, 2)[:, :n_windows].transpose(1, 0, 2, 3).reshape(size, -1, 2)
            by_score = groups.sum(axis=2).astype(float)
            counts = _grid_counts(by_score, g_values, len(grid))
            obs = groups[:, :, 1].sum(axis=1).astype(float)
            score = (by_score * p_values[None, :]).sum(axis=1)
        else:
            flat = w * nb + np.asarray(codes)[keep]
            counts = np.bincount(flat * len(grid) + g, minlength=size * len(grid)).reshape(size, len(grid)).astype(float)
            obs = np.bincount(flat, weights=yk, minlength=size)
            score = np.bincount(flat, weights=pk, minlength=size)
        n = counts.sum(axis=1)
        base = grid[None, :] + np.tile(t_ref, n_windows)[:, None]        # each cell's log-odds, reference gap removed
        t_cell = grouped_shift(counts, base, obs)
        uniform = np.nan_to_num(window_t)
        for win in range(n_windows):
            cells = slice(win * nb, (win + 1) * nb)
            ok = (n[cells] >= MEDIAN_MIN_ROWS) & (np.abs(t_cell[cells]) < 9.9)
            if ok.sum() >= 2:  # else the window-wide shift (small windows: too few segments to take a median)
                uniform[win] = _weighted_median(t_cell[cells][ok], n[cells][ok])
        q = _sigmoid(base + np.repeat(uniform, nb)[:, None])
        exp = (counts * q).sum(axis=1)
        var = (counts * q * (1 - q)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame = pd.DataFrame({
                "window": np.repeat(np.arange(n_windows), nb), "feature": name,
                "segment": np.tile(np.asarray(labels, dtype=object), n_windows), "n": n.astype(int),
                "observed_rate": obs / n, "score_rate": score / n, "expected_rate": exp / n,
                "excess": (obs - exp) / n, "z": (obs - exp) / np.sqrt(np.maximum(var, MIN_VARIANCE)),
            })
        frames.append(frame[(frame["n"] >= min_rows) & (var > 0)])
    cols = ["window", "feature", "segment", "n", "observed_rate", "score_rate", "expected_rate", "excess", "z", "significant"]
    if not frames:
        return pd.DataFrame(columns=cols)
    table = pd.concat(frames, ignore_index=True)
    bound = norm.isf(alpha / (2 * max(len(table), 1)))
    table["significant"] = (table["z"].abs() >= bound) & (table["excess"].abs() >= MIN_EXCESS)
    order = table["z"].abs().sort_values(ascending=False).index
    out = table.loc[order, cols].reset_index(drop=True)
    out.attrs["z_bound"] = float(bound)  # the |z| a cell needs to count, for captions
    return out
