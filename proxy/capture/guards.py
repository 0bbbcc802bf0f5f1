"""Client deadlines and a bound on client connections: a slow client cannot hold the proxy.

aiohttp's server waits for a request header as long as the client likes, so half a
header (slow loris) holds a connection, and a file descriptor, forever. Every connection
the proxy's server takes is wrapped in a `_Guarded` protocol that sees its bytes before
aiohttp does:

- a request header (from the connection's first byte, or a keep-alive request's first
  byte) must be complete within `header_timeout`, else the client gets `408` and the
  connection is closed; a header that got as far as its request line is recorded (the
  forwarder's `cut_off`);
- at most `max_clients` connections are open at once (kept below the process's open-file
  limit, so accepting never fails): a new one first pushes out the oldest connection
  that is idle or still sending its header, and is refused with `503` only when every
  open connection is busy with a request.

The body has its own deadline (`limits.read_body`), checked while the forwarder reads it.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast

from proxy.exchange import Headers

log = logging.getLogger(__name__)

KEPT_HEAD = 16 << 10
"""Bytes of a header kept to record a cut-off request (aiohttp refuses longer lines)."""

RESERVED_FILES = 64
"""Open files left for everything but client connections (journal, store, logs, CA)."""

HEAD, BUSY, IDLE = "head", "busy", "idle"


@dataclass(frozen=True, slots=True)
class CutOff:
    """A request the client did not finish sending in time: what had arrived of it."""

    peer: str | None
    method: str
    target: str
    headers: Headers
    reason: str
    address: object = None
    """The peer address as the transport gives it (forward routes key tunnels by it)."""


def default_max_clients(max_upstream: int) -> int:
    """Client connections that fit under the open-file limit with the upstream pool beside them."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 16
    return max(8, soft - RESERVED_FILES - max_upstream)


def own_answer(status: int, text: str) -> bytes:
    """The proxy's own plain-text answer, written straight to a connection aiohttp is not
    answering (the caller closes it)."""
    body = (text + "\n").encode()
    return (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: text/plain; "
        f"charset=utf-8\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        "X-Hubscope-Error: 1\r\n\r\n"
    ).encode() + body


def late_header(seconds: float) -> str:
    """Why a client that did not send its request header in time is answered 408."""
    return f"hubscope: the request header did not arrive within {seconds:g} s (--header-timeout)"


class Deadline:
    """One timer at a time: `arm` (re)starts it, `disarm` stops it. It holds `on_expiry` only
    while armed, so a connection and its deadline make no lasting reference cycle."""

    __slots__ = ("handle",)

    def __init__(self) -> None:
        self.handle: asyncio.TimerHandle | None = None

    def arm(self, seconds: float, on_expiry: Callable[[], None]) -> None:
        self.disarm()
        self.handle = asyncio.get_running_loop().call_later(seconds, self._fire, on_expiry)

    def disarm(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def _fire(self, on_expiry: Callable[[], None]) -> None:
        self.handle = None
        on_expiry()


class ClientGuards:
    """The open client connections and their deadlines; one per proxy app."""

    def __init__(
        self,
        *,
        header_timeout: float,
        max_clients: int,
        on_cut_off: Callable[[CutOff], None] | None = None,
    ) -> None:
        self.header_timeout = header_timeout
        self.max_clients = max_clients
        self.on_cut_off = on_cut_off
        self.open: dict[object, _Guarded] = {}
        """Transport → its guard, oldest connection first."""

    def wrap(self, inner: asyncio.Protocol) -> asyncio.Protocol:
        return _Guarded(self, inner)

    def headers_done(self, transport: object) -> None:
        """The handler has the whole header: the header deadline no longer applies."""
        guard = self.open.get(transport)
        if guard is not None:
            guard.busy()

    def answered(self, transport: object) -> None:
        guard = self.open.get(transport)
        if guard is not None:
            guard.phase = IDLE

    def admit(self, guard: _Guarded) -> bool:
        """Make room for one more connection; False when every open one is busy."""
        if len(self.open) >= self.max_clients:
            oldest = next((g for g in self.open.values() if g.phase != BUSY), None)
            if oldest is None:
                return False
            oldest.cut_off(
                f"hubscope: {self.max_clients} client connections open (--max-clients); "
                "this one was waiting longest for a request"
            )
        assert guard.transport is not None
        self.open[guard.transport] = guard
        return True


class _Guarded(asyncio.Protocol):
    """One client connection: passes everything to aiohttp's handler, under a deadline."""

    def __init__(self, guards: ClientGuards, inner: asyncio.Protocol) -> None:
        self.guards = guards
        self.inner = inner
        self.phase = HEAD
        self.head = bytearray()
        self.deadline = Deadline()
        self.transport: asyncio.Transport | None = None
        self.refused = False

    def connection_made(self, base: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, base)  # uvloop's transports are not subclasses
        self.transport = transport
        if not self.guards.admit(self):
            self.refused = True
            transport.write(
                own_answer(
                    503,
                    f"hubscope: {self.guards.max_clients} client connections open and all "
                    "busy (--max-clients); try again",
                )
            )
            transport.close()
            log.warning("client connection refused: %d open, all busy", self.guards.max_clients)
            return
        self.inner.connection_made(transport)
        self.deadline.arm(self.guards.header_timeout, self._expired)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self.phase == IDLE:
            self.phase = HEAD
            self.head.clear()
            self.deadline.arm(self.guards.header_timeout, self._expired)
        if self.phase == HEAD and len(self.head) < KEPT_HEAD:
            self.head += data[: KEPT_HEAD - len(self.head)]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return None if self.refused else self.inner.eof_received()

    def pause_writing(self) -> None:
        if not self.refused:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if not self.refused:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline.disarm()
        if self.refused:
            return
        self.guards.open.pop(self.transport, None)
        self.inner.connection_lost(exc)

    def busy(self) -> None:
        self.phase = BUSY
        self.deadline.disarm()
        self.head.clear()

    def cut_off(self, reason: str) -> None:
        """Answer 408 and close; record the request if its request line had arrived."""
        self.deadline.disarm()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        self.guards.open.pop(transport, None)
        started = self.phase == HEAD and bool(self.head)
        transport.write(own_answer(408, reason))
        transport.close()
        cut = _parse_head(bytes(self.head), transport, reason) if started else None
        if cut is not None and self.guards.on_cut_off is not None:
            self.guards.on_cut_off(cut)
        log.warning("client %s cut off: %s", _peer(transport), reason)

    def _expired(self) -> None:
        if self.phase == HEAD:
            self.cut_off(late_header(self.guards.header_timeout))


def _parse_head(head: bytes, transport: asyncio.BaseTransport, reason: str) -> CutOff | None:
    """The request line and the complete header lines of a partial header, if any."""
    lines = head.split(b"\r\n")
    if len(lines) < 2:
        return None  # not even a whole request line
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        name, sep, value = line.decode("latin-1").partition(":")
        if sep and name.strip():
            headers.append((name.strip(), value.strip()))
    address = transport.get_extra_info("peername")
    return CutOff(_peer(transport), parts[0], parts[1], tuple(headers), reason, address)


def _peer(transport: asyncio.BaseTransport) -> str | None:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return None
