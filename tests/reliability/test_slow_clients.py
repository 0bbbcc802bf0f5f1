"""Slow clients are cut off: half a header, half a body, or nothing gets 408 (issue 17 row 8).

On main none of these timed out (a half-sent request stayed open indefinitely) and
1,100 of them under `ulimit -n 1024` blocked every other client.
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
from pathlib import Path

import aiohttp

from proxy import serve, store
from tests.conftest import Upstream
from tests.servers import (
    HUBSCOPE,
    REPO,
    free_port,
    start_forward_proxy,
    start_proxy,
    wait_until_responds,
)


async def opened(port: int, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if data:
        writer.write(data)
        await writer.drain()
    return reader, writer


async def answer_of(reader: asyncio.StreamReader) -> bytes:
    """Everything until the proxy closes the connection (bounded wait: it must close)."""
    return await asyncio.wait_for(reader.read(), 20)


def rows(db: Path) -> list[dict]:
    return list(store.connect(db, readonly=True).query("select * from exchanges"))


async def test_half_a_header_gets_408_and_is_recorded(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proxy = await start_proxy(upstream.url, db, header_timeout=0.5)
    try:
        reader, writer = await opened(
            proxy.port,
            b"POST /hub/registrations?api-version=2015-01 HTTP/1.1\r\nHost: h\r\n"
            b"Content-Type: application/atom+xml\r\nX-Slow: ",
        )
        got = await answer_of(reader)
        writer.close()
        assert got.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), got[:80]
        assert b"--header-timeout" in got
    finally:
        await serve.stop([proxy])
    assert upstream.seen == [], "a request whose header never arrived is not forwarded"
    [row] = rows(db)
    assert row["method"] == "POST"
    assert row["url"] == upstream.url + "/hub/registrations?api-version=2015-01"
    assert row["proxy_status"] == 408 and row["status"] is None
    assert "header did not arrive" in row["error"]
    assert '"Content-Type"' in row["request_headers"], "the complete header lines are kept"


async def test_nothing_sent_is_cut_off_and_not_recorded(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proxy = await start_proxy(upstream.url, db, header_timeout=0.5)
    try:
        reader, writer = await opened(proxy.port, b"")
        got = await answer_of(reader)
        writer.close()
        assert got.startswith(b"HTTP/1.1 408 "), got[:80]
    finally:
        await serve.stop([proxy])
    assert rows(db) == [], "no request line arrived: nothing to record"


async def test_half_a_body_gets_408_and_is_recorded(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proxy = await start_proxy(upstream.url, db, body_timeout=0.5)
    try:
        reader, writer = await opened(
            proxy.port,
            b"PUT /hub/installations/i1?api-version=2015-01 HTTP/1.1\r\nHost: h\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n" + b'{"installationId"',
        )
        got = await answer_of(reader)
        writer.close()
        assert got.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), got[:80]
    finally:
        await serve.stop([proxy])
    assert upstream.seen == []
    [row] = rows(db)
    assert (row["method"], row["proxy_status"]) == ("PUT", 408)
    assert row["request_body"] == b'{"installationId"'
    assert "17 bytes of its body" in row["error"]


async def test_a_keep_alive_connection_gets_a_new_deadline_per_request(
    upstream: Upstream,
) -> None:
    proxy = await start_proxy(upstream.url, None, header_timeout=1.0)
    try:
        reader, writer = await opened(proxy.port, b"GET /hub/binary HTTP/1.1\r\nHost: h\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200 ")
        await asyncio.wait_for(reader.readexactly(1024), 10)
        writer.write(b"GET /hub/binary HTTP/1.1\r\nHost: h\r\nX-Slow: ")
        got = await answer_of(reader)
        assert got.startswith(b"HTTP/1.1 408 "), got[:80]
        writer.close()
    finally:
        await serve.stop([proxy])


def _limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (160, 160))


async def test_slow_loris_under_a_file_limit_blocks_no_one_and_logs_little(
    upstream: Upstream, tmp_path: Path
) -> None:
    """300 half-sent headers against a proxy allowed 160 open files: others are served, the
    log stays short. On main the proxy ran out of descriptors and refused everybody."""
    port = free_port()
    log = tmp_path / "proxy.log"
    args = ["proxy", "--upstream", upstream.url, "--listen", f"127.0.0.1:{port}", "--no-record"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*HUBSCOPE, *args], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=_limit_files,
        )  # fmt: skip
    writers: list[asyncio.StreamWriter] = []
    try:
        await asyncio.to_thread(
            wait_until_responds, f"http://127.0.0.1:{port}/hub/binary", proc=proc
        )
        for _ in range(300):
            _, writer = await opened(port, b"GET /hub/x HTTP/1.1\r\nHost: h\r\nX-Slow: ")
            writers.append(writer)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as client:
            for _ in range(5):
                async with client.get(f"http://127.0.0.1:{port}/hub/binary") as resp:
                    assert resp.status == 200
                    assert len(await resp.read()) == 1024
    finally:
        for writer in writers:
            writer.close()
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)
    lines = log.read_text().splitlines()
    assert len(lines) < 60, "\n".join(lines[-20:])


async def test_the_forward_proxy_cuts_off_half_a_connect(tmp_path: Path) -> None:
    """The forward proxy reads a connection's first request itself (CONNECT or not)."""
    proxy = await start_forward_proxy(None, header_timeout=0.5)
    try:
        reader, writer = await opened(
            proxy.port, b"CONNECT ns.servicebus.windows.net:443 HTTP/1.1\r\nHost: ns"
        )
        got = await answer_of(reader)
        writer.close()
        assert got.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), got[:80]
        reader, writer = await opened(proxy.port, b"GET http://example.com/ HTTP/1.1\r\nHo")
        got = await answer_of(reader)
        writer.close()
        assert got.startswith(b"HTTP/1.1 408 "), got[:80]
    finally:
        await serve.stop([proxy])
