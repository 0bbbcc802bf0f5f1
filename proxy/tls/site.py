"""An aiohttp site that accepts TCP, then does the TLS handshake itself, to say why one failed.

`loop.create_server(ssl=…)` drops failed handshakes silently. Here each connection is
upgraded with `loop.start_tls` in its own task, so a failure is logged with the
client's address and a hint, and only a finished handshake reaches the app.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import cast

from aiohttp import web

from proxy.tls.handshake_log import CURRENT, Seen, explain, trust_hint

__all__ = ["HANDSHAKE_TIMEOUT", "HandOverSite", "TlsSite", "serve_tls"]

log = logging.getLogger("hubscope.tls")

HANDSHAKE_TIMEOUT = 30.0


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = f"[{peer[0]}]" if ":" in str(peer[0]) else str(peer[0])
        return f"{host}:{peer[1]}"
    return "a client"


class _Pending(asyncio.Protocol):
    """Holds what arrives between the end of the handshake and the app taking over."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.eof = False
        self.lost: tuple[Exception | None] | None = None

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def eof_received(self) -> None:
        self.eof = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = (exc,)

    def hand_over(self, app: asyncio.Protocol, transport: asyncio.Transport) -> None:
        """Give the secure transport to `app`, replaying what arrived meanwhile."""
        transport.set_protocol(app)
        app.connection_made(transport)
        for chunk in self.chunks:
            app.data_received(chunk)
        if self.eof:
            app.eof_received()
        if self.lost is not None:
            app.connection_lost(self.lost[0])


class _Watched(asyncio.Protocol):
    """Passes everything to the app; notices a client that leaves before its first byte.

    Node and .NET check the certificate only after the handshake and then just close
    the connection, so this is how their refusals show up.
    """

    def __init__(
        self,
        app: asyncio.Protocol,
        seen: Seen,
        ca_path: Path | None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.seen = seen
        self.ca_path = ca_path
        self.on_lost = on_lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.app.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if data:
            self.seen.got_data = True
        self.app.data_received(data)

    def eof_received(self) -> bool | None:
        return self.app.eof_received()

    def pause_writing(self) -> None:
        self.app.pause_writing()

    def resume_writing(self) -> None:
        self.app.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.seen.got_data and not self.seen.reported:
            self.seen.reported = True
            log.warning(
                "TLS client %s closed the connection before sending a request: if it reports "
                "a certificate error, %s.",
                self.seen.peer,
                trust_hint(self.ca_path),
            )
        if self.on_lost is not None:
            self.on_lost()
        self.app.connection_lost(exc)


class _Accept(asyncio.Protocol):
    """The plain TCP side of one connection, until `start_tls` takes the transport over."""

    def __init__(self, site: TlsSite) -> None:
        self.site = site
        self.task: asyncio.Task[None] | None = None
        self.upgrading = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        transport.pause_reading()  # the ClientHello is for start_tls, not for us
        self.task = asyncio.get_running_loop().create_task(self.upgrade(transport))
        self.site.handshakes.add(self.task)
        self.task.add_done_callback(self.site.handshakes.discard)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgrading and self.task is not None:
            self.task.cancel()

    async def upgrade(self, raw: asyncio.Transport) -> None:
        site = self.site
        self.upgrading = True
        await serve_tls(raw, site.context, site.app_protocol, ca_path=site.ca_path)


def _hung_up(seen: Seen, error: BaseException, ca_path: Path | None) -> str:
    if isinstance(error, TimeoutError | ConnectionAbortedError):
        return f"TLS handshake with {seen.peer} timed out after {HANDSHAKE_TIMEOUT:g}s"
    return (
        f"TLS client {seen.peer} hung up during the handshake, after receiving hubscope's "
        f"certificate: it probably does not trust it; {trust_hint(ca_path)}."
    )


def _report(seen: Seen, message: str | None) -> None:
    if message is not None and not seen.reported:
        seen.reported = True
        log.warning("%s", message)


async def serve_tls(
    raw: asyncio.Transport,
    context: ssl.SSLContext,
    app_factory: Callable[[], asyncio.Protocol | None],
    *,
    ca_path: Path | None = None,
    on_lost: Callable[[], None] | None = None,
) -> bool:
    """Do the server side of a TLS handshake on `raw`, then give the connection to a new
    app protocol; False (the failure logged once, with the client's address) when it fails.

    `raw` must have reading paused, so the ClientHello is left for the handshake.
    `on_lost` runs when the secured connection closes.
    """
    seen = Seen(peer=_peer(raw))
    CURRENT.set(seen)  # the SSL object, driven from callbacks in copies of this context
    pending = _Pending()
    loop = asyncio.get_running_loop()
    try:
        secure = await loop.start_tls(
            raw, pending, context, server_side=True, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
        )
    except ssl.SSLError as error:
        _report(seen, explain(error, ca_path, seen.peer))
        return False
    except (ConnectionError, TimeoutError) as error:
        if seen.spoke:
            _report(seen, _hung_up(seen, error, ca_path))
        return False
    except OSError as error:
        _report(seen, f"TLS handshake with {seen.peer} failed: {error}")
        return False
    except Exception as error:  # never let a task die unheard
        log.exception("TLS handshake with %s failed: %s", seen.peer, error)
        return False
    if secure is None:  # the transport was closed meanwhile
        return False
    app = app_factory()
    if app is None:  # the runner is shutting down
        secure.abort()
        return False
    pending.hand_over(_Watched(app, seen, ca_path, on_lost), secure)
    return True


class HandOverSite(web.TCPSite):
    """A TCP site whose connections first meet a protocol of its own (`accept`), which
    hands them to the runner's app once it knows what they are (`app_protocol`)."""

    def app_protocol(self) -> asyncio.Protocol | None:
        """A new aiohttp request handler, or None once the runner has shut down."""
        server = self._runner.server
        if server is None:
            return None
        handler = server()
        return handler if isinstance(handler, asyncio.Protocol) else None

    def accept(self) -> asyncio.Protocol:
        """The protocol each new connection starts with."""
        raise NotImplementedError

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.accept,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


class TlsSite(HandOverSite):
    """Serve a runner's app over HTTPS on host:port, logging every failed handshake."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        context: ssl.SSLContext,
        *,
        ca_path: Path | None = None,
    ) -> None:
        super().__init__(runner, host, port, ssl_context=context)
        self.context = context
        self.ca_path = ca_path
        self.handshakes: set[asyncio.Task[None]] = set()

    def accept(self) -> asyncio.Protocol:
        return _Accept(self)

    async def stop(self) -> None:
        for task in list(self.handshakes):
            task.cancel()
        await super().stop()
