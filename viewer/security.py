"""Access and hardening: the optional token, a strict CSP and friends on every response."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from yarl import URL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE = "hubscope_token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def is_loopback(host: str) -> bool:
    return host.strip("[]") in LOOPBACK_NAMES or host.startswith("127.")


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: security headers on every answer, errors and static files too."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)


def _given(request: web.Request) -> tuple[str | None, bool]:
    """The token the request carries, and whether it came in the query string."""
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip(), False
    if "token" in request.query:
        return request.query["token"], True
    return request.cookies.get(COOKIE), False


def guard(token: str | None) -> Middleware:
    """Middleware: with a token, every request must carry it; without one, only local Hosts.

    The Host check stops DNS rebinding from reading a loopback viewer from a web page.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is None:
            if not is_loopback(request.url.host or ""):
                raise web.HTTPForbidden(text="hubscope view answers only to a loopback Host\n")
            return await handler(request)
        given, in_query = _given(request)
        if given is None or not hmac.compare_digest(given.encode(), token.encode()):
            raise web.HTTPUnauthorized(
                text="hubscope view needs its token (?token=…, or Authorization: Bearer …)\n",
                headers={"WWW-Authenticate": 'Bearer realm="hubscope"'},
            )
        if in_query:
            # Trade the token in the URL for a cookie, so it leaves history and logs.
            clean = URL(request.path_qs).without_query_params("token")
            response: web.StreamResponse = web.Response(
                status=303, headers={"Location": str(clean)}
            )
            if request.path.startswith("/api/"):
                response = await handler(request)
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            return response
        return await handler(request)

    return middleware
