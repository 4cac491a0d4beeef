"""Every page, on a binary, a multiclass and a regression audit, says its numbers in words people
read: no ``None``/``nan`` leaking from a missing value, no scientific notation (``5.04e+03``),
and no thousands separator inside a year (``1,993``: one of the year column's values).

The binary audit is the bundled sample; the multiclass (an HR log: ``status``, per-class
probabilities, sensitive ``gender``, ``hire_year``) and regression ones (apartments: ``m2_price``
in the thousands, ``year_built`` 1950–2020, sensitive ``district``, a skops model) are made here.
Each page runs through app.py with AppTest; the words checked are every markdown, caption, alert,
heading, metric and text cell of every table (numeric cells are formatted by the browser).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py"))

MISSING = re.compile(r"\bNone\b|\bnan\b|\bNaN\b")
SCIENTIFIC = re.compile(r"\d\.\d+e[+-]\d+")
YEAR_WITH_SEPARATOR = re.compile(r"\b1,[89]\d\d\b|\b2,0\d\d\b")
# The year columns of the made-up audits: a "1,9xx" is a year with a separator when it is one of
# their values (a price of 1,930 is not a year; a count never reaches 1,000 in these audits).
YEAR_COLUMNS = {"multiclass": ("hire_year",), "regression": ("year_built",)}


def make_hr(folder: Path, n: int = 900, seed: int = 1) -> Path:
    """A multiclass HR log (fired / ok / promoted) with a reference, no model."""
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.uniform(0, 84, n), unit="D")
    df = pd.DataFrame({"employee_id": [f"e{i}" for i in range(n)], "ts": ts, "tenure_years": rng.integers(0, 30, n),
                       "salary": rng.normal(52_000, 12_000, n).round(0), "gender": rng.choice(["Female", "Male"], n),
                       "hire_year": rng.integers(1990, 2025, n)})
    z = 0.05 * df["tenure_years"] + (df["salary"] - 52_000) / 20_000 + rng.normal(0, 1, n)
    df["status"] = np.where(z < -0.8, "fired", np.where(z > 1.2, "promoted", "ok"))
    right = rng.random(n) < 0.75
    df["predicted"] = np.where(right, df["status"], rng.choice(["fired", "ok", "promoted"], n))
    confidence = np.clip(np.where(right, 0.8, 0.5) + rng.normal(0, 0.08, n), 0.34, 0.99)
    for c in ("fired", "ok", "promoted"):
        df[f"proba_{c}"] = np.where(df["predicted"] == c, confidence, (1 - confidence) / 2)
    df["confidence"] = confidence
    df.to_csv(folder / "hr.csv", index=False)
    df.sample(400, random_state=seed).to_csv(folder / "hr_ref.csv", index=False)
    (folder / "hr.yaml").write_text(
        "name: HR outcomes\ntask: multiclass\ncurrent: hr.csv\nreference: hr_ref.csv\n"
        "columns:\n  target: status\n  prediction: predicted\n  score: confidence\n  timestamp: ts\n  id: employee_id\n"
        "  features: [tenure_years, salary, gender, hire_year]\n  sensitive: [gender]\n", encoding="utf-8")
    return folder / "hr.yaml"


def make_apartments(folder: Path, n: int = 900, seed: int = 2) -> Path:
    """A regression log of apartment prices per m² (thousands) with a skops model; the reference
    is built 8 years earlier (year_built drifts), and Bielany's prices are over-predicted."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.uniform(0, 84, n), unit="D")
    df = pd.DataFrame({"listing_id": [f"a{i}" for i in range(n)], "ts": ts,
                       "district": rng.choice(["Bielany", "Mokotow", "Wola", "Praga"], n, p=[0.3, 0.3, 0.25, 0.15]),
                       "year_built": rng.integers(1950, 2021, n), "area_m2": rng.uniform(25, 120, n).round(1),
                       "rooms": rng.integers(1, 6, n)})
    base = df["district"].map({"Bielany": 11_000, "Mokotow": 15_000, "Wola": 14_000, "Praga": 10_000})
    df["m2_price"] = (base + 40 * (df["year_built"] - 1985) - 10 * df["area_m2"] + rng.normal(0, 900, n)).round(0)
    inputs = df[["district", "year_built", "area_m2", "rooms"]]
    model = Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["district"])],
                                                 remainder="passthrough")), ("reg", Ridge())]).fit(inputs, df["m2_price"])
    df["predicted_price"] = model.predict(inputs).round(0)
    df.loc[df["district"] == "Bielany", "predicted_price"] += 1500
    df["latency_ms"] = rng.gamma(2, 20, n).round(1)
    sio.dump(model, folder / "apartments.skops")
    df.to_csv(folder / "apartments.csv", index=False)
    ref = df.sample(400, random_state=seed)
    ref["year_built"] = ref["year_built"] - 8
    ref.to_csv(folder / "apartments_ref.csv", index=False)
    (folder / "apartments.yaml").write_text(
        "name: Apartment prices\ntask: regression\ncurrent: apartments.csv\nreference: apartments_ref.csv\n"
        "model: apartments.skops\ncolumns:\n  target: m2_price\n  prediction: predicted_price\n  timestamp: ts\n"
        "  id: listing_id\n  latency_ms: latency_ms\n  features: [district, year_built, area_m2, rooms]\n"
        "  sensitive: [district]\n", encoding="utf-8")
    return folder / "apartments.yaml"


def page_words(at: AppTest, page: str) -> list[str]:
    """Every piece of text the page shows: prose, headings, metrics and the text cells of its tables
    (the Data page's preview of the raw log is the user's own data, shown as it is)."""
    out = [str(e.value) for kind in ("markdown", "caption", "error", "warning", "info", "success", "subheader", "title")
           for e in getattr(at, kind)]
    out += [f"{m.label}: {m.value} {m.delta or ''}" for m in at.metric]
    if page != "data":
        for table in at.dataframe:
            frame = table.value
            out += [str(c) for c in frame.columns]
            for c in frame.columns:
                if frame[c].dtype == object:
                    out += [str(v) for v in frame[c].dropna()]
                    if frame[c].isna().any():
                        out.append(f"None (an empty text cell in column {c})")
    return out


def render_all(spec) -> dict[str, list[str]]:
    from components.state import SPEC_KEY

    words = {}
    for page in PAGES:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        if spec is not None:
            at.session_state[SPEC_KEY] = spec
        at.switch_page(f"pages/{page}.py")
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        words[page] = page_words(at, page)
    return words


CARD_PREVIEW = "### Model card:"  # the Model card page's preview of the card document


def offences(words: dict[str, list[str]], years: set[int] = frozenset()) -> list[str]:
    """Each text with a missing value, scientific notation or one of ``years`` written with a
    thousands separator, with the 60 characters around it. The card document previewed on the
    Model card page is the card renderer's (its own tests check its tables); the page around it
    is checked here."""
    checks = [("missing value", MISSING), ("scientific notation", SCIENTIFIC), ("year with a separator", YEAR_WITH_SEPARATOR)]
    out = []
    for page, texts in words.items():
        for text in texts:
            if text.startswith(CARD_PREVIEW):
                continue
            for what, pattern in checks:
                for m in pattern.finditer(text):
                    if what != "year with a separator" or int(m.group(0).replace(",", "")) in years:
                        out.append(f"{page}: {what}: …{text[max(m.start() - 60, 0):m.end() + 60]}…")
                        break
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every page's words per task, rendered once for the module: {task: (words, year values)}."""
    from sightline.data.spec import load_spec

    cache = {}

    def render(task: str):
        if task not in cache:
            folder = tmp_path_factory.mktemp(task)
            spec = None if task == "binary" else load_spec((make_hr if task == "multiclass" else make_apartments)(folder))
            years = set()
            for name in ("current", "reference") if spec is not None else ():
                frame = pd.read_csv(folder / getattr(spec, name).path)
                years |= {int(v) for c in YEAR_COLUMNS[task] for v in frame[c].dropna().unique()}
            cache[task] = (render_all(spec), years)
        return cache[task]
    return render


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_every_page_writes_numbers_people_read(task, rendered):
    words, years = rendered(task)
    assert sum(len(t) for t in words.values()) > 100  # the pages did render their text
    found = offences(words, years)
    assert not found, "\n".join(found)


def test_regression_fairness_speaks_of_groups_not_people_and_quotes_real_intervals(rendered):
    words, _ = rendered("regression")
    text = "\n".join(words["fairness"])
    assert "people" not in text and "women" not in text
    assert "district = Bielany" in text
    # the error ratio has an interval (delta method), and the sentence quotes it
    assert re.search(r"ratio 0\.\d\d, 95% CI 0\.\d\d–0\.\d\d", text)


def test_the_checks_catch_what_they_look_for():
    found = offences({"drift": ["median moved from 1,977 to 1,984", "ratio nan", "MAE 1.54e+03", "Mean score: None"],
                      "performance": ["error 1,930 against 2,273"]}, years={1977, 1984})
    assert [f.split(":")[1].strip() for f in found] == ["year with a separator", "missing value", "scientific notation",
                                                        "missing value"]
