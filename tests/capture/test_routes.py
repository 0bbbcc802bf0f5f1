"""Which requests the reverse and the forward proxy accept, and where they send them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from proxy import serve
from proxy.capture.routes import HostSet, parse_map_remote
from tests.conftest import Upstream
from tests.servers import start_proxy


def test_intercepted_hosts_match_names_and_subdomains_only() -> None:
    hosts = HostSet(["*.servicebus.windows.net", "Staging.Example.com."])
    assert "ns.servicebus.windows.net" in hosts
    assert "NS.ServiceBus.Windows.Net." in hosts
    assert "a.b.servicebus.windows.net" in hosts
    assert "servicebus.windows.net" not in hosts
    assert "evilservicebus.windows.net" not in hosts
    assert "staging.example.com" in hosts
    assert "other.example.com" not in hosts


def test_map_remote_values() -> None:
    assert parse_map_remote("NS.servicebus.windows.net=http://127.0.0.1:8082/") == (
        "ns.servicebus.windows.net",
        "http://127.0.0.1:8082",
    )
    for bad in (
        "ns.servicebus.windows.net",
        "=http://x",
        "ns=ftp://x",
        "ns=http://",
        "a/b=http://x",
    ):
        with pytest.raises(ValueError):
            parse_map_remote(bad)


async def raw_request(port: int, head: bytes) -> bytes:
    """Send bytes as they are (aiohttp would not send absolute-form without a proxy)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (
            b"GET http://ns.servicebus.windows.net/hub/registrations HTTP/1.1\r\n"
            b"Host: ns.servicebus.windows.net\r\n\r\n",
            b"does not accept an absolute URL (http://ns.servicebus.windows.net/hub/registrations)",
        ),
        (
            b"CONNECT ns.servicebus.windows.net:443 HTTP/1.1\r\n"
            b"Host: ns.servicebus.windows.net:443\r\n\r\n",
            b"does not accept CONNECT",
        ),
    ],
)
async def test_the_reverse_proxy_refuses_forward_proxy_requests_clearly(
    upstream: Upstream, tmp_path: Path, head: bytes, says: bytes
) -> None:
    proxy = await start_proxy(upstream.url, tmp_path / "r.db")
    try:
        answer = await raw_request(proxy.port, head)
    finally:
        await serve.stop([proxy])
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert says in answer and b"hubscope proxy --forward" in answer
    assert upstream.seen == [], "nothing was forwarded (the old proxy built host …windows.nethttp)"


async def test_the_reverse_proxy_still_forwards_origin_form(upstream: Upstream) -> None:
    proxy = await start_proxy(upstream.url, None)
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{proxy.port}/hub/registrations/1") as resp:
                assert resp.status == 200
    finally:
        await serve.stop([proxy])
    assert [s.raw_path for s in upstream.seen] == ["/hub/registrations/1"]
