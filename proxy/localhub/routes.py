"""Every request goes through one dispatcher: classify, authenticate, hand to a view."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from proxy.localhub import inst_views, reg_views, sends
from proxy.localhub.atom import ERROR_TYPE, error_body
from proxy.localhub.auth import authenticate, missing_right
from proxy.localhub.context import SETTINGS_KEY, STORE_KEY, Ctx, new_tracking_id
from proxy.localhub.versions import FORBIDDEN_IS_403_FROM, at_least, version_problem
from proxy.model import Op
from proxy.operations import classify

__all__ = ["dispatch", "nh_headers"]

log = logging.getLogger(__name__)

Handler = Callable[[Ctx], Awaitable[web.Response]]
HANDLERS: dict[Op, Handler] = {**reg_views.HANDLERS, **inst_views.HANDLERS, **sends.HANDLERS}
NO_SERVICE = "No service is hosted at the specified address."
"""As recorded: the detail ends in a full stop before `.TrackingId` (so two of them)."""


async def dispatch(request: web.Request) -> web.Response:
    """The one route: any method, any path."""
    op = classify(request.method, request.raw_path, if_match=request.headers.get("If-Match"))
    hub = op.hub or ""
    settings = request.app[SETTINGS_KEY]
    ctx = Ctx(request=request, op=op, hub=hub, settings=settings, store=request.app[STORE_KEY])
    response = await _answer(ctx)
    response.headers["TrackingId"] = ctx.tracking_id
    return response


async def _answer(ctx: Ctx) -> web.Response:
    """Authenticate, check the hub and api-version, check the right, run the operation's view."""
    request, op, settings = ctx.request, ctx.op, ctx.settings
    if not ctx.hub:
        return ctx.error(404, NO_SERVICE)
    authorization = request.headers.get("Authorization")
    denied = authenticate(
        authorization,
        settings,
        host=request.host,
        hub=ctx.hub,
        path=request.raw_path,
    )
    if denied is not None:
        return ctx.error(401, denied)
    if not settings.serves(ctx.hub):
        return ctx.error(404, NO_SERVICE)
    if (problem := version_problem(op)) is not None:
        return ctx.error(400, problem)
    lacking = missing_right(authorization or "", settings, op.name)
    if lacking is not None:
        if at_least(ctx.api_version, FORBIDDEN_IS_403_FROM):
            return ctx.empty(403)
        return ctx.error(401, f"{lacking.value} claim is required for this operation.")
    ctx.store.purge_expired(ctx.hub, ctx.now)
    handler = HANDLERS.get(op.name)
    if handler is None:
        return ctx.error(404, f"hubscope hub does not implement {request.method} {request.path}")
    return await handler(ctx)


@web.middleware
async def nh_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The service's common headers on every answer; any failure becomes an NH 500."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        tracking = new_tracking_id()
        detail = exc.reason if exc.status != 413 else "The request body is too large"
        response = web.Response(
            status=exc.status,
            body=error_body(exc.status, detail, tracking),
            headers={"Content-Type": ERROR_TYPE, "TrackingId": tracking},
        )
    except Exception:
        tracking = new_tracking_id()
        log.exception(
            "local hub failed on %s %s (TrackingId %s)", request.method, request.path_qs, tracking
        )
        response = web.Response(
            status=500,
            body=error_body(500, "Internal Server Error", tracking, time.time()),
            headers={"Content-Type": ERROR_TYPE, "TrackingId": tracking},
        )
    tracking_id = response.headers.get("TrackingId") or new_tracking_id()
    response.headers["TrackingId"] = tracking_id
    response.headers["x-ms-correlation-request-id"] = new_tracking_id()
    response.headers["Strict-Transport-Security"] = "max-age=2592000"
    return response
