"""Single sign-on with OpenID Connect, end to end: a fake identity provider on 127.0.0.1
(discovery, JWKS, and a token endpoint that checks PKCE and client credentials and signs
real RS256 ID tokens) and the real app behind a TestClient. The test plays the browser: it
follows the redirect to the provider's authorize endpoint itself and returns to the
callback with the code the provider issued.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import SecretStr
from pydantic import ValidationError as SettingsError
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.config import Settings
from afteraction.core.access import SYSTEM
from afteraction.services import directory
from afteraction.services.users import NO_PASSWORD
from afteraction.storage.db import writing
from afteraction.storage.tables import AuditLog, User
from afteraction.web.app import create_app
from tests.conftest import PASSWORD, make_user, token_of

CLIENT_ID = "afteraction"
CLIENT_SECRET = "idp-client-secret"
KID = "idp-key-1"


class FakeIdp:
    """An OpenID provider at the network edge. `authorize` plays the user signing in at the
    provider; the token endpoint enforces the code, redirect URI, PKCE verifier and client
    secret like a real provider, then signs an ID token with `claims` for that sign-in."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": KID}, private=True)
        self.url = ""
        self.codes: dict[str, tuple[dict[str, str], dict[str, Any]]] = {}
        self.token_requests: list[dict[str, str]] = []
        self.mangle: Callable[[str], str] = lambda token: token
        self.signing_key: RSAKey | None = None
        self.claimed_issuer = ""

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.claimed_issuer or self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, location: str, **claims: Any) -> dict[str, str]:
        """Check the authorization request and return the callback's query (code, state)."""
        url = urlsplit(location)
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{self.url}/authorize"
        request = dict(parse_qsl(url.query))
        assert request["response_type"] == "code"
        assert request["client_id"] == CLIENT_ID
        assert request["code_challenge_method"] == "S256" and request["code_challenge"]
        assert request["nonce"] and request["state"]
        assert set(request["scope"].split()) == {"openid", "email", "profile"}
        assert request["redirect_uri"].endswith("/login/oidc/callback")
        code = secrets.token_urlsafe(16)
        self.codes[code] = (request, claims)
        return {"code": code, "state": request["state"]}

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        entry = self.codes.pop(form.get("code", ""), None)
        if entry is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        request, claims = entry
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if (
            challenge != request["code_challenge"]
            or form.get("redirect_uri") != request["redirect_uri"]
        ):
            return 400, {"error": "invalid_grant", "error_description": "PKCE or redirect"}
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": "idp-user-42",
            "iat": now,
            "exp": now + 300,
            "nonce": request["nonce"],
            "email": "new.person@example.com",
            "email_verified": True,
            "name": "New Person",
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        key = self.signing_key or self.key
        id_token = jwt.encode({"alg": "RS256", "kid": KID}, payload, key)
        body = {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.mangle(id_token),
        }
        return 200, body

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/.well-known/openid-configuration":
                    self.reply(200, fake.discovery())
                elif path == "/jwks":
                    self.reply(200, {"keys": [fake.key.as_dict(private=False)]})
                else:
                    self.reply(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                if urlsplit(self.path).path != "/token":
                    self.reply(404, {"error": "not found"})
                    return
                self.reply(*fake.token(form, self.headers.get("Authorization", "")))

            def reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        return Handler


@pytest.fixture
def idp() -> Iterator[FakeIdp]:
    fake = FakeIdp()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def configured(settings: Settings, issuer: str, **changes: Any) -> Settings:
    values = settings.model_dump() | {
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": SecretStr(CLIENT_SECRET),
    }
    return Settings.model_validate(values | changes)


@contextmanager
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def sso(settings: Settings, idp: FakeIdp, db: Session) -> Iterator[TestClient]:
    """A client of an app configured for the fake provider with the default settings."""
    with app_client(configured(settings, idp.url)) as client:
        yield client


def sign_in(client: TestClient, idp: FakeIdp, next: str | None = None, **claims: Any) -> Response:
    """Start at /login/oidc, sign in at the provider, return the callback's response."""
    start = client.get("/login/oidc", params={"next": next} if next else None,
                       follow_redirects=False)  # fmt: skip
    assert start.status_code == 302, start.text
    query = idp.authorize(start.headers["location"], **claims)
    return client.get("/login/oidc/callback", params=query, follow_redirects=False)


def logged_in(client: TestClient) -> bool:
    page = client.get("/incidents", follow_redirects=False)
    if page.status_code == 200:
        return True
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    return False


def refused(response: Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert "SSO sign-in failed" in response.text and words in response.text


def test_first_login_creates_a_viewer_and_records_it(
    sso: TestClient, idp: FakeIdp, db: Session
) -> None:
    with writing(db):
        person = directory.create_person(
            db, SYSTEM, directory.PersonInput(name="New Person", email="new.person@example.com")
        )
        person_id = person.id
    assert not logged_in(sso)
    response = sign_in(sso, idp)
    assert response.status_code == 303 and response.headers["location"] == "/incidents"
    assert logged_in(sso)
    user = db.scalars(select(User)).one()
    assert (user.email, user.name, user.role) == ("new.person@example.com", "New Person", "viewer")
    assert user.person_id == person_id
    assert user.password_hash == NO_PASSWORD and user.last_login_at is not None
    rows = db.scalars(
        select(AuditLog).where(AuditLog.target_type == "user").order_by(AuditLog.id)
    ).all()
    assert [(row.action, row.actor_id, row.target_id) for row in rows] == [
        ("user.created", user.id, str(user.id)),
        ("user.login", user.id, str(user.id)),
    ]
    assert rows[1].after == {"method": "oidc", "issuer": idp.url, "subject": "idp-user-42"}
    # the PKCE verifier reached the token endpoint (the fake provider checked it against
    # the challenge) and the session works for a write too: logging out with its CSRF token
    assert idp.token_requests[0]["code_verifier"]
    csrf = {"X-CSRF-Token": token_of(sso)}
    assert sso.post("/logout", headers=csrf, follow_redirects=False).status_code == 303
    assert not logged_in(sso)


def test_password_login_refuses_a_user_created_by_sso(sso: TestClient, idp: FakeIdp) -> None:
    assert sign_in(sso, idp).status_code == 303
    sso.cookies.clear()
    page = sso.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = sso.post(
        "/login",
        data={"email": "new.person@example.com", "password": NO_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 401 and not logged_in(sso)


def test_existing_user_keeps_their_role_and_next_is_followed(
    sso: TestClient, idp: FakeIdp, db: Session
) -> None:
    """An account an admin created for SSO (no password yet) is linked by its verified
    email on the first sign-in; the role stays, and `next` is followed."""
    user_id = make_user(db, "ada@example.com", "investigator")
    db.get(User, user_id).password_hash = NO_PASSWORD  # type: ignore[union-attr]
    db.commit()
    response = sign_in(sso, idp, next="/insights", email="Ada@Example.com", name=None)
    assert response.status_code == 303 and response.headers["location"] == "/insights"
    assert logged_in(sso)
    db.expire_all()
    users = db.scalars(select(User)).all()
    assert [(u.id, u.role, u.name) for u in users] == [(user_id, "investigator", "ada")]
    assert (users[0].sso_issuer, users[0].sso_subject) == (idp.url, "idp-user-42")
    actions = db.scalars(select(AuditLog.action).where(AuditLog.target_id == str(user_id)))
    assert {"user.sso_linked", "user.login"} <= set(actions.all())


def test_unsafe_next_goes_to_the_incident_list(sso: TestClient, idp: FakeIdp) -> None:
    response = sign_in(sso, idp, next="https://evil.test/phish")
    assert response.headers["location"] == "/incidents"


def test_wrong_state_is_refused(sso: TestClient, idp: FakeIdp, db: Session) -> None:
    start = sso.get("/login/oidc", follow_redirects=False)
    query = idp.authorize(start.headers["location"])
    forged = sso.get(
        "/login/oidc/callback", params=query | {"state": "forged"}, follow_redirects=False
    )
    refused(forged, 400, "expired or was started in another browser")
    assert not logged_in(sso) and db.scalars(select(User)).all() == []
    assert idp.token_requests == []  # the code was never exchanged


def test_callback_from_another_browser_is_refused(
    sso: TestClient, idp: FakeIdp, settings: Settings, db: Session
) -> None:
    start = sso.get("/login/oidc", follow_redirects=False)
    query = idp.authorize(start.headers["location"])
    with app_client(configured(settings, idp.url)) as other:
        response = other.get("/login/oidc/callback", params=query, follow_redirects=False)
        refused(response, 400, "please try again")
        assert not logged_in(other)
    assert db.scalars(select(User)).all() == []


def test_state_is_single_use(sso: TestClient, idp: FakeIdp) -> None:
    start = sso.get("/login/oidc", follow_redirects=False)
    query = idp.authorize(start.headers["location"])
    assert sso.get("/login/oidc/callback", params=query, follow_redirects=False).status_code == 303
    sso.post("/logout", headers={"X-CSRF-Token": token_of(sso)})
    again = sso.get("/login/oidc/callback", params=query, follow_redirects=False)
    refused(again, 400, "please try again")
    assert not logged_in(sso)


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "admin@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("change", "claims"),
    [
        ("tampered", {}),
        ("foreign key", {}),
        ("expired", {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}),
        ("other audience", {"aud": "someone-else"}),
        ("other issuer", {"iss": "https://idp.evil.test"}),
        ("replayed nonce", {"nonce": "from-an-earlier-sign-in"}),
    ],
)
def test_invalid_id_token_is_refused(
    sso: TestClient, idp: FakeIdp, db: Session, change: str, claims: dict[str, Any]
) -> None:
    make_user(db, "admin@example.com", "admin")
    if change == "tampered":
        idp.mangle = _tamper
    if change == "foreign key":
        idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": KID}, private=True)
    response = sign_in(sso, idp, email="admin@example.com", **claims)
    refused(response, 400, "could not be verified")
    assert not logged_in(sso)
    assert db.scalars(select(AuditLog).where(AuditLog.action == "user.login")).all() == []


def test_unverified_email_is_refused(sso: TestClient, idp: FakeIdp, db: Session) -> None:
    make_user(db, "ada@example.com", "admin")
    for flag in (False, "false"):
        refused(sign_in(sso, idp, email="ada@example.com", email_verified=flag), 403,
                "has not verified the address ada@example.com")  # fmt: skip
        assert not logged_in(sso)


def test_missing_email_is_refused(sso: TestClient, idp: FakeIdp, db: Session) -> None:
    refused(sign_in(sso, idp, email=None), 403, "did not send your email address")
    assert not logged_in(sso) and db.scalars(select(User)).all() == []


def test_only_allowed_domains_sign_in(settings: Settings, idp: FakeIdp, db: Session) -> None:
    config = configured(settings, idp.url, oidc_allowed_domains="Example.com, @example.org")
    assert config.oidc.domains() == {"example.com", "example.org"}
    with app_client(config) as client:
        refused(sign_in(client, idp, email="eve@evil.test"), 403, "evil.test may not sign in")
        assert not logged_in(client)
        assert sign_in(client, idp, email="bo@example.org").status_code == 303
        assert logged_in(client)
    assert db.scalars(select(User.email)).all() == ["bo@example.org"]


def test_without_default_role_only_existing_users_sign_in(
    settings: Settings, idp: FakeIdp, db: Session
) -> None:
    make_user(db, "ada@example.com", "responder")
    only_sso = configured(settings, idp.url, oidc_default_role="", password_login=False)
    with app_client(only_sso) as client:
        refused(sign_in(client, idp, email="stranger@example.com"), 403,
                "no afteraction account for stranger@example.com")  # fmt: skip
        assert not logged_in(client)
        assert sign_in(client, idp, email="ada@example.com").status_code == 303
        assert logged_in(client)
    assert db.scalars(select(User.email)).all() == ["ada@example.com"]


def test_deactivated_user_is_refused(sso: TestClient, idp: FakeIdp, db: Session) -> None:
    user_id = make_user(db, "gone@example.com", "admin")
    # one write transaction taken up front: a deferred read upgraded to a write fails at
    # once on SQLite when the app's start-up recovery thread committed in between
    with writing(db):
        user = db.get(User, user_id)
        assert user is not None
        user.is_active = False
    refused(sign_in(sso, idp, email="gone@example.com"), 403, "deactivated")
    assert not logged_in(sso)


def test_provider_error_is_shown(sso: TestClient, idp: FakeIdp) -> None:
    start = sso.get("/login/oidc", follow_redirects=False)
    state = idp.authorize(start.headers["location"])["state"]
    response = sso.get(
        "/login/oidc/callback",
        params={"error": "access_denied", "error_description": "User cancelled", "state": state},
        follow_redirects=False,
    )
    refused(response, 400, "the identity provider refused (User cancelled)")
    assert not logged_in(sso)


def test_token_endpoint_rejecting_the_code_is_refused(sso: TestClient, idp: FakeIdp) -> None:
    start = sso.get("/login/oidc", follow_redirects=False)
    query = idp.authorize(start.headers["location"])
    idp.codes.clear()  # the provider no longer knows the code
    response = sso.get("/login/oidc/callback", params=query, follow_redirects=False)
    refused(response, 400, "the identity provider refused (invalid_grant)")
    assert not logged_in(sso)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_provider_down_gives_a_clear_page(settings: Settings, db: Session) -> None:
    issuer = f"http://127.0.0.1:{_closed_port()}"
    with app_client(configured(settings, issuer)) as client:
        response = client.get("/login/oidc", follow_redirects=False)
        refused(response, 502, "could not be reached")
        assert "Sign in with SSO" in response.text
        callback = client.get("/login/oidc/callback", params={"code": "c", "state": "s"})
        refused(callback, 502, "could not be reached")
        assert not logged_in(client)


def test_discovery_naming_another_issuer_is_refused(sso: TestClient, idp: FakeIdp) -> None:
    idp.claimed_issuer = "https://idp.evil.test"
    response = sso.get("/login/oidc", follow_redirects=False)
    refused(response, 403, "names issuer")
    assert "idp.evil.test" in response.text and not logged_in(sso)


def test_password_login_can_be_turned_off(settings: Settings, idp: FakeIdp, db: Session) -> None:
    make_user(db, "ada@example.com", "admin")
    with app_client(configured(settings, idp.url, password_login=False)) as client:
        page = client.get("/login")
        assert "Sign in with SSO" in page.text and 'name="password"' not in page.text
        token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/login",
            data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 403 and "Password login is turned off" in response.text
        assert not logged_in(client)
        assert sign_in(client, idp, email="ada@example.com").status_code == 303
        assert logged_in(client)


def test_login_page_offers_sso_beside_the_password_form(sso: TestClient) -> None:
    page = sso.get("/login?next=/insights")
    assert 'href="/login/oidc?next=/insights"' in page.text
    assert 'name="password"' in page.text


def test_nothing_configured_means_no_sso(client: TestClient, db: Session) -> None:
    page = client.get("/login")
    assert "Sign in with SSO" not in page.text and 'name="password"' in page.text
    assert client.get("/login/oidc", follow_redirects=False).status_code == 404
    callback = client.get("/login/oidc/callback", params={"code": "c", "state": "s"})
    assert callback.status_code == 404 and not logged_in(client)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"password_login": False}, "needs SSO configured"),
        ({"oidc_issuer": "https://idp.example.com"}, "set both"),
        (
            {
                "oidc_issuer": "https://idp.example.com",
                "oidc_client_id": "a",
                "oidc_default_role": "owner",
            },
            "must be empty or one of",
        ),  # fmt: skip
    ],
)
def test_inconsistent_sso_settings_are_refused(
    settings: Settings, changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(SettingsError, match=words):
        Settings.model_validate(settings.model_dump() | changes)
