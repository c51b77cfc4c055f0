"""Security headers on every response, and the API docs page served from package files.

`SecurityHeaders` is a pure ASGI middleware, outside every other but the page cache (which
adds the same headers with `with_security_headers`), so cached reads, error pages and
redirects carry the same headers as rendered pages:

- `Content-Security-Policy` (`CSP`): scripts, styles, images, fonts and requests from this
  origin only, no inline script or style (pages load `/static/app.js` and `/static/app.css`;
  htmx is told by `<meta name="htmx-config">` not to inject its indicator `<style>` and not
  to evaluate code), no plugins, no `<base>`, forms post only here, and no framing
  (`frame-ancestors 'none'`, with `X-Frame-Options: DENY` for older browsers);
- `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` (an incident's URL
  never leaves in a Referer);
- `Cache-Control: no-store` on everything but `/static/`: every page, API answer and export
  is confidential, so no browser or proxy keeps a copy. A response that set its own
  `Cache-Control` keeps it.

A response that sets its own `Content-Security-Policy` keeps it: the report's HTML export
is one self-contained file with its `<style>` block, allowed by that block's hash alone
(`csp_allowing_styles`).

The interactive API docs (`/api/v1/docs`) load Swagger UI from the `swagger-ui-bundle-v2`
package (mounted at `SWAGGER_ASSETS`) and start it from `/static/api-docs.js`: no CDN, no
inline script, the same policy as every page.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from afteraction.services import report_export

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}
_RAW_HEADERS = [
    (name.encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()
]
_NO_STORE = (b"cache-control", b"no-store")
STATIC_PREFIX = "/static/"
SWAGGER_ASSETS = "/static/swagger-ui"
DOCS_URL = "/api/v1/docs"


class SecurityHeaders:
    """Adds `HEADERS` to every HTTP response, and `Cache-Control: no-store` outside
    `/static/` unless the response chose its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(message.get("headers", []), path)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(raw: Sequence[tuple[bytes, bytes]], path: str) -> list[Any]:
    """`raw` (ASGI response headers) with every header of `HEADERS` it lacks, and
    `Cache-Control: no-store` outside `/static/` unless it has its own: the one rule of
    which headers an answer carries, for the middleware and for pages served before it."""
    present = {name.lower() for name, _ in raw}
    missing = [h for h in _RAW_HEADERS if h[0] not in present]
    if b"cache-control" not in present and not path.startswith(STATIC_PREFIX):
        missing.append(_NO_STORE)
    return [*raw, *missing]


def csp_allowing_styles(*blocks: str) -> str:
    """`CSP` that also allows these exact `<style>` blocks (by their SHA-256), for a
    self-contained document served as it will be saved."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in blocks
    )
    return CSP.replace("style-src 'self'", f"style-src 'self' {hashes}")


def report_export_csp(fmt: str) -> dict[str, str]:
    """The header letting the report's HTML export show with its own stylesheet."""
    if fmt != "html":
        return {}
    return {"Content-Security-Policy": csp_allowing_styles(report_export.CSS)}


def _docs_page(openapi_url: str, title: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} API</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{SWAGGER_ASSETS}/swagger-ui.css">
  <script src="{SWAGGER_ASSETS}/swagger-ui-bundle.js" defer></script>
  <script src="/static/api-docs.js" defer></script>
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """Mount Swagger UI's files from its package and serve the docs page at `DOCS_URL`
    (mounted before `/static`, which would otherwise take the assets' paths)."""
    assets = Path(str(swagger_ui_bundle.swagger_ui_path))
    app.mount(SWAGGER_ASSETS, StaticFiles(directory=assets), name="swagger-ui")
    page = _docs_page(app.openapi_url or "/api/v1/openapi.json", app.title)

    @app.get(
        DOCS_URL,
        include_in_schema=False,
        response_class=HTMLResponse,
        responses={200: {"content": {"text/html": {}}}},
    )
    def api_docs(_request: Request) -> HTMLResponse:
        return HTMLResponse(page)
