"""Uploads refused before their body is read, and bounded while it streams.

FastAPI reads a route's `File`/`Form` body before any dependency runs, so a route that
takes a file (an evidence import, SLO counts) declares no such parameter and depends on
`UploadDep` (or `CallerDep`, then `read_form` / `read_body` for a route that takes several
body types) instead, which:

1. finds the caller from the session cookie or bearer token: none is 401 (a page sends
   them to log in), with no body byte read;
2. checks that the caller may import (`require_write`): a viewer is 403, still unread;
3. refuses a declared `Content-Length` over the limit: 413, still unread;
4. only then reads the form (or raw body), counting the bytes as they arrive and stopping at
   the limit (413), so a chunked body or a lying `Content-Length` is bounded too;
5. for a cookie session, checks the CSRF token (from the form or the header) and a forced
   password change, as `CurrentUser` does.

The limit is `max_upload_bytes` plus `FORM_ALLOWANCE` for the form's other fields and the
parts' headers; the stored file itself is held to `max_upload_bytes` (`store_upload`). The
form's spooled files are closed when the response has been sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.types import Message, Receive

from afteraction.core.access import Actor, require_write
from afteraction.core.errors import TooLarge
from afteraction.services import users
from afteraction.storage.tables import User
from afteraction.web.deps import OptionalUser, require_user

FORM_ALLOWANCE = 256 * 1024
"""Bytes allowed beside the file: the other form fields and each part's headers."""
MAX_FIELDS = 100
MAX_FILES = 1


@dataclass(frozen=True, slots=True)
class Upload:
    """A caller allowed to import, and the form they sent (read only after the checks)."""

    user: User
    actor: Actor
    form: FormData


def body_limit(request: Request) -> int:
    limit: int = request.app.state.settings.max_upload_bytes
    return limit + FORM_ALLOWANCE


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"the upload is larger than {limit} bytes", field="file")


def capped(receive: Receive, limit: int) -> Receive:
    """`receive` that raises TooLarge once the body passes `limit` bytes."""
    seen = 0

    async def receive_capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return receive_capped


def check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in caller allowed to import; nothing of the body read yet."""

    user: User
    actor: Actor


def upload_caller(request: Request, user: OptionalUser) -> Caller:
    """Steps 1 to 3: the caller, their right to import, the declared length."""
    if user is None:
        require_user(request, None)  # raises LoginRequired
    assert user is not None
    actor = users.actor_for(user)
    require_write(actor)
    check_declared_length(request, body_limit(request))
    return Caller(user=user, actor=actor)


CallerDep = Annotated[Caller, Depends(upload_caller)]


async def read_form(request: Request, caller: Caller) -> FormData:
    """Steps 4 and 5: the multipart or urlencoded form, bounded, with a cookie session's
    CSRF token checked. The caller closes it (`await form.close()`)."""
    limit = body_limit(request)
    form = await Request(request.scope, capped(request.receive, limit)).form(
        max_files=MAX_FILES, max_fields=MAX_FIELDS
    )
    try:
        value = form.get("csrf_token")
        request.state.form_csrf = value if isinstance(value, str) else None
        require_user(request, caller.user)
    except BaseException:
        await form.close()
        raise
    return form


async def read_body(request: Request, caller: Caller) -> bytes:
    """A raw body (JSON, CSV), bounded, with a cookie session's CSRF header checked."""
    require_user(request, caller.user)
    limit = body_limit(request)
    chunks, receive = [], capped(request.receive, limit)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def read_upload(request: Request, caller: CallerDep) -> AsyncIterator[Upload]:
    """The dependency behind `UploadDep`: the checked caller and their form, closed once
    the response is sent."""
    form = await read_form(request, caller)
    try:
        yield Upload(user=caller.user, actor=caller.actor, form=form)
    finally:
        await form.close()


UploadDep = Annotated[Upload, Depends(read_upload)]


def text_field(form: FormData, name: str, limit: int = 2000) -> str:
    """A text field of the form, stripped and cut to `limit`; "" when absent or a file."""
    value: Any = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
