"""The JSON API under /api/: everything the pages show, for scripts and tests."""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from aiohttp import web

from proxy.decode.xml import DecodeError
from viewer import diff, explore, live, loaders, queries
from viewer.filters import FilterError, parse
from viewer.state import badges_key, live_key, reader_key
from viewer.views import render_row

BODY_COLUMNS = ("request_body", "response_body", "request_headers", "response_headers")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def reply(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=_dumps)


async def exchanges(request: web.Request) -> web.Response:
    view = await loaders.load_list(request)
    return reply({
        "items": [item.json() for item in view.page.items],
        "next_cursor": view.page.next_cursor,
        "scanned": view.page.scanned,
        "partial": view.page.partial,
        "latest": view.latest,
        "filter": view.filters.text,
        "terms": [list(t) for t in view.filters.active()],
    })  # fmt: skip


def _message(headers: tuple[tuple[str, str], ...], body: bytes) -> dict[str, Any]:
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "headers": [list(pair) for pair in headers],
        "body": text,
        "body_base64": base64.b64encode(body).decode() if text is None else None,
    }


async def exchange(request: web.Request) -> web.Response:
    view = await loaders.load_detail(request)
    ex = view.analysis.exchange
    row = {k: v for k, v in view.row.items() if k not in BODY_COLUMNS}
    return reply({
        "exchange": row,
        "request": _message(ex.request.headers, ex.request.body),
        "response": _message(ex.response.headers, ex.response.body) if ex.response else None,
        "decoded": asdict(view.analysis.decoded),
        "devices": view.devices,
        "findings": [diff.finding_json(f) for f in view.analysis.findings],
        "session_findings": (
            None if view.session_findings is None
            else [diff.finding_json(f) for f in view.session_findings]
        ),
        "curl": view.curl,
        "newer": view.newer,
        "older": view.older,
        "replay": view.replay,
    })  # fmt: skip


async def raw(request: web.Request) -> web.Response:
    """A stored body byte for byte, as a download (never rendered by the browser)."""
    side = request.match_info["side"]
    if side not in ("request", "response"):
        raise web.HTTPNotFound(text="side is request or response\n")
    row = await request.app[reader_key].run(queries.exchange_row, request.match_info["id"])
    if row is None:
        raise web.HTTPNotFound(text="no such exchange\n")
    return web.Response(
        body=row[f"{side}_body"] or b"",
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{row["id"]}-{side}.bin"'},
    )


async def timeline(request: web.Request) -> web.Response:
    view = await loaders.load_timeline(request)
    return reply({
        "key": view.key, "value": view.value,
        "entries": [e.json() for e in view.entries],
        "sessions": [{"session": name, "exchanges": n} for name, n in view.sessions],
        "shown": view.shown,
        "columns": [{"session": name, "entries": [e.json() for e in entries]}
                    for name, entries in view.columns],
        "waterfall": view.waterfall.json() if view.waterfall else None,
    })  # fmt: skip


async def devices(request: web.Request) -> web.Response:
    return reply((await explore.load_devices(request)).json())


async def tags(request: web.Request) -> web.Response:
    return reply((await explore.load_tags(request)).json())


async def problems(request: web.Request) -> web.Response:
    return reply((await explore.load_problems(request)).json())


async def sessions(request: web.Request) -> web.Response:
    return reply({"sessions": await request.app[reader_key].run(queries.sessions)})


async def session(request: web.Request) -> web.Response:
    view = await loaders.load_session(request)
    return reply({
        **view.counts,
        "rules": [{"rule": r, "severity": s, "count": n} for r, s, n in view.rules],
        "audited": view.audited,
        "replay_pairs": view.replay_pairs,
        "replays": view.replays,
        "charts": [c.json() for c in view.charts],
        "audit": [
            {**{k: v for k, v in asdict(g).items() if k != "examples"},
             "examples": [diff.finding_json(f) for f in g.examples]}
            for g in view.groups
        ],
    })  # fmt: skip


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one `exchange` event per new matching row (`after=ROWID`)."""
    try:
        filters = parse(request.query)
        # A reconnecting EventSource says where it stopped.
        after_text = request.headers.get("Last-Event-ID") or request.query.get("after", "")
        after = int(after_text) if after_text else None
    except (FilterError, ValueError, DecodeError) as error:
        raise web.HTTPBadRequest(text=f"{error}\n") from None
    return await live.stream(
        request, request.app[live_key], filters, after, request.app[badges_key],
        lambda item: render_row(request, item),
    )  # fmt: skip
