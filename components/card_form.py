"""The model card form: the qualitative sections, pre-filled from the audit file or a saved card.

Widgets are keyed by a *generation* number: loading other values (a saved card, a newly opened
audit) starts a new generation, so every widget shows the new values without fighting Streamlit's
widget state. Lists are edited one item per line; owners and ethical considerations in tables; the
reviewer's sign-off (approver, date, decision, notes) has a tab of its own.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from sightline.card.fields import (
    DECISIONS,
    CardFields,
    Citation,
    Owner,
    Risk,
    check_approval_date,
    check_version_date,
    fields_from_model_card,
    fields_from_spec,
    license_from_text,
)
from sightline.core.errors import SightlineInputError
from sightline.data.spec import AuditSpec, spec_to_yaml

GENERATION_KEY = "card_form.generation"  # int: bumps when the form is re-filled
INITIAL_KEY = "card_form.initial"        # CardFields the current generation starts from
SOURCE_KEY = "card_form.source"          # the audit text the form was filled from
UPLOAD_KEY = "card_form.upload"          # the card-JSON uploader
MESSAGE_KEY = "card_form.message"        # (kind, text) shown once after a load
SPEC_PROBLEM_KEY = "card_form.spec_problem"  # why the audit file's card: section could not be read, or None
DRAFT_KEY = "card_form.draft"            # CardFields as last entered (kept while the user visits other pages)

HELP = {
    "name": "The model's name as it should appear on the card.",
    "version": "The model version this card describes (e.g. 1.0).",
    "version_date": "When this version was released, written YYYY-MM-DD. Leave empty if unknown.",
    "overview": "Two or three plain sentences: what the model predicts, from what, and how well.",
    "documentation": "Longer notes for engineers: training procedure, features, known quirks.",
    "owners": "People or teams accountable for the model, with a contact.",
    "licenses": "One per line: an SPDX identifier such as Apache-2.0 or 'proprietary', or a sentence of licence text.",
    "references": "One link per line (https://…) to papers, dashboards or code.",
    "citations": "One per line: how to cite this model or its data.",
    "path": "Where the model artifact is stored. Empty: the audit's model file.",
    "model_architecture": "E.g. 'Gradient-boosted trees on one-hot encoded categoricals'. Empty: read from the model file.",
    "data_notes": "Anything about the evaluation data a reviewer should know (sampling, known gaps).",
    "users": "Who is meant to use the model's output — one group per line.",
    "use_cases": "What the model is for — and, explicitly, what it is not for. One per line.",
    "limitations": "Data or situations where the model is known to do badly. One per line.",
    "tradeoffs": "Choices that trade one good for another (e.g. accuracy vs equal selection rates). One per line.",
    "ethical_considerations": "Risks to people, each with what is done about it (the mitigation strategy).",
    "approver": "Who reviewed the card and takes the decision (name and role).",
    "approval_date": "When the decision was taken, written YYYY-MM-DD.",
    "decision": "The reviewer's decision on this model version; leave empty until it is taken.",
    "decision_notes": "Conditions, follow-ups or reasons, e.g. 'approved on condition that the Bachelors/Prof-specialty incident is fixed'.",
}


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def _source_text(spec: AuditSpec) -> str:
    return spec_to_yaml(spec)


def sync_with_spec(spec: AuditSpec) -> None:
    """Re-fill the form from ``spec`` when the open audit changed (new audit, or the card was saved)."""
    source = _source_text(spec)
    if st.session_state.get(SOURCE_KEY) != source:
        st.session_state[SOURCE_KEY] = source
        try:
            fields = fields_from_spec(spec)
            st.session_state[SPEC_PROBLEM_KEY] = None
        except SightlineInputError as exc:
            st.session_state[SPEC_PROBLEM_KEY] = str(exc)
            fields = CardFields(name=spec.name, version=spec.version)
        start_generation(fields)
    if st.session_state.get(SPEC_PROBLEM_KEY):
        st.error(f"The audit file's card section could not be read: {st.session_state[SPEC_PROBLEM_KEY]}. "
                 "The form starts empty; saving replaces that section.")


def start_generation(fields: CardFields) -> None:
    """Show ``fields`` in fresh widgets."""
    st.session_state[INITIAL_KEY] = st.session_state[DRAFT_KEY] = fields
    st.session_state[GENERATION_KEY] = st.session_state.get(GENERATION_KEY, 0) + 1


def _load_uploaded_card() -> None:
    """Uploader callback: read a saved model_card.json and pre-fill the form with its written sections."""
    uploaded = st.session_state.get(UPLOAD_KEY)
    if uploaded is None:
        return
    try:
        card = json.loads(uploaded.getvalue().decode("utf-8"))
        start_generation(fields_from_model_card(card))
        st.session_state[MESSAGE_KEY] = ("success", f"Loaded the written sections of {uploaded.name}. Review them, then save.")
    except UnicodeDecodeError:
        st.session_state[MESSAGE_KEY] = ("error", f"{uploaded.name} is not UTF-8 text — upload the model_card.json Sightline wrote.")
    except json.JSONDecodeError as exc:
        st.session_state[MESSAGE_KEY] = ("error", f"{uploaded.name} is not valid JSON (line {exc.lineno}): {exc.msg}.")
    except SightlineInputError as exc:
        st.session_state[MESSAGE_KEY] = ("error", f"{uploaded.name}: {exc}")


def card_upload() -> None:
    """The round trip: upload a saved model_card.json to pre-fill the form."""
    st.file_uploader("Load the written sections from a saved model_card.json", type=["json"], key=UPLOAD_KEY,
                     on_change=_load_uploaded_card,
                     help="Only the written sections are read (overview, owners, use cases …); the numbers always come from the open audit.")
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])


def _table_editor(label: str, rows: list[dict], columns: dict, key: str, help: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns)) if rows else pd.DataFrame(columns=list(columns))
    st.markdown(f"**{label}**", help=help)
    return st.data_editor(frame.astype("string"), num_rows="dynamic", hide_index=True, width="stretch", key=key,
                          column_config={c: st.column_config.TextColumn(title, width="large" if i else "medium")
                                         for i, (c, title) in enumerate(columns.items())})


def _cells(frame: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    frame = frame.reindex(columns=columns).fillna("")
    return [[str(v).strip() for v in row] for row in frame.itertuples(index=False, name=None)]


def card_form() -> tuple[CardFields, list[str]]:
    """Render the form; returns (the fields as entered, problems to fix before saving)."""
    k = f"card_form.{st.session_state[GENERATION_KEY]}."
    if k + "name" not in st.session_state and st.session_state.get(DRAFT_KEY) != st.session_state[INITIAL_KEY]:
        # Streamlit dropped the widgets' state while another page was open: bring the unsaved edits back.
        start_generation(st.session_state[DRAFT_KEY])
        k = f"card_form.{st.session_state[GENERATION_KEY]}."
    init: CardFields = st.session_state[INITIAL_KEY]
    problems: list[str] = []
    details, use, cons, sign = st.tabs(["Model details", "Intended use", "Considerations", "Sign-off"])
    with details:
        name = st.text_input("Model name", init.name, key=k + "name", help=HELP["name"])
        c1, c2 = st.columns(2)
        version = c1.text_input("Version", init.version, key=k + "version", help=HELP["version"])
        version_date = c2.text_input("Released (YYYY-MM-DD)", init.version_date, key=k + "version_date", help=HELP["version_date"])
        try:
            version_date = check_version_date(version_date.strip())
        except SightlineInputError as exc:
            problems.append(str(exc))
            version_date = ""
        overview = st.text_area("Overview", init.overview, key=k + "overview", help=HELP["overview"], height=110)
        documentation = st.text_area("Documentation", init.documentation, key=k + "documentation", help=HELP["documentation"], height=90)
        owners = _table_editor("Owners", [{"name": o.name, "contact": o.contact} for o in init.owners],
                               {"name": "Name", "contact": "Contact"}, k + "owners", HELP["owners"])
        c1, c2 = st.columns(2)
        licenses = c1.text_area("Licenses", "\n".join(lic.text for lic in init.licenses), key=k + "licenses", help=HELP["licenses"], height=80)
        references = c2.text_area("References", "\n".join(init.references), key=k + "references", help=HELP["references"], height=80)
        citations = st.text_area("Citations", "\n".join(c.citation for c in init.citations), key=k + "citations", help=HELP["citations"], height=70)
        c1, c2 = st.columns(2)
        path = c1.text_input("Model artifact path", init.path, key=k + "path", help=HELP["path"])
        architecture = c2.text_input("Architecture", init.model_architecture, key=k + "model_architecture", help=HELP["model_architecture"])
        data_notes = st.text_area("Notes on the evaluation data", init.data_notes, key=k + "data_notes", help=HELP["data_notes"], height=70)
    with use:
        users = st.text_area("Intended users", "\n".join(init.users), key=k + "users", help=HELP["users"], height=110)
        use_cases = st.text_area("Use cases (and out-of-scope uses)", "\n".join(init.use_cases), key=k + "use_cases", help=HELP["use_cases"], height=150)
    with cons:
        limitations = st.text_area("Limitations", "\n".join(init.limitations), key=k + "limitations", help=HELP["limitations"], height=170)
        tradeoffs = st.text_area("Trade-offs", "\n".join(init.tradeoffs), key=k + "tradeoffs", help=HELP["tradeoffs"], height=90)
        risks = _table_editor("Ethical considerations", [{"name": r.name, "mitigation_strategy": r.mitigation_strategy}
                                                         for r in init.ethical_considerations],
                              {"name": "Risk", "mitigation_strategy": "Mitigation strategy"}, k + "ethical", HELP["ethical_considerations"])
    with sign:
        st.caption("The reviewer's decision, printed in the card's Sign-off section and saved under card.sign_off.")
        approver = st.text_input("Approver", init.approver, key=k + "approver", help=HELP["approver"])
        c1, c2 = st.columns(2)
        approval_date = c1.text_input("Decision date (YYYY-MM-DD)", init.approval_date, key=k + "approval_date", help=HELP["approval_date"])
        options = ["", *DECISIONS] if init.decision in ("", *DECISIONS) else ["", *DECISIONS, init.decision]
        decision = c2.selectbox("Decision", options, index=options.index(init.decision), key=k + "decision", help=HELP["decision"],
                                format_func=lambda d: d[:1].upper() + d[1:] if d else "— not decided —")
        decision_notes = st.text_area("Notes on the decision", init.decision_notes, key=k + "decision_notes",
                                      help=HELP["decision_notes"], height=90)
        try:
            approval_date = check_approval_date(approval_date.strip())
        except SightlineInputError as exc:
            problems.append(str(exc))
            approval_date = ""
    # Citations keep their style from a loaded card when the text is unchanged.
    styles = {c.citation: c.style for c in init.citations}
    fields = CardFields(
        name=name.strip() or init.name, version=version.strip(), version_date=version_date,
        overview=overview.strip(), documentation=documentation.strip(),
        owners=tuple(Owner(n, c) for n, c in _cells(owners, ["name", "contact"]) if n or c),
        licenses=tuple(license_from_text(t) for t in _lines(licenses)),
        references=_lines(references),
        citations=tuple(Citation(t, styles.get(t, "")) for t in _lines(citations)),
        path=path.strip(), model_architecture=architecture.strip(), data_notes=data_notes.strip(),
        users=_lines(users), use_cases=_lines(use_cases), limitations=_lines(limitations), tradeoffs=_lines(tradeoffs),
        ethical_considerations=tuple(Risk(n, m) for n, m in _cells(risks, ["name", "mitigation_strategy"]) if n or m),
        approver=approver.strip(), approval_date=approval_date, decision=decision, decision_notes=decision_notes.strip(),
    )
    st.session_state[DRAFT_KEY] = fields
    return fields, problems
