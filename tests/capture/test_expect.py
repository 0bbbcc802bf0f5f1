"""`Expect: 100-continue` through the real proxy on loopback.

curl sends it for bodies over 1 KiB, .NET's HttpClient when told to: the client sends
its header, waits for `100 Continue`, then sends the body. The proxy answers it itself
(aiohttp's router did on main; the low-level server has no router), reads the body and
forwards the request, `Expect` included, to an upstream that answers `100 Continue`
as the hub does. The client here is a raw socket, so the test sees the `100 Continue`
bytes and sends the body only after them; the proxy's body deadline (`--body-timeout`)
bounds the wait when no `100 Continue` comes.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from proxy import serve, store
from tests.capture.raw_upstream import raw_upstream
from tests.servers import start_proxy

BODY = (
    b'<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
    b"<AppleRegistrationDescription><DeviceToken>AB</DeviceToken>"
    b"</AppleRegistrationDescription></content></entry>"
) * 12
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
PATH = "/hub/registrations?api-version=2015-01"


def head(expect: str | None, length: int, version: str = "1.1") -> bytes:
    lines = [
        f"POST {PATH} HTTP/{version}",
        "Host: 127.0.0.1",
        "Content-Type: application/atom+xml;type=entry;charset=utf-8",
        f"Content-Length: {length}",
    ]
    if expect is not None:
        lines.append(f"Expect: {expect}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@asynccontextmanager
async def connection(
    port: int,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield reader, writer
    finally:
        writer.close()


async def read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One answer's head (status line and headers) and its Content-Length body."""
    answer_head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in answer_head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return answer_head, await reader.readexactly(length)


async def test_the_client_gets_100_continue_and_its_body_is_forwarded(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    async with raw_upstream() as upstream:
        proxy = await start_proxy(upstream.url, db, body_timeout=5.0)
        try:
            async with connection(proxy.port) as (reader, writer):
                writer.write(head("100-continue", len(BODY)))
                # Without an interim answer the proxy's body deadline answers 408 here instead.
                assert await reader.readuntil(b"\r\n\r\n") == CONTINUE
                writer.write(BODY)
                answer_head, answer_body = await read_answer(reader)
        finally:
            await serve.stop([proxy])
    assert answer_head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer_body == BODY
    [seen] = upstream.seen
    assert seen.body == BODY
    assert seen.header("Expect") == "100-continue", "forwarded: the hub sees what was sent"
    [row] = store.connect(db, readonly=True).query("select request_body from exchanges")
    assert row["request_body"] == BODY


async def test_a_body_over_the_maximum_is_refused_before_it_is_invited(tmp_path: Path) -> None:
    """413 on the header alone, no `100 Continue`: the client never sends the body (on main
    aiohttp's router invited it first, and the client sent it all to be refused)."""
    db = tmp_path / "t.db"
    async with raw_upstream() as upstream:
        proxy = await start_proxy(upstream.url, db, max_body=1024, body_timeout=5.0)
        try:
            async with connection(proxy.port) as (reader, writer):
                writer.write(head("100-continue", 1 << 20))
                answer_head, answer_body = await read_answer(reader)
        finally:
            await serve.stop([proxy])
    assert answer_head.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n"), answer_head
    assert b"\r\nConnection: close\r\n" in answer_head
    assert b"--max-body" in answer_body
    assert upstream.seen == []
    [row] = store.connect(db, readonly=True).query("select proxy_status from exchanges")
    assert row["proxy_status"] == 413


async def test_an_unknown_expectation_is_refused_with_417_and_not_forwarded() -> None:
    async with raw_upstream() as upstream:
        proxy = await start_proxy(upstream.url, None, body_timeout=5.0)
        try:
            async with connection(proxy.port) as (reader, writer):
                writer.write(head("201-maybe", len(BODY)))
                answer_head, answer_body = await read_answer(reader)
                writer.write(BODY)  # a client may send it anyway (RFC 9110 §10.1.1)
        finally:
            await serve.stop([proxy])
    assert answer_head.startswith(b"HTTP/1.1 417 Expectation Failed\r\n")
    assert b"201-maybe" in answer_body
    assert upstream.seen == []


async def test_http_1_0_ignores_the_expectation() -> None:
    """RFC 9110 §10.1.1: HTTP/1.0 has no interim answers, its expectations are ignored (one
    HTTP/1.1 would refuse with 417 here)."""
    async with raw_upstream() as upstream:
        proxy = await start_proxy(upstream.url, None, body_timeout=5.0)
        try:
            async with connection(proxy.port) as (reader, writer):
                writer.write(head("100-continue, 201-maybe", len(BODY), version="1.0") + BODY)
                answer_head, answer_body = await read_answer(reader)
        finally:
            await serve.stop([proxy])
    assert answer_head.startswith(b"HTTP/1.0 200 OK\r\n"), answer_head
    assert answer_body == BODY


async def test_curl_gets_100_continue_through_the_proxy(tmp_path: Path) -> None:
    """curl, asked for the expectation (it adds one itself only past 1 MiB since 7.85)."""
    body = tmp_path / "body.xml"
    body.write_bytes(BODY * 2)
    async with raw_upstream() as upstream:
        proxy = await start_proxy(upstream.url, None, body_timeout=5.0)
        try:
            done = await asyncio.to_thread(
                subprocess.run,
                ["curl", "-sS", "-v", "--expect100-timeout", "60", "--data-binary", f"@{body}",
                 "-H", "Content-Type: application/atom+xml", "-H", "Expect: 100-continue",
                 f"http://127.0.0.1:{proxy.port}{PATH}"],
                capture_output=True,
                timeout=120,
            )  # fmt: skip
        finally:
            await serve.stop([proxy])
    trace = done.stderr.decode(errors="replace")
    assert "< HTTP/1.1 100 Continue" in trace, trace
    assert done.stdout == BODY * 2
    [seen] = upstream.seen
    assert seen.body == BODY * 2
