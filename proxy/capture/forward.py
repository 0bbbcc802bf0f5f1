"""The forwarding handler: pass the request upstream unchanged, answer with the upstream's bytes.

Unchanged but for what the next hop needs: hop-by-hop headers dropped, `Host` and
`Content-Length` set, and, in reverse mode with a key, a re-signed `Authorization`.
Recording is one append to the capture journal after the answer is built (a large or
compressed exchange is redacted for it on a thread); the handler never waits on the
database or the decoders.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import replace

import aiohttp
from aiohttp import web
from yarl import URL

from proxy.capture.answers import Relayed, relay
from proxy.capture.expect import invite_body
from proxy.capture.guards import ClientGuards, CutOff
from proxy.capture.headers import REQUEST_DROPPED, forwardable
from proxy.capture.limits import BodyBudget, BodyTimeout, UpstreamSlots, read_body
from proxy.capture.resign import AudienceAdvice, Resigner
from proxy.capture.routes import ForwardRoutes, Target, reverse_refusal
from proxy.exchange import Clock, Exchange, Headers, Message, new_id
from proxy.recording.recorder import ExchangeSink, RecorderFailed

log = logging.getLogger(__name__)

LARGE_BODY = 1 << 20

HEAVY_RECORD = 64 << 10
"""Body bytes above which an exchange is redacted for the journal on a thread: redacting
a large body, or inflating a compressed one, on the event loop would hold up every
other connection."""

KEPT_PAST_CAP = 4096
"""Bytes of a streamed answer kept past the body cap, so redaction sees a secret the cut splits."""

SKIP_AUTO_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})
"""aiohttp would add these when the client did not send them; a transparent proxy must not."""


class Forwarder:
    """One per proxy app: where requests go, the shared ClientSession and the recorder.

    A reverse proxy (`routes` None) appends each request's path and query to `upstream`;
    a forward proxy asks `routes`. With a `resigner` (reverse mode with a key), a token
    the client signed for the proxy is re-signed for the upstream; nothing else changes.
    """

    def __init__(
        self,
        upstream: str,
        client: aiohttp.ClientSession,
        recorder: ExchangeSink | None,
        session: str,
        *,
        routes: ForwardRoutes | None = None,
        resigner: Resigner | None = None,
        budget: BodyBudget | None = None,
        guards: ClientGuards | None = None,
        body_timeout: float | None = None,
        slots: UpstreamSlots | None = None,
        body_cap: int = 1 << 20,
    ) -> None:
        self.upstream = URL(upstream.rstrip("/"))
        self.base = str(self.upstream)
        self.client = client
        self.recorder = recorder
        self.session = session
        self.budget = budget or BodyBudget(max_body=256 << 20, max_in_flight=512 << 20)
        self.routes = routes
        self.resigner = resigner
        self.advice = None if routes is not None else AudienceAdvice(upstream, resigner)
        self.guards = guards
        self.body_timeout = body_timeout
        self.slots = slots or UpstreamSlots(100, 5.0)
        self.keep = body_cap + KEPT_PAST_CAP
        if guards is not None:
            guards.on_cut_off = self.cut_off

    def target(self, raw_path: str) -> URL:
        """The upstream URL: path and query exactly as the client sent them."""
        return URL(self.base + raw_path, encoded=True)

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        guards = self.guards
        if guards is None:
            return await self._handle(request)
        transport = request.transport
        guards.headers_done(transport)
        try:
            return await self._handle(request)
        finally:
            guards.answered(transport)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if self.recorder is not None and not self.recorder.healthy:
            return _plain(503, f"hubscope is not forwarding: {self.recorder.failure}")
        if self.budget.too_large(request.content_length):
            return self._too_large(request, Clock(), request.content_length)
        held = await self.budget.acquire(request.content_length)
        try:
            return await self._forward(request)
        finally:
            self.budget.release(held)

    async def _forward(self, request: web.BaseRequest) -> web.StreamResponse:
        clock = Clock()
        raw = request.raw_path
        if self.routes is None:
            if raw[:1] != "/":
                return _refuse(request, reverse_refusal(request.method, raw, self.base))
            route = Target(self.target(raw))
        else:
            found = self.routes.route(request)
            if isinstance(found, str):
                return _refuse(request, found)
            route = found
        unmet = await invite_body(request)
        if unmet is not None:
            return _refuse(request, unmet, status=417)
        try:
            body = await read_body(request, self.budget.max_body, self.body_timeout)
        except web.HTTPRequestEntityTooLarge:
            return self._too_large(request, clock, None)
        except BodyTimeout as error:
            return self._timed_out(request, clock, str(route.addressed or route.url), error)
        url = route.url
        sent = Message(headers=_text_headers(request.raw_headers), body=body)
        outgoing, verdict = sent.headers, None
        if self.resigner is not None:
            decision = self.resigner.decide(sent.headers, request.host)
            if decision.headers is not None:
                outgoing, verdict = decision.headers, decision.verdict
        recorded = route.record and self.recorder is not None
        peer = _peer(request) if recorded else None  # before the client can leave
        relayed: Relayed | None = None
        proxy_status: int | None = None
        problem: str | None = None
        if not await self.slots.acquire():
            proxy_status, problem = 503, self.slots.busy_text()
        else:
            try:
                relayed = await self._send(request, url, outgoing, body, route.host)
            except TimeoutError:
                proxy_status = 504
                problem = f"hubscope: upstream {url.host} did not answer within the timeout ({url})"
            except aiohttp.ClientError as failed:
                proxy_status = 502
                problem = f"hubscope: upstream {url.host} failed: {type(failed).__name__}: {failed}"
            finally:
                self.slots.release()
        shown = str(route.addressed or url)
        response: web.StreamResponse
        status: int | None = None
        reason: str | None = None
        answer: Message | None = None
        if relayed is None:
            assert proxy_status is not None and problem is not None
            response = _failure(request.method, shown, proxy_status, problem)
        else:
            response, answer, problem = relayed.response, relayed.message, relayed.error
            status, reason = response.status, response.reason
            if problem is not None:
                log.warning("%s %s: %s", request.method, url.path, problem)
            if status == 401 and self.advice is not None:
                self.advice.refused(sent.headers, request.host, answer.body)
        if recorded:  # built once, and only when it is recorded
            exchange = Exchange(
                id=new_id(),
                session=self.session,
                started_at=clock.started_at,
                duration_ms=clock.elapsed_ms(),
                method=request.method,
                url=shown,
                request=sent,
                status=status,
                reason=reason,
                response=answer,
                error=problem,
                client=peer,
                proxy_status=proxy_status,
                sas_verdict=verdict,
            )
            await self._record_answered(exchange)
        return response

    async def _send(
        self, request: web.BaseRequest, url: URL, outgoing: Headers, body: bytes, host: str | None
    ) -> Relayed:
        headers = forwardable(outgoing, REQUEST_DROPPED)  # without the client's Host
        if host is not None:
            headers.append(("Host", host))
        async with self.client.request(
            request.method,
            url,
            headers=headers,
            data=_payload(body, request.method),
            skip_auto_headers=SKIP_AUTO_HEADERS,
            allow_redirects=False,
        ) as upstream:
            return await relay(request, upstream, keep=self.keep)

    def _too_large(self, request: web.BaseRequest, clock: Clock, size: int | None) -> web.Response:
        """413, not forwarded, and recorded (headers only) so the refusal can be seen."""
        raw = request.raw_path
        url = self.target(raw) if raw[:1] == "/" else raw
        sent = Message(headers=_text_headers(request.raw_headers), body=b"")
        exchange = Exchange(
            id=new_id(), session=self.session, started_at=clock.started_at, duration_ms=0.0,
            method=request.method, url=str(url), request=sent, client=_peer(request),
        )  # fmt: skip
        response, exchange = _failed(exchange, 413, self.budget.too_large_text(size))
        response.force_close()
        self._record(exchange, clock)
        return response

    def _timed_out(
        self, request: web.BaseRequest, clock: Clock, url: str, error: BodyTimeout
    ) -> web.Response:
        """408, not forwarded, recorded with the part of the body that arrived."""
        sent = Message(headers=_text_headers(request.raw_headers), body=error.received)
        exchange = Exchange(
            id=new_id(), session=self.session, started_at=clock.started_at, duration_ms=0.0,
            method=request.method, url=url, request=sent, client=_peer(request),
        )  # fmt: skip
        response, exchange = _failed(exchange, 408, str(error))
        response.force_close()
        self._record(exchange, clock)
        return response

    def cut_off(self, cut: CutOff) -> None:
        """Record a request whose header did not arrive in time (it was never forwarded)."""
        clock = Clock()
        url = cut.target
        if self.routes is None and url[:1] == "/":
            url = str(self.target(url))
        elif self.routes is not None and url[:1] == "/":
            tunnel = self.routes.tunnels.get(cut.address)
            if tunnel is not None:
                url = f"https://{tunnel[0]}:{tunnel[1]}{url}"
        exchange = Exchange(
            id=new_id(), session=self.session, started_at=clock.started_at, duration_ms=0.0,
            method=cut.method, url=url, request=Message(headers=cut.headers, body=b""),
            client=cut.peer, error=cut.reason, proxy_status=408,
        )  # fmt: skip
        self._record(exchange, clock)

    async def _record_answered(self, finished: Exchange) -> None:
        """Record a finished exchange; a large or compressed one is redacted off the event loop."""
        if self.recorder is None:
            return
        if not _heavy(finished):
            self._submit(finished)
            return
        try:
            loop = asyncio.get_running_loop()
            self.recorder.append(await loop.run_in_executor(None, self.recorder.payload, finished))
        except RecorderFailed as error:
            log.critical("exchange %s not recorded: %s", finished.id, error)

    def _record(self, exchange: Exchange, clock: Clock) -> None:
        if self.recorder is not None:
            self._submit(_finish(exchange, clock))

    def _submit(self, finished: Exchange) -> None:
        assert self.recorder is not None
        try:
            self.recorder.submit(finished)
        except RecorderFailed as error:
            log.critical("exchange %s not recorded: %s", finished.id, error)


def _payload(body: bytes, method: str) -> bytes | io.BytesIO | None:
    """The body to send: None for a bodiless GET/HEAD (no Content-Length: 0 added)."""
    if not body:
        return None if method in ("GET", "HEAD") else b""
    # aiohttp warns that big bytes bodies block the loop; a BytesIO is sent in chunks.
    return io.BytesIO(body) if len(body) > LARGE_BODY else body


def _heavy(exchange: Exchange) -> bool:
    messages = (
        [exchange.request] if exchange.response is None else [exchange.request, exchange.response]
    )
    if sum(len(m.body) for m in messages) > HEAVY_RECORD:
        return True
    return any(
        name.lower() == "content-encoding" and value.strip().lower() not in ("", "identity")
        for m in messages
        for name, value in m.headers
    )


def _text_headers(raw: tuple[tuple[bytes, bytes], ...]) -> Headers:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)


def _finish(exchange: Exchange, clock: Clock) -> Exchange:
    return replace(exchange, duration_ms=clock.elapsed_ms())


def _failed(exchange: Exchange, status: int, text: str) -> tuple[web.Response, Exchange]:
    response = _failure(exchange.method, exchange.url, status, text)
    return response, replace(exchange, error=text, proxy_status=status)


def _failure(method: str, url: str, status: int, text: str) -> web.Response:
    """The proxy's own answer when it could not pass the upstream's on (logged)."""
    log.warning("%s %s → %d: %s", method, url.split("?")[0], status, text)
    return _plain(status, text)


def _refuse(request: web.BaseRequest, text: str, *, status: int = 400) -> web.Response:
    """A request the proxy cannot forward: 400 (or `status`) with the reason, the connection
    closed (its body, if any, is not read)."""
    log.warning(
        "%s %s from %s → %d: %s",
        request.method, request.raw_path[:80], _peer(request), status, text,
    )  # fmt: skip
    response = _plain(status, text)
    response.force_close()
    return response


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers={"X-Hubscope-Error": "1"})


def _peer(request: web.BaseRequest) -> str | None:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return None
