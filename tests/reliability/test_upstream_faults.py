"""Upstream faults: the client gets a clear 502/504 (or the bytes really sent), the exchange is
recorded with its error, and the proxy keeps serving."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from proxy import serve, store
from tests.conftest import Upstream
from tests.servers import free_port, start_proxy

Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))


@asynccontextmanager
async def raw_upstream(behaviour: Behaviour) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that answers however `behaviour` says."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _read_request(reader)
            await behaviour(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def reset_mid_response(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    await w.drain()
    w.transport.abort()


async def truncated_body(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
    await w.drain()


async def garbage(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n\x00\xff garbage")
    await w.drain()


async def long_content_length(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n0123456789")
    await w.drain()


async def data_after_close(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n0123456789")
    await w.drain()


async def silent(_r: asyncio.StreamReader, _w: asyncio.StreamWriter) -> None:
    await asyncio.sleep(10)


def rows(db: Path) -> list[dict]:
    return list(
        store.connect(db, readonly=True).query("select * from exchanges order by started_at")
    )


async def one_get(port: int, path: str = "/hub/registrations/1") -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{port}{path}") as resp:
            return resp.status, await resp.read()


@pytest.mark.parametrize(
    ("behaviour", "status", "error_words"),
    [
        (reset_mid_response, 502, "ClientPayloadError"),
        (truncated_body, 502, "ClientPayloadError"),
        (garbage, 502, "Bad status line"),
        (data_after_close, 502, "Data after `Connection: close`"),
        (long_content_length, 502, "Bad status line"),
    ],
)
async def test_broken_answers_are_502_recorded_and_survived(
    behaviour: Behaviour, status: int, error_words: str, upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "f.db"
    async with raw_upstream(behaviour) as url:
        proxy = await start_proxy(url, db)
        try:
            got, body = await one_get(proxy.port)
            healthy = await start_proxy(upstream.url, tmp_path / "ok.db")
            try:
                assert (await one_get(healthy.port, "/hub/binary"))[0] == 200
            finally:
                await serve.stop([healthy])
            again, _ = await one_get(proxy.port)
        finally:
            await serve.stop([proxy])
    assert got == status and again == status, "every failure answered, the proxy still up"
    assert body.startswith(b"hubscope: upstream 127.0.0.1 failed")
    recorded = rows(db)
    assert len(recorded) == 2
    assert all(r["proxy_status"] == status and r["status"] is None for r in recorded)
    assert any(error_words in r["error"] for r in recorded), [r["error"] for r in recorded]


async def test_upstream_that_never_answers_is_504(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    async with raw_upstream(silent) as url:
        proxy = await start_proxy(url, db, timeout=0.3)
        try:
            status, body = await one_get(proxy.port)
        finally:
            await serve.stop([proxy])
    assert status == 504 and b"did not answer within the timeout" in body
    [row] = rows(db)
    assert row["proxy_status"] == 504 and "timeout" in row["error"]


async def test_refused_connection_is_502(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    proxy = await start_proxy(f"http://127.0.0.1:{free_port()}", db)
    try:
        first, body = await one_get(proxy.port)
        second, _ = await one_get(proxy.port)
    finally:
        await serve.stop([proxy])
    assert (first, second) == (502, 502)
    assert b"ClientConnectorError" in body
    assert len(rows(db)) == 2


async def test_untrusted_upstream_certificate_is_502_naming_the_tls_failure(
    tmp_path: Path,
) -> None:
    from proxy.tls import authority as tls

    db = tmp_path / "f.db"
    home = tmp_path / "ca-home"
    context = tls.server_context((), folder=home)

    async def hello(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await w.drain()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _read_request(reader)
            await hello(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    proxy = await start_proxy(f"https://127.0.0.1:{port}", db)
    trusting = await start_proxy(
        f"https://127.0.0.1:{port}", tmp_path / "t.db", ca_file=tls.ca_path(home)
    )
    try:
        status, body = await one_get(proxy.port)
        trusted_status, trusted_body = await one_get(trusting.port)
    finally:
        await serve.stop([proxy, trusting])
        server.close()
        await server.wait_closed()
    assert status == 502 and b"certificate" in body.lower()
    assert (trusted_status, trusted_body) == (200, b"ok"), "--ca-file trusts the private CA"
    [row] = rows(db)
    assert "certificate" in row["error"].lower()
