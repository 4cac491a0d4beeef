"""Sign-in and the shared-server mode in AppTest: the gate, the warning, paths under the data
roots only (no existence oracle), named SQL connections only, no save to a server path, and
per-session upload folders that are deleted.

Each attack asserts the refusal *and* that it had no effect (no audit opened, no file written).
"""

from __future__ import annotations

import gc
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from components import access, state
from components.data_source import ROOTS_AUDIT_KEY
from sightline.core.deployment import UPLOAD_ROOT

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "a-test-cookie-secret-0123456789",
        "client_id": "sightline-test", "client_secret": "test-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No real secrets file, local mode unless a test says otherwise, and the client options a
    shared run sets put back afterwards (they are process-wide)."""
    monkeypatch.setenv("SIGHTLINE_SECRETS", str(tmp_path / "no-secrets.toml"))
    monkeypatch.delenv("SIGHTLINE_MODE", raising=False)
    monkeypatch.delenv("SIGHTLINE_DATA_ROOTS", raising=False)
    saved = {k: st_config.get_option(k) for k in ("client.showErrorDetails", "client.toolbarMode")}
    yield
    for key, value in saved.items():
        st_config.set_option(key, value)


@pytest.fixture
def roots(monkeypatch, tmp_path):
    """A shared server whose data roots are two folders in tmp_path; returns (audits, logs)."""
    audits, logs = tmp_path / "srv" / "audits", tmp_path / "srv" / "logs"
    audits.mkdir(parents=True)
    logs.mkdir(parents=True)
    monkeypatch.setenv("SIGHTLINE_MODE", "shared")
    monkeypatch.setenv("SIGHTLINE_DATA_ROOTS", f"{audits}{os.pathsep}{logs}")
    return audits, logs


def _small_log(path: Path, rows: int = 300) -> Path:
    pd.read_parquet(SAMPLE / "predictions.parquet").head(rows).to_csv(path, index=False)
    return path


def _app(page: str | None = None, *, user: dict | None = None, auth: bool = False) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    if auth:
        at.secrets["auth"] = dict(AUTH)
    if user is not None:
        at.user = user
    at.run()
    if page:
        at.switch_page(f"pages/{page}")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [w.label for w in (*at.button, *at.text_input, *at.selectbox)]
    return "\n".join(parts)


def _type_path(at, text: str) -> AppTest:
    at.text_input(key="path_input").input(text).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ------------------------------------------------------------------------------------- sign-in

def test_signed_out_only_the_sign_in_screen_renders():
    at = _app(auth=True, user={"is_logged_in": False})
    assert [t.value for t in at.title] == ["Sightline"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in with your organisation's account" in at.markdown[0].value
    assert state.SPEC_KEY not in at.session_state  # no audit loaded
    assert not at.metric and not at.dataframe and not at.sidebar.children
    assert "Open the bundled sample" not in _texts(at)


# A page opened by its own URL while signed out: tests/pages/test_browser_shared.py opens /data in
# Chromium and sees only the sign-in screen (AppTest cannot start on a page file: st.Page paths
# resolve from the main script's folder).


def test_without_a_login_flag_the_visitor_counts_as_signed_out():
    at = _app(auth=True, user={"email": "someone@example.org"})  # AppTest's default user has no is_logged_in
    assert [b.label for b in at.button] == ["Sign in"] and state.SPEC_KEY not in at.session_state


def test_signed_in_pages_render_and_the_sidebar_names_the_user_who_can_sign_out():
    at = _app(auth=True, user={"is_logged_in": True, "name": "Ada Lovelace", "email": "ada@example.org"})
    assert "Adult income classifier" in at.title[0].value
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Signed in as **Ada Lovelace**" in sidebar and "ada@example\\.org" in sidebar
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception and at.title[0].value == "Data & audit file"
    at.sidebar.button(key=access.SIGN_OUT_KEY).click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in"]


def test_a_markup_name_from_the_provider_is_shown_as_text():
    at = _app(auth=True, user={"is_logged_in": True, "name": "[click](javascript:alert(1))", "email": "x@example.org"})
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "](javascript:" not in sidebar and "\\[click\\]\\(javascript:alert\\(1\\)\\)" in sidebar


def test_local_mode_without_auth_works_as_before_and_warns_nobody():
    at = _app()
    assert "Adult income classifier" in at.title[0].value
    assert not any("Anyone who can reach" in w.value for w in at.warning)
    assert not any(b.label in ("Sign in", "Sign out") for b in at.button)


@pytest.mark.parametrize("page", [None, "data.py", "fairness.py"])
def test_shared_mode_without_auth_warns_on_every_page(roots, page):
    at = _app(page)
    warning = next(w.value for w in at.warning if "Anyone who can reach this server can use it" in w.value)
    assert "[auth]" in warning and ".streamlit/secrets.toml" in warning
    assert st_config.get_option("client.showErrorDetails") == "type"
    assert st_config.get_option("client.toolbarMode") == "viewer"


def test_shared_mode_with_auth_and_signed_in_has_no_warning(roots):
    at = _app(auth=True, user={"is_logged_in": True, "email": "ada@example.org"})
    assert not any("Anyone who can reach" in w.value for w in at.warning)
    assert "Signed in as **ada@example\\.org**" in "\n".join(m.value for m in at.sidebar.markdown)


def test_an_unreadable_secrets_file_keeps_the_server_closed(tmp_path, monkeypatch):
    broken = tmp_path / "secrets.toml"
    broken.write_text("[auth\nclient_id = 1\n")
    monkeypatch.setenv("SIGHTLINE_SECRETS", str(broken))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert "misconfigured" in at.error[0].value and "not valid TOML" in at.error[0].value
    assert state.SPEC_KEY not in at.session_state and not at.title


# ---------------------------------------------------------------------- paths under the data roots

def test_a_path_outside_the_roots_is_refused_the_same_way_whether_or_not_it_exists(roots):
    at = _app("data.py")
    seen = {}
    for path in ("/etc/passwd", "/etc/sightline-no-such-file"):
        _type_path(at, path)
        seen[path] = [e.value.replace(path, "<PATH>") for e in at.error]
        assert not any("Read " in s.value for s in at.success)  # nothing was read
        assert not any(s.key == "path_target" for s in at.selectbox)  # no mapping form
    assert seen["/etc/passwd"] == seen["/etc/sightline-no-such-file"]
    assert len(seen["/etc/passwd"]) == 1 and "is not under the data folders this server allows" in seen["/etc/passwd"][0]
    assert at.session_state[state.SPEC_KEY].name == "Adult income classifier"


def test_an_audit_file_outside_the_roots_is_refused_before_anything_is_read(roots, tmp_path):
    outside = tmp_path / "elsewhere" / "audit.yaml"
    outside.parent.mkdir()
    outside.write_text((SAMPLE / "audit.yaml").read_text())
    at = _app("data.py")
    _type_path(at, str(outside))
    assert "is not under the data folders" in at.error[0].value
    assert not any(b.label == "Open this audit file" for b in at.button)


def test_dot_dot_is_refused(roots):
    audits, _ = roots
    _small_log(audits.parent / "secret.csv")  # exists, one level above a root
    at = _app("data.py")
    _type_path(at, f"{audits}/../secret.csv")
    assert "climbs out of its folder with '..'" in at.error[0].value
    assert not at.success


def test_a_symlink_inside_a_root_that_leads_outside_is_refused(roots, tmp_path):
    audits, _ = roots
    secret = _small_log(tmp_path / "secret.csv")
    (audits / "innocent.csv").symlink_to(secret)
    at = _app("data.py")
    _type_path(at, str(audits / "innocent.csv"))
    linked = at.error[0].value.replace(str(audits / "innocent.csv"), "<PATH>")
    _type_path(at, str(audits / "missing.csv"))
    missing = at.error[0].value.replace(str(audits / "missing.csv"), "<PATH>")
    assert "is not under the data folders" in linked
    # a missing file inside a root is not refused by the deployment: it is reported by the reader
    assert "not found" in missing
    _type_path(at, str(tmp_path / "secret.csv"))
    assert at.error[0].value.replace(str(tmp_path / "secret.csv"), "<PATH>") == linked  # same text as any outside path


def test_a_log_inside_a_root_opens_and_relative_paths_start_at_the_first_root(roots):
    audits, logs = roots
    _small_log(logs / "week1.csv")
    at = _app("data.py")
    _type_path(at, str(logs / "week1.csv"))
    assert not at.error
    assert at.success[0].value.startswith("Read 300 rows")
    next(b for b in at.button if b.label == "Open this audit").click().run()
    assert not at.exception
    assert at.session_state[state.SPEC_KEY].name == "week1"
    _small_log(audits / "rel.csv", rows=40)
    at.switch_page("pages/data.py")
    at.run()
    _type_path(at, "rel.csv")
    assert at.success[0].value.startswith("Read 40 rows")


def test_audit_files_under_the_roots_are_listed_and_open_when_chosen(roots, tmp_path):
    audits, logs = roots
    team = audits / "churn"
    team.mkdir()
    for name in ("predictions.parquet", "reference.parquet", "model.skops"):
        shutil.copy(SAMPLE / name, team / name)
    (team / "audit.yaml").write_text((SAMPLE / "audit.yaml").read_text().replace("Adult income classifier", "Churn team audit"))
    (audits / "deep" / "a" / "b" / "c" / "d").mkdir(parents=True)
    (audits / "deep" / "a" / "b" / "c" / "d" / "audit.yaml").write_text("too deep")
    outside = tmp_path / "outside-audit.yaml"
    outside.write_text("name: x")
    (logs / "linked-audit.yaml").symlink_to(outside)  # leads out: never listed
    at = _app("data.py")
    box = at.selectbox(key=ROOTS_AUDIT_KEY)
    assert box.options == ["audits/churn/audit.yaml"]
    box.select("audits/churn/audit.yaml").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[state.SPEC_KEY].name == "Churn team audit"


def test_an_audit_inside_a_root_that_names_a_file_outside_is_refused(roots):
    audits, _ = roots
    (audits / "audit.yaml").write_text("name: sneaky\ntask: binary\npositive_label: '>50K'\ncurrent: /etc/passwd\n"
                                       "columns: {target: income, score: score}\n")
    at = _app("data.py")
    at.selectbox(key=ROOTS_AUDIT_KEY).select("audits/audit.yaml").run()
    assert not at.exception
    assert any("'/etc/passwd' is not under the data folders" in e.value for e in at.error)
    assert at.session_state[state.SPEC_KEY].name == "Adult income classifier"


# --------------------------------------------------------------------------------------- uploads

AUDIT_NAMING = "name: sneaky\ntask: binary\npositive_label: '>50K'\ncurrent: {path}\ncolumns: {{target: income, score: score}}\n"


def _upload_audit(at, text: str) -> AppTest:
    at.file_uploader(key="up_audit").upload("audit.yaml", text.encode(), "application/x-yaml")
    at.run()
    next(b for b in at.button if b.label == "Open the uploaded audit.yaml").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_uploaded_audit_naming_a_server_file_is_refused_without_telling_whether_it_exists(roots):
    messages = {}
    for path in ("/etc/passwd", "/etc/sightline-no-such-file"):
        at = _app("data.py")
        _upload_audit(at, AUDIT_NAMING.format(path=path))
        messages[path] = [e.value.replace(path, "<PATH>") for e in at.error]
        assert at.session_state[state.SPEC_KEY].name == "Adult income classifier"  # nothing opened
    assert messages["/etc/passwd"] == messages["/etc/sightline-no-such-file"]
    assert "is not under the data folders" in messages["/etc/passwd"][0]
    assert "upload it too" not in messages["/etc/passwd"][0]


def test_an_uploaded_audit_climbing_out_of_its_folder_is_refused(roots):
    at = _app("data.py")
    _upload_audit(at, AUDIT_NAMING.format(path="../../../etc/passwd"))
    assert "climbs out of its folder with '..'" in at.error[0].value
    assert at.session_state[state.SPEC_KEY].name == "Adult income classifier"


def test_an_uploaded_audit_cannot_read_another_sessions_uploads(roots):
    other = access.UploadFolder()
    try:
        _small_log(other.path / "theirs.csv")
        at = _app("data.py")
        _upload_audit(at, AUDIT_NAMING.format(path=other.path / "theirs.csv"))
        assert "is not under the data folders" in at.error[0].value
        assert at.session_state[state.SPEC_KEY].name == "Adult income classifier"
        _type_path(at, str(other.path / "theirs.csv"))
        assert "is not under the data folders" in at.error[0].value and not at.success
    finally:
        other.remove()


def test_an_uploaded_audit_missing_a_relative_file_asks_for_it_by_name(roots):
    at = _app("data.py")
    _upload_audit(at, AUDIT_NAMING.format(path="week1.csv"))
    assert at.error[0].value == "The audit file names week1.csv — upload it too."
    assert str(UPLOAD_ROOT) not in _texts(at)


def test_an_uploaded_log_opens_under_its_own_name_and_no_temporary_path_is_shown(tmp_path):
    at = _app("data.py")
    at.file_uploader(key="up_log").upload("my_log.csv", _small_log(tmp_path / "x.csv").read_bytes(), "text/csv")
    at.run()
    assert not at.exception
    assert at.success[0].value.startswith("Read 300 rows") and at.success[0].value.endswith("from `my_log.csv`.")
    next(b for b in at.button if b.label == "Open this audit").click().run()
    assert not at.exception
    spec = at.session_state[state.SPEC_KEY]
    assert spec.current.path == "my_log.csv" and spec.name == "my_log"
    shown = _texts(at) + "\n".join(c.value for c in at.sidebar.caption)
    assert "my_log.csv" in shown and str(UPLOAD_ROOT) not in shown and "sightline-upload" not in shown


def test_two_uploads_with_one_name_are_refused(tmp_path):
    at = _app("data.py")
    data = _small_log(tmp_path / "x.csv").read_bytes()
    at.file_uploader(key="up_log").upload("data.csv", data, "text/csv")
    at.file_uploader(key="up_ref").upload("data.csv", data, "text/csv")
    at.run()
    assert "both named 'data.csv'" in at.error[0].value
    assert state.UPLOAD_DIR_KEY not in at.session_state  # nothing written


def test_the_session_upload_cap_refuses_before_writing():
    class Big:
        name, size = "big.csv", (access.MAX_SESSION_UPLOAD_MB * 1024 * 1024) // 2 + 1

        def getvalue(self):
            raise AssertionError("the bytes of a refused upload are never read")

    class Other(Big):
        name = "other.csv"

    with pytest.raises(access.AccessError, match="at most 300 MB"):
        access.check_upload_limits([Big(), Other()])
    access.check_upload_limits([Big()])  # one half is fine
    with pytest.raises(access.AccessError, match="at most 4"):
        access.check_upload_limits([type(f"F{i}", (Big,), {"name": f"f{i}.csv", "size": 1})() for i in range(5)])


def test_the_upload_folder_is_under_upload_root_and_removed_when_another_audit_opens(tmp_path):
    at = _app("data.py")
    at.file_uploader(key="up_log").upload("my_log.csv", _small_log(tmp_path / "x.csv").read_bytes(), "text/csv")
    at.run()
    folder = at.session_state[state.UPLOAD_DIR_KEY].path
    assert folder.parent == UPLOAD_ROOT and (folder / "my_log.csv").is_file()
    next(b for b in at.button if b.label == "Open this audit").click().run()
    assert not at.exception
    # the folder now belongs to the open audit; the upload boxes are empty, so nothing is written again
    assert at.session_state[state.OPEN_UPLOAD_KEY].path == folder and state.UPLOAD_DIR_KEY not in at.session_state
    assert not any(f.value for f in at.file_uploader)
    assert "Audit name" not in _texts(at)
    at.switch_page("pages/performance.py")
    at.run()
    assert not at.exception and folder.is_dir()  # the open audit still reads it
    at.sidebar.button(key="sidebar_open_sample").click().run()
    assert not at.exception
    assert at.session_state[state.SPEC_KEY].name == "Adult income classifier"
    assert not folder.exists() and state.OPEN_UPLOAD_KEY not in at.session_state


def test_the_upload_folder_is_removed_when_the_session_ends(tmp_path):
    at = _app("data.py")
    at.file_uploader(key="up_log").upload("my_log.csv", _small_log(tmp_path / "x.csv").read_bytes(), "text/csv")
    at.run()
    folder = at.session_state[state.UPLOAD_DIR_KEY].path
    assert folder.is_dir()
    del at  # Streamlit drops a session's state when the session ends
    gc.collect()
    assert not folder.exists()


def test_stale_upload_folders_are_swept_at_start():
    UPLOAD_ROOT.mkdir(parents=True, exist_ok=True)
    old, fresh = access.UploadFolder(), access.UploadFolder()
    try:
        day_ago = time.time() - (access.STALE_UPLOAD_HOURS + 1) * 3600
        os.utime(old.path, (day_ago, day_ago))
        removed = access.sweep_stale_uploads(force=True)
        assert old.path in removed and not old.path.exists()
        assert fresh.path.is_dir()
    finally:
        old.remove()
        fresh.remove()


# ------------------------------------------------------------------------------------------- SQL

def test_shared_sql_tab_offers_named_connections_and_no_url_box(roots, tmp_path, monkeypatch):
    at = _app("data.py")
    assert not any(t.key == "sql_url" for t in at.text_input)
    info = "\n".join(i.value for i in at.info)
    assert "none is configured yet" in info and "[connections.audits]" in info and ".streamlit/secrets.toml" in info
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[connections.audits]\nurl = "duckdb:////srv/audits/p.db"\n[connections.warehouse]\n'
                       'url = "postgresql://reader:hunter2@db/x"\n')
    monkeypatch.setenv("SIGHTLINE_SECRETS", str(secrets))
    at.run()
    assert not at.exception
    assert at.selectbox(key="sql_connection").options == ["audits", "warehouse"]
    assert not any(t.key == "sql_url" for t in at.text_input)
    assert "hunter2" not in _texts(at) and "postgresql://" not in _texts(at)


def test_local_sql_tab_keeps_the_url_box_and_offers_named_connections(tmp_path, monkeypatch):
    at = _app("data.py")
    assert at.text_input(key="sql_url").value == "duckdb:///"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[connections.audits]\nurl = "duckdb:///p.db"\n')
    monkeypatch.setenv("SIGHTLINE_SECRETS", str(secrets))
    at.run()
    box = at.selectbox(key="sql_connection")
    assert box.options[0] == "audits" and len(box.options) == 2
    assert not any(t.key == "sql_url" for t in at.text_input)  # a named connection is picked first
    box.select(box.options[1]).run()
    assert at.text_input(key="sql_url").value == "duckdb:///"


# ---------------------------------------------------------------------------- saving the card

def test_save_target_only_for_a_local_audit_file_in_its_own_folder(tmp_path, monkeypatch):
    from sightline.core.deployment import Deployment
    from sightline.data.spec import load_spec

    local = Deployment()
    (tmp_path / "a").mkdir()
    audit = tmp_path / "a" / "audit.yaml"
    audit.write_text((SAMPLE / "audit.yaml").read_text())
    spec = load_spec(audit)
    assert access.save_target(spec, local) == audit.resolve()
    assert access.save_target(spec, Deployment(mode="shared", data_roots=(tmp_path,))) is None
    assert access.save_target(load_spec(SAMPLE / "audit.yaml"), local) is None  # the bundled sample
    assert access.save_target(spec.replace(source_file=str(tmp_path / "elsewhere.yaml")), local) is None
    # a spec claiming a file in another folder is not saved over that file
    assert access.save_target(spec.replace(base_dir=tmp_path), local) is None


def test_backups_never_overwrite_each_other(tmp_path):
    from sightline.data.spec import load_spec

    audit = tmp_path / "audit.yaml"
    texts = [(SAMPLE / "audit.yaml").read_text()]
    audit.write_text(texts[0])
    spec = load_spec(audit)
    backups = []
    for i in range(3):  # within one second: the timestamps collide
        backups.append(access.save_with_backup(spec.replace(name=f"edit {i}"), audit))
        texts.append(audit.read_text())
    assert len(set(backups)) == 3
    assert [b.read_text() for b in backups] == texts[:3]
    assert all(b.name.startswith("audit.yaml.") and b.name.endswith(".bak") for b in backups)
    assert "name: edit 2" in texts[3]


@pytest.fixture(scope="module")
def card_app(tmp_path_factory):
    from sightline.data.spec import load_spec

    folder = tmp_path_factory.mktemp("card")
    for name in ("predictions.parquet", "reference.parquet", "model.skops"):
        shutil.copy(SAMPLE / name, folder / name)
    (folder / "audit.yaml").write_text((SAMPLE / "audit.yaml").read_text())
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state[state.SPEC_KEY] = load_spec(folder / "audit.yaml")
    at.run()
    at.switch_page("pages/model_card.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at, folder


def test_a_second_local_save_keeps_both_backups(card_app):
    at, folder = card_app
    original = (folder / "audit.yaml").read_text()
    users = next(t for t in at.text_area if t.label == "Intended users")
    texts = []
    for n, who in enumerate(["Credit-risk reviewers", "Model auditors"]):
        users.set_value(who).run()
        assert not at.exception
        texts.append((folder / "audit.yaml").read_text())
        next(b for b in at.button if b.label == f"Save to {folder / 'audit.yaml'}").click().run()
        assert not at.exception, [e.value for e in at.exception]
        users = next(t for t in at.text_area if t.label == "Intended users")
    backups = sorted(folder.glob("audit.yaml.*.bak"))
    assert len(backups) == 2
    assert sorted(b.read_text() for b in backups) == sorted(texts) and texts[0] == original
    assert "Model auditors" in (folder / "audit.yaml").read_text()


def test_the_model_card_page_of_a_shared_server_saves_by_download_only(card_app, monkeypatch):
    at, folder = card_app
    monkeypatch.setenv("SIGHTLINE_MODE", "shared")
    monkeypatch.setenv("SIGHTLINE_DATA_ROOTS", str(folder))
    before = sorted(p.name for p in folder.iterdir())
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any(b.label.startswith("Save to") for b in at.button)
    assert any("saved by download only" in c.value for c in at.caption)
    assert any(d.label == "Download audit.yaml" for d in at.download_button)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_visitor_queries_a_named_connection_and_maps_its_rows(roots, tmp_path, monkeypatch):
    import duckdb

    audits, _ = roots
    db = audits / "predictions.db"
    with duckdb.connect(str(db)) as con:
        con.execute("create table p as select * from read_parquet(?) limit 250", [str(SAMPLE / "predictions.parquet")])
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[connections.audits]\nurl = "duckdb:///{db}"\n')
    monkeypatch.setenv("SIGHTLINE_SECRETS", str(secrets))
    at = _app("data.py")
    at.text_area(key="sql_query").input("select * from p").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success[0].value.startswith("Read 250 rows") and at.success[0].value.endswith("from `connection audits`.")
    assert str(db) not in _texts(at)
