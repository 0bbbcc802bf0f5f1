"""The forward proxy's front door: CONNECT tunnels, intercepted or blind, and plain requests.

Each connection's first bytes decide. A `CONNECT host:port` for an intercepted host is
answered `200 Connection established`, the TLS handshake is done with a certificate
hubscope's CA minted for that host, and the decrypted connection goes to the proxy's
aiohttp app, which records and forwards each request (`routes.ForwardRoutes` knows the
tunnel's host by the client's address). A CONNECT for any other host is tunnelled
blind: bytes both ways, nothing read, nothing recorded. Anything else is an HTTP
request (absolute-form, `GET http://host/…`) and goes straight to the app. This is
mitmproxy's regular mode, with interception limited to Notification Hubs hosts.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import cast

from aiohttp import web

from proxy import serve
from proxy.capture.app import ProxyApp
from proxy.capture.guards import Deadline, late_header, own_answer
from proxy.capture.routes import ForwardRoutes
from proxy.tls.authority import TlsError
from proxy.tls.hosts import HostCertificates
from proxy.tls.site import HandOverSite, serve_tls

__all__ = ["ForwardSite", "start"]

log = logging.getLogger("hubscope.proxy")

MAX_HEAD = 8192
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
CONNECT = b"CONNECT "


def _answer(transport: asyncio.Transport, status: int, text: str) -> None:
    """A plain-text answer to a CONNECT that cannot be served, then close."""
    transport.write(own_answer(status, text))
    transport.close()


def parse_connect(head: bytes) -> tuple[str, int]:
    """`CONNECT host:port HTTP/1.1` → (host, port); ValueError when it is not that."""
    method, target, version = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    if method != "CONNECT" or not version.startswith("HTTP/1."):
        raise ValueError(f"not a CONNECT request line: {method} … {version}")
    host, sep, port = target.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"CONNECT needs host:port, got {target[:100]!r}")
    return host, int(port)


class _Pipe(asyncio.Protocol):
    """One direction of a blind tunnel: what arrives on one transport is written to the other."""

    def __init__(self, peer: asyncio.Transport, site: ForwardSite) -> None:
        self.peer = peer
        self.site = site
        self.transport: asyncio.Transport | None = None

    def connection_made(self, base: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, base)  # uvloop's transports are not subclasses
        self.transport = transport
        self.site.pipes.add(transport)

    def data_received(self, data: bytes) -> None:
        self.peer.write(data)

    def eof_received(self) -> bool:
        if self.peer.can_write_eof():
            self.peer.write_eof()
        return True  # keep the other direction open until it ends too

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.site.pipes.discard(self.transport)
        self.peer.close()

    def pause_writing(self) -> None:
        self.peer.pause_reading()

    def resume_writing(self) -> None:
        self.peer.resume_reading()


class _Front(asyncio.Protocol):
    """A new connection until its first bytes say where it belongs."""

    def __init__(self, site: ForwardSite) -> None:
        self.site = site
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.deadline = Deadline()

    def connection_made(self, base: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, base)  # uvloop's transports are not subclasses
        self.transport = transport
        self.deadline.arm(self.site.header_timeout, self._expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline.disarm()

    def _expired(self) -> None:
        """The first request (a CONNECT, or a plain one) did not arrive in time: 408."""
        if self.transport is not None and not self.transport.is_closing():
            _answer(self.transport, 408, late_header(self.site.header_timeout))

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        if len(self.buffer) < len(CONNECT) and CONNECT.startswith(self.buffer):
            return
        if not self.buffer.startswith(CONNECT):
            self._to_app()
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                _answer(self.transport, 431, "hubscope: CONNECT header over 8 KiB")
            return
        self.deadline.disarm()
        self.transport.pause_reading()
        head, rest = bytes(self.buffer[:end]), bytes(self.buffer[end + 4 :])
        self.buffer.clear()
        task = asyncio.get_running_loop().create_task(self.site.tunnel(self.transport, head, rest))
        self.site.tasks.add(task)
        task.add_done_callback(self.site.tasks.discard)

    def _to_app(self) -> None:
        assert self.transport is not None
        self.deadline.disarm()  # the app's guards take over the deadline
        app = self.site.app_protocol()
        if app is None:
            self.transport.close()
            return
        self.transport.set_protocol(app)
        app.connection_made(self.transport)
        app.data_received(bytes(self.buffer))


class ForwardSite(HandOverSite):
    """Serve the proxy's app as a forward proxy (HTTP on host:port, CONNECT understood)."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        routes: ForwardRoutes,
        certificates: HostCertificates,
        connect_timeout: float = 10.0,
        reuse_port: bool = False,
        header_timeout: float = 30.0,
    ) -> None:
        super().__init__(runner, host, port, reuse_port=reuse_port or None)
        self.header_timeout = header_timeout
        self.routes = routes
        self.certificates = certificates
        self.connect_timeout = connect_timeout
        self.tasks: set[asyncio.Task[None]] = set()
        self.pipes: set[asyncio.Transport] = set()

    def accept(self) -> asyncio.Protocol:
        return _Front(self)

    async def tunnel(self, client: asyncio.Transport, head: bytes, rest: bytes) -> None:
        """Answer one CONNECT: intercept it, or tunnel it blind, or refuse it."""
        try:
            host, port = parse_connect(head)
        except ValueError as error:
            _answer(client, 400, f"hubscope: {error}")
            return
        if self.routes.intercepts(host):
            await self._intercept(client, host, port, rest)
        else:
            await self._blind(client, host, port, rest)

    async def _intercept(
        self, client: asyncio.Transport, host: str, port: int, rest: bytes
    ) -> None:
        if rest:
            _answer(client, 400, "hubscope: wait for the CONNECT answer before starting TLS")
            return
        try:
            context: ssl.SSLContext = await self.certificates.context(host)
        except (ValueError, TlsError, OSError) as error:
            log.warning("cannot intercept CONNECT %s:%d: %s", host, port, error)
            _answer(client, 502, f"hubscope cannot mint a certificate for {host}: {error}")
            return
        peer = client.get_extra_info("peername")
        self.routes.opened(peer, host, port)
        client.write(ESTABLISHED)
        served = await serve_tls(
            client,
            context,
            self.app_protocol,
            ca_path=self.certificates.ca_path,
            on_lost=lambda: self.routes.closed(peer),
        )
        if not served:
            self.routes.closed(peer)
            client.close()

    async def _blind(self, client: asyncio.Transport, host: str, port: int, rest: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            upstream, _ = await asyncio.wait_for(
                loop.create_connection(lambda: _Pipe(client, self), host, port),
                self.connect_timeout,
            )
        except (OSError, TimeoutError) as error:
            _answer(client, 502, f"hubscope cannot connect to {host}:{port}: {error or 'timeout'}")
            return
        if client.is_closing():
            upstream.close()
            return
        client.write(ESTABLISHED)
        if rest:
            upstream.write(rest)
        back = _Pipe(upstream, self)
        client.set_protocol(back)
        back.connection_made(client)
        client.resume_reading()

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for pipe in list(self.pipes):
            pipe.close()
        await super().stop()


async def start(
    app: ProxyApp, where: serve.Listen, *, certificates: HostCertificates | None = None
) -> serve.Running:
    """Start the forward proxy `app` (made with `forward=True`) on `where`."""
    if app.routes is None:
        raise ValueError("connect.start serves a forward proxy: make it with forward=True")
    runner = serve.runner(app)
    await runner.setup()
    site = ForwardSite(
        runner,
        where.host,
        where.port,
        routes=app.routes,
        certificates=certificates or HostCertificates(),
        reuse_port=where.reuse_port,
        header_timeout=app.guards.header_timeout,
    )
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return serve.Running(runner=runner, port=site.port)
