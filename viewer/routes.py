"""URL map: pages, their JSON twins under /api/, static files; API errors answered as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from viewer import api, export, resend, targets, views
from viewer.filters import FilterError, parse, raw_text
from viewer.security import Handler


def setup_routes(app: web.Application, static: Path) -> None:
    """Register every route of the viewer."""
    app.router.add_get("/", views.index, name="index")
    app.router.add_get("/exchanges/{id}", views.detail, name="detail")
    app.router.add_get("/devices", views.devices, name="devices")
    app.router.add_get("/tags", views.tags, name="tags")
    app.router.add_get("/problems", views.problems, name="problems")
    app.router.add_get("/sessions", views.sessions, name="sessions")
    app.router.add_get("/sessions/{name:.+}", views.session, name="session")
    app.router.add_get("/rules/{id}", views.rule, name="rule")
    app.router.add_get("/api/exchanges", api.exchanges)
    app.router.add_get("/api/exchanges/{id}", api.exchange)
    app.router.add_get("/api/exchanges/{id}/raw/{side}", api.raw)
    app.router.add_get("/api/devices", api.devices)
    app.router.add_get("/api/devices/timeline", api.timeline)
    app.router.add_get("/api/tags", api.tags)
    app.router.add_get("/api/problems", api.problems)
    app.router.add_get("/api/exchanges/{id}/targets", targets.api_send_targets)
    app.router.add_get("/api/devices/sends", targets.api_device_sends)
    app.router.add_get("/api/sessions", api.sessions)
    app.router.add_get("/api/sessions/{name:.+}", api.session)
    app.router.add_get("/api/events", api.events)
    export.setup_routes(app)
    resend.setup_routes(app)
    app.router.add_static("/static/", static, name="static", append_version=True)


PAGE_ERRORS = frozenset({400, 404, 405})
"""Errors a page answers inside the normal layout (access errors stay terse)."""


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors under /api/ as `{"error": …, "status": …}`; on pages, inside the layout."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if not request.path.startswith("/api/") and error.status in PAGE_ERRORS:
            return error_page(request, error)
        if not request.path.startswith("/api/") or error.status < 400:
            raise
        body = json.dumps({"error": (error.text or error.reason).strip(), "status": error.status})
        return web.Response(
            status=error.status, text=body, content_type="application/json", headers=_keep(error)
        )


def _keep(error: web.HTTPException) -> dict[str, str]:
    return {k: v for k, v in error.headers.items() if k.lower() == "www-authenticate"}


def error_page(request: web.Request, error: web.HTTPException) -> web.Response:
    """The error in the normal page: navigation, the message, the way back with the filter."""
    try:
        back = parse(request.query).query()
    except FilterError:
        back = ""
    context = {"title": f"{error.status} {error.reason}", "status": error.status,
               "reason": error.reason, "message": (error.text or "").strip(),
               "back": back, "filter_text": raw_text(request.query)}  # fmt: skip
    response = aiohttp_jinja2.render_template("error.html", request, context)
    response.set_status(error.status)
    return response
