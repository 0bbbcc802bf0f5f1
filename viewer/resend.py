"""Runnable "Copy as curl" and "Edit and resend" in the viewer, once it holds a key.

Both exist only when `hubscope view` was started with `--connection-string` and listens
on loopback: the key stays in this process, tokens are signed per page view (valid for
`Signer.ttl`), pages that carry one are `no-store`, and a resend must come from the
viewer's own pages (same Origin). Without a key, the pages say how to give one.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from proxy.exchange import Exchange, Message
from proxy.replay.load import Recorded, decode
from proxy.replay.resend import (
    EditError,
    ExchangeNotFound,
    Resent,
    apply_edit,
    edit_text,
    load_exchange,
    resend,
    signed,
)
from proxy.signing import Signer
from viewer.curl import as_curl
from viewer.state import reader_key, settings_key

signer_key = web.AppKey("signer", Signer)
target_key = web.AppKey("target", str)

HOW_TO_ENABLE = (
    'Start the viewer with --connection-string "Endpoint=sb://…/;SharedAccessKeyName=…;'
    'SharedAccessKey=…" (on loopback) for a signed command and to edit and resend: the key is '
    "under Access Policies of the hub in the Azure portal; `hubscope hub` prints its own."
)


def runnable(item: Recorded, target: str, signer: Signer) -> str:
    """A curl command for `target` carrying a freshly signed token in the client's shape."""
    sent = signed(item, target, signer)
    token = next((v for k, v in sent.headers if k.lower() == "authorization"), None)
    exchange = Exchange(
        id=item.exchange.id,
        session=item.exchange.session,
        started_at=item.exchange.started_at,
        duration_ms=0.0,
        method=sent.method,
        url=sent.url,
        request=Message(headers=sent.headers, body=sent.body),
    )
    return as_curl(exchange, authorization=token)


def enable(app: web.Application, signer: Signer, target: str) -> None:
    """Turn on signed curl commands and resending (call before the app starts)."""
    app[signer_key] = signer
    app[target_key] = target.rstrip("/")

    def runnable_curl(exchange: Exchange) -> str:
        item = Recorded(index=1, exchange=exchange, decoded=decode(exchange))
        return runnable(item, app[target_key], signer)

    aiohttp_jinja2.get_env(app).globals["runnable_curl"] = runnable_curl
    app.on_response_prepare.append(_no_store)


async def _no_store(request: web.Request, response: web.StreamResponse) -> None:
    """Pages that may carry a signed token are never cached."""
    if request.path.startswith(("/exchanges/", "/api/exchanges/")):
        response.headers["Cache-Control"] = "no-store"


def _enabled(request: web.Request) -> tuple[Signer, str]:
    signer = request.app.get(signer_key)
    if signer is None:
        raise web.HTTPForbidden(text=f"{HOW_TO_ENABLE}\n")
    return signer, request.app[target_key]


async def _load(request: web.Request) -> Recorded:
    try:
        return await request.app[reader_key].run(load_exchange, request.match_info["id"])
    except ExchangeNotFound as error:
        raise web.HTTPNotFound(text=f"{error}\n") from None


def _same_origin(request: web.Request) -> None:
    """Refuse a resend posted by another site's page (the viewer sets no CORS headers).

    Browsers say where a request comes from in `Sec-Fetch-Site`; `Origin` is `null` on the
    viewer's own forms (its Referrer-Policy is no-referrer), so it only counts without it.
    """
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site is not None:
        allowed = site in ("same-origin", "none")
    else:
        allowed = origin is None or origin == f"{request.scheme}://{request.host}"
    if not allowed:
        raise web.HTTPForbidden(text="resend: the request did not come from the viewer\n")


async def curl_json(request: web.Request) -> web.Response:
    """`{"curl", "signed", "hint"}`: signed when the viewer holds a key."""
    item = await _load(request)
    signer = request.app.get(signer_key)
    if signer is None:
        body = {"curl": as_curl(item.exchange), "signed": False, "hint": HOW_TO_ENABLE}
    else:
        body = {"curl": runnable(item, request.app[target_key], signer), "signed": True,
                "hint": None}  # fmt: skip
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def _side(exchange: Exchange) -> dict[str, Any]:
    response = exchange.response
    body = response.body if response is not None else b""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = "base64: " + base64.b64encode(body).decode()
    return {
        "id": exchange.id,
        "status": exchange.status,
        "reason": exchange.reason,
        "error": exchange.error,
        "headers": list(response.headers) if response is not None else [],
        "body": text,
    }


def _context(item: Recorded, target: str, text: str, resent: Resent | None, error: str | None
             ) -> dict[str, Any]:  # fmt: skip
    return {
        "title": f"Resend …{item.exchange.id[-8:]}",
        "item": item,
        "target": target,
        "text": text,
        "error": error,
        "resent": resent,
        "original": _side(item.exchange),
        "again": _side(resent.exchange) if resent is not None else None,
    }


async def form(request: web.Request) -> web.Response:
    signer, target = _enabled(request)
    item = await _load(request)
    try:
        text = edit_text(signed(item, target, signer))
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text="the request body is not UTF-8 text: cannot edit\n") from None
    response = aiohttp_jinja2.render_template(
        "resend.html", request, _context(item, target, text, None, None)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def submit(request: web.Request) -> web.Response:
    """Send the (edited) request, record the answer, show both answers and the difference."""
    signer, target = _enabled(request)
    _same_origin(request)
    item = await _load(request)
    if item.request_truncated:
        raise web.HTTPBadRequest(text="the recorded request body was cut: cannot resend it\n")
    posted = await request.post()
    text = str(posted.get("request", ""))
    try:
        sent = apply_edit(text, item, signer)
    except EditError as error:
        page = _context(item, target, text, None, str(error))
        return aiohttp_jinja2.render_template("resend.html", request, page, status=400)
    db = request.app[settings_key].db
    resent = await asyncio.to_thread(lambda: asyncio.run(resend(db, item, sent, signer)))
    if request.path.startswith("/api/"):
        return web.json_response({
            "exchange_id": resent.exchange.id, "session": resent.session,
            "status": resent.exchange.status, "verdict": resent.comparison.verdict,
            "diff": [[d.field, d.original, d.replay] for d in resent.comparison.differences],
        })  # fmt: skip
    page = _context(item, target, text, resent, None)
    response = aiohttp_jinja2.render_template("resend.html", request, page)
    response.headers["Cache-Control"] = "no-store"
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/exchanges/{id}/resend", form, name="resend")
    app.router.add_post("/exchanges/{id}/resend", submit)
    app.router.add_post("/api/exchanges/{id}/resend", submit)
    app.router.add_get("/api/exchanges/{id}/curl", curl_json)
