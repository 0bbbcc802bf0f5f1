"""The proxy's aiohttp application factory."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

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

forwarder_key = web.AppKey("forwarder", Forwarder)
recorder_key = web.AppKey("recorder", ProcessRecorder)
guards_key = web.AppKey("guards", ClientGuards)
routes_key = web.AppKey("routes", ForwardRoutes)
"""Set in forward mode only: the CONNECT front door opens tunnels the forwarder routes by."""



def upstream_ssl(settings: ProxySettings) -> ssl.SSLContext | bool:
    """Verified TLS to the upstream, optionally trusting one extra CA file."""
    if settings.insecure:
        return False
    context = ssl.create_default_context()
    if settings.ca_file is not None:
        context.load_verify_locations(cafile=str(settings.ca_file))
    return context


def make_app(
    settings: ProxySettings, *, on_fatal: Callable[[str], None] | None = None
) -> web.Application:
    """The proxy: one catch-all route, one ClientSession, one recorder."""
    quiet.install()
    app = web.Application(client_max_size=settings.max_body, middlewares=[_connect_too])
    # The body is forwarded as it came: aiohttp's server would inflate a gzip request body.
    app[serve.RUNNER_OPTIONS] = {"auto_decompress": False}
    max_clients = settings.max_clients or default_max_clients(settings.max_upstream)
    guards = ClientGuards(header_timeout=settings.header_timeout, max_clients=max_clients)
    app[serve.PROTOCOL_WRAPPER] = guards.wrap
    app[guards_key] = guards
    routes = None
    if settings.forward:
        routes = ForwardRoutes(settings.intercept, dict(settings.map_remote))
        app[routes_key] = routes
    resigner = Resigner(settings.keys, settings.upstream) if settings.keys and not routes else None

    async def resources(app: web.Application) -> AsyncIterator[None]:
        recorder = None
        if settings.db is not None:
            recorder = ProcessRecorder(
                settings.db,
                session=settings.session,
                upstream=settings.upstream,
                body_cap=settings.body_cap,
                keys=settings.keys,
                on_fatal=on_fatal,
                instance=settings.instance,
                also=settings.also_db,
            )
            recorder.start()
            app[recorder_key] = recorder
        connector = aiohttp.TCPConnector(ssl=upstream_ssl(settings), limit=settings.max_upstream)
        timeout = aiohttp.ClientTimeout(
            total=settings.timeout, sock_connect=settings.connect_timeout
        )
        client = aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False, cookie_jar=_NoCookies()
        )
        budget = BodyBudget(max_body=settings.max_body, max_in_flight=settings.max_in_flight)
        app[forwarder_key] = Forwarder(
            settings.upstream,
            client,
            recorder,
            settings.session,
            routes=routes,
            resigner=resigner,
            budget=budget,
            guards=guards,
            slots=UpstreamSlots(settings.max_upstream, settings.upstream_wait),
            body_cap=settings.body_cap,
            body_timeout=settings.body_timeout,
        )
        try:
            yield
        finally:
            await client.close()
            if recorder is not None:
                recorder.close()
                log.info("recorded %d exchanges to %s", recorder.written, recorder.shown)

    app.cleanup_ctx.append(resources)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await request.app[forwarder_key].handle(request)

    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@web.middleware
async def _connect_too(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A CONNECT has no path, so no route matches it: the forwarder answers it anyway.

    (The forward proxy's front door takes a connection's first CONNECT before aiohttp
    sees it; this is a CONNECT sent to the reverse proxy, or later on a connection.)
    """
    if request.method == "CONNECT":
        return await request.app[forwarder_key].handle(request)
    return await handler(request)


class _NoCookies(aiohttp.DummyCookieJar):
    """A proxy forwards Cookie and Set-Cookie headers; it never keeps cookies of its own."""
