"""A shared Sightline server in headless Chromium: the sign-in screen, a real OIDC sign-in
against a small provider this test starts on 127.0.0.1, and a refused path on the Data page.

Screenshots go to ``artifacts/screenshots/`` (or ``$SIGHTLINE_SCREENSHOTS``). Skips when
Chromium or Playwright is missing, unless SIGHTLINE_REQUIRE_BROWSER=1, where a missing browser
is a failure (as in tests/pages/test_browser.py).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.pages.browser import CHROMIUM, CHROMIUM_ARGS, free_port, running_app
from tests.pages.test_browser import _require_browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SIGHTLINE_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
CLIENT_ID, CLIENT_SECRET = "sightline-test", "test-client-secret"
USER = {"sub": "u-1", "name": "Ada Lovelace", "email": "ada@example.org"}


# ------------------------------------------------------------------------- a tiny OIDC provider

class _Provider(BaseHTTPRequestHandler):
    """Discovery, JWKS, an authorize endpoint that signs the user in at once (redirecting back
    with a code), and a token endpoint that returns an RS256 id_token carrying the nonce."""

    server: "_ProviderServer"

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass

    def _json(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        issuer = self.server.issuer
        if url.path == "/.well-known/openid-configuration":
            self._json({"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
                        "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
                        "response_types_supported": ["code"], "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]})
        elif url.path == "/jwks":
            self._json({"keys": [self.server.key.as_dict(private=False)]})
        elif url.path == "/authorize":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            code = secrets.token_urlsafe(16)
            self.server.codes[code] = query.get("nonce")
            self.server.authorized.append(query)
            self.send_response(302)
            self.send_header("Location", f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")
            self.end_headers()
        else:
            self._json({"error": "not_found"}, 404)

    def do_POST(self) -> None:
        from joserfc import jwt

        if urlsplit(self.path).path != "/token":
            return self._json({"error": "not_found"}, 404)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        if form.get("code") not in self.server.codes:
            return self._json({"error": "invalid_grant"}, 400)
        nonce = self.server.codes.pop(form["code"])
        now = int(time.time())
        claims = {"iss": self.server.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 600, **USER}
        if nonce:
            claims["nonce"] = nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self.server.key.kid}, claims, self.server.key)
        self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 600,
                    "id_token": id_token})


class _ProviderServer(ThreadingHTTPServer):
    def __init__(self, port: int) -> None:
        from joserfc.jwk import RSAKey

        super().__init__(("127.0.0.1", port), _Provider)
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = RSAKey.generate_key(2048, auto_kid=True)
        self.codes: dict[str, str | None] = {}
        self.authorized: list[dict] = []


@contextmanager
def oidc_provider():
    server = _ProviderServer(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------------- the app server

def shared_app(tmp_path: Path, roots: list[Path], secrets_file: Path | None, port: int | None = None):
    """``streamlit run app.py`` in shared mode on 127.0.0.1 with ``roots`` as the data roots and
    ``secrets_file`` (or none) as both Streamlit's and Sightline's secrets; a context manager
    yielding the base URL."""
    secrets_path = secrets_file or tmp_path / "no-secrets.toml"
    return running_app(port=port, precompute=False, options=("--secrets.files", str(secrets_path)),
                       env={"SIGHTLINE_MODE": "shared", "SIGHTLINE_DATA_ROOTS": os.pathsep.join(map(str, roots)),
                            "SIGHTLINE_SECRETS": str(secrets_path)})


def _settle(page, seconds: float = 1.5, timeout: float = 120) -> None:
    """Wait until the script has stopped running for ``seconds``."""
    deadline, quiet = time.time() + timeout, None
    while time.time() < deadline:
        if page.locator('[data-testid="stStatusWidget"]').count() or page.locator(".stSpinner").count():
            quiet = None
        elif quiet is None:
            quiet = time.time()
        elif time.time() - quiet > seconds:
            return
        time.sleep(0.2)


def _shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name} looks blank"
    return path


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


# ----------------------------------------------------------------------------------------- tests

@pytest.mark.browser
def test_sign_in_screen_then_a_real_oidc_sign_in_and_out(tmp_path):
    _require_browser()
    from playwright.sync_api import sync_playwright

    audits = tmp_path / "srv" / "audits"
    audits.mkdir(parents=True)
    port = free_port()
    with oidc_provider() as provider:
        secrets_file = tmp_path / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            f'client_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"\n')
        with shared_app(tmp_path, [audits], secrets_file, port) as url, sync_playwright() as pw:
            chrome = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = chrome.new_context(viewport={"width": 1400, "height": 900}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{url}/data", wait_until="domcontentloaded")  # a page URL: still only the sign-in screen
            page.get_by_role("button", name="Sign in").wait_for(timeout=90_000)
            _settle(page)
            text = _main_text(page)
            assert "Sightline audits a deployed model" in text and "Sign in" in text
            assert "Data & audit file" not in text and "Adult income" not in text
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0
            assert not provider.authorized  # nothing happens before the visitor asks to sign in
            _shot(page, "shared-sign-in.png")

            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Signed in as").wait_for(timeout=90_000)
            page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=90_000)
            _settle(page, 2.5)
            assert provider.authorized and provider.authorized[0]["client_id"] == CLIENT_ID
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert "Ada Lovelace" in sidebar and "ada@example.org" in sidebar and "Sign out" in sidebar
            assert "Adult income classifier" in _main_text(page)
            assert "Anyone who can reach this server" not in _main_text(page)
            page.set_viewport_size({"width": 1400, "height": 1100})
            time.sleep(0.5)
            _shot(page, "shared-signed-in.png")

            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
            _settle(page)
            assert "Adult income" not in _main_text(page)
            assert not errors, errors
            chrome.close()


@pytest.mark.browser
def test_a_path_outside_the_data_roots_is_refused_in_the_browser(tmp_path):
    _require_browser()
    from playwright.sync_api import sync_playwright

    audits = tmp_path / "srv" / "audits"
    audits.mkdir(parents=True)
    with shared_app(tmp_path, [audits], None) as url, sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = chrome.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/data", wait_until="domcontentloaded")
        page.locator('[data-testid="stMain"] h1').first.wait_for(timeout=120_000)
        _settle(page, 2.5)
        assert "Anyone who can reach this server can use it" in _main_text(page)
        page.get_by_role("tab", name="Data folders on this server").click()
        box = page.get_by_label("Path to an audit.yaml", exact=False)
        shown = {}
        for path in ("/etc/nope", "/etc/passwd"):
            box.fill(path)
            box.press("Enter")
            page.locator('[data-testid="stAlertContentError"]', has_text=path).first.wait_for(timeout=60_000)
            _settle(page)
            shown[path] = page.locator('[data-testid="stAlertContentError"]').first.inner_text().replace(path, "<PATH>")
        assert shown["/etc/passwd"] == shown["/etc/nope"]
        assert "is not under the data folders this server allows" in shown["/etc/passwd"]
        assert "root:" not in _main_text(page)  # nothing of the file is shown
        page.get_by_role("tab", name="SQL (named connections)").click()
        _settle(page)
        assert page.get_by_label("Database URL").count() == 0
        page.get_by_role("tab", name="Data folders on this server").click()
        _settle(page)
        _shot(page, "shared-refused-path.png")
        chrome.close()
