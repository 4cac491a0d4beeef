"""Data-source widgets: uploads, server paths, SQL, and the column-mapping form.

Uploaded files are written unchanged into a per-session temporary folder; the user's own
files are only ever read.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from components import state
from sightline.errors import SightlineInputError
from sightline.io import read_source
from sightline.roles import suggest_roles, suggest_sensitive, suggest_task
from sightline.spec import ROLE_KEYS, TASKS, Source, load_spec, spec_from_dict, spec_from_yaml

TABLE_TYPES = ["csv", "tsv", "txt", "parquet", "pq", "jsonl", "ndjson", "json"]
_NONE = "— none —"
ROLE_HELP = {
    "target": "Ground truth. May be empty for rows whose label has not arrived yet.",
    "prediction": "The predicted class (or value, for regression).",
    "score": "Binary: the probability of the positive label, in [0, 1].",
    "timestamp": "When the prediction was made: enables time windows.",
    "model_version": "Which model made the prediction (champion, shadow, canary…).",
    "latency_ms": "Serving latency in milliseconds.",
    "id": "Request id: joins versions scored on the same request.",
}


def upload_dir() -> Path:
    """This session's folder for uploaded files (created on first use)."""
    if state.UPLOAD_DIR_KEY not in st.session_state:
        st.session_state[state.UPLOAD_DIR_KEY] = tempfile.mkdtemp(prefix="sightline-upload-")
    return Path(st.session_state[state.UPLOAD_DIR_KEY])


def save_upload(uploaded) -> Path:
    """Write an uploaded file's bytes, unchanged, into the session folder; returns its path."""
    path = upload_dir() / Path(uploaded.name).name
    path.write_bytes(uploaded.getvalue())
    return path


def upload_panel() -> None:
    """Upload an audit.yaml with its files, or a log (+ reference, model) to map by hand."""
    st.markdown("Upload a prediction log — and optionally a reference table, a model (`.skops`) and an `audit.yaml`. "
                "Files stay unchanged; copies live in a temporary folder for this session.")
    c1, c2 = st.columns(2)
    log_file = c1.file_uploader("Prediction log", type=TABLE_TYPES, key="up_log")
    ref_file = c2.file_uploader("Reference data (optional)", type=TABLE_TYPES, key="up_ref")
    model_file = c1.file_uploader("Model (optional, .skops only)", type=["skops"], key="up_model",
                                  help="Pickle files are refused: loading them can run any code.")
    audit_file = c2.file_uploader("audit.yaml (optional)", type=["yaml", "yml"], key="up_audit")
    saved = {k: save_upload(f) for k, f in {"log": log_file, "ref": ref_file, "model": model_file, "audit": audit_file}.items() if f}
    if "audit" in saved:
        if st.button("Open the uploaded audit.yaml", type="primary"):
            try:
                spec = spec_from_yaml(saved["audit"].read_text(encoding="utf-8"), base_dir=upload_dir(), source_file=audit_file.name)
            except (SightlineInputError, UnicodeDecodeError) as exc:
                st.error(f"{audit_file.name}: {exc}")
                return
            missing = [s.path for s in (spec.current, spec.reference) if s is not None and not s.is_sql and not s.resolve(spec.base_dir).exists()]
            if spec.model and not spec.model_path().exists():
                missing.append(spec.model)
            if missing:
                st.error(f"The audit file names {', '.join(missing)} — upload {'it' if len(missing) == 1 else 'them'} too.")
                return
            state.open_spec(spec, f"Opened {audit_file.name}.")
            st.rerun()
    elif "log" in saved:
        mapping_form(Source(path=str(saved["log"])), Source(path=str(saved["ref"])) if "ref" in saved else None,
                     str(saved["model"]) if "model" in saved else None, base_dir=upload_dir(), key="upload")


def path_panel() -> None:
    """Open an audit.yaml or a log file by its path on the server running the dashboard."""
    path = st.text_input("Path to an audit.yaml, or to a prediction log (.csv, .parquet, .jsonl)", key="path_input",
                         placeholder="/data/audits/churn/audit.yaml")
    ref = st.text_input("Reference file path (optional, for a log file)", key="path_ref")
    if not path:
        return
    p = Path(path).expanduser()
    if p.suffix.lower() in (".yaml", ".yml"):
        if st.button("Open this audit file", type="primary"):
            try:
                state.open_spec(load_spec(p), f"Opened {p}.")
            except SightlineInputError as exc:
                st.error(str(exc))
                return
            st.rerun()
    else:
        mapping_form(Source(path=str(p)), Source(path=ref) if ref else None, None, base_dir=Path("."), key="path")


def sql_panel() -> None:
    """Query a DuckDB file (embedded) or any SQLAlchemy URL whose driver is installed."""
    url = st.text_input("Database URL", value="duckdb:///", key="sql_url",
                        help="duckdb:///path/to/file.db (opened read-only), or e.g. postgresql://… when its driver is installed.")
    query = st.text_area("Query returning the prediction log", key="sql_query", placeholder="select * from predictions where ts > now() - interval 90 day")
    ref_query = st.text_area("Query returning the reference data (optional)", key="sql_ref_query")
    if url and query and url != "duckdb:///":
        mapping_form(Source(url=url, query=query), Source(url=url, query=ref_query) if ref_query else None,
                     None, base_dir=Path("."), key="sql")


def _choice(options: list[str], suggested: str | None) -> int:
    return options.index(suggested) if suggested in options else 0


def mapping_form(current: Source, reference: Source | None, model: str | None, *, base_dir: Path, key: str) -> None:
    """Read the log, pre-fill the column roles from suggestions, and open the audit on submit."""
    try:
        df = read_source(current, base_dir)
    except SightlineInputError as exc:
        st.error(str(exc))
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
            st.error(str(exc))
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
