"""A loopback upstream that sees and answers raw bytes: no HTTP library between the test
and the wire, so nothing is inflated, added or dropped on the upstream's side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Answer = Callable[[bytes, bytes], bytes | None]
"""(request head, request body) → the whole raw answer, or None to answer nothing."""


@dataclass
class RawRequest:
    head: bytes
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None


@dataclass
class RawUpstream:
    url: str
    port: int
    seen: list[RawRequest] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0


def answer(
    status: str = "200 OK", headers: list[tuple[str, str]] | None = None, body: bytes = b""
) -> bytes:
    """A raw HTTP/1.1 answer with exactly these headers (Content-Length added unless given)."""
    pairs = list(headers or [])
    if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in pairs):
        pairs.append(("Content-Length", str(len(body))))
    lines = "".join(f"{k}: {v}\r\n" for k, v in pairs)
    return f"HTTP/1.1 {status}\r\n{lines}\r\n".encode("latin-1") + body


def echo(head: bytes, body: bytes) -> bytes:
    return answer(headers=[("Content-Type", "application/octet-stream")], body=body)


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[bytes, bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request = RawRequest(head, b"")
    size = int(request.header("Content-Length") or 0)
    if size and (request.header("Expect") or "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # as the hub does
    body = await reader.readexactly(size) if size else b""
    return head, body


@asynccontextmanager
async def raw_upstream(respond: Answer = echo, *, delay: float = 0.0) -> AsyncIterator[RawUpstream]:
    """Serve `respond` on a free loopback port; every request is kept in `seen`."""
    state = RawUpstream(url="", port=0)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (got := await _read_request(reader, writer)) is not None:
                head, body = got
                state.seen.append(RawRequest(head, body))
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
                try:
                    if delay:
                        await asyncio.sleep(delay)
                    raw = respond(head, body)
                finally:
                    state.in_flight -= 1
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{state.port}"
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()
