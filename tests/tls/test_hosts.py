"""Certificates minted per intercepted host: exactly that name, private, reused, served."""

from __future__ import annotations

import asyncio
import ssl
import stat

import pytest
from cryptography import x509

from proxy.tls import authority as tls
from proxy.tls import certs
from proxy.tls.hosts import HostCertificates

HOST = "made-up.servicebus.windows.net"


def test_a_host_certificate_names_only_that_host_and_is_reused() -> None:
    home = tls.config_dir()  # each test's own (tests/conftest.py)
    files = tls.ensure_host(HOST.upper())
    cert = x509.load_pem_x509_certificate(files.cert_path.read_bytes())
    assert certs.san_hosts(cert) == {HOST}
    assert files.key_path.parent == home / tls.HOSTS_DIR
    assert stat.S_IMODE(files.key_path.stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(tls.ca_path().read_bytes())
    cert.verify_directly_issued_by(ca)
    again = tls.ensure_host(HOST)
    assert again.cert_path.read_bytes() == files.cert_path.read_bytes(), "reused, not re-minted"
    other = tls.ensure_host("other.servicebus.windows.net")
    assert other.cert_path != files.cert_path


async def test_contexts_are_minted_once_and_verify_for_their_host() -> None:
    hosts = HostCertificates()
    first = await hosts.context(HOST)
    assert await hosts.context(HOST.upper()) is first
    with pytest.raises(ValueError):
        await hosts.context("not a host")

    served: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(await reader.readline())
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=first)
    port = server.sockets[0].getsockname()[1]
    client = ssl.create_default_context(cafile=str(hosts.ca_path))
    try:
        _, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client, server_hostname=HOST
        )
        writer.write(b"hello\n")
        await writer.drain()
        writer.close()
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.open_connection(
                "127.0.0.1", port, ssl=client, server_hostname="elsewhere.servicebus.windows.net"
            )
    finally:
        server.close()
        await server.wait_closed()
    for _ in range(100):
        if served:
            break
        await asyncio.sleep(0.02)
    assert served == [b"hello\n"]
