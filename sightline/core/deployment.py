"""How this Sightline process is deployed: for one person (``local``) or for a team (``shared``).

The mode and the data roots come from the environment, the named SQL connections from a
Streamlit-style ``secrets.toml``; both are read by the administrator's hand, never from an
audit file or a visitor:

- ``SIGHTLINE_MODE``: ``local`` (default) or ``shared``.
- ``SIGHTLINE_DATA_ROOTS``: folders, separated by ``os.pathsep`` (``:`` on Linux), under which a
  shared server resolves every path. The bundled ``sample_data/`` and the upload folder are
  always allowed.
- ``SIGHTLINE_SECRETS``: the secrets file; default ``.streamlit/secrets.toml`` in the working
  folder, then in the home folder (Streamlit's own search order). Named connections are
  ``[connections.NAME]`` tables with a ``url`` key, as ``st.connection`` reads them.

In ``local`` mode paths and SQL URLs work as written (the person running the server owns its
files). In ``shared`` mode a path outside the roots, a ``..`` component, a symlink that leads
out, or a raw SQL URL is refused with :class:`AccessError` — and the message is the same
whether or not the path exists, so the dashboard is no oracle for the server's files.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from sightline.core.errors import AccessError

MODES = ("local", "shared")
MODE_ENV = "SIGHTLINE_MODE"
ROOTS_ENV = "SIGHTLINE_DATA_ROOTS"
SECRETS_ENV = "SIGHTLINE_SECRETS"
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"
# Every session's upload folder is created below this one, so a shared server can allow it as
# a root without allowing the rest of the temporary folder.
UPLOAD_ROOT = Path(tempfile.gettempdir()) / "sightline-uploads"

ERR_MODE = f"{MODE_ENV}={{mode!r}} is not a mode Sightline knows — use one of: {', '.join(MODES)}"
ERR_OUTSIDE = ("{what} '{path}' is not under the data folders this server allows — ask the administrator "
               "to add its folder to " + ROOTS_ENV + ", or upload the file")
ERR_PARENT = "{what} '{path}' climbs out of its folder with '..' — name the file inside the data folders"
ERR_RAW_URL = ("{what}: this server is shared, so SQL runs only through the connections its administrator "
               "names — write `connection: NAME` instead of `url:` (named connections: {names})")
ERR_UNKNOWN_CONNECTION = "{what}: no connection named {name!r} — named connections: {names}"
ERR_SECRETS = "{path}: the secrets file is not valid TOML ({problem}) — fix it, or unset " + SECRETS_ENV


@dataclass(frozen=True)
class Deployment:
    """The rules a server applies to paths and SQL sources.

    ``mode`` is ``local`` or ``shared``; ``data_roots`` the folders a shared server reads from
    (absolute, symlinks resolved); ``connections`` maps a connection name to its SQLAlchemy or
    ``duckdb:///`` URL.
    """

    mode: str = "local"
    data_roots: tuple[Path, ...] = ()
    connections: Mapping[str, str] = field(default_factory=dict)

    @property
    def shared(self) -> bool:
        return self.mode == "shared"

    def allowed_roots(self) -> tuple[Path, ...]:
        """Folders a shared server reads from: the data roots, the sample and the uploads."""
        return (*self.data_roots, SAMPLE_DIR, _real(UPLOAD_ROOT))

    def resolve_path(self, path: str | Path, base_dir: Path | str, *, what: str = "path") -> Path:
        """The absolute path of ``path`` (relative paths start at ``base_dir``).

        Local mode: ``~`` expands and any path is returned. Shared mode: the path must lie under
        :meth:`allowed_roots` after every symlink is followed, and may not contain ``..``;
        otherwise :class:`AccessError`, whose text does not depend on whether the file exists.
        """
        text = str(path)
        if not self.shared:
            p = Path(text).expanduser()
            return p if p.is_absolute() else Path(base_dir) / p
        if ".." in Path(text).parts:
            raise AccessError(ERR_PARENT.format(what=what, path=text))
        p = Path(text)
        candidate = p if p.is_absolute() else Path(base_dir) / p
        real = _real(candidate)
        if not any(real == root or root in real.parents for root in self.allowed_roots()):
            raise AccessError(ERR_OUTSIDE.format(what=what, path=text))
        return real

    def is_allowed(self, path: str | Path, base_dir: Path | str = ".") -> bool:
        """Whether :meth:`resolve_path` accepts ``path`` (always True in local mode)."""
        try:
            self.resolve_path(path, base_dir)
        except AccessError:
            return False
        return True

    def sql_url(self, *, url: str | None, connection: str | None, what: str = "SQL source") -> str:
        """The URL a SQL source runs on: its named ``connection``, or (local mode only) its
        raw ``url``. Raises :class:`AccessError` for a raw URL on a shared server and for an
        unknown connection name."""
        names = ", ".join(sorted(self.connections)) or "none configured"
        if connection is not None:
            if connection not in self.connections:
                raise AccessError(ERR_UNKNOWN_CONNECTION.format(what=what, name=connection, names=names))
            return self.connections[connection]
        if self.shared:
            raise AccessError(ERR_RAW_URL.format(what=what, names=names))
        return str(url)


def _real(path: Path) -> Path:
    # realpath follows every symlink, existing or not, so a link inside a root that points
    # outside it resolves to where it really leads.
    return Path(os.path.realpath(path))


def secrets_path() -> Path | None:
    """The secrets file this process reads, or None when there is none."""
    named = os.environ.get(SECRETS_ENV)
    if named:
        return Path(named).expanduser()
    for candidate in (Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        if candidate.is_file():
            return candidate
    return None


def read_secrets(path: Path | None = None) -> dict:
    """The parsed secrets file (``{}`` when there is none). Raises :class:`AccessError` when it
    is not valid TOML."""
    path = path if path is not None else secrets_path()
    if path is None or not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AccessError(ERR_SECRETS.format(path=path, problem=str(exc).splitlines()[0][:120])) from None


def named_connections(secrets: Mapping) -> dict[str, str]:
    """``{name: url}`` from the ``[connections.NAME]`` tables of a secrets mapping that have a ``url``."""
    tables = secrets.get("connections", {})
    if not isinstance(tables, Mapping):
        return {}
    return {str(name): str(table["url"]) for name, table in tables.items()
            if isinstance(table, Mapping) and isinstance(table.get("url"), str)}


def current_deployment() -> Deployment:
    """The deployment this process runs under, read from the environment and the secrets file
    at each call (both are small; an administrator's change applies without a restart)."""
    mode = os.environ.get(MODE_ENV, "local").strip().lower() or "local"
    if mode not in MODES:
        raise AccessError(ERR_MODE.format(mode=mode))
    roots = tuple(_real(Path(p).expanduser()) for p in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if p.strip())
    return Deployment(mode=mode, data_roots=roots, connections=named_connections(read_secrets()))
