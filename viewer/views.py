"""Page handlers: load, then render a template (the JSON twins live in `api`)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from viewer import explore, loaders, queries, rulepage, targets
from viewer.state import reader_key


def render_row(request: web.Request, item: queries.Item) -> str:
    """One list row as HTML, for the page and for live events alike."""
    env = aiohttp_jinja2.get_env(request.app)
    return str(env.get_template("_row.html").module.row(item, ""))  # type: ignore[attr-defined]


@aiohttp_jinja2.template("list.html")
async def index(request: web.Request) -> dict[str, Any]:
    view = await loaders.load_list(request)
    return {"view": view, "filters": view.filters, "title": "Exchanges",
            "link_query": view.filters.query()}  # fmt: skip


@aiohttp_jinja2.template("detail.html")
async def detail(request: web.Request) -> dict[str, Any]:
    view = await loaders.load_detail(request)
    reach = await targets.load_send(request, view.row)
    return {"view": view, "ex": view.analysis.exchange, "filters": view.filters,
            "title": f"Exchange {view.row['id']}", "targets": reach}  # fmt: skip


async def devices(request: web.Request) -> web.StreamResponse:
    """`/devices` is the device index; `/devices?handle=…` (or an id) a device's timeline."""
    if any(request.query.get(key, "").strip() for key in queries.DEVICE_KEYS):
        view = await loaders.load_timeline(request)
        sends = await targets.load_device_sends(request, view.value)
        context = {"view": view, "title": f"Device {view.value}", "sends": sends}
        return aiohttp_jinja2.render_template("timeline.html", request, context)
    index = await explore.load_devices(request)
    context = {"view": index, "filters": index.filters, "title": "Devices"}
    return aiohttp_jinja2.render_template("devices.html", request, context)


@aiohttp_jinja2.template("tags.html")
async def tags(request: web.Request) -> dict[str, Any]:
    return {"view": await explore.load_tags(request), "title": "Tags"}


@aiohttp_jinja2.template("problems.html")
async def problems(request: web.Request) -> dict[str, Any]:
    view = await explore.load_problems(request)
    return {"view": view, "filters": view.filters, "title": "Problems"}


@aiohttp_jinja2.template("sessions.html")
async def sessions(request: web.Request) -> dict[str, Any]:
    rows = await request.app[reader_key].run(queries.sessions)
    return {"sessions": rows, "title": "Sessions"}


@aiohttp_jinja2.template("session.html")
async def session(request: web.Request) -> dict[str, Any]:
    view = await loaders.load_session(request)
    return {"view": view, "title": f"Session {view.counts['session']['name']}"}


@aiohttp_jinja2.template("rule.html")
async def rule(request: web.Request) -> dict[str, Any]:
    found = rulepage.load_rule(request)
    return {"rule": found, "title": f"Rule {found.id}"}
