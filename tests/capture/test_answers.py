"""Answers keep the upstream's headers and nothing else (issue 17 row 11); long bodies stream.

The upstream is raw asyncio and the client reads raw bytes, so no library hides a header.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from aiohttp import web

from proxy import serve, store
from proxy.capture.answers import BUFFERED
from tests.capture.raw_upstream import answer, raw_upstream
from tests.servers import HUBSCOPE, REPO, free_port, start_app, start_proxy


async def exchange_raw(port: int, request: bytes) -> tuple[bytes, bytes]:
    """One request on a fresh connection: the answer's head and what followed it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    try:
        rest = await asyncio.wait_for(reader.read(65536), 0.5)
    except TimeoutError:
        rest = b""
    writer.close()
    return head, rest


def names(head: bytes) -> list[str]:
    return [line.split(b":")[0].decode().lower() for line in head.split(b"\r\n")[1:] if line]


async def test_head_keeps_the_upstreams_content_length_and_has_no_body() -> None:
    """Fails on main: the proxy dropped `Content-Length: 1234` from the HEAD answer."""
    raw = answer(headers=[("Content-Length", "1234"), ("Content-Type", "application/xml")])
    async with raw_upstream(lambda head, body: raw) as upstream:
        proxy = await start_proxy(upstream.url, None)
        try:
            head, rest = await exchange_raw(
                proxy.port, b"HEAD /hub/registrations/1 HTTP/1.1\r\nHost: h\r\n\r\n"
            )
        finally:
            await serve.stop([proxy])
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 1234\r\n" in head
    assert rest == b""


@pytest.mark.parametrize("body", [b"<feed/>", b"x" * (BUFFERED + 1)], ids=["whole", "streamed"])
async def test_the_proxy_adds_no_server_date_or_content_type(body: bytes) -> None:
    """Fails on main: aiohttp added `Server: Python/3.x aiohttp/…` and `Date` to every answer.
    Both answer classes: `PassedBody` (read whole) and `Passed` (over `BUFFERED`, streamed)."""
    raw = answer(headers=[("X-Ms-Request-Id", "1")], body=body)
    async with raw_upstream(lambda head, body: raw) as upstream:
        proxy = await start_proxy(upstream.url, None)
        try:
            head, rest = await exchange_raw(
                proxy.port, b"GET /hub/registrations HTTP/1.1\r\nHost: h\r\n\r\n"
            )
        finally:
            await serve.stop([proxy])
    sent = names(head)
    assert "server" not in sent and "date" not in sent and "content-type" not in sent, head
    assert "x-ms-request-id" in sent
    assert f"\r\nContent-Length: {len(body)}\r\n".encode() in head
    assert rest == body or (len(body) > BUFFERED and rest and body.startswith(rest))


async def test_the_upstreams_own_server_and_date_pass_unchanged() -> None:
    date = "Mon, 30 Nov 2026 06:00:00 GMT"
    raw = answer(headers=[("Server", "Microsoft-HTTPAPI/2.0"), ("Date", date)], body=b"{}")
    async with raw_upstream(lambda head, body: raw) as upstream:
        proxy = await start_proxy(upstream.url, None)
        try:
            head, _ = await exchange_raw(proxy.port, b"GET /hub/x HTTP/1.1\r\nHost: h\r\n\r\n")
        finally:
            await serve.stop([proxy])
    assert b"\r\nServer: Microsoft-HTTPAPI/2.0\r\n" in head
    assert f"\r\nDate: {date}\r\n".encode() in head
    assert names(head).count("date") == 1 and names(head).count("server") == 1


BIG = 96 << 20
CHUNK = bytes(range(256)) * 256


def big_upstream() -> web.Application:
    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = BIG
        await response.prepare(request)
        for _ in range(BIG // len(CHUNK)):
            await response.write(CHUNK)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def test_a_large_answer_streams_with_bounded_memory_and_is_recorded_truncated(
    tmp_path: Path,
) -> None:
    """96 MiB through a real `hubscope proxy`: its peak RSS stays far below the body (on
    main the whole answer was read into memory, then copied)."""
    upstream = await start_app(big_upstream())
    port = free_port()
    db = tmp_path / "big.db"
    proc = await asyncio.create_subprocess_exec(
        *HUBSCOPE, "proxy", "--upstream", f"http://127.0.0.1:{upstream.port}",
        "--listen", f"127.0.0.1:{port}", "--db", str(db), "--session", "big",
        cwd=REPO, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    digest = hashlib.sha256()
    size = 0
    try:
        for _ in range(300):
            try:
                _, probe = await asyncio.open_connection("127.0.0.1", port)
                probe.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        before = peak_rss_mb(proc.pid)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /hub/big HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert f"\r\nContent-Length: {BIG}\r\n".encode() in head
        while chunk := await asyncio.wait_for(reader.read(1 << 20), 30):
            digest.update(chunk)
            size += len(chunk)
        writer.close()
        grown = peak_rss_mb(proc.pid) - before
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 60)
        await serve.stop([upstream])
    assert size == BIG
    expected = hashlib.sha256(CHUNK * (BIG // len(CHUNK))).hexdigest()
    assert digest.hexdigest() == expected
    assert grown < 40, f"the proxy's peak RSS grew {grown:.0f} MB for a {BIG >> 20} MiB answer"
    [row] = store.connect(db, readonly=True).query(
        "select response_body, response_body_size, response_body_sha256, response_truncated,"
        " error from exchanges"
    )
    assert row["response_body_size"] == BIG and row["response_truncated"] == 1
    assert row["response_body_sha256"] == expected
    assert len(row["response_body"]) == 1 << 20, len(row["response_body"])
    assert row["response_body"] == (CHUNK * 17)[: 1 << 20]
    assert row["error"] is None
