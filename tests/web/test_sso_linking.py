"""Single sign-on links an account by the provider's issuer and subject (issue 17, point 6):
an email is trusted only when `email_verified` is true, and only to link an account the
first time; an account with a password is never taken over by an email, its owner links
SSO from the account page while signed in."""

# ruff: noqa: F811 (the provider fixtures of test_sso, taken as parameters here)
from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from afteraction.storage.tables import AuditLog, User
from tests.conftest import login, make_user, token_of
from tests.web.test_sso import (  # noqa: F401 (fixtures: idp, sso)
    FakeIdp,
    idp,
    logged_in,
    refused,
    sign_in,
    sso,
)


def link(client: TestClient, idp: FakeIdp, **claims: object) -> Response:
    """From the account page: Link single sign-on, sign in at the provider, come back."""
    start = client.post("/account/sso/link", headers={"X-CSRF-Token": token_of(client)},
                        follow_redirects=False)  # fmt: skip
    assert start.status_code == 302, start.text
    query = idp.authorize(start.headers["location"], **claims)
    return client.get("/login/oidc/callback", params=query, follow_redirects=False)


def _user(db: Session, email: str) -> User:
    db.expire_all()
    return db.scalars(select(User).where(User.email == email)).one()


def test_a_password_account_is_never_taken_over_by_its_email(
    sso: TestClient, idp: FakeIdp, db: Session
) -> None:
    make_user(db, "ada@example.com", "admin")
    refused(sign_in(sso, idp, email="ada@example.com"), 403, "signs in with a password")
    assert not logged_in(sso)
    user = _user(db, "ada@example.com")
    assert user.sso_subject is None and user.last_login_at is None
    assert db.scalars(select(AuditLog).where(AuditLog.action == "user.login")).all() == []


def test_the_owner_links_sso_from_the_account_page_then_signs_in_by_subject(
    sso: TestClient, idp: FakeIdp, db: Session
) -> None:
    make_user(db, "ada@example.com", "investigator")
    login(sso, "ada@example.com")
    assert "Link single sign-on" in sso.get("/account").text
    # the provider's address differs and is not even verified: linking needs neither
    back = link(sso, idp, email="ada.l@corp.example.com", email_verified=False)
    assert back.status_code == 303 and back.headers["location"] == "/account"
    assert "Single sign-on is linked" in sso.get("/account").text
    user = _user(db, "ada@example.com")
    assert (user.sso_issuer, user.sso_subject) == (idp.url, "idp-user-42")
    sso.post("/logout", headers={"X-CSRF-Token": token_of(sso)})
    assert not logged_in(sso)
    # from now on the subject finds the account, whatever the email claim says
    assert sign_in(sso, idp, email="renamed@example.com", email_verified=None).status_code == 303
    assert logged_in(sso)
    assert sso.get("/account").text.count("ada@example.com") >= 1
    assert db.scalars(select(User.email)).all() == ["ada@example.com"]  # nobody created


def test_linking_needs_the_csrf_token_and_a_signed_in_user(
    sso: TestClient, idp: FakeIdp, db: Session
) -> None:
    anonymous = sso.post("/account/sso/link", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    make_user(db, "ada@example.com", "responder")
    login(sso, "ada@example.com")
    forged = sso.post("/account/sso/link", headers={"X-CSRF-Token": "wrong"},
                      follow_redirects=False)  # fmt: skip
    assert forged.status_code == 403
    assert _user(db, "ada@example.com").sso_subject is None


def test_an_identity_linked_to_one_account_cannot_be_linked_to_another(
    sso: TestClient, idp: FakeIdp, db: Session
) -> None:
    assert sign_in(sso, idp).status_code == 303  # creates new.person@ linked to idp-user-42
    sso.cookies.clear()
    make_user(db, "bo@example.com", "responder")
    login(sso, "bo@example.com")
    refused(link(sso, idp), 403, "already linked to another afteraction account")
    assert _user(db, "bo@example.com").sso_subject is None


def test_a_new_account_needs_a_verified_email(sso: TestClient, idp: FakeIdp, db: Session) -> None:
    for flag in (None, False, "no"):
        refused(sign_in(sso, idp, email_verified=flag), 403, "has not verified the address")
    assert db.scalars(select(User)).all() == []


def test_an_account_linked_elsewhere_is_not_relinked_by_email(
    sso: TestClient, idp: FakeIdp, db: Session
) -> None:
    assert sign_in(sso, idp).status_code == 303
    sso.cookies.clear()
    refused(sign_in(sso, idp, sub="someone-else"), 403, "linked to another sign-in identity")
    assert not logged_in(sso)
