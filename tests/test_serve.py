"""`serve.LowLevel` apps: resources up before the first request, closed after the last answer.

What `cleanup_ctx` gave the proxy as a `web.Application`, the low-level runner must give it
too: a stop signal lets an in-flight request finish on open resources (the proxy's
ClientSession and recorder), and only then closes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from proxy import serve


class Slow(serve.LowLevel):
    """Answers once `release` is set; records when its resources open and close."""

    server_options = {"auto_decompress": False}

    def __init__(self) -> None:
        self.events: list[str] = []
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.wrapped = 0

    @asynccontextmanager
    async def resources(self) -> AsyncIterator[None]:
        self.events.append("open")
        try:
            yield
        finally:
            self.events.append("close")

    def wrap(self, protocol: asyncio.Protocol) -> asyncio.Protocol:
        self.wrapped += 1
        return protocol

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.events.append(f"{request.method} {request.raw_path}")
        self.arrived.set()
        await self.release.wait()
        self.events.append("answered")
        return web.Response(text="done")


async def test_an_in_flight_request_finishes_before_the_resources_close() -> None:
    app = Slow()
    running = await serve.start(app, serve.Listen("127.0.0.1", 0))
    assert app.events == ["open"]
    async with aiohttp.ClientSession() as client:
        url = f"http://127.0.0.1:{running.port}/any/path?q=1"
        request = asyncio.ensure_future(client.post(url, data=b"x"))
        await app.arrived.wait()
        stopping = asyncio.ensure_future(serve.stop([running]))
        await asyncio.sleep(0.1)
        assert app.events == ["open", "POST /any/path?q=1"], "still open while answering"
        app.release.set()
        response = await request
        assert response.status == 200 and await response.text() == "done"
        await stopping
    assert app.events == ["open", "POST /any/path?q=1", "answered", "close"]
    assert app.wrapped == 1, "the connection met the app's wrapper first"


async def test_resources_close_when_the_port_is_taken() -> None:
    first = Slow()
    running = await serve.start(first, serve.Listen("127.0.0.1", 0))
    try:
        second = Slow()
        try:
            await serve.start(second, serve.Listen("127.0.0.1", running.port))
        except OSError:
            pass
        else:
            raise AssertionError("two apps listened on one port")
        assert second.events == ["open", "close"], "a recorder would have been left running"
    finally:
        first.release.set()
        await serve.stop([running])
    assert first.events == ["open", "close"]
