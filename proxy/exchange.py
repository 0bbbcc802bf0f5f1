"""The raw capture: one HTTP exchange as it crossed the proxy."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import uuid6

Headers = tuple[tuple[str, str], ...]
"""Header pairs in wire order, repeats kept."""


def new_id() -> str:
    """A fresh exchange id: a UUIDv7 (RFC 9562) as 32 hex digits, the shape of mitmproxy's
    flow ids. It sorts by creation time, so every key and index the store builds on it
    grows at one end: a random uuid4 put each insert on a random page of each, and the
    writer's rate fell by half as a database grew to 200,000 exchanges."""
    return uuid6.uuid7().hex


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One side of an exchange: headers and body as they were on the wire."""

    headers: Headers
    """Header pairs in wire order, repeats kept."""

    body: bytes
    """The body exactly as sent (no decompression, no re-encoding)."""

    full_size: int | None = None
    """Set when `body` is only the start of a longer body the proxy streamed on: its size."""

    full_sha256: str | None = None
    """With `full_size`: the SHA-256 of the whole body as it was streamed."""

    def __post_init__(self) -> None:
        if type(self.body) is not bytes:  # replay and import may hand over any bytes-like
            object.__setattr__(self, "body", bytes(self.body))

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively, or None."""
        lname = name.lower()
        size = len(lname)
        for key, value in self.headers:  # lengths first: most names differ in length
            if len(key) == size and key.lower() == lname:
                return value
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """A request, the upstream's answer (or the failure), and when it happened."""

    id: str
    """`new_id()`: a UUIDv7 in hex, which sorts by time."""

    session: str
    """The session (one proxy run, one replay, one import) it belongs to."""

    started_at: float
    """Unix time when the request arrived."""

    duration_ms: float
    """From the request's arrival to the answer being ready."""

    method: str
    url: str
    """The upstream URL, path and query verbatim as the client sent them."""

    request: Message
    status: int | None = None
    """None when the upstream failed (see error)."""

    reason: str | None = None
    response: Message | None = None
    error: str | None = None
    """Transport failure, like mitmproxy's flow.Error: what failed and where."""

    client: str | None = None
    """The client's address, host:port."""

    proxy_status: int | None = None
    """What the proxy itself answered when the upstream failed (502/504/503)."""

    sas_verdict: str | None = None
    """'valid', 'invalid: …' when a key was configured to check signatures, else None."""


@dataclass(slots=True)
class Clock:
    """Wall-clock start plus a monotonic timer for durations."""

    started_at: float = field(default_factory=time.time)
    _t0: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000.0
