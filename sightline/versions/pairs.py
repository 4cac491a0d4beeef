"""Where two model versions disagree: by feature slice and by score band, on the requests both
scored (:func:`sightline.data.model_versions.paired_requests`), labels not needed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sightline.core.vocabulary import slice_name
from sightline.stats.intervals import wilson_interval

MIN_SLICE_SIZE = 30
N_SCORE_BANDS = 10
N_NUMERIC_BINS = 5


# --------------------------------------------------------------------------- where they disagree
def _slice_labels(values: pd.Series, n_bins: int = N_NUMERIC_BINS) -> pd.Series:
    """Slice label per row as a categorical: categories as they are, numeric columns with many
    values in quantile bins ("25–33"), missing values as "(missing)"."""
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
        try:
            binned = pd.qcut(values, n_bins, duplicates="drop")
        except ValueError:
            binned = pd.cut(values, n_bins)
        names = [f"{iv.left:g}–{iv.right:g}" for iv in binned.cat.categories]
        if len(set(names)) < len(names):  # edges too close for the short format
            names = [str(iv) for iv in binned.cat.categories]
        binned = binned.cat.rename_categories(names)
    else:
        binned = values.astype("category")
        names = [str(c) for c in binned.cat.categories]
        if len(set(names)) == len(names):
            binned = binned.cat.rename_categories(names)
    if binned.isna().any():
        binned = binned.cat.add_categories("(missing)").fillna("(missing)")
    return binned


def disagreement_by_slice(frame: pd.DataFrame, features, *, min_size: int = MIN_SLICE_SIZE,
                          max_pairs_from: int = 4) -> pd.DataFrame:
    """Disagreement rate of two versions per feature slice and for two-feature intersections.

    Inputs: :func:`paired_requests` output (column ``disagree``: 0/1, or absolute difference
    for regression), the features to slice by, the minimum slice size, and how many of the
    most-disagreeing features to intersect pairwise.
    Output: DataFrame with ``slice`` ("col=value" or "a=x & b=y"), ``features``, ``n``,
    ``disagreements`` (sum), [``baseline_right``, ``candidate_right``: labelled disagreements each
    version got right, when ``frame`` has those 0/1 columns], ``rate`` (mean), ``lower``/``upper`` (Wilson 95%, classification),
    ``lift`` (rate over the overall rate), ``small`` (n < min_size); most disagreement first
    among slices that are not small.
    """
    labels = {f: _slice_labels(frame[f]) for f in features if f in frame.columns}
    extra = [c for c in ("baseline_right", "candidate_right") if c in frame.columns]
    if not len(frame) or not labels:  # no shared request, or no feature to slice by
        return pd.DataFrame(columns=["slice", "features", "n", "disagreements", *extra, "rate", "lower", "upper", "lift", "small"])
    dis = frame["disagree"].to_numpy(dtype=float)
    overall = float(dis.mean())
    parts = []

    def summarise(keys: list[str]) -> pd.DataFrame:
        g = pd.DataFrame({k: labels[k].to_numpy() for k in keys}).assign(d=dis, **{c: frame[c].to_numpy() for c in extra})
        agg = g.groupby(keys, sort=False, observed=True).agg(n=("d", "size"), disagreements=("d", "sum"),
                                                             **{c: (c, "sum") for c in extra}).reset_index()
        names = agg[keys].astype(str)
        slice_names = [slice_name(zip(keys, row)) for row in names.itertuples(index=False)]
        return pd.DataFrame({"slice": slice_names, "features": " & ".join(keys), "n": agg["n"].to_numpy(),
                             "disagreements": agg["disagreements"].to_numpy(), **{c: agg[c].to_numpy() for c in extra}})

    for f in labels:
        parts.append(summarise([f]))
    singles = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["slice", "features", "n", "disagreements"])
    big = singles[singles["n"] >= min_size]
    top = (big.assign(rate=big["disagreements"] / big["n"]).groupby("features")["rate"].max()
           .sort_values(ascending=False).index[:max_pairs_from].tolist())
    for i, a in enumerate(top):
        for b in top[i + 1:]:
            parts.append(summarise([a, b]))
    out = pd.concat(parts, ignore_index=True)
    out["rate"] = out["disagreements"] / out["n"]
    if set(np.unique(dis)) <= {0.0, 1.0}:
        out["lower"], out["upper"] = wilson_interval(out["disagreements"].to_numpy(), out["n"].to_numpy())
    else:
        out["lower"] = out["upper"] = np.nan
    out["lift"] = out["rate"] / overall if overall > 0 else np.nan
    out["small"] = out["n"] < min_size
    return out.sort_values(["small", "rate", "n"], ascending=[True, False, False], ignore_index=True)


def disagreement_by_score_band(score, disagree, n_bands: int = N_SCORE_BANDS) -> pd.DataFrame:
    """Disagreement per band of the baseline's score (equal-width bands over [0, 1]).

    Output: DataFrame with ``band`` (e.g. "0.4–0.5"), ``low``, ``high``, ``n``,
    ``disagreements``, ``rate``, ``lower``/``upper`` (Wilson 95%); bands without rows are left out.
    """
    score = np.asarray(score, dtype=float)
    dis = np.asarray(disagree, dtype=float)
    ok = np.isfinite(score)
    edges = np.linspace(0, 1, n_bands + 1)
    band = np.clip(np.searchsorted(edges, score[ok], side="right") - 1, 0, n_bands - 1)
    n = np.bincount(band, minlength=n_bands)
    k = np.bincount(band, weights=dis[ok], minlength=n_bands)
    out = pd.DataFrame({"band": [f"{edges[i]:.1f}–{edges[i + 1]:.1f}" for i in range(n_bands)],
                        "low": edges[:-1], "high": edges[1:], "n": n, "disagreements": k})
    out = out[out["n"] > 0].reset_index(drop=True)
    out["rate"] = out["disagreements"] / out["n"]
    out["lower"], out["upper"] = wilson_interval(out["disagreements"].to_numpy(), out["n"].to_numpy())
    return out


