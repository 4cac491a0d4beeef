"""Model card: write the qualitative sections, preview the whole card, export JSON / Markdown / HTML / PDF."""

import streamlit as st

from components import access, cache, card_form, router, state
from components.cached import card
from components.verdicts import render_verdict
from sightline.card.build import assemble_card, card_readiness
from sightline.card.export import FILE_NAMES, MIME_TYPES, card_bytes
from sightline.card.fields import spec_with_fields
from sightline.card.render_md import render_markdown
from sightline.core.deployment import current_deployment
from sightline.core.errors import SightlineInputError
from sightline.data.audit import sample_audit_path
from sightline.data.spec import spec_to_yaml
from sightline.report.registry import AREA_TITLES, AREAS

router.ensure_routed()

FORMATS = [("json", "JSON", "model_card.json — Model Card Toolkit schema v0.0.2, charts as base64 PNG."),
           ("md", "MD", "model_card.md — Markdown, charts inline as data URIs."),
           ("html", "HTML", "model_card.html — one self-contained page; opens offline."),
           ("pdf", "PDF", "model_card.pdf — title page, contents, the Mitchell et al. sections with charts, the sign-off, "
                          "and appendices with the detailed tables, methods and provenance; for filing.")]

audit = state.require_audit()
cache.precompute(audit, needed=True)  # every area is shown here: start them before drawing the rest
spec = audit.written_spec  # the file as written: saving must not drop a column refused for grouping
st.title("Model card")
st.caption("A model card (Mitchell et al., 2019) documents what a model is for, how well it works and for whom, and its risks. "
           "The numbers come from the analyses on the other pages; the written sections and the reviewer's sign-off come from you. "
           "Each download is stamped with the time it is exported, beside the time the analysis ran.")

with st.status("Gathering every analysis for the card…", expanded=False) as status:
    finished: list[str] = []

    def _progress(area, section) -> None:
        finished.append(area)
        status.update(label=f"Computed {len(finished)} of {len(AREAS)} areas (latest: {AREA_TITLES[area].lower()})…")

    cache.sections(audit, AREAS, on_done=_progress, workers=1)  # waits for the background; computes what it has not begun
    report = card.report(audit)
    try:
        outline = card.outline(audit, report)
    except SightlineInputError as exc:  # e.g. a gate threshold that is not a number
        status.update(label="The card cannot be built", state="error")
        st.error(f"**The card cannot be built.** {exc}")
        st.stop()
    n_charts = len(outline.graphics)
    status.update(label=f"Card ready: {len(AREAS)} areas, {n_charts} charts", state="complete")

card_form.sync_with_spec(spec)
left, right = st.columns([5, 6], gap="large")
with left:
    st.subheader("Written sections")
    fields, problems = card_form.card_form()
    for problem in problems:
        st.error(problem)
doc = assemble_card(report, fields=fields, basis=outline)  # charts named, not drawn: for the preview

with right:
    st.subheader("Status")
    render_verdict(card_readiness(doc))
    st.markdown("**Download the card**", help="All four files hold the same card, built from the results shown on the "
                "other pages. JSON follows the Model Card Toolkit schema v0.0.2; the HTML and Markdown files are "
                "self-contained (charts inline); the PDF is for filing.")
    cols = st.columns(4)

    def _file(fmt: str) -> bytes:
        # Runs when the button is clicked: the files carry the drawn charts, which the child
        # process has usually finished by then (it waits for them otherwise).
        return card_bytes(assemble_card(report, fields=fields, basis=card.basis(audit, report)), fmt)

    for col, (fmt, label, tip) in zip(cols, FORMATS):
        col.download_button(label, data=lambda fmt=fmt: _file(fmt), file_name=FILE_NAMES[fmt], mime=MIME_TYPES[fmt],
                            key=f"card_download_{fmt}", icon=":material/download:", on_click="ignore", width="stretch",
                            disabled=bool(problems), help=tip)
    charts_note = st.empty()
    if problems:
        st.caption("Fix the problem shown under the form to enable the downloads.")
    st.subheader("Preview", help="The Markdown card as it is now, updated as you edit; charts are listed by title here "
                 "and drawn in the downloaded files.")
    with st.container(height=900, border=True):
        st.markdown(render_markdown(doc, images=False, heading_offset=2))
    if n_charts and st.toggle(f"Show the {n_charts} charts as drawn in the files", key="card_show_charts",
                              help="The PNG images the JSON, Markdown, HTML and PDF files embed."):
        graphics, failed = card.graphics(audit, report)
        for g in graphics:
            st.image(g.png, caption=g.title)
        if failed:
            st.warning("These charts could not be drawn and are listed by name in the files: " + ", ".join(failed))

with left:
    st.subheader("Save")
    new_spec = spec_with_fields(spec, fields)
    changed = spec_to_yaml(new_spec) != spec_to_yaml(spec)
    st.caption("Saving puts the written sections into the open audit (the `card:` section of audit.yaml). "
               "Because the audit file changes, the analyses run again once." if changed else
               "The form matches the open audit.")
    c1, c2 = st.columns(2)
    if c1.button("Save into the open audit", type="primary", disabled=bool(problems) or not changed, key="card_save_session",
                 help="Keeps the written sections for this session; every export uses them."):
        state.open_spec(new_spec, "Saved the model card's written sections into the open audit.")
        st.rerun()
    c2.download_button("Download audit.yaml", spec_to_yaml(new_spec), file_name="audit.yaml", mime="application/x-yaml",
                       key="card_download_yaml", disabled=bool(problems), on_click="ignore",
                       help="The audit file with these written sections, to run headless: python -m sightline report audit.yaml --out DIR")
    deployment = current_deployment()
    target = access.save_target(spec, deployment)
    if deployment.shared:
        st.caption("This server is shared, so the card is saved by download only: download the audit.yaml above "
                   "and keep it with your files.")
    elif target is None and spec.source_file and spec.base_dir.resolve() == sample_audit_path().resolve().parent:
        st.caption("The bundled sample's audit file is never overwritten — download the audit.yaml instead.")
    elif target is not None:
        if st.button(f"Save to {target}", disabled=bool(problems), key="card_save_file",
                     help="Overwrites that file; its old text is kept beside it as a new timestamped .bak "
                          "(earlier backups are kept too). Comments in the file are not kept."):
            backup = access.save_with_backup(new_spec, target)
            state.open_spec(new_spec, f"Saved the written sections to {target} (previous version: {backup.name}).")
            st.rerun()
    with st.container():
        card_form.card_upload()

# The PNGs start drawing (in a child process) only now that the page is on screen, so the
# drawing does not compete with the page's own first run.
rendered, _ = card.charts_progress(audit, report)
if rendered < n_charts:
    charts_note.caption(f"Drawing the {n_charts} charts for the files in the background ({rendered} of {n_charts} so "
                        "far); a download started before they are all drawn waits for them.")
