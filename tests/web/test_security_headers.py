"""Security headers (issue 17, point 7): every page of the demo carries the
Content-Security-Policy and holds no inline script, style block, style attribute or event
handler attribute, so the policy needs no 'unsafe-inline'; confidential answers are
`no-store`; the API docs page loads Swagger UI from the package, not a CDN."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urldefrag, urlparse

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from afteraction.demo.load import DEMO_PASSWORD, load_demo
from afteraction.services import report_export
from afteraction.web.security import CSP, csp_allowing_styles
from tests.conftest import login

# One page of each shape: ids and keys become N, so 300 incidents are one page, not 300.
SHAPE = re.compile(r"\d+")
MAX_PAGES = 400


def _inline_code(html: str) -> list[str]:
    """What a policy without 'unsafe-inline' would block in this page."""
    found = []
    page = BeautifulSoup(html, "html.parser")
    for script in page.find_all("script"):
        if not script.get("src"):
            found.append(f"inline <script>: {str(script)[:80]}")
    for style in page.find_all("style"):
        found.append(f"<style> block: {str(style)[:80]}")
    for tag in page.find_all(True):
        for name in tag.attrs:
            if name == "style" or (name.startswith("on") and name.isalpha()):
                found.append(f"{name}= on <{tag.name}>: {str(tag)[:80]}")
        for name in ("href", "src", "action"):
            value = tag.get(name)
            if isinstance(value, str) and value.strip().lower().startswith("javascript:"):
                found.append(f"javascript: URL on <{tag.name}>")
    return found


def _links(html: str) -> list[str]:
    page = BeautifulSoup(html, "html.parser")
    targets = [a.get("href") for a in page.find_all("a")]
    targets += [tag.get("hx-get") for tag in page.find_all(attrs={"hx-get": True})]
    return [str(t) for t in targets if t]


def _crawl(client: TestClient, start: list[str]) -> dict[str, list[str]]:
    """Every page reachable by GET from `start` (one per shape): its problems by URL."""
    problems: dict[str, list[str]] = {}
    seen_shapes: set[str] = set()
    queue = deque(start)
    while queue and len(problems) < MAX_PAGES:
        url = urldefrag(queue.popleft()).url
        parsed = urlparse(url)
        if parsed.netloc or not parsed.path.startswith("/") or parsed.path == "/logout":
            continue
        shape = SHAPE.sub("N", parsed.path) + ("?" if parsed.query else "")
        if shape in seen_shapes or parsed.path.startswith("/static/"):
            continue
        seen_shapes.add(shape)
        response = client.get(url, follow_redirects=False)
        assert response.status_code < 500, (url, response.status_code)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        found = []
        if response.headers.get("content-security-policy") != CSP:
            found.append("no Content-Security-Policy")
        if response.headers.get("cache-control") != "no-store":
            found.append("not no-store")
        found += _inline_code(response.text)
        problems[url] = found
        queue.extend(_links(response.text))
    return problems


@pytest.fixture
def demo(client: TestClient, db: Session) -> TestClient:
    load_demo(db)
    return login(client, "admin@example.com", DEMO_PASSWORD)


@pytest.mark.slow
def test_every_demo_page_has_the_policy_and_no_inline_code(demo: TestClient) -> None:
    problems = _crawl(
        demo,
        ["/incidents", "/insights", "/learning", "/imports", "/account", "/admin/users"],
    )
    assert len(problems) > 40  # the crawl reached the app's pages, not only the start
    assert {url: found for url, found in problems.items() if found} == {}


def test_headers_on_pages_api_errors_and_static(client: TestClient) -> None:
    for url in ("/login", "/api/v1/incidents", "/nowhere", "/incidents"):
        response = client.get(url, follow_redirects=False)
        assert response.headers["content-security-policy"] == CSP, url
        assert "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store", url
    static = client.get("/static/app.css")
    assert static.status_code == 200
    assert static.headers.get("cache-control") != "no-store"
    assert static.headers["x-content-type-options"] == "nosniff"


def test_htmx_is_told_not_to_inject_styles_or_evaluate(client: TestClient) -> None:
    page = BeautifulSoup(client.get("/login").text, "html.parser")
    config = page.find("meta", attrs={"name": "htmx-config"})
    assert config is not None
    assert '"includeIndicatorStyles": false' in config["content"]
    assert '"allowEval": false' in config["content"]


def test_api_docs_load_swagger_ui_from_the_package(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert _inline_code(page.text) == []
    sources = [
        tag.get("src") or tag.get("href")
        for tag in BeautifulSoup(page.text, "html.parser").find_all(["script", "link"])
    ]
    assert sources and all(str(s).startswith("/static/") for s in sources), sources
    for source in sources:
        asset = client.get(str(source))
        assert asset.status_code == 200, source
        assert len(asset.content) > 100
    assert "SwaggerUIBundle" in client.get("/static/swagger-ui/swagger-ui-bundle.js").text


def test_report_html_export_allows_only_its_own_style_block() -> None:
    policy = csp_allowing_styles(report_export.CSS)
    assert "style-src 'self' 'sha256-" in policy
    assert "'unsafe-inline'" not in policy
    assert csp_allowing_styles("other") != policy


@pytest.mark.parametrize(
    ("environment", "chosen", "secure"),
    [("production", None, True), ("development", None, False), ("test", None, False),
     ("production", False, False), ("development", True, True)],
)  # fmt: skip
def test_cookies_are_secure_by_default_outside_development(
    settings, environment: str, chosen: bool | None, secure: bool
) -> None:
    from afteraction.web.app import create_app

    chosen_settings = settings.model_copy(
        update={"environment": environment, "secure_cookies": chosen}
    )
    assert chosen_settings.cookies_secure is secure
    with TestClient(create_app(chosen_settings), base_url="https://testserver") as client:
        cookie = client.get("/login").headers["set-cookie"]
    assert ("; secure" in cookie.lower()) is secure
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
