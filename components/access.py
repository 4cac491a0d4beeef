"""Who may use this server and what a visitor may reach.

- The sign-in gate: with an ``[auth]`` section in ``.streamlit/secrets.toml`` every page waits
  behind Streamlit's built-in OIDC login (``st.login`` / ``st.user`` / ``st.logout``).
- The shared-server warning when a shared server has no sign-in.
- The audit files a visitor may open under the administrator's data roots.
- Each session's upload folder, below :data:`~sightline.core.deployment.UPLOAD_ROOT`: deleted when
  another audit is opened, when the session ends, and (for folders a stopped server left behind)
  when the next server starts.
- Saving an audit file back to disk (local mode only) without losing an earlier backup.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import streamlit as st
from streamlit import config as st_config
from streamlit.errors import StreamlitAuthError, StreamlitSecretNotFoundError

from sightline.core.deployment import ERR_OUTSIDE, UPLOAD_ROOT, Deployment
from sightline.core.errors import AccessError
from sightline.data.audit import sample_audit_path
from sightline.data.spec import AuditSpec, dump_spec

AUTH_SECTION = "auth"
SIGN_IN_KEY = "access.sign_in"
SIGN_OUT_KEY = "access.sign_out"
# Each file is capped by server.maxUploadSize (100 MB in .streamlit/config.toml); the files in a
# session's upload boxes together by these (the boxes hold at most four files: log, reference,
# model, audit.yaml).
MAX_SESSION_UPLOAD_MB = 300
MAX_SESSION_UPLOAD_FILES = 4
# At server start, upload folders older than this are removed: they belong to sessions of a server
# that stopped before it could delete them. The age keeps a second server that shares the folder
# from losing the uploads of its live sessions.
STALE_UPLOAD_HOURS = 24
# How far the list of audit files looks under each data root.
AUDIT_LIST_DEPTH = 4
AUDIT_LIST_MAX = 500
AUDIT_SCAN_MAX_ENTRIES = 20_000

ERR_SECRETS_UNREADABLE = ("The secrets file ({paths}) could not be read, so this server cannot tell whether sign-in is "
                          "required and will not open — the administrator fixes its TOML (see .streamlit/secrets.example.toml)")
ERR_TOO_MANY_UPLOADS = ("The upload boxes hold {n} files; a session may upload at most {cap} at a time — "
                        "remove one")
ERR_UPLOAD_TOO_BIG = ("The uploaded files add up to {mb:,.0f} MB; a session may upload at most {cap} MB at a time — "
                      "remove one, or ask the administrator to put the file under a data folder and open it by path")
ERR_SAME_NAME = ("Two uploaded files are both named '{name}' — rename one (an audit.yaml names its files by name)")
NO_SIGN_IN_WARNING = (
    "**Anyone who can reach this server can use it.** This is a shared Sightline server without sign-in: every visitor "
    "can open the audits under its data folders. To require sign-in, the administrator adds an `[auth]` section "
    "(OpenID Connect) to `.streamlit/secrets.toml` — see `.streamlit/secrets.example.toml`.")
SIGN_IN_TEXT = (
    "Sightline audits a deployed model from its prediction log: performance, slices, calibration, explainability, "
    "fairness, drift and operations, written up as a model card.\n\n"
    "This server is shared by a team, so it asks who you are first. Sign in with your organisation's account to "
    "continue; nothing is opened before you do.")


# ---------------------------------------------------------------------------------------- sign-in

def auth_configured() -> bool:
    """Whether the secrets file has an ``[auth]`` section (then every page requires sign-in).

    A missing secrets file means no; a secrets file that exists but cannot be parsed raises
    :class:`AccessError`, so a typo in it never leaves a server open by accident.
    """
    try:
        return AUTH_SECTION in st.secrets
    except StreamlitSecretNotFoundError:
        present = [str(p) for p in st_config.get_option("secrets.files") if Path(p).is_file()]
        if present:
            raise AccessError(ERR_SECRETS_UNREADABLE.format(paths=", ".join(present))) from None
        return False


def signed_in() -> bool:
    """Whether the visitor has signed in through Streamlit's OIDC login."""
    return bool(st.user.get("is_logged_in", False))


def _providers() -> list[str]:
    """Named providers (``[auth.NAME]`` tables); empty when ``[auth]`` itself names the provider."""
    section = st.secrets.get(AUTH_SECTION, {})
    return [str(name) for name, value in section.items() if isinstance(value, Mapping)]


def sign_in_screen() -> None:
    """The only page a signed-out visitor sees: what Sightline is, and a sign-in button."""
    st.title("Sightline")
    st.markdown(SIGN_IN_TEXT)
    providers = _providers()
    for provider in providers or [None]:
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        if st.button(label, type="primary", icon=":material/login:", key=f"{SIGN_IN_KEY}.{provider or 'default'}"):
            try:
                st.login(provider)
            except StreamlitAuthError as exc:
                st.error(f"Sign-in is not set up correctly on this server: {exc} — the administrator completes the "
                         "[auth] section of .streamlit/secrets.toml.")


def sign_in_navigation(url_paths: list[str]):
    """A navigation holding only the sign-in screen, under the app's own page URLs (so a
    bookmarked page does not say "page not found"); call ``.run()`` on it."""
    pages = [st.Page(sign_in_screen, title="Sign in", icon=":material/login:", default=True)]
    pages += [st.Page(sign_in_screen, title="Sign in", url_path=path) for path in url_paths if path]
    return st.navigation(pages, position="hidden")


def _plain(text: object) -> str:
    # A name from the identity provider is shown as text, never as Markdown.
    return re.sub(r"([\\`*_{}\[\]<>()#+\-.!|~])", r"\\\1", str(text))


def render_account() -> None:
    """In the sidebar: who is signed in, and a sign-out button (only when sign-in is on)."""
    if not auth_configured() or not signed_in():
        return
    name, email = st.user.get("name"), st.user.get("email")
    who = _plain(name or email or "signed-in user")
    with st.sidebar:
        st.markdown(f"Signed in as **{who}**" + (f"  \n{_plain(email)}" if name and email else ""))
        if st.button("Sign out", key=SIGN_OUT_KEY, icon=":material/logout:"):
            st.logout()


def shared_warning(deployment: Deployment) -> None:
    """On every page of a shared server without sign-in: say that anyone can use it."""
    if deployment.shared and not auth_configured():
        st.warning(NO_SIGN_IN_WARNING, icon=":material/lock_open:")


def apply_shared_settings(deployment: Deployment) -> None:
    """On a shared server, hide tracebacks and the developer menu (clear cache, rerun) from visitors."""
    if deployment.shared:
        st.set_option("client.showErrorDetails", "type")
        st.set_option("client.toolbarMode", "viewer")


# ------------------------------------------------------------------------------- paths and files

def _real(path: Path | str) -> Path:
    return Path(os.path.realpath(path))


def guard_upload_area(path: Path, own: list[Path], deployment: Deployment, *, written: str,
                      what: str = "path") -> None:
    """Refuse, on a shared server, a path inside another session's upload folder.

    The upload area is an allowed root for every session, but a session may read only its own
    folders (``own``); the message is the deployment's "not under the data folders" text.
    """
    if not deployment.shared:
        return
    real, area = _real(path), _real(UPLOAD_ROOT)
    if real == area or area in real.parents:
        if not any(real == _real(f) or _real(f) in real.parents for f in own):
            raise AccessError(ERR_OUTSIDE.format(what=what, path=written))


def check_spec_access(spec: AuditSpec, own: list[Path], deployment: Deployment) -> None:
    """Raise :class:`AccessError` when the deployment refuses a path or SQL source the audit names
    (checked before anything is looked up on disk, so a refusal says nothing about existence)."""
    for source in (spec.current, spec.reference):
        if source is None:
            continue
        if source.is_sql:
            source.sql_url()
        else:
            guard_upload_area(source.resolve(spec.base_dir), own, deployment, written=str(source.path), what="file")
    if spec.model:
        guard_upload_area(spec.model_path(), own, deployment, written=spec.model, what="model")


def missing_files(spec: AuditSpec) -> list[str]:
    """The file paths the audit names (as written) that are not on disk. Call after
    :func:`check_spec_access`: only allowed paths are looked up."""
    missing = [str(s.path) for s in (spec.current, spec.reference)
               if s is not None and not s.is_sql and not s.resolve(spec.base_dir).exists()]
    if spec.model and not spec.model_path().exists():
        missing.append(spec.model)
    return missing


@dataclass(frozen=True)
class AuditFile:
    """An audit file found under a data root: ``label`` (root folder name / path inside it) and its path."""

    label: str
    path: Path


def _is_audit_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith((".yaml", ".yml")) and "audit" in lower


def audit_files(deployment: Deployment) -> tuple[list[AuditFile], bool]:
    """The audit files (``*audit*.yaml``) under the data roots, at most :data:`AUDIT_LIST_DEPTH`
    folders deep and :data:`AUDIT_LIST_MAX` files, symlinked folders not followed and files
    whose real path leaves the roots left out. Returns (files sorted by label, whether the
    search stopped at a bound)."""
    found: list[AuditFile] = []
    seen = 0
    truncated = False
    for root in deployment.data_roots:
        stack = [(root, 0)]
        while stack:
            folder, depth = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > AUDIT_SCAN_MAX_ENTRIES or len(found) >= AUDIT_LIST_MAX:
                    truncated = True
                    break
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if depth + 1 < AUDIT_LIST_DEPTH:
                            stack.append((Path(entry.path), depth + 1))
                    elif _is_audit_name(entry.name) and entry.is_file() and deployment.is_allowed(entry.path):
                        path = Path(entry.path)
                        found.append(AuditFile(f"{root.name}/{path.relative_to(root)}", path))
                except OSError:
                    continue
            if truncated:
                break
        if truncated:
            break
    return sorted(found, key=lambda f: f.label), truncated


def scrub(text: str) -> str:
    """``text`` with this server's upload folders taken out of file paths (a visitor sees the
    uploaded file's name, never where the server keeps it)."""
    for area in {str(UPLOAD_ROOT), str(_real(UPLOAD_ROOT))}:
        text = re.sub(re.escape(area) + r"/[^/\s'\"`]+/", "", text)
    return text


# ---------------------------------------------------------------------------------------- uploads

class UploadFolder:
    """One session's folder of uploaded files, below :data:`UPLOAD_ROOT`.

    The folder is deleted by :meth:`remove`, or when this object is garbage-collected: it lives
    only in the session's state, which Streamlit drops when the session ends (and at interpreter
    exit). Files are written unchanged under their own names.
    """

    def __init__(self) -> None:
        UPLOAD_ROOT.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="session-", dir=UPLOAD_ROOT))
        self._written: dict[str, str] = {}  # file name -> upload id whose bytes are on disk
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), ignore_errors=True)

    def save(self, uploaded) -> Path:
        """Write an uploaded file's bytes into the folder (once per upload); returns its path."""
        name = Path(uploaded.name).name
        path = self.path / name
        file_id = getattr(uploaded, "file_id", None) or str(id(uploaded))
        if self._written.get(name) != file_id or not path.exists():
            path.write_bytes(uploaded.getvalue())
            self._written[name] = file_id
        return path

    def holds(self, spec: AuditSpec) -> bool:
        """Whether ``spec`` reads its files from this folder."""
        return _real(spec.base_dir) == _real(self.path)

    def remove(self) -> None:
        """Delete the folder and everything in it."""
        self._finalizer()

    @property
    def removed(self) -> bool:
        return not self._finalizer.alive


def check_upload_limits(files: list) -> None:
    """Raise :class:`AccessError` when the uploads exceed the per-session caps or two share a name."""
    if len(files) > MAX_SESSION_UPLOAD_FILES:
        raise AccessError(ERR_TOO_MANY_UPLOADS.format(n=len(files), cap=MAX_SESSION_UPLOAD_FILES))
    total = sum(int(getattr(f, "size", None) or len(f.getvalue())) for f in files)
    if total > MAX_SESSION_UPLOAD_MB * 1024 * 1024:
        raise AccessError(ERR_UPLOAD_TOO_BIG.format(mb=total / 1024 / 1024, cap=MAX_SESSION_UPLOAD_MB))
    names = [Path(f.name).name for f in files]
    for name in names:
        if names.count(name) > 1:
            raise AccessError(ERR_SAME_NAME.format(name=name))


_SWEEP_LOCK = threading.Lock()
_SWEPT = False


def sweep_stale_uploads(max_age_hours: float = STALE_UPLOAD_HOURS, *, force: bool = False) -> list[Path]:
    """Once per server process (or again with ``force``): delete upload folders older than
    ``max_age_hours``. Returns the folders deleted."""
    global _SWEPT
    with _SWEEP_LOCK:
        if _SWEPT and not force:
            return []
        _SWEPT = True
    cutoff = time.time() - max_age_hours * 3600
    removed = []
    try:
        entries = list(os.scandir(UPLOAD_ROOT))
    except OSError:
        return []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


# ------------------------------------------------------------------------- saving an audit file

def save_target(spec: AuditSpec, deployment: Deployment) -> Path | None:
    """The audit file the open audit was read from, when it may be overwritten: local mode only,
    a regular file directly in the audit's own folder (a symlink leading elsewhere does not
    count), not an uploaded copy and not the bundled sample. None otherwise."""
    if deployment.shared or not spec.source_file:
        return None
    written = Path(spec.source_file).expanduser()
    folder = _real(spec.base_dir)
    candidate = folder / written.name
    if _real(written) != _real(candidate):  # the file read is the one that would be written
        return None
    real = _real(candidate)
    area = _real(UPLOAD_ROOT)
    if (real.parent != folder or not real.is_file() or real == _real(sample_audit_path())
            or real == area or area in real.parents):
        return None
    return real


def backup_path(target: Path, now: datetime | None = None) -> Path:
    """A new backup name beside ``target``: ``NAME.<YYYYmmdd-HHMMSS>.bak``, with ``-2``, ``-3``…
    when that name is taken (an earlier backup is never overwritten)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    n = 1
    while True:
        candidate = target.with_name(f"{target.name}.{stamp}{'' if n == 1 else f'-{n}'}.bak")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        n += 1


def save_with_backup(spec: AuditSpec, target: Path) -> Path:
    """Copy ``target`` to a new backup, then write ``spec`` over it. Returns the backup's path."""
    old = target.read_bytes()
    while True:
        backup = backup_path(target)
        try:
            with open(backup, "xb") as fh:  # exclusive: a backup made meanwhile is never overwritten
                fh.write(old)
            break
        except FileExistsError:
            continue
    dump_spec(spec, target)
    return backup
