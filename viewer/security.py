"""Access and hardening: the optional token, a strict CSP and friends on every response."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from yarl import URL

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE = "hubscope_token"
MIN_TOKEN = 16
"""Shortest token accepted (`secrets.token_urlsafe(24)` gives 32 characters)."""
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
    """Exactly `localhost` or an IP literal on the loopback network: never a name that only
    starts like one (`127.0.0.1.attacker.example` is a DNS name anyone can point anywhere)."""
    name = host.strip().removeprefix("[").removesuffix("]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class WeakToken(ValueError):
    """The token is empty or too short to guard recorded traffic."""


def check_token(token: str | None) -> None:
    """Refuse, at start, a token that guards nothing: empty (an unset variable) or short."""
    if token is None:
        return
    if not token.strip():
        raise WeakToken("--token is empty (an unset variable?); give a real token or none")
    if len(token) < MIN_TOKEN:
        raise WeakToken(
            f"--token is {len(token)} characters; use at least {MIN_TOKEN} (for example: "
            "python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )


def local_host(request: web.Request) -> bool:
    """The request's Host names this viewer on loopback: a loopback host and our own port."""
    host = request.host
    try:
        url = URL(f"http://{host}")
        name, port = url.raw_host or "", url.port
    except ValueError:
        return False
    if not is_loopback(name):
        return False
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    bound = sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None
    return bound is None or port == bound


def same_origin_path(request: web.Request) -> str:
    """Where to send the browser after taking the token out of the URL: this path, relative
    to this origin, never `//host/…` (which a browser reads as another site)."""
    path = "/" + request.rel_url.raw_path.lstrip("/\\ \t")
    query = request.rel_url.without_query_params("token").raw_query_string
    return path + ("?" + query if query else "")


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
    check_token(token)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is None:
            if not local_host(request):
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
            response: web.StreamResponse = web.Response(
                status=303, headers={"Location": same_origin_path(request)}
            )
            if request.path.startswith("/api/"):
                response = await handler(request)
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            return response
        return await handler(request)

    return middleware
