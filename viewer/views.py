"""Page handlers: load, then render a template (the JSON twins live in `api`)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from viewer import loaders, queries, targets
from viewer.state import reader_key


def render_row(request: web.Request, item: queries.Item) -> str:
    """One list row as HTML, for the page and for live events alike."""
    env = aiohttp_jinja2.get_env(request.app)
    return env.get_template("_row.html").render(item=item)


@aiohttp_jinja2.template("list.html")
async def index(request: web.Request) -> dict[str, Any]:
    view = await loaders.load_list(request)
    names = await request.app[reader_key].run(queries.session_names)
    return {"view": view, "filters": view.filters, "sessions": names, "title": "Exchanges"}


@aiohttp_jinja2.template("detail.html")
async def detail(request: web.Request) -> dict[str, Any]:
    view = await loaders.load_detail(request)
    reach = await targets.load_send(request, view.row)
    return {"view": view, "ex": view.analysis.exchange, "title": f"Exchange {view.row['id']}",
            "targets": reach}  # fmt: skip


@aiohttp_jinja2.template("timeline.html")
async def timeline(request: web.Request) -> dict[str, Any]:
    view = await loaders.load_timeline(request)
    sends = await targets.load_device_sends(request, view.value)
    return {"view": view, "title": f"Device {view.value}", "sends": sends}


@aiohttp_jinja2.template("sessions.html")
async def sessions(request: web.Request) -> dict[str, Any]:
    rows = await request.app[reader_key].run(queries.sessions)
    return {"sessions": rows, "title": "Sessions"}


@aiohttp_jinja2.template("session.html")
async def session(request: web.Request) -> dict[str, Any]:
    view = await loaders.load_session(request)
    return {"view": view, "title": f"Session {view.counts['session']['name']}"}
