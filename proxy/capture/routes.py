"""Where each request goes: the reverse proxy's one upstream, or the forward proxy's targets.

The reverse proxy appends the request's path and query, verbatim, to its upstream; a
request in absolute form (`GET http://host/…`) or a CONNECT is meant for a forward
proxy and gets a 400 that says so. The forward proxy sends what arrives through an
intercepted CONNECT tunnel to the host the client named (or where `--map-remote` points,
keeping the client's `Host`), and handles absolute-form requests the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from aiohttp import web
from yarl import URL

__all__ = [
    "FORWARD_ONLY",
    "INTERCEPTED",
    "ForwardRoutes",
    "HostSet",
    "Target",
    "parse_map_remote",
    "reverse_refusal",
]

INTERCEPTED = ("*.servicebus.windows.net", "*.notificationhub.windows.net")
"""Notification Hubs namespaces: always intercepted in forward mode."""

_ABSOLUTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)")


class HostSet:
    """Host names and `*.suffix` patterns, matched case-insensitively, ports ignored."""

    def __init__(self, patterns: Iterable[str]) -> None:
        names = [p.strip().lower().rstrip(".") for p in patterns if p.strip()]
        self.exact = frozenset(n for n in names if not n.startswith("*."))
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))

    def __contains__(self, host: object) -> bool:
        if not isinstance(host, str):
            return False
        name = host.lower().rstrip(".")
        return name in self.exact or name.endswith(self.suffixes)


def parse_map_remote(value: str) -> tuple[str, str]:
    """`HOST=URL` → (host, URL without a trailing slash); ValueError says what is wrong."""
    host, sep, url = value.partition("=")
    host = host.strip().lower()
    if not sep or not host or "/" in host:
        raise ValueError(
            f"{value!r}: expected HOST=URL, e.g. ns.servicebus.windows.net=http://127.0.0.1:8082"
        )
    target = URL(url.strip())
    if target.scheme not in ("http", "https") or not target.host:
        raise ValueError(f"{value!r}: the URL must start with http:// or https:// and name a host")
    return host, str(target).rstrip("/")


@dataclass(frozen=True, slots=True)
class Target:
    """Where one request goes, and whether it is recorded."""

    url: URL
    host: str | None = None
    """The `Host` header to send when it is not the URL's (map-remote keeps the client's)."""

    record: bool = True
    addressed: URL | None = None
    """The URL the client addressed, recorded instead of `url` when map-remote changed it."""


def reverse_refusal(method: str, raw_target: str, upstream: str) -> str:
    """The 400 text for a forward-proxy request that reached the reverse proxy."""
    what = "CONNECT" if method == "CONNECT" else f"an absolute URL ({raw_target[:80]})"
    return (
        f"hubscope is a reverse proxy for {upstream} here and does not accept {what}: "
        "send requests as to the hub itself (Endpoint=sb://<this proxy>/), or start "
        "`hubscope proxy --forward` to use it as HTTPS_PROXY/HTTP_PROXY"
    )


FORWARD_ONLY = (
    "hubscope is a forward proxy here (--forward): set HTTPS_PROXY=http://<this address> in "
    "the app and keep its real endpoint, or start `hubscope proxy --upstream URL` to call it "
    "directly"
)


class ForwardRoutes:
    """The forward proxy's routing: which hosts are intercepted, the open tunnels, map-remote."""

    def __init__(self, intercept: Iterable[str] = (), map_remote: Mapping[str, str] = {}) -> None:
        self.map_remote = {h.lower(): str(URL(u)).rstrip("/") for h, u in map_remote.items()}
        self.intercepted = HostSet([*INTERCEPTED, *intercept, *self.map_remote])
        self.tunnels: dict[object, tuple[str, int]] = {}
        """Client address → the host and port its CONNECT named, while the tunnel is open."""

    def intercepts(self, host: str) -> bool:
        return host in self.intercepted

    def opened(self, peer: object, host: str, port: int) -> None:
        self.tunnels[peer] = (host.lower(), port)

    def closed(self, peer: object) -> None:
        self.tunnels.pop(peer, None)

    def _target(
        self, scheme: str, host: str, port: int | None, rest: str, client_host: str | None
    ) -> Target:
        """The target for `rest` (path and query, verbatim) on host:port, or where it is mapped."""
        addressed = URL(str(URL.build(scheme=scheme, host=host, port=port)) + rest, encoded=True)
        mapped = self.map_remote.get(host.lower())
        if mapped is None:
            return Target(url=addressed, record=self.intercepts(host))
        url = URL(mapped + rest, encoded=True)
        return Target(url=url, host=client_host or host, record=True, addressed=addressed)

    def route(self, request: web.BaseRequest) -> Target | str:
        """The target of one request, or why it cannot be forwarded (a 400)."""
        raw = request.raw_path
        transport = request.transport
        tunnel = self.tunnels.get(transport.get_extra_info("peername")) if transport else None
        if tunnel is not None:
            if request.method == "CONNECT" or not raw.startswith("/"):
                return "hubscope: send origin-form requests (GET /hub/…) inside a CONNECT tunnel"
            host, port = tunnel
            return self._target("https", host, port, raw, request.headers.get("Host"))
        found = _ABSOLUTE.match(raw)
        if found is None or request.method == "CONNECT":
            return FORWARD_ONLY
        if found.group(1).lower() != "http":
            return f"hubscope: {found.group(1)}:// URLs go through CONNECT, not as absolute-form"
        authority = URL(f"http://{found.group(2)}")
        if not authority.host:
            return f"hubscope: no host in {raw[:80]!r}"
        rest = raw[found.end() :] or "/"
        if not rest.startswith("/"):
            rest = "/" + rest
        return self._target("http", authority.host, authority.explicit_port, rest, found.group(2))
