"""Calls to a real stand-in hub, kept as the exchanges the proxy would record.

The hub runs on 127.0.0.1 in a thread with its own event loop, so synchronous tests
(hypothesis) can drive it; every call becomes an `Exchange` with the request as sent and
the hub's answer as received, which `proxy.targets` then reads like a recording.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from proxy.decode import decode_exchange
from proxy.decode.sends import OutcomeResult, decode_send
from proxy.exchange import Exchange, Message, new_id
from proxy.localhub import FULL_RULE, HubSettings, RunningHub, start_hub
from proxy.recording.recorder import Recorder as StoreWriter
from proxy.sas import make_token
from proxy.targets import Recording, from_exchanges
from tests.hubclient import CONNECT

T = TypeVar("T")
API = "api-version=2020-06"

HANDLE_FIELD = {
    "Apple": "DeviceToken",
    "Gcm": "GcmRegistrationId",
    "FcmV1": "FcmV1RegistrationId",
    "Windows": "ChannelUri",
    "Adm": "AdmRegistrationId",
    "Xiaomi": "XiaomiRegistrationId",
}
TOAST = (
    '<toast><visual><binding template="ToastText01"><text id="1">$(m)</text></binding>'
    "</visual></toast>"
)
SEND_BODY = {
    "windows": ("application/xml", "<toast><visual><binding template='ToastText01'>"
                "<text id='1'>hi</text></binding></visual></toast>", {"X-WNS-Type": "wns/toast"}),
    "windowsphone": ("application/xml;charset=utf-8", "<wp:Notification xmlns:wp='WPNotification'>"
                     "<wp:Toast><wp:Text1>hi</wp:Text1></wp:Toast></wp:Notification>",
                     {"X-WindowsPhone-Target": "toast", "X-NotificationClass": "2"}),
    "apple": ("application/json;charset=utf-8", '{"aps":{"alert":"hi"}}', {}),
    "fcmv1": ("application/json;charset=utf-8", '{"message":{"notification":{"body":"hi"}}}', {}),
}  # fmt: skip
DEFAULT_SEND = ("application/json;charset=utf-8", '{"data":{"message":"hi"}}', {})
EXPIRED_HANDLES = frozenset(
    {"token-stale", "9a" * 32, "https://db5p.notify.windows.com/?token=stale"}
)
"""Handles the hub's pretend PNS reports expired (`--expired-handle`)."""


def registration_entry(
    prefix: str, handle: str, tags: list[str], template: str | None = None, *, named: bool = True
) -> str:
    """An Atom entry as the SDKs write it: Tags, the handle, then the template elements."""
    kind = f"{prefix}{'Template' if template is not None else ''}RegistrationDescription"
    inner = f"<Tags>{','.join(tags)}</Tags>" if tags else ""
    inner += f"<{HANDLE_FIELD[prefix]}>{handle}</{HANDLE_FIELD[prefix]}>"
    if template is not None:
        body = TOAST if prefix == "Windows" else '{"data":{"m":"$(m)"}}'
        inner += f"<BodyTemplate><![CDATA[{body}]]></BodyTemplate>"
        if prefix == "Windows":
            inner += "<WnsHeaders><WnsHeader><Header>X-WNS-Type</Header><Value>wns/toast</Value>"
            inner += "</WnsHeader></WnsHeaders>"
        if named:
            inner += f"<TemplateName>{template}</TemplateName>"
    return (
        '<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom">'
        f'<content type="application/xml"><{kind} {CONNECT}>{inner}</{kind}></content></entry>'
    )


def installation_doc(
    ident: str,
    platform: str,
    channel: str,
    tags: list[str],
    templates: dict[str, list[str]] | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {"installationId": ident, "platform": platform, "pushChannel": channel}
    if tags:
        doc["tags"] = tags
    if user:
        doc["userId"] = user
    if templates:
        doc["templates"] = {}
        for name, template_tags in templates.items():
            spec: dict[str, Any] = {"body": '{"data":{"m":"$(m)"}}'}
            if platform == "wns":
                spec = {"body": TOAST, "headers": {"X-WNS-Type": "wns/toast"}}
            if template_tags:
                spec["tags"] = template_tags
            doc["templates"][name] = spec
    return doc


class HubThread:
    """A stand-in hub and a client session living in their own thread's event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        # Every recorder uses a hub name of its own on this one hub: names are not under test.
        settings = HubSettings(allow_unknown_hubs=True, expired_handles=EXPIRED_HANDLES)
        self.hub: RunningHub = self.run(start_hub(settings))
        self.session: aiohttp.ClientSession = self.run(self._session())

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.run(self.session.close())
        self.run(self.hub.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass
class Recorder:
    """One hub name on the threaded hub, and every exchange made with it."""

    hubs: HubThread
    name: str = field(default_factory=lambda: f"h{uuid.uuid4().hex[:12]}")
    exchanges: list[Exchange] = field(default_factory=list)

    def call(
        self, method: str, path: str, body: str | bytes = b"", headers: dict[str, str] | None = None
    ) -> Exchange:
        running = self.hubs.hub
        sep = "&" if "?" in path else "?"
        url = f"{running.url}/{self.name}{path}{sep}{API}"
        key = running.settings.keys[FULL_RULE]
        token = make_token(f"http://{running.host}/{self.name}", FULL_RULE, key)
        sent = {"Authorization": token, **(headers or {})}
        data = body.encode() if isinstance(body, str) else body
        started = time.time()
        status, reason, answer_headers, answer = self.hubs.run(self._send(method, url, data, sent))
        exchange = Exchange(
            id=new_id(),
            session="targets",
            started_at=started,
            duration_ms=(time.time() - started) * 1000,
            method=method,
            url=url,
            request=Message(headers=tuple(sent.items()), body=data),
            status=status,
            reason=reason,
            response=Message(headers=answer_headers, body=answer),
        )
        self.exchanges.append(exchange)
        return exchange

    async def _send(
        self, method: str, url: str, data: bytes, headers: dict[str, str]
    ) -> tuple[int, str | None, tuple[tuple[str, str], ...], bytes]:
        async with self.hubs.session.request(method, url, data=data, headers=headers) as response:
            body = await response.read()
            return response.status, response.reason, tuple(response.headers.items()), body

    def register(
        self, prefix: str, handle: str, tags: list[str], template: str | None = None
    ) -> str:
        """Create a registration; its id from the hub's answer."""
        exchange = self.call(
            "POST",
            "/registrations",
            registration_entry(prefix, handle, tags, template),
            {"Content-Type": "application/atom+xml;type=entry;charset=utf-8"},
        )
        assert exchange.status == 200, exchange.response
        decoded = decode_exchange(
            exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
        )
        assert decoded.response is not None
        rid = decoded.response.devices[0].registration_id
        assert rid
        return rid

    def install(self, doc: dict[str, Any]) -> Exchange:
        exchange = self.call(
            "PUT",
            f"/installations/{doc['installationId']}",
            json.dumps(doc),
            {"Content-Type": "application/json"},
        )
        assert exchange.status == 200, exchange.response
        return exchange

    def debug_send(self, fmt: str, expression: str | None) -> Exchange:
        """A `?test` send; the answer names the registrations reached (at most 10)."""
        content_type, body, extra = SEND_BODY.get(fmt, DEFAULT_SEND)
        headers = {"ServiceBusNotification-Format": fmt, "Content-Type": content_type, **extra}
        if expression is not None:
            headers["ServiceBusNotification-Tags"] = expression
        return self.call("POST", "/messages/?test=true", body, headers)

    def save(self, path: Path, session: str = "targets") -> None:
        """Write the exchanges to a hubscope database through the proxy's recorder."""
        writer = StoreWriter(path, session=session, upstream=self.hubs.hub.url)
        writer.start()
        try:
            for exchange in self.exchanges:
                writer.submit(replace(exchange, session=session))
        finally:
            writer.close()
        assert writer.healthy and writer.written == len(self.exchanges), writer.failure

    def recording(self) -> Recording:
        return from_exchanges(
            (e, decode_exchange(e.method, e.url, e.request, e.status, e.response))
            for e in self.exchanges
        )


def outcome_of(exchange: Exchange) -> tuple[OutcomeResult, ...]:
    send = decode_send(
        exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
    )
    assert send is not None and send.outcome is not None, exchange.response
    return send.outcome


@pytest.fixture(scope="session")
def hub_thread() -> Iterator[HubThread]:
    hubs = HubThread()
    try:
        yield hubs
    finally:
        hubs.close()


@pytest.fixture
def recorder(hub_thread: HubThread) -> Recorder:
    return Recorder(hub_thread)
