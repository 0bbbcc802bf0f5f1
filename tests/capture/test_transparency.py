"""Compressed bodies cross the proxy as they were sent: never inflated on the way.

The upstream here is raw asyncio (`raw_upstream`), so what it records is what was on
the wire, not what an HTTP library made of it.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import aiohttp
import pytest

from proxy import serve, store
from tests.capture.raw_upstream import answer, raw_upstream
from tests.servers import start_proxy

ATOM = (
    b'<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
    b"<AppleRegistrationDescription><DeviceToken>AB</DeviceToken>"
    b"</AppleRegistrationDescription></content></entry>"
) * 20

ENCODED = {"gzip": gzip.compress(ATOM), "deflate": zlib.compress(ATOM)}


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_compressed_request_body_reaches_upstream_unchanged(
    coding: str, tmp_path: Path
) -> None:
    """Fails on main: aiohttp's server inflated the body and the proxy sent it on
    still labelled `Content-Encoding: gzip`."""
    sent = ENCODED[coding]
    db = tmp_path / "t.db"
    async with raw_upstream() as upstream:
        proxy = await start_proxy(upstream.url, db)
        try:
            async with aiohttp.ClientSession(auto_decompress=False) as client:
                async with client.post(
                    f"http://127.0.0.1:{proxy.port}/hub/registrations?api-version=2015-01",
                    data=sent,
                    headers={"Content-Encoding": coding, "Content-Type": "application/atom+xml"},
                ) as resp:
                    assert resp.status == 200
                    assert await resp.read() == sent
        finally:
            await serve.stop([proxy])
    [seen] = upstream.seen
    assert seen.header("Content-Encoding") == coding
    assert seen.header("Content-Length") == str(len(sent))
    assert seen.body == sent
    [row] = store.connect(db, readonly=True).query("select request_body from exchanges")
    assert row["request_body"] == sent, "recorded as received"


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
async def test_compressed_response_body_reaches_client_unchanged(coding: str) -> None:
    body = ENCODED[coding]
    raw = answer(headers=[("Content-Encoding", coding), ("Content-Type", "text/xml")], body=body)
    async with raw_upstream(lambda head, got: raw) as upstream:
        proxy = await start_proxy(upstream.url, None)
        try:
            async with aiohttp.ClientSession(auto_decompress=False) as client:
                url = f"http://127.0.0.1:{proxy.port}/hub/registrations"
                async with client.get(url, headers={"Accept-Encoding": coding}) as resp:
                    assert resp.headers["Content-Encoding"] == coding
                    assert resp.headers["Content-Length"] == str(len(body))
                    assert await resp.read() == body
        finally:
            await serve.stop([proxy])
