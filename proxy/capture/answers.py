"""The upstream's answer passed on to the client: its headers as sent, its body streamed.

aiohttp's responses add `Date`, `Server` and a default `Content-Type` to every answer;
a forwarded answer carries only what the upstream sent (`Passed`). A body up to
`buffered` bytes is read whole before the answer starts, so an upstream failing inside
it still gets a clear `502`; a longer body is streamed, and only its first `keep` bytes
(the recording cap) stay in memory for the record, with its full size and SHA-256.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from proxy.capture.headers import RESPONSE_DROPPED, forwardable
from proxy.exchange import Headers, Message

__all__ = ["BUFFERED", "Passed", "PassedBody", "Relayed", "relay"]

BUFFERED = 1 << 20
"""Answer bodies up to this size are read whole before the answer starts."""

_ADDED = ("Date", "Server", "Content-Type")
"""What aiohttp adds to an answer that lacks it; a forwarded answer keeps only the upstream's."""

_EMPTY_BODY = frozenset({204, 304})
_KEEP_LENGTH = RESPONSE_DROPPED - {"content-length"}


class Passed(web.StreamResponse):
    """A streamed answer with the upstream's headers and no others."""

    async def _prepare_headers(self) -> None:
        had = {name for name in _ADDED if name in self.headers}
        await super()._prepare_headers()
        for name in _ADDED:
            if name not in had:
                self.headers.popall(name, None)


class PassedBody(Passed, web.Response):
    """A whole answer with the upstream's headers and no others (`Passed`'s, on a `Response`)."""


@dataclass
class Relayed:
    """What was passed on: the answer object, and the answer as it is recorded."""

    response: web.StreamResponse
    message: Message
    error: str | None = None
    """Set when the upstream failed after the answer had started (the client was cut off)."""


def _headers_for(raw: Headers, method: str, status: int, streamed: bool) -> list[tuple[str, str]]:
    """The headers to send: the upstream's end-to-end ones; its Content-Length where aiohttp
    cannot work it out (a HEAD answer; a streamed body)."""
    if method != "HEAD" and not streamed:
        return forwardable(raw, RESPONSE_DROPPED)  # aiohttp sets the length of the body
    headers = forwardable(raw, _KEEP_LENGTH)
    chunked = streamed and any(
        k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in raw
    )
    if status in _EMPTY_BODY or status < 200 or chunked:
        return [(k, v) for k, v in headers if k.lower() != "content-length"]
    return headers


async def relay(
    request: web.BaseRequest,
    upstream: aiohttp.ClientResponse,
    *,
    keep: int,
    buffered: int = BUFFERED,
) -> Relayed:
    """Pass `upstream` on to the client of `request`.

    Raises aiohttp/timeout errors only while the answer has not started (the caller
    answers 502/504); after that a failure cuts the client off and is returned.
    """
    raw = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in upstream.raw_headers)
    method = request.method
    content = upstream.content
    chunks: list[bytes] = []
    size = 0
    while size <= buffered:
        chunk = await content.readany()
        if not chunk:
            body = b"".join(chunks)
            headers = _headers_for(raw, method, upstream.status, streamed=False)
            whole = PassedBody(
                status=upstream.status, reason=upstream.reason, body=body, headers=headers
            )
            return Relayed(whole, Message(headers=raw, body=body))
        chunks.append(chunk)
        size += len(chunk)
    return await _stream(request, upstream, raw, chunks, keep)


async def _stream(
    request: web.BaseRequest,
    upstream: aiohttp.ClientResponse,
    raw: Headers,
    first: list[bytes],
    keep: int,
) -> Relayed:
    headers = _headers_for(raw, request.method, upstream.status, streamed=True)
    response = Passed(status=upstream.status, reason=upstream.reason, headers=headers)
    digest = hashlib.sha256()
    kept = bytearray()
    size = 0
    error: str | None = None

    async def send(chunk: bytes) -> None:
        nonlocal size
        digest.update(chunk)
        size += len(chunk)
        if len(kept) < keep:
            kept.extend(chunk[: keep - len(kept)])
        await response.write(chunk)

    await response.prepare(request)
    try:
        for chunk in first:
            await send(chunk)
        first.clear()
        while chunk := await upstream.content.readany():
            await send(chunk)
        await response.write_eof()
    except (aiohttp.ClientError, TimeoutError) as failure:
        error = (
            f"hubscope: upstream {upstream.url.host} failed after {size} bytes of the answer "
            f"had been passed on: {type(failure).__name__}: {failure}; the client was cut off"
        )
    except ConnectionError as failure:
        error = f"hubscope: the client left after {size} bytes of the answer: {failure}"
    if error is not None and request.transport is not None:
        request.transport.abort()  # a short body must not look complete to the client
    message = Message(
        headers=raw, body=bytes(kept), full_size=size, full_sha256=digest.hexdigest()
    )
    return Relayed(response, message, error)
