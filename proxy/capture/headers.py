"""Hop-by-hop header filtering (RFC 9110 §7.6.1); pure functions."""

from __future__ import annotations

from collections.abc import Iterable

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
"""RFC 9110 §7.6.1 names, plus the legacy ones proxies have always dropped."""

REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length"}
"""The client's Host is replaced by the upstream's; Content-Length is recomputed from the
body, which is forwarded whole and unchanged."""

RESPONSE_DROPPED = HOP_BY_HOP | {"content-length"}


def forwardable(
    headers: Iterable[tuple[str, str]], dropped: frozenset[str]
) -> list[tuple[str, str]]:
    """The header pairs to pass on: everything but hop-by-hop ones, order and repeats kept.

    `Connection` is always dropped, and so is every header it names (hop-by-hop for this
    message only). One pass, and plain pairs: this runs twice per forwarded request, and
    aiohttp builds its own multidict from whatever it is given.
    """
    kept: list[tuple[str, str]] = []
    listed: set[str] | None = None
    for pair in headers:
        name = pair[0].lower()
        if name == "connection":
            listed = listed or set()
            listed.update(t.strip().lower() for t in pair[1].split(",") if t.strip())
        elif name not in dropped:
            kept.append(pair)
    if listed:
        kept = [pair for pair in kept if pair[0].lower() not in listed]
    return kept
