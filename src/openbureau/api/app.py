"""The FastAPI application, built from a Bureau context passed in explicitly."""

from __future__ import annotations

import gc

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from openbureau import __version__
from openbureau.api.problems import install_problem_handlers, problem_response
from openbureau.context import Bureau
from openbureau.furnishing.api import router as furnishing_router
from openbureau.governance.api import router as governance_router
from openbureau.identity.api import router as identity_router
from openbureau.identity.api import subjects_router
from openbureau.identity.blind import name_key
from openbureau.reports.api import report_batches, report_slots
from openbureau.reports.api import router as reports_router
from openbureau.settings import Settings


class BodyLimit:
    """Refuses a request body over the limit before it is read, and stops one that grows past it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = problem_response(
                413, "Upload too large", f"the body exceeds {self.limit} bytes", "upload-too-large"
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            response = problem_response(
                413, "Upload too large", f"the body exceeds {self.limit} bytes", "upload-too-large"
            )
            await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(bureau: Bureau) -> FastAPI:
    # Load the romanization tables now, not inside the first inquiry a worker serves.
    name_key("张伟")
    app = FastAPI(
        title="openbureau",
        version=__version__,
        description="A neutral credit bureau: furnishing, identity, credit files and reports.",
    )
    app.state.bureau = bureau
    app.state.report_slots = report_slots(bureau)
    app.state.report_batches = report_batches(bureau)
    install_problem_handlers(app)
    app.include_router(furnishing_router)
    app.include_router(reports_router)
    app.include_router(governance_router)
    app.include_router(identity_router)
    app.include_router(subjects_router)

    # Everything built so far (routes, models, tables, caches) lives as long as the worker:
    # moved out of the collector's reach, a full collection no longer walks it, which showed
    # as tail latency under load.
    gc.collect()
    gc.freeze()

    @app.get("/v1/health", tags=["governance"])
    def health() -> dict:
        """Liveness: answers without touching the database."""
        return {"status": "ok"}

    # Multipart framing adds a little to the file itself.
    app.add_middleware(BodyLimit, limit=bureau.settings.max_upload_bytes + 64 * 1024)
    return app


def app_from_environment() -> FastAPI:
    """uvicorn factory for `openbureau serve`: settings come from OPENBUREAU_* variables."""
    return create_app(Bureau.from_settings(Settings()))
