"""The FastAPI app behind /__edgehost/: the admin API and its OpenAPI docs.

Built lazily by `app.HostApp` (importing FastAPI costs ~160 ms of process start, and function
traffic never needs it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from edgehost.errors import EdgehostError
from edgehost.http.admin import admin_router
from edgehost.http.body_limit import BodyLimitMiddleware

if TYPE_CHECKING:
    from edgehost.app import Host


def build_admin_app(host: Host, prefix: str) -> FastAPI:
    app = FastAPI(title="edgehost", docs_url=f"{prefix}/docs",
                  openapi_url=f"{prefix}/openapi.json", redoc_url=None)

    @app.exception_handler(EdgehostError)
    async def edgehost_error(request: Request, exc: EdgehostError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content=exc.to_json(),
                            headers=exc.headers())

    app.include_router(admin_router(host.config, host.accounts, host.functions, host.actors,
                                    host.logs, host.storage))
    app.add_middleware(BodyLimitMiddleware, limit=host.config.http.max_admin_body_bytes,
                       rule="http.max_admin_body_bytes")
    return app
