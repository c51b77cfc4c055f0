"""The Slack Web API at the network edge, for tests: a local HTTP server on 127.0.0.1 that
answers each API method from a queue of recorded (status, headers, body) replies built from
the real payload shapes, and keeps every request for inspection. No network."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, dict[str, str], dict[str, Any]]
DROP = 0
"""A reply status that breaks the connection before any answer."""


class FakeSlack:
    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        """(method, form and query fields, Authorization header) per request."""

    def add(self, method: str, body: dict[str, Any], status: int = 200, **headers: str) -> None:
        self.replies.setdefault(method, []).append((status, headers, body))

    def calls(self, method: str) -> list[dict[str, str]]:
        return [query for name, query, _ in self.requests if name == method]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.answer("")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.answer(self.rfile.read(length).decode())

            def answer(self, form: str) -> None:
                url = urlsplit(self.path)
                method = url.path.removeprefix("/api/")
                pairs = parse_qs(url.query) | parse_qs(form)
                query = {k: v[0] for k, v in pairs.items()}
                fake.requests.append((method, query, self.headers.get("Authorization")))
                queue = fake.replies.get(method) or [(404, {}, {"ok": False, "error": "unknown"})]
                status, headers, body = queue.pop(0)
                if status == DROP:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        return Handler


@contextmanager
def serving() -> Iterator[tuple[FakeSlack, str]]:
    """A running fake and its API base URL (`http://127.0.0.1:<port>/api/`)."""
    fake = FakeSlack()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()


def page(key: str, items: list[Any], cursor: str = "") -> dict[str, Any]:
    """One page of a cursor-paginated Web API answer."""
    return {
        "ok": True,
        key: items,
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }
