"""Data-source widgets: uploads, server paths, SQL, and the column-mapping form.

Uploaded files are written unchanged into a per-session folder (see
:class:`components.access.UploadFolder`); the user's own files are only ever read. On a shared
server (``SIGHTLINE_MODE=shared``) typed paths resolve only under the data roots and SQL runs
only on the administrator's named connections.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from components import access, state
from sightline.core.deployment import Deployment, current_deployment
from sightline.core.errors import AccessError, SightlineInputError
from sightline.data.io import read_source
from sightline.data.roles import suggest_roles, suggest_sensitive, suggest_task
from sightline.data.spec import ROLE_KEYS, TASKS, Source, load_spec, spec_from_dict, spec_from_yaml

TABLE_TYPES = ["csv", "tsv", "txt", "parquet", "pq", "jsonl", "ndjson", "json"]
_NONE = "— none —"
ROOTS_AUDIT_KEY = "roots_audit"  # the data-folder audit file just chosen (emptied once it is opened)
ROOTS_ERROR_KEY = "data_source.roots_error"  # why the audit file chosen from the data folders did not open
ROLE_HELP = {
    "target": "Ground truth. May be empty for rows whose label has not arrived yet.",
    "prediction": "The predicted class (or value, for regression).",
    "score": "Binary: the probability of the positive label, in [0, 1].",
    "timestamp": "When the prediction was made: enables time windows.",
    "model_version": "Which model made the prediction (champion, shadow, canary…).",
    "latency_ms": "Serving latency in milliseconds.",
    "id": "Request id: joins versions scored on the same request.",
}


def upload_folder() -> access.UploadFolder:
    """This session's folder for the files in the upload boxes (created on first use)."""
    if state.UPLOAD_DIR_KEY not in st.session_state:
        st.session_state[state.UPLOAD_DIR_KEY] = access.UploadFolder()
    return st.session_state[state.UPLOAD_DIR_KEY]


def _deployment() -> Deployment | None:
    try:
        return current_deployment()
    except AccessError as exc:
        st.error(str(exc))
        return None


def _error(exc: Exception, label: str | None = None) -> None:
    text = access.scrub(str(exc))
    st.error(f"{label}: {text}" if label else text)


def upload_panel() -> None:
    """Upload an audit.yaml with its files, or a log (+ reference, model) to map by hand."""
    st.markdown("Upload a prediction log — and optionally a reference table, a model (`.skops`) and an `audit.yaml`. "
                "Files stay unchanged; copies live in a folder for this session only, deleted when another audit is "
                f"opened or the session ends. At most {access.MAX_SESSION_UPLOAD_FILES} files and "
                f"{access.MAX_SESSION_UPLOAD_MB} MB together.")
    gen = st.session_state.get(state.UPLOAD_GENERATION_KEY, 0)
    keys = {role: f"up_{role}" + (f".{gen}" if gen else "") for role in ("log", "ref", "model", "audit")}
    c1, c2 = st.columns(2)
    log_file = c1.file_uploader("Prediction log", type=TABLE_TYPES, key=keys["log"])
    ref_file = c2.file_uploader("Reference data (optional)", type=TABLE_TYPES, key=keys["ref"])
    model_file = c1.file_uploader("Model (optional, .skops only)", type=["skops"], key=keys["model"],
                                  help="Pickle files are refused: loading them can run any code.")
    audit_file = c2.file_uploader("audit.yaml (optional)", type=["yaml", "yml"], key=keys["audit"])
    uploads = {k: f for k, f in {"log": log_file, "ref": ref_file, "model": model_file, "audit": audit_file}.items() if f}
    if not uploads:
        return
    try:
        access.check_upload_limits(list(uploads.values()))
    except AccessError as exc:
        st.error(str(exc))
        return
    folder = upload_folder()
    names = {k: folder.save(f).name for k, f in uploads.items()}
    if "audit" in uploads:
        if st.button("Open the uploaded audit.yaml", type="primary"):
            _open_uploaded_audit(audit_file, folder)
    elif "log" in uploads:
        mapping_form(Source(path=names["log"]), Source(path=names["ref"]) if "ref" in names else None,
                     names.get("model"), base_dir=folder.path, key="upload")


def _open_uploaded_audit(audit_file, folder: access.UploadFolder) -> None:
    """Open an uploaded audit.yaml whose relative paths start at the upload folder.

    Every path it names is checked against the deployment before anything is looked up on
    disk, so "upload it too" is only ever said of a path the server allows."""
    deployment = _deployment()
    if deployment is None:
        return
    try:
        spec = spec_from_yaml((folder.path / Path(audit_file.name).name).read_text(encoding="utf-8"),
                              base_dir=folder.path, source_file=audit_file.name)
        access.check_spec_access(spec, state.upload_folders(), deployment)
    except UnicodeDecodeError:
        st.error(f"{audit_file.name}: not UTF-8 text — save the audit file as UTF-8")
        return
    except SightlineInputError as exc:
        _error(exc, audit_file.name)
        return
    missing = access.missing_files(spec)
    if missing:
        st.error(f"The audit file names {', '.join(missing)} — upload {'it' if len(missing) == 1 else 'them'} too.")
        return
    state.open_spec(spec, f"Opened {audit_file.name}.")
    st.rerun()


def _open_audit_file(path: Path, deployment: Deployment) -> None:
    """Open an audit file on the server (its path already allowed by the deployment)."""
    try:
        spec = load_spec(path)
        access.check_spec_access(spec, state.upload_folders(), deployment)
    except SightlineInputError as exc:
        _error(exc)
        return
    state.open_spec(spec, f"Opened {path}.")
    st.rerun()


def _resolve_typed(text: str, deployment: Deployment, *, what: str) -> Path:
    """A typed path: as written in local mode (``~`` expanded); under the data roots on a shared
    server, where relative paths start at the first data root. Raises :class:`AccessError`
    without looking at the disk."""
    if not deployment.shared:
        return Path(text).expanduser()
    base = deployment.data_roots[0] if deployment.data_roots else Path.cwd()
    path = deployment.resolve_path(text, base, what=what)
    access.guard_upload_area(path, state.upload_folders(), deployment, written=text, what=what)
    return path


def roots_panel(deployment: Deployment) -> None:
    """The audit files under the administrator's data roots, each opened by choosing it."""
    if not deployment.data_roots:
        if deployment.shared:
            st.info("This shared server has no data folders yet: the administrator lists them in SIGHTLINE_DATA_ROOTS "
                    "(e.g. /srv/audits:/srv/logs). Until then, upload files or open the bundled sample.")
        return
    files, truncated = access.audit_files(deployment)
    roots = ", ".join(f"`{r}`" for r in deployment.data_roots)
    if not files:
        st.caption(f"No audit files (`*audit*.yaml`) found in the data folders {roots}.")
        return

    def _open_chosen() -> None:
        chosen = st.session_state.get(ROOTS_AUDIT_KEY)
        st.session_state[ROOTS_AUDIT_KEY] = None
        match = next((f for f in files if f.label == chosen), None)
        if match is None:
            return
        try:
            spec = load_spec(match.path)
            access.check_spec_access(spec, state.upload_folders(), deployment)
        except SightlineInputError as exc:
            st.session_state[ROOTS_ERROR_KEY] = f"{match.label}: {access.scrub(str(exc))}"
            return
        state.open_spec(spec, f"Opened {match.label}.")

    st.selectbox(f"Open an audit file from the data folders ({len(files)} found"
                 + (f", search stopped at {access.AUDIT_LIST_MAX} files / {access.AUDIT_LIST_DEPTH} folders deep" if truncated else "")
                 + ")", [f.label for f in files], index=None, placeholder="Choose an audit file to open it…",
                 key=ROOTS_AUDIT_KEY, on_change=_open_chosen, help=f"Audit files found in {roots}.")
    problem = st.session_state.pop(ROOTS_ERROR_KEY, None)
    if problem:
        st.error(problem)


def path_panel() -> None:
    """Open an audit.yaml or a log file by its path on the server running the dashboard."""
    deployment = _deployment()
    if deployment is None:
        return
    roots_panel(deployment)
    where = "inside the data folders" if deployment.shared else "on the server"
    path = st.text_input(f"Path to an audit.yaml, or to a prediction log (.csv, .parquet, .jsonl), {where}",
                         key="path_input", placeholder="/data/audits/churn/audit.yaml")
    ref = st.text_input("Reference file path (optional, for a log file)", key="path_ref")
    if not path:
        return
    try:
        p = _resolve_typed(path, deployment, what="path")
        ref_path = _resolve_typed(ref, deployment, what="reference path") if ref else None
    except AccessError as exc:
        st.error(str(exc))
        return
    if p.suffix.lower() in (".yaml", ".yml"):
        if st.button("Open this audit file", type="primary"):
            _open_audit_file(p, deployment)
    else:
        mapping_form(Source(path=str(p)), Source(path=str(ref_path)) if ref_path else None, None,
                     base_dir=Path("."), key="path")


NEW_URL = "A database URL (typed below)"
ADMIN_HOWTO = ('The administrator names a connection in `.streamlit/secrets.toml` on the server:\n\n'
               '```toml\n[connections.audits]\nurl = "duckdb:////srv/audits/predictions.db"\n```')


def sql_panel() -> None:
    """Query a connection the administrator named; in local mode also any typed URL (a DuckDB
    file, embedded, or a SQLAlchemy URL whose driver is installed)."""
    deployment = _deployment()
    if deployment is None:
        return
    names = sorted(deployment.connections)
    if deployment.shared and not names:
        st.info("This server is shared, so SQL runs only through connections its administrator names, and none is "
                "configured yet. " + ADMIN_HOWTO)
        return
    connection = url = None
    if names:
        options = names + ([] if deployment.shared else [NEW_URL])
        picked = st.selectbox("Connection", options, key="sql_connection",
                              help="Connections named by the server's administrator in .streamlit/secrets.toml.")
        connection = picked if picked != NEW_URL else None
    if connection is None:
        url = st.text_input("Database URL", value="duckdb:///", key="sql_url",
                            help="duckdb:///path/to/file.db (opened read-only), or e.g. postgresql://… when its driver is installed.")
        if not names:
            st.caption("Named connections appear here when `.streamlit/secrets.toml` has `[connections.NAME]` tables "
                       "with a `url`.")
    query = st.text_area("Query returning the prediction log (one SELECT)", key="sql_query",
                         placeholder="select * from predictions where ts > now() - interval 90 day")
    ref_query = st.text_area("Query returning the reference data (optional)", key="sql_ref_query")
    if not query or (connection is None and (not url or url == "duckdb:///")):
        return
    make = (lambda q: Source(connection=connection, query=q)) if connection else (lambda q: Source(url=url, query=q))
    mapping_form(make(query), make(ref_query) if ref_query else None, None, base_dir=Path("."), key="sql")


def _choice(options: list[str], suggested: str | None) -> int:
    return options.index(suggested) if suggested in options else 0


def mapping_form(current: Source, reference: Source | None, model: str | None, *, base_dir: Path, key: str) -> None:
    """Read the log, pre-fill the column roles from suggestions, and open the audit on submit."""
    try:
        df = read_source(current, base_dir)
    except SightlineInputError as exc:
        _error(exc)
        return
    st.success(f"Read {len(df):,} rows × {df.shape[1]} columns from `{current.describe()}`.")
    with st.expander("First rows"):
        st.dataframe(df.head(20), hide_index=True)
    roles = suggest_roles(df)
    columns = [str(c) for c in df.columns]
    with st.form(f"mapping_{key}"):
        st.markdown("**Map the columns** (suggestions pre-filled — check them)")
        name = st.text_input("Audit name", value=Path(current.path).stem if current.path else "SQL audit")
        cols = st.columns(3)
        picked = {}
        for i, role in enumerate(ROLE_KEYS):
            options = [_NONE] + columns
            picked[role] = cols[i % 3].selectbox(role, options, index=_choice(options, roles.get(role)), help=ROLE_HELP[role], key=f"{key}_{role}")
        target = picked["target"] if picked["target"] != _NONE else None
        task_guess = suggest_task(df[target] if target else None, picked["score"] != _NONE)
        task = st.radio("Task", TASKS, index=TASKS.index(task_guess), horizontal=True)
        labels = sorted(df[target].dropna().astype(str).unique().tolist())[:50] if target else []
        positive = st.selectbox("Positive label (binary)", labels or ["1"], index=len(labels) - 1 if labels else 0)
        used = {v for v in picked.values() if v != _NONE}
        rest = [c for c in columns if c not in used]
        features = st.multiselect("Features", rest, default=[c for c in rest if not c.startswith("shap_")])
        sensitive = st.multiselect("Sensitive attributes", rest, default=suggest_sensitive(rest))
        submitted = st.form_submit_button("Open this audit", type="primary")
    if submitted:
        data = {
            "name": name, "task": task, "current": current.to_yaml(),
            "columns": {**{r: c for r, c in picked.items() if c != _NONE}, "features": features, "sensitive": sensitive},
        }
        if task == "binary":
            data["positive_label"] = positive
        if reference is not None:
            data["reference"] = reference.to_yaml()
        if model:
            data["model"] = model
        try:
            spec = spec_from_dict(data, base_dir=base_dir)
        except SightlineInputError as exc:
            _error(exc)
            return
        state.open_spec(spec, f"Opened {name}.")
        st.rerun()


def findings_panel(findings) -> None:
    """Validation findings of the open audit, errors and warnings first."""
    if not findings:
        st.success("No validation problems found.")
    for f in findings:
        {"error": st.error, "warning": st.warning}.get(f.level, st.info)(f"**{f.subject}** — {f.message}")


def preview_table(df: pd.DataFrame, rows: int = 50) -> None:
    """The first rows of a table with its size."""
    st.caption(f"{len(df):,} rows × {df.shape[1]} columns (first {min(rows, len(df))} shown)")
    st.dataframe(df.head(rows), hide_index=True)
