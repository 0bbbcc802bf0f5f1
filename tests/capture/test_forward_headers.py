"""Every end-to-end header reaches the upstream unchanged, and every answer header comes back.

The stand-in hub sniffs bodies, so a proxy that dropped `Content-Type` would still get 2xx
there; a real hub would not. These tests look at what the upstream received instead.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from proxy import serve
from proxy.sas import make_token
from tests.conftest import Upstream
from tests.servers import start_app, start_proxy

TOKEN = make_token("https://ns.servicebus.windows.net/myhub", "DefaultFullSharedAccessSignature",
                   "c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNDU=")  # fmt: skip
END_TO_END = [
    ("Content-Type", "application/atom+xml; charset=utf-8; type=entry"),
    ("x-ms-version", "2020-06"),
    ("TrackingId", "2c0f1fa0-4a4c-4b17-9d6e-2f8cbd6b8c1e"),
    ("Authorization", TOKEN),
    ("x-ms-azsdk-telemetry", "class=NotificationHubsServiceClient;method=createRegistration"),
    ("x-ms-client-request-id", "9b1d0f4e-0000-4000-8000-000000000001"),
    ("X-Unknown-Vendor-Thing", "inner  spaces ; with=params"),  # edge OWS is not content
    ("If-Match", 'W/"3"'),
    ("ServiceBusNotification-Format", "apple"),
    ("ServiceBusNotification-Tags", "(a || b) && !c"),
    ("apns-push-type", "alert"),
    ("User-Agent", "NHub/2020-06 (api-origin=DotNetSdk;os=Unix;os-version=6.1)"),
]
CONTENT_TYPES = [
    "application/atom+xml;type=entry;charset=utf-8",
    "application/json",
    "application/json-patch+json; charset=utf-8",
    "application/xml;type=entry;charset=utf-8",
    'multipart/mixed; boundary = "nh-boundary-1"',
    "application/octet-stream",
    "text/plain; charset=no-such-encoding",
]


async def send(
    upstream: Upstream, tmp_path: Path, *requests: list[tuple[str, str]]
) -> list[list[tuple[str, str]]]:
    """POST once per header list through one proxy; what the upstream received, per request."""
    proxy = await start_proxy(upstream.url, tmp_path / "h.db")
    try:
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{proxy.port}/myhub/registrations?api-version=2020-06"
            for headers in requests:
                # Nothing added by the client library: only what the test lists is sent.
                skip = {"User-Agent", "Content-Type", "Accept", "Accept-Encoding"}
                async with client.post(url, data=b"<entry/>", headers=headers,
                                       skip_auto_headers=skip) as resp:  # fmt: skip
                    assert resp.status == 200
    finally:
        await serve.stop([proxy])
    assert len(upstream.seen) == len(requests)
    return [seen.headers for seen in upstream.seen]


def values(received: list[tuple[str, str]], name: str) -> list[str]:
    return [v for n, v in received if n.lower() == name.lower()]


async def test_every_end_to_end_header_reaches_the_upstream_unchanged(
    upstream: Upstream, tmp_path: Path
) -> None:
    [received] = await send(upstream, tmp_path, END_TO_END)
    for name, value in END_TO_END:
        assert values(received, name) == [value], name
    wanted = {h.lower() for h, _ in END_TO_END}
    assert [n for n, _ in received if n.lower() in wanted] == [n for n, _ in END_TO_END], (
        "names lost their case or order"
    )


async def test_content_types_and_repeats_are_forwarded_as_sent(
    upstream: Upstream, tmp_path: Path
) -> None:
    repeated = [("X-Repeat", "1"), ("x-ms-version", "2020-06"), ("X-Repeat", "2")]
    requests = [[("Content-Type", ct)] for ct in CONTENT_TYPES] + [[], repeated]
    received = await send(upstream, tmp_path, *requests)
    for content_type, got in zip(CONTENT_TYPES, received, strict=False):
        assert values(got, "Content-Type") == [content_type]
    assert values(received[-2], "Content-Type") == []  # none sent, none invented
    assert values(received[-1], "X-Repeat") == ["1", "2"]


async def test_only_connection_names_hop_by_hop_headers(upstream: Upstream, tmp_path: Path) -> None:
    """A header whose value happens to be another header's name drops nothing."""
    listed = [("A-List", "X-Kept-A"), ("X-Kept-A", "1"), ("Z-List", "X-Kept-Z"), ("X-Kept-Z", "2"),
              ("Connection", "X-Hop"), ("X-Hop", "gone")]  # fmt: skip
    [received] = await send(upstream, tmp_path, listed)
    assert values(received, "X-Kept-A") == ["1"] and values(received, "X-Kept-Z") == ["2"]
    assert values(received, "X-Hop") == [] and values(received, "Connection") == []


ANSWER = [
    ("Content-Type", "application/atom+xml; type=entry; charset=utf-8"),
    ("TrackingId", "0b1e2c3d-0000-4000-8000-00000000000a"),
    ("x-ms-correlation-request-id", "5f6e7d8c-0000-4000-8000-00000000000b"),
    ("Location", "https://ns.servicebus.windows.net/myhub/registrationids/1-2-3"),
    ("x-ms-continuationtoken", "MzEobik7Mg%3D%3D"),
    ("Strict-Transport-Security", "max-age=2592000"),
    ("X-Unknown-Answer", "kept"),
]
HOP_ANSWER = [
    ("Connection", "X-Answer-Hop"),
    ("X-Answer-Hop", "gone"),
    ("Keep-Alive", "timeout=5"),
    ("Proxy-Authenticate", "Basic realm=x"),
]


async def test_answer_headers_come_back_and_hop_by_hop_ones_do_not(tmp_path: Path) -> None:
    async def handle(request: web.Request) -> web.Response:
        response = web.Response(status=201, body=b"<entry/>")
        for name, value in ANSWER + HOP_ANSWER:
            response.headers.add(name, value)
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    hub = await start_app(app)
    proxy = await start_proxy(f"http://127.0.0.1:{hub.port}", tmp_path / "h.db")
    try:
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{proxy.port}/myhub/registrationIDs?api-version=2020-06"
            async with client.post(url) as resp:
                assert resp.status == 201 and await resp.read() == b"<entry/>"
                got = [(k.decode(), v.decode()) for k, v in resp.raw_headers]
    finally:
        await serve.stop([proxy, hub])
    for name, value in ANSWER:
        assert values(got, name) == [value], name
    for name, _ in HOP_ANSWER:
        assert values(got, name) == [] or name == "Connection", name
    assert "X-Answer-Hop" not in ",".join(values(got, "Connection"))
