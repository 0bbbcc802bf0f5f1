"""Hop-by-hop header filtering (RFC 9110 §7.6.1); pure functions."""

from __future__ import annotations

from collections.abc import Iterable

from multidict import CIMultiDict

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


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    """Header names listed in Connection, which are hop-by-hop for this message only."""
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def forwardable(headers: Iterable[tuple[str, str]], dropped: frozenset[str]) -> CIMultiDict[str]:
    """The headers to pass on: everything but hop-by-hop ones, order and repeats kept."""
    pairs = list(headers)
    skip = dropped | _connection_tokens(pairs)
    return CIMultiDict((name, value) for name, value in pairs if name.lower() not in skip)
