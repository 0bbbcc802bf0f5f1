"""hubscope's local CA, its server certificate, and HTTPS in front of the proxy and the hub."""

from __future__ import annotations

import asyncio
import http.client
import logging
import os
import re
import signal
import socket
import ssl
import stat
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from proxy import serve, store
from proxy.capture.app import make_app
from proxy.capture.settings import ProxySettings
from proxy.cli import cli
from proxy.tls import authority as tls
from proxy.tls import certs
from proxy.tls.site import TlsSite
from tests.outside import unavailable
from tests.servers import HUBSCOPE, REPO, free_port, wait_until_responds

DEFAULT = {"localhost", "127.0.0.1", "::1"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "hubscope-home"
    monkeypatch.setenv(tls.HOME_ENV, str(folder))
    return folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def only_ca(ca: Path) -> ssl.SSLContext:
    """A client context that trusts the hubscope CA and nothing else, strict RFC 5280 checks."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(ca))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    assert context.cert_store_stats()["x509_ca"] == 1
    return context


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


# --- where the CA lives -----------------------------------------------------------------


def test_config_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tls.HOME_ENV, raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert tls.config_dir() == (tmp_path / "user" / ".config" / "hubscope").resolve()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert tls.config_dir() == (tmp_path / "xdg" / "hubscope").resolve()
    monkeypatch.setenv(tls.HOME_ENV, str(tmp_path / "explicit"))
    assert tls.config_dir() == (tmp_path / "explicit").resolve()


def test_the_ca_never_lands_in_the_project_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tls.HOME_ENV, str(REPO / "certs"))
    with pytest.raises(tls.TlsError, match="inside the hubscope project tree"):
        tls.config_dir()
    assert not (REPO / "certs").exists()


def test_ca_is_created_private_and_reused(home: Path) -> None:
    first = tls.ensure_ca()
    assert first.cert_path == home.resolve() / tls.CA_CERT
    assert mode(home) == 0o700
    assert mode(home / tls.CA_KEY) == 0o600
    assert mode(home / tls.CA_CERT) == 0o644
    again = tls.ensure_ca()
    assert again.cert.serial_number == first.cert.serial_number
    assert (home / tls.CA_CERT).read_bytes() == again.cert_path.read_bytes()


def test_loose_permissions_are_tightened(home: Path) -> None:
    tls.ensure_server()
    home.chmod(0o755)
    (home / tls.CA_KEY).chmod(0o644)
    (home / "server-key.pem").chmod(0o640)
    serial = tls.ensure_ca().cert.serial_number
    tls.ensure_server()
    assert mode(home) == 0o700
    assert mode(home / tls.CA_KEY) == 0o600
    assert mode(home / "server-key.pem") == 0o600
    assert tls.ensure_ca().cert.serial_number == serial


def test_certificate_profiles(home: Path) -> None:
    files = tls.ensure_server()
    ca, leaf = load(files.ca_path), load(files.cert_path)

    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > timedelta(days=3000)

    leaf.verify_directly_issued_by(ca)
    assert certs.san_hosts(leaf) == DEFAULT
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= timedelta(days=398)
    public = leaf.public_key()
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size >= 2048
    assert leaf.signature_hash_algorithm is not None
    assert leaf.signature_hash_algorithm.name == "sha256"


def test_server_certificate_is_reused_and_renewed_when_needed(home: Path) -> None:
    first = load(tls.ensure_server().cert_path)
    assert load(tls.ensure_server().cert_path).serial_number == first.serial_number

    wider = tls.ensure_server(["Dev-Box.local", "10.0.2.2"])
    assert wider.hosts == ("localhost", "127.0.0.1", "::1", "dev-box.local", "10.0.2.2")
    leaf = load(wider.cert_path)
    assert leaf.serial_number != first.serial_number
    assert certs.san_hosts(leaf) == DEFAULT | {"dev-box.local", "10.0.2.2"}

    back = load(tls.ensure_server().cert_path)
    assert certs.san_hosts(back) == DEFAULT
    assert load(tls.ensure_server().cert_path).serial_number == back.serial_number

    near_expiry = back.not_valid_after_utc - certs.RENEW_BEFORE + timedelta(hours=1)
    renewed = load(tls.ensure_server(now=near_expiry).cert_path)
    assert renewed.serial_number != back.serial_number
    assert renewed.not_valid_after_utc > back.not_valid_after_utc


def test_a_new_ca_reissues_the_server_certificate(home: Path) -> None:
    old = load(tls.ensure_server().cert_path)
    (home / tls.CA_CERT).unlink()
    (home / tls.CA_KEY).unlink()
    files = tls.ensure_server()
    leaf, ca = load(files.cert_path), load(files.ca_path)
    assert leaf.serial_number != old.serial_number
    leaf.verify_directly_issued_by(ca)


def test_concurrent_starts_share_one_ca(home: Path) -> None:
    results: list[tls.ServerFiles] = []

    def start() -> None:
        results.append(tls.ensure_server())

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    load(home / "server.pem").verify_directly_issued_by(load(home / tls.CA_CERT))
    assert not [p for p in home.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "name", ["", "bad host", "a..b", "*.com", "x.*.example", "-lead.example", "a" * 64 + ".x"]
)
def test_bad_host_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        certs.normalise_host(name)


def test_host_names_are_normalised() -> None:
    assert certs.normalise_host("[::1]") == "::1"
    assert certs.normalise_host("0:0:0:0:0:0:0:1") == "::1"
    assert certs.normalise_host("Büro.Example.") == "xn--bro-hoa.example"
    assert certs.normalise_host("*.dev.example") == "*.dev.example"


# --- Python's ssl against a TLS site ------------------------------------------------------


@dataclass
class Served:
    runner: web.AppRunner
    port: int
    ca: Path
    v6_port: int | None = None
    peers: list[str] = field(default_factory=list)


def hello_app(peers: list[str]) -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        peers.append(f"{peer[0]}:{peer[1]}" if peer else "?")
        return web.Response(text=f"hello over {request.scheme}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hello)
    return app


@pytest.fixture
async def served(home: Path) -> AsyncIterator[Served]:
    peers: list[str] = []
    runner = web.AppRunner(hello_app(peers))
    await runner.setup()
    ca = tls.ca_path()
    context = tls.server_context()
    site = TlsSite(runner, "127.0.0.1", 0, context, ca_path=ca)
    await site.start()
    v6_port = None
    if ipv6_loopback():
        v6 = TlsSite(runner, "::1", 0, context, ca_path=ca)
        await v6.start()
        v6_port = v6.port
    try:
        yield Served(runner, site.port, ca, v6_port, peers)
    finally:
        await runner.cleanup()


def https_get(
    address: tuple[str, int], server_hostname: str, context: ssl.SSLContext, path: str = "/"
) -> tuple[bytes, dict[str, object]]:
    """One GET over a fresh blocking TLS connection: the body and the verified peer cert."""
    with socket.create_connection(address, timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_hostname) as conn:
            cert = conn.getpeercert()
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
    return data, dict(cert or {})


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "::1"])
async def test_python_ssl_trusting_only_the_ca_verifies_chain_and_name(
    served: Served, name: str
) -> None:
    context = only_ca(served.ca)
    data, cert = await asyncio.to_thread(https_get, ("127.0.0.1", served.port), name, context)
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"hello over https")
    sans = {value for _, value in cert["subjectAltName"]}  # type: ignore[attr-defined]
    assert {"localhost", "127.0.0.1"} <= sans and ("0:0:0:0:0:0:0:1" in sans or "::1" in sans)


async def test_ipv6_loopback_verifies_over_real_ipv6(served: Served) -> None:
    if served.v6_port is None:
        unavailable("an IPv6 loopback (::1 was verified by name over IPv4 only)")
    context = only_ca(served.ca)
    data, _ = await asyncio.to_thread(https_get, ("::1", served.v6_port), "::1", context)
    assert data.endswith(b"hello over https")
    assert served.peers[-1].startswith("::1:")


@pytest.mark.parametrize("name", ["example.com", "127.0.0.2", "notlocalhost"])
async def test_other_names_fail_verification(served: Served, name: str) -> None:
    context = only_ca(served.ca)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|not valid"):
        await asyncio.to_thread(https_get, ("127.0.0.1", served.port), name, context)


async def test_extra_tls_host_is_served(home: Path) -> None:
    runner = web.AppRunner(hello_app([]))
    await runner.setup()
    site = TlsSite(runner, "127.0.0.1", 0, tls.server_context(["dev.example"]))
    await site.start()
    try:
        context = only_ca(tls.ca_path())
        data, _ = await asyncio.to_thread(
            https_get, ("127.0.0.1", site.port), "dev.example", context
        )
        assert data.endswith(b"hello over https")
    finally:
        await runner.cleanup()


# --- keep-alive both ways -----------------------------------------------------------------


async def test_two_requests_reuse_one_tls_connection_and_one_upstream_connection(
    home: Path, tmp_path: Path
) -> None:
    upstream_peers: list[str] = []
    upstream = web.AppRunner(hello_app(upstream_peers))
    await upstream.setup()
    up_site = web.TCPSite(upstream, "127.0.0.1", 0)
    await up_site.start()
    db = tmp_path / "keepalive.db"
    settings = ProxySettings(upstream=f"http://127.0.0.1:{up_site.port}", db=db, session="ka")
    proxy = await serve.start(make_app(settings), serve.Listen("127.0.0.1", 0))
    site = TlsSite(proxy.runner, "127.0.0.1", 0, tls.server_context(), ca_path=tls.ca_path())
    await site.start()

    def two_requests() -> tuple[int, int, bool]:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", site.port, context=only_ca(tls.ca_path()), timeout=10
        )
        try:
            conn.request("GET", "/")
            first = conn.getresponse()
            first.read()
            sock = conn.sock
            conn.request("GET", "/")
            second = conn.getresponse()
            second.read()
            return first.status, second.status, conn.sock is sock and not second.will_close
        finally:
            conn.close()

    try:
        first, second, same_socket = await asyncio.to_thread(two_requests)
    finally:
        await serve.stop([proxy])
        await upstream.cleanup()
    assert (first, second) == (200, 200)
    assert same_socket, "the client opened a second TLS connection"
    assert len(upstream_peers) == 2 and len(set(upstream_peers)) == 1, upstream_peers
    clients = [
        r["client"] for r in store.connect(db, readonly=True).query("select client from exchanges")
    ]
    assert len(clients) == 2 and len(set(clients)) == 1, clients


# --- the real commands --------------------------------------------------------------------


@contextmanager
def running(args: list[str], out: Path, url: str, env: dict[str, str]) -> Iterator[None]:
    """`hubscope ARGS` as a process writing to `out`; stopped with SIGTERM at the end."""
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [*HUBSCOPE, *args], cwd=REPO, stdout=sink, stderr=subprocess.STDOUT, env=env
        )
        try:
            wait_until_responds(url, proc=proc)
            yield
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def plain_http_to(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET /hub/registrations HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            return conn.recv(100)
        except ConnectionResetError:
            return b""


async def test_proxy_tls_refuses_untrusted_clients_with_a_clear_log_line(
    tmp_path: Path,
) -> None:
    peers: list[str] = []
    upstream = web.AppRunner(hello_app(peers))
    await upstream.setup()
    up_site = web.TCPSite(upstream, "127.0.0.1", 0)
    await up_site.start()

    home, db, out = tmp_path / "home", tmp_path / "p.db", tmp_path / "proxy.log"
    port, tls_port = free_port(), free_port()
    env = {**os.environ, tls.HOME_ENV: str(home)}
    args = [
        "proxy", "--upstream", f"http://127.0.0.1:{up_site.port}",
        "--listen", f"127.0.0.1:{port}", "--db", str(db), "--session", "tls",
        "--tls", "--tls-listen", f"127.0.0.1:{tls_port}",
    ]  # fmt: skip
    ca = home.resolve() / tls.CA_CERT

    def scenario() -> None:
        with running(args, out, f"http://127.0.0.1:{port}/", env):
            untrusted = ssl.create_default_context()  # the system store: no hubscope CA
            with pytest.raises(ssl.SSLCertVerificationError):
                https_get(("127.0.0.1", tls_port), "localhost", untrusted)
            assert plain_http_to(tls_port) == b""
            data, _ = https_get(("127.0.0.1", tls_port), "127.0.0.1", only_ca(ca), "/hub/ok")
            assert data.startswith(b"HTTP/1.1 200")

    try:
        await asyncio.to_thread(scenario)  # the upstream answers from this test's event loop
    finally:
        await upstream.cleanup()

    log = out.read_text()
    assert f"Endpoint=sb://127.0.0.1:{tls_port}/;SharedAccessKeyName=" in log
    assert f"NODE_EXTRA_CA_CERTS={ca}" in log and "REQUESTS_CA_BUNDLE" in log
    untrusted_lines = [
        line
        for line in log.splitlines()
        if "TLS handshake with 127.0.0.1:" in line
        and "the client does not trust hubscope's certificate" in line
    ]
    assert len(untrusted_lines) == 1, log
    assert str(ca) in untrusted_lines[0] and "hubscope ca" in untrusted_lines[0]
    assert "sent plain HTTP to the HTTPS port" in log
    assert "Traceback" not in log

    rows = store.connect(db, readonly=True).query(
        "select method, path, status from exchanges order by started_at"
    )
    # the readiness probe over HTTP, then the trusted HTTPS call: nothing for the refused ones
    assert [(r["method"], r["path"], r["status"]) for r in rows] == [
        ("GET", "/", 200),
        ("GET", "/hub/ok", 200),
    ]
    assert len(peers) == 2


def test_hub_tls_serves_https_and_prints_its_connection_string(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "hub.log"
    port, tls_port = free_port(), free_port()
    env = {**os.environ, tls.HOME_ENV: str(home)}
    args = ["hub", "--listen", f"127.0.0.1:{port}", "--tls-listen", f"127.0.0.1:{tls_port}"]
    with running(args, out, f"http://127.0.0.1:{port}/", env):
        data, _ = https_get(("127.0.0.1", tls_port), "localhost", only_ca(home / tls.CA_CERT))
    assert data.startswith(b"HTTP/1.1 4"), data[:200]  # no token: the hub refuses, over TLS
    assert f"Endpoint=sb://127.0.0.1:{tls_port}/;SharedAccessKeyName=Default" in out.read_text()


def test_ca_command(home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["ca", "--path"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{home.resolve() / tls.CA_CERT}\n"
    assert (home / tls.CA_CERT).exists()

    guide = runner.invoke(cli, ["ca"]).output
    for needle in [
        str(home.resolve() / tls.CA_CERT),
        "NODE_EXTRA_CA_CERTS=",
        "REQUESTS_CA_BUNDLE=",
        "SSL_CERT_FILE=",
        "update-ca-certificates",
        "certutil -addstore",
        "keytool -importcert -cacerts",
        "network_security_config",
        "simctl keychain booted add-root-cert",
        "Endpoint=sb://127.0.0.1:8443/",
    ]:
        assert needle in guide, needle


def test_bad_tls_host_is_a_usage_error(home: Path) -> None:
    result = CliRunner().invoke(
        cli, ["proxy", "--upstream", "http://127.0.0.1:9", "--tls-host", "bad host"]
    )
    assert result.exit_code == 2
    assert "--tls-host" in result.output


# --- what the log says, and what it does not -----------------------------------------------


def connect_and_leave(port: int, context: ssl.SSLContext | None) -> None:
    """Open a connection (TLS when given a context), send nothing, close it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        if context is not None:
            with context.wrap_socket(raw, server_hostname="localhost"):
                pass


async def wait_for_records(caplog: pytest.LogCaptureFixture, count: int) -> list[str]:
    for _ in range(100):
        if len(caplog.records) >= count:
            break
        await asyncio.sleep(0.02)
    return [r.getMessage() for r in caplog.records]


async def test_a_bare_tcp_probe_is_not_reported(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="hubscope.tls"):
        await asyncio.to_thread(connect_and_leave, served.port, None)
        await asyncio.sleep(0.3)
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


async def test_a_client_that_leaves_after_the_handshake_is_reported(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hubscope.tls"):
        await asyncio.to_thread(connect_and_leave, served.port, only_ca(served.ca))
        messages = await wait_for_records(caplog, 1)
    assert len(messages) == 1, messages
    assert "closed the connection before sending a request" in messages[0]
    assert "TLS client 127.0.0.1:" in messages[0] and str(served.ca) in messages[0]


async def test_an_untrusting_client_is_reported_once_with_its_address(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hubscope.tls"):
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.to_thread(connect_and_leave, served.port, ssl.create_default_context())
        messages = await wait_for_records(caplog, 1)
        await asyncio.sleep(0.2)
    assert len(caplog.records) == 1, messages
    assert re.fullmatch(
        r"TLS handshake with 127\.0\.0\.1:\d+ failed: the client does not trust hubscope's "
        r"certificate \(tlsv1 alert unknown ca\); make it trust the local CA \S+hubscope-ca\.pem "
        r"\(`hubscope ca` shows how for each SDK\)\.",
        messages[0],
    ), messages[0]
