"""The application factory: `create_app(settings)` wires settings, database, templates,
sessions, error handlers, the job queue and the routers. Nothing is built at import time.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from afteraction import __version__
from afteraction.config import Settings
from afteraction.jobs import build_queue, recover_stopped_imports, start_consumer_thread
from afteraction.services.search import embed_for
from afteraction.storage.changes import ChangeDetector
from afteraction.storage.db import make_engine, make_session_factory
from afteraction.storage.types import utcnow
from afteraction.web import errors, templating
from afteraction.web.fastpath import CachedReads
from afteraction.web.pagecache import CachedPages, page_cache
from afteraction.web.readcache import ReadCache
from afteraction.web.routes import (
    api_directory,
    api_imports,
    api_inbox,
    api_incidents,
    api_insights,
    api_reports,
    api_workspace,
    pages,
    pages_analysis,
    pages_auth,
    pages_imports,
    pages_insights,
    pages_interviews,
    pages_learning,
    pages_reports,
    pages_reviews,
    pages_workspace,
)
from afteraction.web.schemas import ERRORS
from afteraction.web.security import SecurityHeaders, install_api_docs
from afteraction.web.session_cookie import SessionCookies, SignedSessions

HERE = Path(__file__).parent

API_DESCRIPTION = """
The afteraction REST API. Authenticate with `Authorization: Bearer <token>` (create a token
on your account page or with `POST /api/v1/tokens`). Lists are paginated with `limit` and
`offset` and return `total` and `next_offset`. Every error has the shape
`{"error": {"code": "...", "message": "...", "details": {...}}}`; bad input is a 4xx naming
the field. Times are ISO 8601 with an offset; naive times are refused.
"""


NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's native OpenTelemetry off: it looks for providers on every request otherwise."""


def create_app(settings: Settings, *, start_worker: bool = False) -> FastAPI:
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # import jobs a killed process left running: checked beside start-up, which must
        # not wait for a SQLite import of another process to release the write lock
        threading.Thread(
            target=recover_stopped_imports, args=(settings,), name="import-recovery", daemon=True
        ).start()
        consumer = None
        if start_worker:
            app.state.queue = build_queue(settings)
            consumer = start_consumer_thread(app.state.queue)
        yield
        if consumer is not None:
            consumer.stop(graceful=False)
        app.state.read_cache.detector.close()
        engine.dispose()

    app = FastAPI(
        telemetry=None if settings.opentelemetry else NO_TELEMETRY,
        title="afteraction",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served by `install_api_docs`, from package files
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = utcnow  # tests move time by replacing it
    app.state.queue = None  # built on first use by `deps.queue_of` unless the worker runs here
    app.state.build_queue = build_queue
    app.state.embed = embed_for(settings)
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.read_cache = ReadCache(ChangeDetector(engine), enabled=settings.read_cache)
    app.state.page_cache = page_cache(app.state.read_cache.detector, enabled=settings.read_cache)
    app.state.templates = templating.build(HERE / "templates")
    sessions = SignedSessions(settings.secret_key.get_secret_value(), settings.session_max_age)
    app.add_middleware(
        SessionCookies, sessions=sessions, same_site="lax", https_only=settings.cookies_secure
    )
    errors.install(app)
    app.add_middleware(CachedReads, cache=app.state.read_cache)
    app.add_middleware(SecurityHeaders)  # every answer carries the headers...
    # ...and a cached page, served first, adds the same ones itself
    app.add_middleware(CachedPages, cache=app.state.page_cache, sessions=sessions)
    install_api_docs(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api_incidents.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(api_directory.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(pages_auth.router)
    _include_pages(app)
    app.include_router(api_insights.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(pages_insights.router)
    app.include_router(api_workspace.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(pages_workspace.router)
    app.include_router(pages_analysis.router)
    app.include_router(pages_interviews.router)
    app.include_router(api_imports.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(pages_imports.router)

    app.include_router(api_reports.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(pages_reviews.router)
    app.include_router(pages_reports.router)
    app.include_router(api_inbox.router, prefix="/api/v1", responses=ERRORS)
    app.include_router(pages_learning.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok", "version": __version__})

    return app


def _include_pages(app: FastAPI) -> None:
    """Page routers other than login; each module exposes `router`."""
    app.include_router(pages.router)


def templates_of(app: FastAPI) -> Jinja2Templates:
    templates: Jinja2Templates = app.state.templates
    return templates
