"""The proxy forwards byte for byte in both directions, and records what it forwarded."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from pathlib import Path

import aiohttp
import pytest

from proxy import serve, store
from proxy.capture.forward import HEAVY_RECORD, _heavy
from proxy.exchange import Exchange, Message
from tests.conftest import BINARY, GZIPPED, Upstream
from tests.servers import free_port, start_proxy


async def proxied(upstream: Upstream, db: Path | None, **options: object) -> serve.Running:
    return await start_proxy(upstream.url, db, **options)


def rows(db: Path) -> list[dict]:
    return list(
        store.connect(db, readonly=True).query("select * from exchanges order by started_at")
    )


async def test_request_reaches_upstream_unchanged(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    proxy = await proxied(upstream, db)
    raw = (
        "/myhub/registrations?api-version=2020-06&continuationtoken=MzEobik7Mg%3D%3D"
        "&%24top=2&$filter=DeviceToken+eq+%27AB%27"
    )
    try:
        async with aiohttp.ClientSession(auto_decompress=False) as client:
            headers = [
                ("Content-Type", "application/atom+xml;type=entry;charset=utf-8"),
                ("X-Repeat", "first"),
                ("X-Repeat", "second"),
                ("Connection", "keep-alive, X-Private"),
                ("X-Private", "hop"),
                ("Keep-Alive", "timeout=5"),
                ("TE", "trailers"),
                ("Proxy-Authorization", "Basic abc"),
                ("If-Match", 'W/"3"'),
            ]
            url = f"http://127.0.0.1:{proxy.port}{raw}"
            async with client.post(
                aiohttp.client.URL(url, encoded=True),
                data=BINARY,
                headers=headers,
                skip_auto_headers={"User-Agent", "Accept", "Accept-Encoding"},
            ) as resp:
                assert resp.status == 200
                assert await resp.read() == BINARY
    finally:
        await serve.stop([proxy])
    [seen] = upstream.seen
    assert seen.method == "POST"
    assert seen.raw_path == raw
    assert seen.body == BINARY
    names = [k.lower() for k, _ in seen.headers]
    assert [v for k, v in seen.headers if k.lower() == "x-repeat"] == ["first", "second"]
    for hop in ("connection", "x-private", "keep-alive", "te", "proxy-authorization"):
        assert hop not in names, hop
    assert dict((k.lower(), v) for k, v in seen.headers)["host"] == f"127.0.0.1:{upstream.port}"
    assert ("If-Match", 'W/"3"') in seen.headers
    for auto in ("user-agent", "accept", "accept-encoding"):
        assert auto not in names, f"proxy added {auto}"
    [row] = rows(db)
    assert row["url"] == upstream.url + raw
    assert row["request_body"] == BINARY
    recorded = json.loads(row["request_headers"])
    assert [v for k, v in recorded if k == "X-Repeat"] == ["first", "second"]
    assert ["Connection", "keep-alive, X-Private"] in recorded, "the client's own headers are kept"


async def test_responses_come_back_unchanged(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    proxy = await proxied(upstream, db)
    base = f"http://127.0.0.1:{proxy.port}"
    try:
        async with aiohttp.ClientSession(auto_decompress=False) as client:
            async with client.get(base + "/hub/gzip", headers={"Accept-Encoding": "gzip"}) as resp:
                assert resp.headers["Content-Encoding"] == "gzip"
                assert await resp.read() == GZIPPED
            async with client.get(base + "/hub/binary") as resp:
                assert await resp.read() == BINARY
            async with client.get(base + "/hub/headers") as resp:
                assert resp.status == 201
                assert resp.reason == "Created Indeed"
                assert resp.headers.getall("X-Multi") == ["one", "two"]
                assert resp.headers.getall("Set-Cookie") == ["a=1", "b=2"]
                assert resp.headers["Location"].endswith("/registrationids/1-2-3")
                assert resp.headers["Content-Location"].endswith("?api-version=2020-06")
                assert resp.headers["ETag"] == 'W/"1"'
    finally:
        await serve.stop([proxy])
    recorded = {r["path"]: r for r in rows(db)}
    assert recorded["/hub/gzip"]["response_body"] == GZIPPED
    assert recorded["/hub/gzip"]["response_body_sha256"] == hashlib.sha256(GZIPPED).hexdigest()
    headers = json.loads(recorded["/hub/headers"]["response_headers"])
    assert [v for k, v in headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert recorded["/hub/headers"]["status"] == 201


async def test_unreachable_upstream_is_502_and_recorded(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    dead = f"http://127.0.0.1:{free_port()}"
    proxy = await start_proxy(dead, db)
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{proxy.port}/hub/registrations") as resp:
                assert resp.status == 502
                text = await resp.text()
    finally:
        await serve.stop([proxy])
    assert "upstream 127.0.0.1 failed" in text and "ClientConnectorError" in text
    [row] = rows(db)
    assert row["status"] is None and row["proxy_status"] == 502
    assert "ClientConnectorError" in row["error"]


async def test_slow_upstream_is_504_and_recorded(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    proxy = await proxied(upstream, db, timeout=0.5)
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{proxy.port}/hub/slow") as resp:
                assert resp.status == 504
                assert "did not answer within the timeout" in await resp.text()
            async with client.get(f"http://127.0.0.1:{proxy.port}/hub/binary") as resp:
                assert resp.status == 200, "the proxy keeps serving after a timeout"
    finally:
        await serve.stop([proxy])
    by_path = {r["path"]: r for r in rows(db)}
    assert by_path["/hub/slow"]["proxy_status"] == 504
    assert by_path["/hub/binary"]["status"] == 200


async def test_thousand_concurrent_requests_all_answered_and_recorded(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "h.db"
    proxy = await proxied(upstream, db)
    url = f"http://127.0.0.1:{proxy.port}/hub/installations/"
    try:
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(connector=connector) as client:

            async def one(i: int) -> bytes:
                async with client.put(url + str(i), data=f'{{"n":{i}}}'.encode()) as resp:
                    assert resp.status == 200
                    return await resp.read()

            bodies = await asyncio.gather(*(one(i) for i in range(1000)))
    finally:
        await serve.stop([proxy])
    assert bodies == [f'{{"n":{i}}}'.encode() for i in range(1000)]
    recorded = {r["path"] for r in rows(db)}
    assert recorded == {f"/hub/installations/{i}" for i in range(1000)}


async def test_bodies_over_the_cap_are_forwarded_whole_and_stored_truncated(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "h.db"
    proxy = await proxied(upstream, db, body_cap=1000)
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{proxy.port}/hub/big") as resp:
                body = await resp.read()
    finally:
        await serve.stop([proxy])
    assert body == b"x" * 3_000_000
    [row] = rows(db)
    assert row["response_body"] == b"x" * 1000
    assert row["response_body_size"] == 3_000_000
    assert row["response_truncated"] == 1
    assert row["response_body_sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("method", ["GET", "DELETE", "HEAD", "OPTIONS", "PATCH"])
async def test_every_method_is_forwarded(upstream: Upstream, tmp_path: Path, method: str) -> None:
    proxy = await proxied(upstream, None)
    try:
        async with aiohttp.ClientSession() as client:
            async with client.request(
                method, f"http://127.0.0.1:{proxy.port}/anything/at/all?x=1"
            ) as resp:
                assert resp.status == 200
    finally:
        await serve.stop([proxy])
    assert [(s.method, s.raw_path) for s in upstream.seen] == [(method, "/anything/at/all?x=1")]


async def test_large_and_compressed_exchanges_are_redacted_off_the_loop_and_recorded(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "h.db"
    secret = "SharedAccessKey=c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNDU="
    large = (secret + " " * (HEAVY_RECORD + 10)).encode()
    packed = gzip.compress(secret.encode())
    proxy = await proxied(upstream, db)
    try:
        async with aiohttp.ClientSession(auto_decompress=False) as client:
            base = f"http://127.0.0.1:{proxy.port}/hub"
            sent = [
                client.put(f"{base}/large", data=large),
                client.put(f"{base}/packed", data=packed, headers={"Content-Encoding": "gzip"}),
                client.put(f"{base}/small", data=secret.encode()),
            ]
            for request in sent:
                async with request as resp:
                    assert resp.status == 200
    finally:
        await serve.stop([proxy])
    stored = {r["path"]: r for r in rows(db)}
    assert set(stored) == {"/hub/large", "/hub/packed", "/hub/small"}
    assert stored["/hub/large"]["request_body"].startswith(b"SharedAccessKey=[redacted] ")
    assert gzip.decompress(stored["/hub/packed"]["request_body"]) == b"SharedAccessKey=[redacted]"
    assert stored["/hub/small"]["request_body"] == b"SharedAccessKey=[redacted]"


def test_an_exchange_is_heavy_when_large_or_compressed() -> None:
    def exchange(body: bytes, *headers: tuple[str, str]) -> Exchange:
        return Exchange(
            id="h", session="s", started_at=0.0, duration_ms=0.0, method="PUT", url="http://h/",
            request=Message(headers=headers, body=body),
            response=Message(headers=(("Content-Encoding", "identity"),), body=b""),
        )  # fmt: skip

    assert not _heavy(exchange(b"x" * HEAVY_RECORD))
    assert _heavy(exchange(b"x" * HEAVY_RECORD + b"y"))
    assert _heavy(exchange(b"{}", ("content-encoding", "GZIP")))
    assert not _heavy(exchange(b"{}", ("Content-Encoding", " identity ")))
