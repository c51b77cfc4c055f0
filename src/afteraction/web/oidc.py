"""OpenID Connect single sign-on with Authlib: the client for the configured provider, and
the rules an ID token's claims must meet before anyone is logged in.

Authlib does the protocol: discovery (`<issuer>/.well-known/openid-configuration`), the
authorization-code flow with PKCE (S256), state and nonce kept in the signed session
cookie, the token exchange, and ID token validation (signature against the provider's JWKS,
issuer, audience, expiry, nonce, at_hash). This module adds only afteraction's own rules:
an email in the allowed domains, whether the provider verified it (the account rules are
in `services.users.sso_login`), and the provider's discovery document naming the
configured issuer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from afteraction.config import Settings
from afteraction.services.users import SsoRefused

CLIENT_NAME = "sso"
CALLBACK_PATH = "/login/oidc/callback"
HTTP_TIMEOUT_SECONDS = 10.0


def _http_errors() -> tuple[type[Exception], ...]:
    """Transport errors of the HTTP client Authlib uses: httpx2 in recent releases (when
    installed), httpx before."""
    errors: list[type[Exception]] = [httpx.HTTPError]
    try:
        errors.append(importlib.import_module("httpx2").HTTPError)
    except ImportError:
        pass
    return tuple(errors)


HTTP_ERRORS = _http_errors()
# A provider that cannot be reached, or answers discovery with something unusable.
DISCOVERY_ERRORS: tuple[type[Exception], ...] = (*HTTP_ERRORS, ValueError, RuntimeError)


@dataclass(frozen=True, slots=True)
class Identity:
    """What the provider vouched for, once its ID token passed every check."""

    email: str
    email_verified: bool
    name: str
    issuer: str
    subject: str


def discovery_url(issuer: str) -> str:
    return issuer.strip().rstrip("/") + "/.well-known/openid-configuration"


def redirect_uri(settings: Settings) -> str:
    return settings.base_url.rstrip("/") + CALLBACK_PATH


def build_client(settings: Settings) -> Any:
    """The Authlib Starlette client for the configured provider (nothing is fetched yet)."""
    from authlib.integrations.starlette_client import OAuth

    secret = settings.oidc.client_secret
    client_kwargs: dict[str, Any] = {
        "scope": settings.oidc.scopes,
        "code_challenge_method": "S256",
        "timeout": HTTP_TIMEOUT_SECONDS,
    }
    if secret is None or not secret.get_secret_value():
        client_kwargs["token_endpoint_auth_method"] = "none"
    oauth = OAuth()
    return oauth.register(
        CLIENT_NAME,
        client_id=settings.oidc.client_id.strip(),
        client_secret=secret.get_secret_value() if secret is not None else None,
        server_metadata_url=discovery_url(settings.oidc.issuer),
        client_kwargs=client_kwargs,
    )


def client_for(request: Request) -> Any | None:
    """The app's OIDC client, built on first use; None when SSO is not configured."""
    settings: Settings = request.app.state.settings
    if not settings.oidc.enabled:
        return None
    client = getattr(request.app.state, "oidc_client", None)
    if client is None:
        client = build_client(settings)
        request.app.state.oidc_client = client
    return client


async def check_issuer(client: Any, settings: Settings) -> None:
    """The discovery document must name the configured issuer (OpenID Connect Discovery
    §4.3), so a document served from elsewhere cannot vouch for other issuers' tokens."""
    metadata = await client.load_server_metadata()
    named = str(metadata.get("issuer", "")).rstrip("/")
    if named != settings.oidc.issuer.strip().rstrip("/"):
        raise SsoRefused(
            f"the identity provider's discovery document names issuer {named!r}, "
            "not the configured AFTERACTION_OIDC_ISSUER"
        )


def identity_from(token: dict[str, Any], settings: Settings) -> Identity:
    """Apply afteraction's rules to the validated claims Authlib put in `token["userinfo"]`."""
    claims = token.get("userinfo")
    if not claims:
        raise SsoRefused("the identity provider sent no ID token; is the openid scope granted?")
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email:
        raise SsoRefused(
            "the identity provider did not send your email address; "
            "the email scope must be granted to afteraction"
        )
    domains = settings.oidc.domains()
    domain = email.rsplit("@", 1)[1]
    if domains and domain not in domains:
        raise SsoRefused(f"addresses at {domain} may not sign in to this afteraction")
    name = claims.get("name") or " ".join(
        str(part) for part in (claims.get("given_name"), claims.get("family_name")) if part
    )
    return Identity(
        email=email,
        # trusted only when the provider says so: an absent claim is not a verification
        email_verified=claims.get("email_verified") in (True, "true"),
        name=str(name or ""),
        issuer=str(claims.get("iss", "")),
        subject=str(claims.get("sub", "")),
    )
