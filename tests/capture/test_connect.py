"""The forward proxy: intercepted CONNECT tunnels recorded, others blind, absolute-form served."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from proxy import serve, store
from proxy.capture.connect import parse_connect
from proxy.tls import authority as tls
from tests.conftest import Upstream
from tests.servers import start_forward_proxy

NAMESPACE = "made-up-ns.servicebus.windows.net"


def trusting_the_ca() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls.ca_path()))


def rows(db: Path) -> list[dict[str, object]]:
    if not db.exists():
        return []
    return list(store.connect(db, readonly=True).query("select * from exchanges order by rowid"))


@pytest.fixture
async def forward(upstream: Upstream, tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    """A forward proxy that maps the made-up namespace to the echoing upstream."""
    db = tmp_path / "forward.db"
    proxy = await start_forward_proxy(
        db, map_remote=((NAMESPACE, upstream.url),), intercept=("intercepted.example",)
    )
    try:
        yield proxy.port, db
    finally:
        await serve.stop([proxy])


async def test_intercepted_https_is_recorded_and_keeps_the_apps_host(
    forward: tuple[int, Path], upstream: Upstream
) -> None:
    port, db = forward
    path = "/hub/installations/i1?api-version=2020-06"
    async with aiohttp.ClientSession() as client:
        for body in (b'{"n":1}', b'{"n":2}'):
            async with client.put(
                f"https://{NAMESPACE}{path}",
                data=body,
                headers={"Authorization": "SharedAccessSignature sr=x&sig=s3cret&se=1&skn=k"},
                proxy=f"http://127.0.0.1:{port}",
                ssl=trusting_the_ca(),
            ) as resp:
                assert resp.status == 200
                assert await resp.read() == body
    assert [s.raw_path for s in upstream.seen] == [path, path]
    assert all(
        dict((k.lower(), v) for k, v in s.headers)["host"] == NAMESPACE for s in upstream.seen
    )
    await asyncio.sleep(0)
    recorded = await wait_rows(db, 2)
    assert [r["url"] for r in recorded] == [f"https://{NAMESPACE}{path}"] * 2
    assert all("s3cret" not in json.dumps(r["request_headers"]) for r in recorded)


async def wait_rows(db: Path, count: int) -> list[dict[str, object]]:
    for _ in range(200):
        found = rows(db)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    return rows(db)


async def echo_tls_server() -> tuple[asyncio.AbstractServer, int]:
    """A TLS echo server on 127.0.0.1 with hubscope's own server certificate."""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=tls.server_context())
    return server, server.sockets[0].getsockname()[1]


async def connect(
    port: int, target: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    return reader, writer, head


async def test_other_hosts_are_tunnelled_blind_and_not_recorded(forward: tuple[int, Path]) -> None:
    port, db = forward
    server, server_port = await echo_tls_server()
    try:
        reader, writer, head = await connect(port, f"127.0.0.1:{server_port}")
        assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
        await writer.start_tls(trusting_the_ca(), server_hostname="127.0.0.1")
        payload = bytes(range(256)) * 8192  # 2 MiB each way: flow control both ways
        writer.write(payload)
        await writer.drain()
        echoed = await asyncio.wait_for(reader.readexactly(len(payload)), 30)
        assert echoed == payload
        cert = writer.get_extra_info("ssl_object").getpeercert()
        assert ("IP Address", "127.0.0.1") in cert["subjectAltName"], "the server's own certificate"
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
    assert rows(db) == []


async def test_a_blind_tunnel_to_nowhere_is_a_clear_502(forward: tuple[int, Path]) -> None:
    port, _ = forward
    with_nothing = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    closed = with_nothing.sockets[0].getsockname()[1]
    with_nothing.close()
    await with_nothing.wait_closed()
    reader, writer, head = await connect(port, f"127.0.0.1:{closed}")
    body = await reader.read()
    writer.close()
    assert head.startswith(b"HTTP/1.1 502 ")
    assert f"hubscope cannot connect to 127.0.0.1:{closed}".encode() in body


@pytest.mark.parametrize("target", ["no-port.example", "host:notaport", "host:0", ":443"])
async def test_a_bad_connect_target_is_a_400(forward: tuple[int, Path], target: str) -> None:
    port, _ = forward
    reader, writer, head = await connect(port, target)
    body = await reader.read()
    writer.close()
    assert head.startswith(b"HTTP/1.1 400 ") and b"CONNECT needs host:port" in body


def test_parse_connect() -> None:
    assert parse_connect(b"CONNECT ns.servicebus.windows.net:443 HTTP/1.1") == (
        "ns.servicebus.windows.net",
        443,
    )
    assert parse_connect(b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: x") == ("::1", 8443)
    with pytest.raises(ValueError):
        parse_connect(b"CONNECT ns:443 SPDY/3")


async def test_absolute_form_is_served_and_recorded_only_for_intercepted_hosts(
    forward: tuple[int, Path], upstream: Upstream
) -> None:
    port, db = forward
    async with aiohttp.ClientSession() as client:
        for url in (
            f"http://{NAMESPACE}/hub/registrations?api-version=2020-06",
            f"{upstream.url}/not/recorded",
        ):
            async with client.get(url, proxy=f"http://127.0.0.1:{port}") as resp:
                assert resp.status == 200, await resp.text()
    assert [s.raw_path for s in upstream.seen] == [
        "/hub/registrations?api-version=2020-06",
        "/not/recorded",
    ]
    [row] = await wait_rows(db, 1)
    assert row["url"] == f"http://{NAMESPACE}/hub/registrations?api-version=2020-06"


async def test_calling_the_forward_proxy_directly_says_how_to_use_it(
    forward: tuple[int, Path],
) -> None:
    port, db = forward
    async with aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{port}/hub/registrations") as resp:
            assert resp.status == 400
            assert "set HTTPS_PROXY=http://<this address>" in await resp.text()
    assert rows(db) == []


async def test_intercept_adds_hosts_and_an_untrusting_client_is_refused(
    forward: tuple[int, Path], caplog: pytest.LogCaptureFixture
) -> None:
    port, db = forward
    reader, writer, head = await connect(port, "intercepted.example:443")
    assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
    with caplog.at_level(logging.WARNING, logger="hubscope.tls"):
        with pytest.raises(ssl.SSLCertVerificationError):
            await writer.start_tls(
                ssl.create_default_context(), server_hostname="intercepted.example"
            )
        writer.close()
        for _ in range(100):
            if caplog.records:
                break
            await asyncio.sleep(0.02)
    [line] = [r.getMessage() for r in caplog.records]
    assert "does not trust" in line and str(tls.ca_path()) in line
    _, writer, _ = await connect(port, "intercepted.example:443")
    await writer.start_tls(trusting_the_ca(), server_hostname="intercepted.example")
    cert = writer.get_extra_info("ssl_object").getpeercert()
    assert cert["subjectAltName"] == (("DNS", "intercepted.example"),)
    writer.close()
    assert rows(db) == []
