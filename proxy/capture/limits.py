"""Bounds on request bodies: the largest one accepted, and how many bytes are held at once.

Bodies are read whole before they are forwarded, so without a bound eight concurrent
64 MiB uploads hold half a gigabyte. Each request holds its `Content-Length` (or the
maximum, when it is not known in advance) from a shared budget until it is answered;
others wait their turn, first come first served. A body over the maximum is answered
`413` without being forwarded (the hub itself refuses sends over 64 KB).
"""

from __future__ import annotations

import asyncio
from collections import deque

from aiohttp import web

SMALL = 64 << 10
"""Bodies up to this size skip the budget: Notification Hubs traffic never waits."""


class BodyBudget:
    """A budget of request-body bytes in flight."""

    def __init__(self, *, max_body: int, max_in_flight: int) -> None:
        self.max_body = max_body
        self.max_in_flight = max(max_in_flight, max_body)
        self.held = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    def too_large(self, content_length: int | None) -> bool:
        return content_length is not None and content_length > self.max_body

    async def acquire(self, content_length: int | None) -> int:
        """Wait until the body fits in the budget; returns what to `release()` afterwards."""
        size = self.max_body if content_length is None else content_length
        if size <= SMALL:
            return 0
        if not self._waiters and self.held + size <= self.max_in_flight:
            self.held += size
            return size
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((size, waiter))
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release(size)  # granted just as we were cancelled
            else:
                self._waiters.remove((size, waiter))
            raise
        return size

    def release(self, size: int) -> None:
        self.held -= size
        while self._waiters and self.held + self._waiters[0][0] <= self.max_in_flight:
            size, waiter = self._waiters.popleft()
            if not waiter.done():
                self.held += size
                waiter.set_result(None)

    def too_large_text(self, size: int | None) -> str:
        told = "" if size is None else f" (Content-Length: {size})"
        return (
            f"hubscope: request body larger than the proxy's maximum of {self.max_body} bytes"
            f"{told}; not forwarded (raise it with --max-body)"
        )


class UpstreamSlots:
    """At most `size` requests at the upstream at once; the rest wait up to `wait` seconds."""

    def __init__(self, size: int, wait: float) -> None:
        self.size = size
        self.wait = wait
        self._free = asyncio.Semaphore(size)

    async def acquire(self) -> bool:
        """True with a slot held (give it back with `release`), False when none came in time."""
        if not self._free.locked():
            await self._free.acquire()
            return True
        try:
            async with asyncio.timeout(self.wait):
                await self._free.acquire()
        except TimeoutError:
            return False
        return True

    def release(self) -> None:
        self._free.release()

    def busy_text(self) -> str:
        return (
            f"hubscope: all {self.size} upstream connections stayed busy for {self.wait:g} s "
            "(--max-upstream); not forwarded"
        )


class BodyTimeout(Exception):
    """The client stopped sending its body; what had arrived is kept for the record."""

    def __init__(self, received: bytes, seconds: float) -> None:
        super().__init__(
            f"hubscope: the client sent {len(received)} bytes of its body, then nothing for "
            f"{seconds:g} s (--body-timeout)"
        )
        self.received = received


async def read_body(request: web.BaseRequest, max_body: int, timeout: float | None = None) -> bytes:
    """The whole request body, or `HTTPRequestEntityTooLarge` past `max_body`, or
    `BodyTimeout` when the client pauses longer than `timeout` between two reads.

    Not `request.read()`: aiohttp keeps what that returns on the request object, which
    its keep-alive connection keeps alive after the answer, so every idle connection
    would hold its last upload.
    """
    chunks: list[bytes] = []
    size = 0
    content = request.content
    while True:
        if content.is_eof() or timeout is None:
            chunk = await content.readany()
        else:
            try:
                async with asyncio.timeout(timeout):
                    chunk = await content.readany()
            except TimeoutError:
                raise BodyTimeout(b"".join(chunks), timeout) from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_body:
            raise web.HTTPRequestEntityTooLarge(max_size=max_body, actual_size=size)
        chunks.append(chunk)
