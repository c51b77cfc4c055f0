"""The Content-Security-Policy in a real Chromium: pages, htmx swaps (the insights charts,
the incident page) and the API docs page (Swagger UI from the package) run with no policy
violation and no console error."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from afteraction.core.access import SYSTEM
from afteraction.services import users
from afteraction.storage.db import make_session_factory, writing
from tests.analysis_fixtures import build
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
EMAIL = "investigator-csp@example.com"
WATCH = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
  });
}"""


def test_pages_and_api_docs_run_without_policy_violations(page, engine: Engine) -> None:
    session = make_session_factory(engine)()
    built = build(session)
    with writing(session):
        users.create_user(session, SYSTEM, email=EMAIL, password=PASSWORD, role="investigator")
    session.close()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.add_init_script(f"({WATCH})()")
    page.goto("/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/incidents")
    key = f"INC-{built.incident}"
    seen = {}
    for path in (
        "/incidents",
        f"/incidents/{key}",
        f"/incidents/{key}/people",
        f"/incidents/{key}/transcript",
        "/insights",
        "/api/v1/docs",
    ):
        response = page.goto(path)
        assert response is not None and response.status < 400, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        seen[path] = page.evaluate("window.__violations")
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.locator(".swagger-ui .opblock").count() > 20  # the operations rendered
    seen["/api/v1/docs (rendered)"] = page.evaluate("window.__violations")
    assert {path: found for path, found in seen.items() if found} == {}
    assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []
    assert missing == []
    assert errors == []
