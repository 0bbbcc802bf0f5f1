"""Run several aiohttp apps in one event loop until SIGINT/SIGTERM, then stop them cleanly.

An app is a `web.Application` (router, middlewares: the hub, the viewer) or a `LowLevel`
one, served by aiohttp's low-level `web.Server`: one handler takes every request, with no
router, middlewares or per-request `Request`/match objects (the proxy's forward path).
"""

from __future__ import annotations

import asyncio
import signal
import ssl
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, nullcontext
from dataclasses import dataclass
from typing import Any

from aiohttp import web

SHUTDOWN_TIMEOUT = 30.0
"""Seconds in-flight requests get to finish after a stop signal."""


class LowLevel:
    """An app for aiohttp's low-level server: override `handle`, and as needed `resources`
    (set up before the first connection, closed after the last request is answered),
    `wrap` and `server_options`."""

    server_options: dict[str, Any] = {}
    """Options of aiohttp's `web.Server` (its `RequestHandler`), e.g. `auto_decompress`."""

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        raise NotImplementedError

    def resources(self) -> AbstractAsyncContextManager[None]:
        return nullcontext()

    def wrap(self, protocol: asyncio.Protocol) -> asyncio.Protocol:
        """The protocol a connection meets first (`protocol` is aiohttp's, for it to call)."""
        return protocol


App = web.Application | LowLevel
"""What `start` serves."""


class _LowLevelRunner(web.BaseRunner):
    """Runs a `LowLevel` app: its resources around a `web.Server` calling its `handle`."""

    def __init__(self, app: LowLevel, **options: Any) -> None:
        super().__init__(shutdown_timeout=options.pop("shutdown_timeout"))
        self._app = app
        self._options = options
        self._resources = AsyncExitStack()

    @property
    def server(self) -> Any:
        server = super().server
        if server is None:
            return None
        wrap = self._app.wrap
        return lambda: wrap(server())

    async def shutdown(self) -> None:
        pass

    async def _make_server(self) -> web.Server:
        await self._resources.enter_async_context(self._app.resources())
        return web.Server(self._app.handle, **self._options)

    async def _cleanup_server(self) -> None:
        await self._resources.aclose()


def runner(app: App) -> web.BaseRunner:
    """The runner for `app`, with the server options the app asked for."""
    options: dict[str, Any] = {"shutdown_timeout": SHUTDOWN_TIMEOUT, "access_log": None}
    if isinstance(app, LowLevel):
        return _LowLevelRunner(app, **options, **app.server_options)
    return web.AppRunner(app, **options)


@dataclass(frozen=True, slots=True)
class Listen:
    """Where one app listens."""

    host: str
    port: int
    ssl_context: ssl.SSLContext | None = None
    reuse_port: bool = False
    """SO_REUSEPORT: several processes (`hubscope proxy --workers`) listen on one port."""


def parse_listen(value: str, *, default_port: int) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT`, `PORT` or `[::1]:PORT` → (host, port)."""
    text = value.strip()
    if text.isdigit():
        return "127.0.0.1", int(text)
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:
        host, port = text, str(default_port)
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit():
        raise ValueError(f"--listen {value!r}: the port must be a number (HOST:PORT)")
    return host, int(port)


@dataclass
class Running:
    """A started app: its runner and the port it really bound (port 0 → chosen by the OS)."""

    runner: web.BaseRunner
    port: int


async def start(app: App, where: Listen) -> Running:
    """Start `app` on `where`; returns once it accepts connections."""
    app_runner = runner(app)
    await app_runner.setup()
    site = web.TCPSite(
        app_runner,
        where.host,
        where.port,
        ssl_context=where.ssl_context,
        reuse_port=where.reuse_port or None,
    )
    try:
        await site.start()
    except BaseException:  # e.g. the port is taken: close what setup opened (a recorder)
        await app_runner.cleanup()
        raise
    return Running(runner=app_runner, port=site.port or where.port)


async def stop(running: Sequence[Running]) -> None:
    """Stop accepting, let in-flight requests finish, then run each app's cleanup."""
    for item in reversed(running):
        await item.runner.cleanup()


def run(
    main: Callable[[asyncio.Event, asyncio.Event], Awaitable[list[Running]]],
    *,
    fatal_exit: int = 3,
    fast_loop: bool = False,
) -> int:
    """Run `main` (which starts apps) until a signal, or until `fatal` is set; the exit code."""

    async def runner() -> int:
        stop_event, fatal = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop_event.set)
        running = await main(stop_event, fatal)
        waiters = [asyncio.ensure_future(stop_event.wait()), asyncio.ensure_future(fatal.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await stop(running)
        return fatal_exit if fatal.is_set() else 0

    if fast_loop:
        try:
            import uvloop
        except ImportError:  # the standard loop, a little slower
            pass
        else:
            return uvloop.run(runner())
    return asyncio.run(runner())
