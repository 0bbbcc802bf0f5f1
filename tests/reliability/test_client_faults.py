"""Client faults: disconnects, slow-loris, huge headers, pipelining. The proxy stays up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from proxy import serve, store
from tests.conftest import Upstream
from tests.servers import start_proxy


async def still_serving(port: int) -> bool:
    async with aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{port}/hub/binary") as resp:
            return resp.status == 200 and len(await resp.read()) == 1024


async def raw(port: int, data: bytes, *, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    got = b""
    if read:
        try:
            got = await asyncio.wait_for(reader.read(1 << 20), 5)
        except TimeoutError:
            pass
    writer.close()
    return got


async def test_disconnect_mid_upload_and_mid_download(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    proxy = await start_proxy(upstream.url, db)
    try:
        head = b"PUT /hub/installations/x HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n"
        await raw(proxy.port, head + b"{" * 10, read=False)
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"GET /hub/big HTTP/1.1\r\nHost: h\r\n\r\n")
        await writer.drain()
        await reader.read(1000)
        writer.transport.abort()
        await asyncio.sleep(0.3)
        assert await still_serving(proxy.port)
    finally:
        await serve.stop([proxy])
    paths = [
        r["path"] for r in store.connect(db, readonly=True).query("select path from exchanges")
    ]
    assert "/hub/installations/x" not in paths, "an upload that never completed is not forwarded"
    assert [s.raw_path for s in upstream.seen if s.raw_path == "/hub/installations/x"] == []
    assert "/hub/big" in paths and "/hub/binary" in paths


async def test_slow_loris_connections_do_not_block_others(upstream: Upstream) -> None:
    proxy = await start_proxy(upstream.url, None)
    writers = []
    try:
        for _ in range(200):
            _, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            writer.write(b"GET /hub/registrations HTTP/1.1\r\nHost: h\r\nX-Slow: ")
            writers.append(writer)
        await asyncio.gather(*(w.drain() for w in writers))
        assert await still_serving(proxy.port)
        for writer in writers[:50]:
            writer.write(b"a")
        assert await still_serving(proxy.port)
    finally:
        for writer in writers:
            writer.close()
        await serve.stop([proxy])


async def test_huge_headers_are_refused_and_the_proxy_survives(upstream: Upstream) -> None:
    proxy = await start_proxy(upstream.url, None)
    try:
        answer = await raw(
            proxy.port, b"GET /hub/x HTTP/1.1\r\nHost: h\r\nX-Huge: " + b"a" * 100_000 + b"\r\n\r\n"
        )
        assert b" 400 Bad Request" in answer[:40], answer[:100]
        assert await still_serving(proxy.port)
    finally:
        await serve.stop([proxy])
    assert all(s.raw_path != "/hub/x" for s in upstream.seen)


async def test_pipelined_requests_are_answered_in_order(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    proxy = await start_proxy(upstream.url, db)
    try:
        requests = b"".join(
            b"PUT /hub/installations/%d HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\nbody-%02d"
            % (i, i)
            for i in range(5)
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(requests)
        await writer.drain()
        received = b""
        while received.count(b"body-") < 5:
            chunk = await asyncio.wait_for(reader.read(65536), 10)
            assert chunk, received
            received += chunk
        writer.close()
    finally:
        await serve.stop([proxy])
    order = [received.index(f"body-{i:02d}".encode()) for i in range(5)]
    assert order == sorted(order)
    assert (
        store.connect(db, readonly=True).execute("select count(*) from exchanges").fetchone()[0]
        == 5
    )
