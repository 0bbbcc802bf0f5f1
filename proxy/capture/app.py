"""The proxy as an app of aiohttp's low-level server, and its resources."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from proxy import serve
from proxy.capture import quiet
from proxy.capture.forward import Forwarder
from proxy.capture.guards import ClientGuards, default_max_clients
from proxy.capture.limits import BodyBudget, UpstreamSlots
from proxy.capture.resign import Resigner
from proxy.capture.routes import ForwardRoutes
from proxy.capture.settings import ProxySettings
from proxy.recording.writer_process import ProcessRecorder

log = logging.getLogger(__name__)


def upstream_ssl(settings: ProxySettings) -> ssl.SSLContext | bool:
    """Verified TLS to the upstream, optionally trusting one extra CA file."""
    if settings.insecure:
        return False
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


class ProxyApp(serve.LowLevel):
    """The proxy on aiohttp's low-level server: every request, a CONNECT too, goes straight
    to the forwarder (no router, no middlewares, no per-request match objects); one
    ClientSession and one recorder, opened before the first connection, closed after the
    last answer."""

    server_options = {"auto_decompress": False}
    """The body is forwarded as it came: aiohttp's server would inflate a gzip request body."""

    def __init__(
        self, settings: ProxySettings, *, on_fatal: Callable[[str], None] | None = None
    ) -> None:
        quiet.install()
        self.settings = settings
        self.on_fatal = on_fatal
        max_clients = settings.max_clients or default_max_clients(settings.max_upstream)
        self.guards = ClientGuards(header_timeout=settings.header_timeout, max_clients=max_clients)
        self.routes: ForwardRoutes | None = None
        """Forward mode only: the CONNECT front door opens tunnels the forwarder routes by."""
        self.resigner: Resigner | None = None
        """Reverse mode with a key: tokens signed for the proxy are re-signed for the hub."""
        if settings.forward:
            self.routes = ForwardRoutes(settings.intercept, dict(settings.map_remote))
        elif settings.keys:
            self.resigner = Resigner(settings.keys, settings.upstream)
        self.recorder: ProcessRecorder | None = None
        self._forwarder: Forwarder | None = None

    @property
    def forwarder(self) -> Forwarder:
        if self._forwarder is None:
            raise RuntimeError("the proxy is not running (its resources are not set up)")
        return self._forwarder

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        return await self.forwarder.handle(request)

    def wrap(self, protocol: asyncio.Protocol) -> asyncio.Protocol:
        return self.guards.wrap(protocol)

    @asynccontextmanager
    async def resources(self) -> AsyncIterator[None]:
        settings = self.settings
        if settings.db is not None:
            self.recorder = ProcessRecorder(
                settings.db,
                session=settings.session,
                upstream=settings.upstream,
                body_cap=settings.body_cap,
                keys=settings.keys,
                on_fatal=self.on_fatal,
                instance=settings.instance,
                also=settings.also_db,
            )
            self.recorder.start()
        connector = aiohttp.TCPConnector(ssl=upstream_ssl(settings), limit=settings.max_upstream)
        timeout = aiohttp.ClientTimeout(
            total=settings.timeout, sock_connect=settings.connect_timeout
        )
        client = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False, cookie_jar=_NoCookies()
        )
        budget = BodyBudget(max_body=settings.max_body, max_in_flight=settings.max_in_flight)
        self._forwarder = Forwarder(
            settings.upstream,
            client,
            self.recorder,
            settings.session,
            routes=self.routes,
            resigner=self.resigner,
            budget=budget,
            guards=self.guards,
            slots=UpstreamSlots(settings.max_upstream, settings.upstream_wait),
            body_cap=settings.body_cap,
            body_timeout=settings.body_timeout,
        )
        try:
            yield
        finally:
            self._forwarder = None
            await client.close()
            if self.recorder is not None:
                self.recorder.close()
                log.info("recorded %d exchanges to %s", self.recorder.written, self.recorder.shown)


def make_app(settings: ProxySettings, *, on_fatal: Callable[[str], None] | None = None) -> ProxyApp:
    """The proxy, for `serve.start` (reverse) or `connect.start` (forward)."""
    return ProxyApp(settings, on_fatal=on_fatal)


class _NoCookies(aiohttp.DummyCookieJar):
    """A proxy forwards Cookie and Set-Cookie headers; it never keeps cookies of its own."""
