"""URL map: pages, their JSON twins under /api/, static files; API errors answered as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from viewer import api, export, resend, views
from viewer.security import Handler


def setup_routes(app: web.Application, static: Path) -> None:
    """Register every route of the viewer."""
    app.router.add_get("/", views.index, name="index")
    app.router.add_get("/exchanges/{id}", views.detail, name="detail")
    app.router.add_get("/devices", views.timeline, name="timeline")
    app.router.add_get("/sessions", views.sessions, name="sessions")
    app.router.add_get("/sessions/{name:.+}", views.session, name="session")
    app.router.add_get("/api/exchanges", api.exchanges)
    app.router.add_get("/api/exchanges/{id}", api.exchange)
    app.router.add_get("/api/exchanges/{id}/raw/{side}", api.raw)
    app.router.add_get("/api/devices/timeline", api.timeline)
    app.router.add_get("/api/sessions", api.sessions)
    app.router.add_get("/api/sessions/{name:.+}", api.session)
    app.router.add_get("/api/events", api.events)
    export.setup_routes(app)
    resend.setup_routes(app)
    app.router.add_static("/static/", static, name="static", append_version=True)


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors under /api/ as `{"error": …, "status": …}` instead of plain text."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if not request.path.startswith("/api/") or error.status < 400:
            raise
        body = json.dumps({"error": (error.text or error.reason).strip(), "status": error.status})
        return web.Response(
            status=error.status, text=body, content_type="application/json", headers=_keep(error)
        )


def _keep(error: web.HTTPException) -> dict[str, str]:
    return {k: v for k, v in error.headers.items() if k.lower() == "www-authenticate"}
