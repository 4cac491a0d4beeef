"""Generate Sightline's bundled sample audit from the UCI Adult data.

Run ``python sample_data/make_sample.py`` to regenerate ``sample_data/`` in place,
or call :func:`build_sample` to write the same files elsewhere (the tests do).

Inputs (read only): the raw UCI Adult copies in ``sample_data/adult/``.
Outputs, in ``out_dir``:

- ``model.skops``          champion model (scikit-learn Pipeline, skops format)
- ``reference.parquet``    held-out 30 % of adult.data scored by the champion
- ``predictions.parquet``  adult.test replayed as 12 weeks of production traffic,
                           champion rows + shadow rows of the challenger (weeks 9-12)
- ``audit.yaml``           the Sightline audit definition pointing at the three files

Every problem injected into the production log (drift, bugs, shifts, a weak slice)
is parameterised by the constants below, returned by :func:`build_sample` and
documented in ``sample_data/README.md``. Everything is seeded; nothing depends on
the wall clock, so a rerun gives the same data values (and, with the same library
versions, the same bytes).
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io
import yaml
from scipy.special import expit
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
RAW_DIR = HERE / "adult"

# --------------------------------------------------------------------------- schema
RAW_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
    "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
    "hours_per_week", "native_country", "income",
]
FEATURES = [
    "age", "workclass", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country",
]
CATEGORICAL = [
    "workclass", "education", "marital_status", "occupation", "relationship", "race",
    "sex", "native_country",
]
NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
TARGET = "income"
POSITIVE, NEGATIVE = ">50K", "<=50K"
EXPECTED_ROWS = {"adult.data.gz": 32_561, "adult.test.gz": 16_281}

CHAMPION, CHALLENGER = "champion-1.0", "challenger-2.0"
PREDICTION_COLUMNS = (
    ["request_id", "ts"] + FEATURES
    + [TARGET, "score", "predicted", "model_version", "latency_ms"]
)
REFERENCE_COLUMNS = FEATURES + [TARGET, "score", "predicted", "model_version"]

# --------------------------------------------------------------------------- traffic
START = pd.Timestamp("2026-06-01 00:00")  # a Monday; all times are UTC, stored tz-naive
N_WEEKS = 12
REFERENCE_SHARE = 0.30  # of adult.data, held out as the reference/validation set
# Relative traffic by weekday (Mon..Sun) and by hour of day (UTC): busy office hours,
# quiet nights and weekends.
DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.55, 0.45)
HOUR_WEIGHTS = (
    0.12, 0.08, 0.06, 0.06, 0.08, 0.15, 0.30, 0.55, 0.85, 1.00, 1.00, 1.00,
    0.95, 1.00, 1.00, 0.95, 0.85, 0.70, 0.55, 0.45, 0.38, 0.30, 0.22, 0.16,
)
# Latency: lognormal; sigma 0.69 puts p99 at ~5x the median (40 ms -> ~200 ms).
LATENCY_MEDIAN_MS = {CHAMPION: 40.0, CHALLENGER: 60.0}
LATENCY_SIGMA = 0.69

# --------------------------------------------------------------------------- injected effects
# (a) covariate shift: from week 7 an "older" population is sampled. Row weight in week w:
#     1 + (ratio_w - 1) * sigmoid((age - 40) / 5): people well above 40 are ratio_w times
#     as likely as people well below 40 to land in week w (relative to weeks 1-6).
AGE_TILT_CENTER, AGE_TILT_SCALE = 40.0, 5.0
AGE_TILT_RATIO = {7: 4 / 3, 8: 5 / 3, 9: 2.0, 10: 7 / 3, 11: 8 / 3, 12: 3.0}
# (b) pipeline bug: age logged in months (x12) for every row of this week; the model scored it.
AGE_BUG_WEEK, AGE_BUG_FACTOR = 4, 12
# (c) a workclass never seen in training/reference replaces some "Private" rows.
GIG_VALUE, GIG_REPLACES, GIG_FIRST_WEEK, GIG_SHARE = "Gig-platform", "Private", 9, 0.06
# (d) label shift: positives over-sampled so the sampled positive rate is this (before (e)).
LABEL_SHIFT_WEEKS, LABEL_SHIFT_TARGET_RATE = (9, 10), 0.32
# (e) concept drift: a share of the segment's negatives become positives (wages rose).
CONCEPT_DRIFT_WEEKS = (9, 10)
CONCEPT_DRIFT_QUERY = "occupation in ['Sales', 'Adm-clerical'] and hours_per_week >= 40"
CONCEPT_DRIFT_FLIP_SHARE = 0.35
# (f) weak slice: a serving-time caching bug; for champion requests in this slice the API
#     returned the score cached for the previous request of the slice, in every week.
WEAK_SLICE_QUERY = "education == 'Bachelors' and occupation == 'Prof-specialty'"
# Shadow deployment of the challenger and late labels.
SHADOW_FIRST_WEEK = 9
UNLABELLED_WEEKS = (11, 12)
# Two 2-hour latency incidents; each affected request is slowed down by U(5, 10)x.
LATENCY_INCIDENTS = (
    {"start": "2026-06-17 14:00", "end": "2026-06-17 16:00", "model_versions": [CHAMPION]},
    {"start": "2026-08-11 09:00", "end": "2026-08-11 11:00",
     "model_versions": [CHAMPION, CHALLENGER]},
)
LATENCY_INCIDENT_FACTOR = (5.0, 10.0)

_SKOPS_EPOCH = (2026, 6, 1, 0, 0, 0)  # fixed zip-entry timestamp for a reproducible model file


# =========================================================================== helpers
def _rng(seed: int, purpose: str) -> np.random.Generator:
    """One independent, reproducible random stream per purpose.

    Keying the stream on (seed, purpose) instead of drawing from one shared generator
    means changing one injected effect does not silently reshuffle all the others.
    """
    return np.random.default_rng([seed, zlib.crc32(purpose.encode())])


def week_of(ts: pd.Series) -> pd.Series:
    """Week number (1-based, weeks start Monday 00:00 UTC at START) of tz-naive UTC times."""
    return ((ts - START) // pd.Timedelta(days=7)).astype("int64") + 1


def positive_score(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Probability of the positive class (">50K") for each row of ``X`` (float64)."""
    pos = list(model.classes_).index(POSITIVE)
    return model.predict_proba(X[FEATURES])[:, pos]


def label_of(score: np.ndarray) -> np.ndarray:
    """Hard prediction at the 0.5 threshold, as the string labels the model was fit on."""
    return np.where(score >= 0.5, POSITIVE, NEGATIVE)


# =========================================================================== data
def load_adult(path: Path) -> pd.DataFrame:
    """Read one raw UCI Adult file into snake_case columns.

    Input: ``adult.data.gz`` or ``adult.test.gz`` (", "-separated, no header; the test
    file starts with a comment line and its labels end with a dot).
    Output: one row per person, ``fnlwgt`` dropped (a census sampling weight, not a
    feature), "?" as NaN, ``income`` in {">50K", "<=50K"}; numeric columns int64.
    """
    is_test = path.name.startswith("adult.test")
    df = pd.read_csv(
        path, header=None, names=RAW_COLUMNS, sep=",", skipinitialspace=True,
        na_values="?", skiprows=1 if is_test else 0,
    )
    expected = EXPECTED_ROWS.get(path.name)
    if expected is not None and len(df) != expected:
        raise ValueError(f"{path}: expected {expected} rows, read {len(df)}")
    df[TARGET] = df[TARGET].str.rstrip(".")
    if not df[TARGET].isin([POSITIVE, NEGATIVE]).all():
        raise ValueError(f"{path}: unexpected labels {sorted(df[TARGET].unique())}")
    return df.drop(columns="fnlwgt")


def split_train_reference(data: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified 70/30 split of adult.data into (train, reference), seeded."""
    train, reference = train_test_split(
        data, test_size=REFERENCE_SHARE, stratify=data[TARGET], random_state=seed
    )
    return train.sort_index(), reference.sort_index()


# =========================================================================== models
def make_pipeline(classifier) -> Pipeline:
    """One-hot categoricals + raw numerics, then ``classifier``.

    Missing categoricals may arrive as NaN (pandas) or None (pyarrow -> pandas object
    columns); both are mapped to the explicit category "missing" so training and
    serving agree. Categories unseen in training (e.g. "Gig-platform") are one-hot
    encoded as all zeros.
    """
    categorical = Pipeline([
        ("impute_nan", SimpleImputer(strategy="constant", fill_value="missing")),
        ("impute_none", SimpleImputer(missing_values=None, strategy="constant",
                                      fill_value="missing")),
        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
    ])
    prep = ColumnTransformer([
        ("cat", categorical, CATEGORICAL),
        ("num", "passthrough", NUMERIC),
    ])
    return Pipeline([("prep", prep), ("clf", classifier)])


def train_models(train: pd.DataFrame, seed: int) -> tuple[Pipeline, Pipeline]:
    """Fit (champion, challenger) on the same training rows and labels.

    The challenger (v2.0) differs only by its hyper-parameters: smaller trees, more
    boosting steps, larger leaves and L2 regularisation. A fixed number of boosting
    steps (no early stopping) keeps the fit independent of a validation split.
    """
    champion = make_pipeline(HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=120, max_leaf_nodes=31, early_stopping=False,
        random_state=seed,
    ))
    challenger = make_pipeline(HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=200, max_leaf_nodes=15, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=seed,
    ))
    champion.fit(train[FEATURES], train[TARGET])
    challenger.fit(train[FEATURES], train[TARGET])
    return champion, challenger


def _canonical_skops(raw: bytes) -> bytes:
    """Make a skops archive byte-reproducible without changing what it loads to.

    skops names memo entries and array files after ``id(obj)`` (a memory address) and
    stamps zip entries with the wall clock. Renumber the ids in order of first
    appearance and use a fixed timestamp; the links between entries are unchanged.
    """
    src = zipfile.ZipFile(io.BytesIO(raw))
    schema = src.read("schema.json").decode()
    new_ids: dict[str, str] = {}

    def renumber(match: re.Match) -> str:
        new = new_ids.setdefault(match.group(2), str(len(new_ids) + 1))
        return match.group(1) + new + match.group(3)

    schema = re.sub(r'("__id__": )(\d+)()', renumber, schema)
    schema = re.sub(r'("file": ")(\d+)(\.npy")', renumber, schema)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename == "schema.json":
                name, data = info.filename, schema.encode()
            else:
                stem, ext = info.filename.split(".", 1)
                name, data = f"{new_ids[stem]}.{ext}", src.read(info)
            entry = zipfile.ZipInfo(name, date_time=_SKOPS_EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def save_model(model: Pipeline, path: Path, check_rows: pd.DataFrame) -> None:
    """Write ``model`` to ``path`` (skops) and prove the file reproduces its scores.

    Loads the file back the way the dashboard does (trusting exactly the types the
    file declares) and requires bit-identical probabilities on ``check_rows``.
    """
    path.write_bytes(_canonical_skops(skops.io.dumps(model)))
    loaded = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    if list(loaded.classes_) != [NEGATIVE, POSITIVE]:
        raise AssertionError(f"unexpected classes {loaded.classes_}")
    if not np.array_equal(positive_score(loaded, check_rows), positive_score(model, check_rows)):
        raise AssertionError(f"{path} does not reproduce the in-memory model's scores")


# =========================================================================== traffic
def week_sampling_weights(age: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Relative chance of each test row to be replayed in each week.

    Inputs: true age in years and the boolean label of each adult.test row.
    Output: (n_rows, N_WEEKS) weights, each column with mean 1 (equal expected
    traffic per week). Weeks 1-6 are uniform (same population as the reference);
    weeks 7-12 depend on age only, so P(y|x) is untouched (covariate shift, effect a);
    weeks 9-10 also multiply positives' weight by the odds factor that brings the
    positive rate to LABEL_SHIFT_TARGET_RATE, so P(x|y) is kept (label shift, effect d).
    """
    weights = np.ones((len(age), N_WEEKS))
    older = expit((age - AGE_TILT_CENTER) / AGE_TILT_SCALE)  # ~0 young, ~1 old
    for week, ratio in AGE_TILT_RATIO.items():
        weights[:, week - 1] = 1.0 + (ratio - 1.0) * older
    for week in LABEL_SHIFT_WEEKS:
        w = weights[:, week - 1]
        rate = w[positive].sum() / w.sum()  # positive rate before the label shift
        target = LABEL_SHIFT_TARGET_RATE
        odds_factor = target * (1 - rate) / (rate * (1 - target))
        weights[:, week - 1] = w * np.where(positive, odds_factor, 1.0)
    return weights / weights.mean(axis=0)


def assign_weeks(test: pd.DataFrame, seed: int) -> np.ndarray:
    """Week (1..N_WEEKS) of each adult.test row, or 0 for rows that are not replayed.

    A fixed pool cannot make later weeks older while the early weeks keep the pool's
    own age mix unless some rows stay unused (the mean age over all weeks would
    otherwise have to equal the pool's). Each row therefore gets week w with
    probability weight[w] / max_row_sum and "not replayed" with the remainder; the row
    type most pulled towards late weeks (old, high-income) is always replayed.
    """
    weights = week_sampling_weights(
        test["age"].to_numpy(float), (test[TARGET] == POSITIVE).to_numpy()
    )
    probs = weights / weights.sum(axis=1).max()
    cumulative = np.cumsum(probs, axis=1)
    draw = _rng(seed, "weeks").random(len(test))
    slot = (draw[:, None] >= cumulative).sum(axis=1)  # 0..N_WEEKS-1 or N_WEEKS (= unused)
    return np.where(slot < N_WEEKS, slot + 1, 0)


def sample_timestamps(weeks: np.ndarray, seed: int) -> pd.Series:
    """A request time (tz-naive UTC, millisecond precision) inside each row's week.

    Weekday and hour are drawn from DAY_WEIGHTS / HOUR_WEIGHTS (daily and weekly
    seasonality), the position inside the hour uniformly.
    """
    rng = _rng(seed, "timestamps")
    n = len(weeks)
    day = rng.choice(7, size=n, p=np.divide(DAY_WEIGHTS, sum(DAY_WEIGHTS)))
    hour = rng.choice(24, size=n, p=np.divide(HOUR_WEIGHTS, sum(HOUR_WEIGHTS)))
    ms_in_hour = rng.integers(0, 3_600_000, size=n)
    offset_ms = (((weeks - 1) * 7 + day) * 24 + hour) * 3_600_000 + ms_in_hour
    return START + pd.to_timedelta(offset_ms, unit="ms")


def sample_latency(ts: pd.Series, model_version: str, seed: int) -> np.ndarray:
    """Serving latency in milliseconds (float, 0.01 ms resolution) for one model's rows.

    Lognormal around LATENCY_MEDIAN_MS[model_version]; requests inside a
    LATENCY_INCIDENTS window affecting this model are slowed by U(5, 10)x.
    """
    rng = _rng(seed, f"latency:{model_version}")
    latency = LATENCY_MEDIAN_MS[model_version] * rng.lognormal(0.0, LATENCY_SIGMA, len(ts))
    factor = rng.uniform(*LATENCY_INCIDENT_FACTOR, len(ts))
    for incident in LATENCY_INCIDENTS:
        if model_version in incident["model_versions"]:
            hit = ((ts >= pd.Timestamp(incident["start"]))
                   & (ts < pd.Timestamp(incident["end"]))).to_numpy()
            latency[hit] *= factor[hit]
    return np.round(latency, 2)


def inject_age_unit_bug(log: pd.DataFrame) -> None:
    """Effect (b), in place: age of every row of AGE_BUG_WEEK multiplied by 12 (months)."""
    hit = log["week"] == AGE_BUG_WEEK
    log.loc[hit, "age"] = log.loc[hit, "age"] * AGE_BUG_FACTOR


def inject_unseen_category(log: pd.DataFrame, seed: int) -> int:
    """Effect (c), in place: from GIG_FIRST_WEEK, GIG_SHARE of each week's rows (drawn
    among its "Private" rows) get workclass "Gig-platform". Returns the rows changed."""
    rng = _rng(seed, "gig-platform")
    changed = 0
    for week in range(GIG_FIRST_WEEK, N_WEEKS + 1):
        in_week = log["week"] == week
        candidates = log.index[in_week & (log["workclass"] == GIG_REPLACES)]
        k = round(GIG_SHARE * in_week.sum())
        log.loc[rng.choice(candidates, size=k, replace=False), "workclass"] = GIG_VALUE
        changed += k
    return changed


def inject_concept_drift(log: pd.DataFrame, seed: int) -> int:
    """Effect (e), in place: in CONCEPT_DRIFT_WEEKS, CONCEPT_DRIFT_FLIP_SHARE of the
    "<=50K" rows of CONCEPT_DRIFT_QUERY become ">50K" (features untouched, so the
    model's scores do not move). Returns the number of labels flipped."""
    negatives = log.index[
        log["week"].isin(CONCEPT_DRIFT_WEEKS).to_numpy()
        & log.eval(CONCEPT_DRIFT_QUERY).to_numpy()
        & (log[TARGET] == NEGATIVE).to_numpy()
    ]
    k = round(CONCEPT_DRIFT_FLIP_SHARE * len(negatives))
    log.loc[_rng(seed, "concept-drift").choice(negatives, size=k, replace=False), TARGET] = POSITIVE
    return k


def build_traffic(test: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, dict]:
    """adult.test as 12 weeks of logged requests, with effects (a)-(e) injected.

    Output: one row per replayed request sorted by time, with request_id, ts, week
    (helper, dropped before writing), features and income (ground truth; None in
    UNLABELLED_WEEKS), plus counts of what was changed.
    """
    log = test.copy()
    log["week"] = assign_weeks(test, seed)
    log = log[log["week"] > 0].copy()
    log["ts"] = sample_timestamps(log["week"].to_numpy(), seed).to_numpy()
    log = log.sort_values("ts", kind="stable").reset_index(drop=True)
    log.insert(0, "request_id", [f"req-{i:06d}" for i in range(1, len(log) + 1)])

    inject_age_unit_bug(log)
    n_gig = inject_unseen_category(log, seed)
    n_flipped = inject_concept_drift(log, seed)
    log[TARGET] = log[TARGET].astype(object).where(~log["week"].isin(UNLABELLED_WEEKS), None)
    return log, {"gig_rows": n_gig, "flipped_labels": n_flipped}


def serve_stale_scores(log: pd.DataFrame, score: np.ndarray) -> np.ndarray:
    """Effect (f): the scores the buggy champion API returned, given the model's ones.

    Inputs: time-sorted requests and the model's score for each. Output: the same
    scores, except that each request in WEAK_SLICE_QUERY gets the score of the
    previous request of the slice (a response cache keyed on too few fields); the
    slice's very first request keeps its own. Within the slice the served score is
    thus unrelated to the request's own features: AUC ~0.5, mean score unchanged.
    """
    served = score.copy()
    idx = np.flatnonzero(log.eval(WEAK_SLICE_QUERY).to_numpy())
    served[idx[1:]] = score[idx[:-1]]
    return served


def score_log(log: pd.DataFrame, model: Pipeline, model_version: str, seed: int) -> pd.DataFrame:
    """The rows of ``log`` as ``model_version`` logged them: score, predicted, latency.

    ``log`` must be sorted by time. Only the champion's API has the caching bug (f);
    the challenger's shadow path calls its model directly.
    """
    out = log.copy()
    out["score"] = positive_score(model, out)
    if model_version == CHAMPION:
        out["score"] = serve_stale_scores(out, out["score"].to_numpy())
    out["predicted"] = label_of(out["score"].to_numpy())
    out["model_version"] = model_version
    out["latency_ms"] = sample_latency(out["ts"], model_version, seed)
    return out


def build_predictions(
    test: pd.DataFrame, champion: Pipeline, challenger: Pipeline, seed: int
) -> tuple[pd.DataFrame, dict]:
    """The production log: champion rows for every request, challenger shadow rows for
    the requests of weeks >= SHADOW_FIRST_WEEK (same request_id, ts, features, income).
    Scores are the models' outputs on the logged (possibly corrupted) features, except
    the champion's stale scores inside the weak slice (effect f)."""
    traffic, counts = build_traffic(test, seed)
    champ = score_log(traffic, champion, CHAMPION, seed)
    shadow = score_log(traffic[traffic["week"] >= SHADOW_FIRST_WEEK], challenger, CHALLENGER, seed)
    log = pd.concat([champ, shadow], ignore_index=True)
    # requests in time order; for each, the champion row first, then its shadow row
    log["shadow_row"] = log["model_version"] == CHALLENGER
    log = log.sort_values(["ts", "request_id", "shadow_row"])
    return log[PREDICTION_COLUMNS].reset_index(drop=True), counts


def build_reference(reference: pd.DataFrame, champion: Pipeline) -> pd.DataFrame:
    """Held-out adult.data rows with the champion's score and hard prediction."""
    out = reference[FEATURES + [TARGET]].reset_index(drop=True)
    out["score"] = positive_score(champion, out)
    out["predicted"] = label_of(out["score"].to_numpy())
    out["model_version"] = CHAMPION
    return out[REFERENCE_COLUMNS]


# =========================================================================== outputs
def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet, zstd-compressed, no pandas index (small and byte-stable)."""
    df.to_parquet(path, engine="pyarrow", compression="zstd", index=False)


def auc(labels: pd.Series, score: pd.Series) -> float:
    """ROC AUC of ``score`` for ">50K" over rows with a known label (NaN if undefined)."""
    known = labels.notna()
    y = labels[known] == POSITIVE
    return float(roc_auc_score(y, score[known])) if y.nunique() == 2 else float("nan")


def audit_yaml(reference: pd.DataFrame, predictions: pd.DataFrame) -> str:
    """Text of audit.yaml; the card quotes AUCs measured on the two data sets."""
    overall = auc(reference[TARGET], reference["score"])
    champ = predictions[predictions["model_version"] == CHAMPION]
    in_slice = champ.eval(WEAK_SLICE_QUERY)
    slice_auc = auc(champ.loc[in_slice, TARGET], champ.loc[in_slice, "score"])
    rest_auc = auc(champ.loc[~in_slice, TARGET], champ.loc[~in_slice, "score"])
    features = ", ".join(FEATURES)
    return f"""\
# Sightline audit of the bundled sample (generated by make_sample.py -- do not edit by hand).
name: Adult income classifier
version: "1.0"
task: binary
positive_label: ">50K"
current: predictions.parquet
reference: reference.parquet
model: model.skops
primary_version: {CHAMPION}
columns:
  target: income
  prediction: predicted
  score: score
  timestamp: ts
  model_version: model_version
  latency_ms: latency_ms
  id: request_id
  features: [{features}]
  sensitive: [sex, race]
fairness:
  reference_groups: {{sex: Male, race: White}}
  min_group_size: 30
card:
  overview: >-
    Gradient-boosted trees (scikit-learn HistGradientBoostingClassifier on one-hot
    encoded categoricals) that estimate the probability that a person's yearly income
    exceeds 50,000 USD from 13 attributes of the 1994 US Census (UCI Adult, Becker &
    Kohavi 1996, https://doi.org/10.24432/C5XW20, CC BY 4.0). Validation ROC AUC
    {overall:.3f}. This is demonstration material: production traffic is the Adult test
    split replayed as 12 weeks from 2026-06-01 with deliberately injected problems,
    documented in sample_data/README.md.
  owners: [{{name: Sightline sample team, contact: sample@example.org}}]
  use_cases:
    - Demonstrating and testing Sightline's monitoring, drift, slice, fairness and model-comparison panels.
    - Teaching material for a responsible-AI review of a tabular classifier.
    - "Out of scope: any real decision about a person (credit, hiring, pay, benefits)."
  limitations:
    - Trained on 1994 US Census data; incomes, prices and the population have changed, so the scores are not valid today.
    - "Known serving incident: for education = Bachelors and occupation = Prof-specialty (about 4.6% of requests) the champion API returned a cached score of another request, in all 12 weeks (production AUC {slice_auc:.2f} there vs {rest_auc:.2f} elsewhere). Offline (reference) scores are not affected; the challenger's shadow path is not affected."
    - "Synthetic production problems: the population grows older from week 7; age was logged in months in week 4; an unseen workclass 'Gig-platform' appears from week 9; the positive rate rises (label shift) and Sales/Adm-clerical incomes rise (concept drift) in weeks 9-10; two latency incidents."
    - Ground truth arrives late; weeks 11-12 (2026-08-10 to 2026-08-23) have no labels yet, so their performance can only be estimated.
    - Calibration and the 0.5 threshold were not tuned for any particular cost of errors.
  ethical_considerations:
    - name: Sex and race are model inputs and the census labels encode historical pay gaps.
      mitigation_strategy: Report selection rate and TPR by sex and race against the Male and White reference groups at every review; do not use the scores to allocate opportunities.
    - name: Small groups (e.g. Amer-Indian-Eskimo, Other) give unstable metrics.
      mitigation_strategy: Groups under 30 rows are not compared (min_group_size); show confidence intervals.
    - name: Synthetic traffic could be mistaken for real monitoring results.
      mitigation_strategy: The injected effects are documented in sample_data/README.md and checked by tests/test_sample_data.py.
"""


def build_sample(out_dir: Path, seed: int = 0, raw_dir: Path = RAW_DIR) -> dict:
    """Generate the sample audit into ``out_dir`` and describe what was injected.

    Inputs: output directory (created if missing), seed of every random step, folder
    with the raw adult.data.gz / adult.test.gz. Output files: model.skops,
    reference.parquet, predictions.parquet, audit.yaml. Returns a plain dict (weeks,
    queries, sizes, row counts) that the README and the tests refer to.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_adult(Path(raw_dir) / "adult.data.gz")
    test = load_adult(Path(raw_dir) / "adult.test.gz")

    # Single-threaded: the models' floating-point sums (hence every score) then do not
    # depend on the machine's core count, and small data gains nothing from OpenMP.
    with threadpool_limits(limits=1):
        train, held_out = split_train_reference(data, seed)
        champion, challenger = train_models(train, seed)
        reference = build_reference(held_out, champion)
        predictions, counts = build_predictions(test, champion, challenger, seed)
        save_model(champion, out_dir / "model.skops", check_rows=reference)

    write_parquet(reference, out_dir / "reference.parquet")
    write_parquet(predictions, out_dir / "predictions.parquet")
    audit = audit_yaml(reference, predictions)
    yaml.safe_load(audit)  # fail here, not in the dashboard, if the template breaks
    (out_dir / "audit.yaml").write_text(audit, encoding="utf-8")

    is_champion = predictions["model_version"] == CHAMPION
    return {
        "seed": seed,
        "start": START.isoformat(),
        "n_weeks": N_WEEKS,
        "rows": {
            "train": len(train),
            "reference": len(reference),
            "champion": int(is_champion.sum()),
            "challenger": int((~is_champion).sum()),
            "test_rows_not_replayed": len(test) - int(is_champion.sum()),
        },
        "covariate_shift": {
            "column": "age", "weeks": sorted(AGE_TILT_RATIO),
            "weight": "1 + (ratio - 1) * sigmoid((age - 40) / 5)",
            "ratio_by_week": {w: round(r, 3) for w, r in AGE_TILT_RATIO.items()},
        },
        "age_unit_bug": {"column": "age", "week": AGE_BUG_WEEK, "factor": AGE_BUG_FACTOR},
        "unseen_category": {
            "column": "workclass", "value": GIG_VALUE, "replaces": GIG_REPLACES,
            "weeks": list(range(GIG_FIRST_WEEK, N_WEEKS + 1)), "share_of_rows": GIG_SHARE,
            "rows": counts["gig_rows"],
        },
        "label_shift": {
            "weeks": list(LABEL_SHIFT_WEEKS), "sampled_positive_rate": LABEL_SHIFT_TARGET_RATE,
        },
        "concept_drift": {
            "weeks": list(CONCEPT_DRIFT_WEEKS), "query": CONCEPT_DRIFT_QUERY,
            "flip_share_of_negatives": CONCEPT_DRIFT_FLIP_SHARE,
            "flipped_labels": counts["flipped_labels"],
        },
        "weak_slice": {
            "query": WEAK_SLICE_QUERY,
            "model_version": CHAMPION,
            "cause": "served score = model score of the previous request in the slice",
        },
        "shadow": {
            "model_version": CHALLENGER,
            "weeks": list(range(SHADOW_FIRST_WEEK, N_WEEKS + 1)),
        },
        "unlabelled_weeks": list(UNLABELLED_WEEKS),
        "latency_incidents": [dict(i) for i in LATENCY_INCIDENTS],
        "latency_median_ms": dict(LATENCY_MEDIAN_MS),
    }


# =========================================================================== summary
def weekly_summary(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per-week figures of the production log, the ones README.md quotes.

    Champion rows define traffic; challenger AUC comes from the shadow rows.
    ``mean_age`` is as logged (months in week 4), ``mean_age_years`` undoes the bug.
    Rates and AUCs are over labelled rows only.
    """
    log = predictions.assign(week=week_of(predictions["ts"]))
    rows = []
    for week, g in log.groupby("week"):
        c = g[g["model_version"] == CHAMPION]
        s = g[g["model_version"] == CHALLENGER]
        labelled = c[TARGET].notna()
        seg = c.eval(CONCEPT_DRIFT_QUERY)
        weak = c.eval(WEAK_SLICE_QUERY)
        years = c["age"] / (AGE_BUG_FACTOR if week == AGE_BUG_WEEK else 1)
        rows.append({
            "week": week,
            "starts": (START + pd.Timedelta(weeks=week - 1)).date().isoformat(),
            "requests": len(c),
            "shadow": len(s),
            "labelled": labelled.mean(),
            "mean_age": c["age"].mean(),
            "mean_age_years": years.mean(),
            "share_age_50+": (years >= 50).mean(),
            "positive_rate": (c.loc[labelled, TARGET] == POSITIVE).mean() if labelled.any() else np.nan,
            "predicted_positive": (c["predicted"] == POSITIVE).mean(),
            "gig_share": (c["workclass"] == GIG_VALUE).mean(),
            "auc_champion": auc(c[TARGET], c["score"]),
            "auc_challenger": auc(s[TARGET], s["score"]) if len(s) else np.nan,
            "weak_slice_n": int(weak.sum()),
            "weak_slice_auc": auc(c.loc[weak, TARGET], c.loc[weak, "score"]),
            "segment_positive_rate": (c.loc[seg & labelled, TARGET] == POSITIVE).mean()
            if labelled.any() else np.nan,
            "segment_auc": auc(c.loc[seg, TARGET], c.loc[seg, "score"]),
            "latency_p50": c["latency_ms"].median(),
            "latency_p99": c["latency_ms"].quantile(0.99),
        })
    return pd.DataFrame(rows).set_index("week")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: sample_data/)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    info = build_sample(args.out, seed=args.seed)
    predictions = pd.read_parquet(args.out / "predictions.parquet")
    reference = pd.read_parquet(args.out / "reference.parquet")
    print(f"wrote {args.out}: rows {info['rows']}")
    print(f"reference AUC {auc(reference[TARGET], reference['score']):.3f}, "
          f"positive rate {(reference[TARGET] == POSITIVE).mean():.3f}, "
          f"mean age {reference['age'].mean():.1f}")
    with pd.option_context("display.width", 250, "display.max_columns", 30,
                           "display.float_format", "{:.3f}".format):
        print(weekly_summary(predictions))


if __name__ == "__main__":
    main()
