"""The Model card page in AppTest: it renders on the sample, the form is pre-filled from the audit
file, edits reach the preview and are saved into the open audit, and a saved card's written
sections load back into the form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components import card_form
from components.state import SPEC_KEY
from sightline.card.fields import CardFields, Owner, Risk, fields_from_model_card

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.switch_page("pages/model_card.py")
    at.run()
    return at


def _text_area(at, label):
    return next(t for t in at.text_area if t.label == label)


def _preview(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("### Model card:"))


def test_page_renders_the_card_of_the_sample(app, sample_spec):
    assert not app.exception
    assert app.title[0].value == "Model card"
    assert [h.value for h in app.subheader] == ["Written sections", "Save", "Status", "Preview"]
    # The card's status leads with the sample's red areas; the empty sections and the missing sign-off follow.
    assert app.error[0].value.startswith("**Problem.** 3 analysis area(s) report a problem (Slices, Fairness, Drift)")
    status = next(c.value for c in app.caption if "written section(s) of the card are empty" in c.value)
    assert "intended users, trade-offs" in status and "Not signed off yet" in status
    preview = _preview(app)
    headings = ["#### Summary", "#### Model details", "#### Intended use", "#### Factors", "#### Metrics", "#### Evaluation data",
                "#### Training data", "#### Quantitative analyses", "#### Ethical considerations",
                "#### Caveats and recommendations", "#### Sign-off", "#### Appendix A. Detailed tables",
                "#### Appendix B. Methods and settings per area", "#### Appendix C. Provenance"]
    assert sorted(headings, key=preview.index) == headings  # every section, in Mitchell et al.'s order
    assert "data:image/png" not in preview  # the preview lists charts; the files draw them


def test_form_is_prefilled_from_the_audit_file(app, sample_spec):
    assert _text_area(app, "Overview").value == sample_spec.card["overview"]
    assert _text_area(app, "Limitations").value.splitlines() == list(sample_spec.card["limitations"])
    assert next(t for t in app.text_input if t.label == "Model name").value == sample_spec.name
    assert [b.label for b in app.main.button] == ["Save into the open audit"]
    assert app.main.button[0].disabled  # nothing changed yet
    assert any("never overwritten" in c.value for c in app.caption)  # the bundled sample's file is safe


def test_edits_reach_the_preview_and_save_into_the_open_audit(app):
    _text_area(app, "Intended users").set_value("Credit-risk reviewers\nModel auditors").run()
    assert not app.exception
    assert "- Model auditors" in _preview(app)
    assert not app.main.button[0].disabled
    app.main.button[0].click().run()
    assert not app.exception
    spec = app.session_state[SPEC_KEY]
    assert spec.card["users"] == ["Credit-risk reviewers", "Model auditors"]
    assert spec.card["overview"]  # the other sections are kept
    assert all("intended users" not in c.value for c in app.caption)


def test_a_saved_card_loads_back_into_the_form(app):
    # A card's written sections as another session saved them, read back the way the uploader does.
    saved = CardFields(name="Adult income classifier", version="1.1", overview="Round-tripped overview.",
                       owners=(Owner("Audit team", "audit@example.org"),), users=("Reviewers",),
                       tradeoffs=("Fewer false positives at the cost of recall.",),
                       ethical_considerations=(Risk("Proxy discrimination.", "Quarterly fairness review."),))
    card_json = json.dumps({"model_details": {"name": saved.name, "overview": saved.overview, "version": {"name": "1.1"},
                                              "owners": [{"name": "Audit team", "contact": "audit@example.org"}]},
                            "considerations": {"users": [{"description": "Reviewers"}],
                                               "tradeoffs": [{"description": saved.tradeoffs[0]}],
                                               "ethical_considerations": [{"name": "Proxy discrimination.",
                                                                           "mitigation_strategy": "Quarterly fairness review."}]}})
    loaded = fields_from_model_card(json.loads(card_json))
    assert loaded == saved
    # What the uploader's callback does with it: start a new form generation from the loaded fields.
    app.session_state[card_form.INITIAL_KEY] = loaded
    app.session_state[card_form.DRAFT_KEY] = loaded
    app.session_state[card_form.GENERATION_KEY] = app.session_state[card_form.GENERATION_KEY] + 1
    app.run()
    assert not app.exception
    assert _text_area(app, "Overview").value == "Round-tripped overview."
    assert _text_area(app, "Trade-offs").value == saved.tradeoffs[0]
    assert next(t for t in app.text_input if t.label == "Version").value == "1.1"
    assert "Round-tripped overview." in _preview(app)


def test_the_sign_off_entered_on_the_form_reaches_the_preview_and_the_audit(app):
    app.text_input(key=_key(app, "approver")).set_value("Jane Doe, Head of Model Risk")
    app.text_input(key=_key(app, "approval_date")).set_value("2026-09-01")
    app.selectbox(key=_key(app, "decision")).set_value("approved with conditions")
    app.text_area(key=_key(app, "decision_notes")).set_value("Fix the serving incident first.").run()
    assert not app.exception
    preview = _preview(app)
    assert "| Approver | Jane Doe, Head of Model Risk |" in preview and "| Decision | Approved with conditions |" in preview
    assert "**Sign-off:** Approved with conditions by Jane Doe, Head of Model Risk on 2026-09-01." in preview
    next(b for b in app.main.button if b.label == "Save into the open audit").click().run()
    assert not app.exception
    assert app.session_state[SPEC_KEY].card["sign_off"] == {"approver": "Jane Doe, Head of Model Risk", "date": "2026-09-01",
                                                             "decision": "approved with conditions",
                                                             "notes": "Fix the serving incident first."}


def test_a_bad_decision_date_is_named_and_blocks_the_downloads(app):
    app.text_input(key=_key(app, "approval_date")).set_value("1 September").run()
    assert not app.exception
    assert any("'card.sign_off.date' must be a date written YYYY-MM-DD" in e.value for e in app.error)
    downloads = app.get("download_button")
    assert len(downloads) >= 4 and all(b.proto.disabled for b in downloads)
    app.text_input(key=_key(app, "approval_date")).set_value("2026-09-01").run()


def _key(at, name: str) -> str:
    """The widget key of form field ``name`` in the form's current generation."""
    return f"card_form.{at.session_state[card_form.GENERATION_KEY]}.{name}"


def _form_with_broken_card_section():
    # Runs as its own script inside this process, where conftest put the project on sys.path.
    from components import card_form
    from sightline.data.spec import spec_from_dict

    spec = spec_from_dict({"name": "Broken card", "task": "regression", "current": "x.csv",
                           "card": {"owners": 5, "overview": "kept?"}})
    card_form.sync_with_spec(spec)
    card_form.card_form()


def test_a_malformed_card_section_is_explained_not_a_traceback():
    at = AppTest.from_function(_form_with_broken_card_section, default_timeout=60)
    at.run()
    assert not at.exception
    assert "'card.owners' must be a list" in at.error[0].value
    assert next(t for t in at.text_input if t.label == "Model name").value == "Broken card"


def test_save_to_the_audit_file_on_the_server_keeps_a_backup(app, tmp_path, sample_spec):
    import shutil

    from sightline.data.spec import load_spec

    for name in ("predictions.parquet", "reference.parquet", "model.skops"):
        shutil.copy(sample_spec.base_dir / name, tmp_path / name)
    original = (sample_spec.base_dir / "audit.yaml").read_text(encoding="utf-8")
    (tmp_path / "audit.yaml").write_text(original, encoding="utf-8")
    app.session_state[SPEC_KEY] = load_spec(tmp_path / "audit.yaml")
    app.run()
    assert not app.exception
    save = next(b for b in app.button if b.label.startswith("Save to "))
    assert save.label == f"Save to {tmp_path / 'audit.yaml'}"
    save.click().run()
    assert not app.exception
    backup, = tmp_path.glob("audit.yaml.*.bak")
    assert backup.read_text(encoding="utf-8") == original
    saved = load_spec(tmp_path / "audit.yaml")
    assert saved.card == sample_spec.card and saved.columns == sample_spec.columns and saved.name == sample_spec.name
    assert (sample_spec.base_dir / "audit.yaml").read_text(encoding="utf-8") == original  # the sample itself is untouched


def test_the_charts_drawn_for_the_files_can_be_shown(app, sample_audit):
    from sightline.card.build import chart_outlines
    from sightline.report.registry import build_report

    toggle = next(t for t in app.toggle if t.label.startswith("Show the"))
    outlines, _ = chart_outlines(build_report(sample_audit))
    assert toggle.label == f"Show the {len(outlines)} charts as drawn in the files"
    assert not _images(app)  # drawn only on request: the page shows the card first
    toggle.set_value(True).run()
    assert not app.exception
    images = _images(app)
    assert len(images) == len(outlines) > 10
    assert [i.proto.imgs[0].caption for i in images] == [g.title for g in outlines]


def _images(at) -> list:
    from streamlit.testing.v1.element_tree import Image

    return [e for e in at.main if isinstance(e, Image)]
