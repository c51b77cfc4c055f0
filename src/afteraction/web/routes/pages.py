"""The router of every server-rendered page except login: `/` plus the incident, directory
and account pages, each group in its own module. Pages need a logged-in user.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from afteraction.web.deps import CurrentUser
from afteraction.web.routes import (
    pages_account,
    pages_directory,
    pages_directory_edit,
    pages_incident,
    pages_incidents,
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(user: CurrentUser) -> Response:  # noqa: ARG001
    return RedirectResponse("/incidents", status_code=303)


# order matters: /incidents/new must match before /incidents/{key}
router.include_router(pages_incidents.router)
router.include_router(pages_incident.router)
router.include_router(pages_directory.router)
router.include_router(pages_directory_edit.router)
router.include_router(pages_account.router)
