"""Every page runs on the bundled sample without an exception (Streamlit's official smoke test)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.state import SPEC_KEY

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


def _app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    return at


def test_the_app_opens_on_the_overview_of_the_sample():
    at = _app()
    assert not at.exception, [e.value for e in at.exception]
    assert "Adult income classifier" in at.title[0].value
    labels = [m.label for m in at.metric]
    assert "Logged predictions" in labels and "Label coverage (champion-1.0)" in labels
    logged = next(m for m in at.metric if m.label == "Logged predictions")
    import pandas as pd

    assert logged.value == f"{len(pd.read_parquet(ROOT / 'sample_data' / 'predictions.parquet')):,}"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(page):
    at = _app()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_data_page_reopens_the_sample_and_offers_the_audit_file():
    at = _app()
    at.switch_page("pages/data.py")
    at.run()
    button = next(b for b in at.button if b.label == "Open the bundled sample")
    button.click().run()
    assert not at.exception
    assert any("income" in c.value for c in at.code)


def test_a_broken_audit_explains_itself_and_the_data_page_still_works(tmp_path):
    from sightline.data.spec import load_spec

    spec = load_spec(ROOT / "sample_data" / "audit.yaml")
    (tmp_path / "empty.csv").write_text("")
    broken = spec.replace(current=spec.current.__class__(path=str(tmp_path / "empty.csv")))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[SPEC_KEY] = broken
    at.run()
    assert not at.exception
    assert any("empty" in e.value for e in at.error)
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    assert any(b.label == "Open the bundled sample" for b in at.button)


def test_a_log_opened_by_path_is_mapped_with_suggestions_and_opens(tmp_path):
    import pandas as pd

    log = pd.read_parquet(ROOT / "sample_data" / "predictions.parquet").head(300)
    path = tmp_path / "my_log.csv"
    log.to_csv(path, index=False)
    at = _app()
    at.switch_page("pages/data.py")
    at.run()
    at.text_input(key="path_input").input(str(path)).run()
    assert not at.exception
    # suggestions are pre-filled from names and content
    assert at.selectbox(key="path_score").value == "score"
    assert at.selectbox(key="path_timestamp").value == "ts"
    assert at.selectbox(key="path_target").value == "income"
    submit = next(b for b in at.button if b.label == "Open this audit")
    submit.click().run()
    assert not at.exception
    spec = at.session_state[SPEC_KEY]
    assert spec.current.path == str(path) and spec.columns.score == "score"
    assert spec.positive_label == ">50K" and "sex" in spec.columns.sensitive
