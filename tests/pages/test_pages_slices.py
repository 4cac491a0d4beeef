"""The Slices page runs through app.py's navigation (AppTest) on the sample and on bad input.

The page is selected before the first run so the Overview (which computes every area) is not
run first; the page still goes through app.py, its navigation and sidebar.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_slices(spec=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if spec is not None:
        from components.state import SPEC_KEY

        at.session_state[SPEC_KEY] = spec
    at.switch_page("pages/slices.py")
    at.run()
    return at


@pytest.fixture(scope="module")
def page():
    return open_slices()


def test_page_renders_verdict_discovery_table_and_simpson(page):
    at = page
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert headers == ["Worst slices found automatically", "Explore metrics per slice", "Two model versions: Simpson's paradox check"]
    verdict = (at.error or at.warning or at.success)[0].value
    assert "significantly worse" in verdict and "education = Bachelors and occupation = Prof-specialty" in verdict
    text = " ".join(m.value for m in at.markdown)
    assert "education = Bachelors and occupation = Prof-specialty (n=" in text  # the plain-language list
    assert len(at.dataframe) >= 3  # worst slices, one table per default column, Simpson tables
    assert at.multiselect(key="slices.columns").value[:2] == ["sex", "race"]
    assert any("Simpson" in s.value for s in list(at.success) + list(at.warning))
    assert at.selectbox(key="slices.simpson_column").value in at.multiselect(key="slices.columns").options


def test_controls_change_the_view(page):
    at = page
    at.radio(key="slices.combine").set_value("intersections of the chosen columns").run()
    assert not at.exception
    assert any(t.label == "sex × race × education" for t in at.expander) or any("sex × race × education" in c.value for c in at.caption)
    at.selectbox(key="slices.metric").set_value("roc_auc").run()
    assert not at.exception
    at.number_input(key="slices.min_size").set_value(5000).run()  # every intersection is now too small
    assert not at.exception
    assert any("greyed out" in c.value for c in at.caption)
    at.multiselect(key="slices.columns").set_value(["age"]).run()
    assert not at.exception and any("two or three columns" in i.value for i in at.info)
    at.radio(key="slices.combine").set_value("each column on its own").run()
    at.slider(key="slices.n_bins").set_value(3).run()
    assert not at.exception
    assert any("3 slices of **age**" in c.value for c in at.caption)


def test_page_without_labels_explains_what_it_needs(tmp_path, sample_audit):
    from sightline.data.spec import spec_from_dict, spec_to_dict

    log = sample_audit.current.head(300).assign(income=None)
    log.to_parquet(tmp_path / "log.parquet")
    data = spec_to_dict(sample_audit.spec)
    data.update(current="log.parquet")
    for key in ("reference", "model"):
        data.pop(key, None)
    spec = spec_from_dict(data, base_dir=tmp_path)
    at = open_slices(spec)
    assert not at.exception
    assert any("needs true outcomes" in i.value for i in at.info)
    assert not at.dataframe
    assert pd.read_parquet(tmp_path / "log.parquet")["request_id"].tolist() == log["request_id"].tolist()  # untouched


def test_small_slices_are_greyed_in_the_table():
    from components.slices import _styled
    from sightline.slices.tables import slice_table

    frame = pd.DataFrame({"g": ["a"] * 40 + ["b"] * 5})
    y = [1, 0] * 20 + [1] * 5
    table = slice_table(frame, ["g"], y_true=y, y_pred=[1] * 45, min_size=30)
    ctx = _styled(table, "accuracy", 30)._compute().ctx
    grey_rows = {row for (row, _), styles in ctx.items() if ("color", "#9e9e9e") in styles}
    assert grey_rows == {int(table.index[table["slice"] == "g=b"][0])}
