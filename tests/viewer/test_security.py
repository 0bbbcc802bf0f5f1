"""The viewer's defences: escaping of hostile traffic, CSP, the token, loopback only."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner

from proxy import serve
from proxy.cli import cli
from tests.servers import HUBSCOPE, REPO
from viewer import sample
from viewer.app import make_app, start_viewer
from viewer.security import is_loopback

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
TOKEN = "s3cret-token-long-enough"


def hostile() -> list:
    """Traffic an attacker controls: tags, body text, URL path, header values, session name."""
    escaped = IMG.replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    atom = sample.apple_entry(f"tok{escaped}", "user:1,x&lt;script&gt;alert(1)&lt;/script&gt;")
    body = json.dumps({"installationId": SCRIPT, "platform": "apns", "pushChannel": IMG,
                       "tags": [SCRIPT, IMG]}).encode()  # fmt: skip
    return [
        sample.exchange("POST", "registrations", 201, body=atom, content_type=sample.ATOM,
                        session=f"s{SCRIPT}", at=1_795_000_000.0),
        sample.exchange("PUT", "installations/x%3Cscript%3E", 200, body=body,
                        content_type=f"application/json{SCRIPT}", answer=SCRIPT.encode(),
                        answer_type="text/html", session=f"s{SCRIPT}", at=1_795_000_001.0),
    ]  # fmt: skip


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "hubscope.db"
    sample.record(path, hostile())
    return path


@pytest.fixture
async def client(aiohttp_client, db_path: Path) -> TestClient:
    return await aiohttp_client(make_app(db_path))


@pytest.fixture
async def guarded(aiohttp_client, db_path: Path) -> TestClient:
    return await aiohttp_client(make_app(db_path, token=TOKEN))


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "onerror=alert(2)>" not in html or "&lt;img" in html


async def pages(client: TestClient) -> list[str]:
    found = (await (await client.get("/api/exchanges")).json())["items"]
    urls = ["/", "/sessions", f"/sessions/s{SCRIPT}", f"/?tag={SCRIPT}&q={SCRIPT}"]
    urls += [f"/exchanges/{item['id']}" for item in found]
    urls += [f"/devices?installation_id={SCRIPT}", f"/devices?handle={IMG}"]
    return urls


async def test_hostile_traffic_is_shown_as_text(client: TestClient) -> None:
    for url in await pages(client):
        resp = await client.get(url)
        assert resp.status == 200, url
        html = await resp.text()
        assert_escaped(html)
    detail = await (await client.get((await pages(client))[-3])).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail


async def test_installation_tags_with_script_are_escaped_in_the_timeline(
    client: TestClient,
) -> None:
    html = await (await client.get(f"/devices?installation_id={SCRIPT}")).text()
    assert "&lt;script&gt;" in html and "<script>alert" not in html


async def test_live_rows_are_escaped(client: TestClient, db_path: Path) -> None:
    resp = await client.get("/api/events?after=0")
    payload = b""
    async with asyncio.timeout(10):
        while not payload.startswith(b"data: "):
            payload = await resp.content.readline()
    assert_escaped(json.loads(payload[6:])["html"])
    resp.close()


@pytest.mark.parametrize("url", ["/", "/api/exchanges", "/static/app.css", "/nope", "/sessions"])
async def test_security_headers_everywhere(client: TestClient, url: str) -> None:
    resp = await client.get(url)
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"


async def test_pages_have_no_inline_script(client: TestClient) -> None:
    html = await (await client.get("/")).text()
    assert html.count("<script") == 1 and 'src="/static/app.js"' in html
    assert " on" + "click=" not in html and "style=" not in html


async def test_raw_bodies_are_never_rendered(client: TestClient) -> None:
    item = (await (await client.get("/api/exchanges")).json())["items"][0]
    resp = await client.get(f"/api/exchanges/{item['id']}/raw/response")
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["Content-Disposition"].startswith("attachment")


async def test_foreign_host_header_is_refused(client: TestClient) -> None:
    resp = await client.get("/api/exchanges", headers={"Host": "attacker.example"})
    assert resp.status == 403


@pytest.mark.parametrize(
    "url", ["/", "/api/exchanges", "/api/events", "/static/app.js", "/sessions"]
)
async def test_token_required_everywhere(guarded: TestClient, url: str) -> None:
    assert (await guarded.get(url)).status == 401
    wrong = await guarded.get(url, headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401


async def test_bearer_header_works(guarded: TestClient) -> None:
    resp = await guarded.get("/api/exchanges", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 200


async def test_query_token_becomes_a_cookie(guarded: TestClient) -> None:
    resp = await guarded.get(f"/?platform=apns&token={TOKEN}", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/?platform=apns"
    cookie = resp.cookies["hubscope_token"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    follow = await guarded.get("/?platform=apns")
    assert follow.status == 200
    assert (await guarded.get("/api/exchanges")).status == 200


async def test_token_with_any_host(guarded: TestClient) -> None:
    resp = await guarded.get(
        "/api/exchanges",
        headers={"Authorization": f"Bearer {TOKEN}", "Host": "viewer.internal:8081"},
    )
    assert resp.status == 200


def test_cli_refuses_non_loopback_without_token(db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["view", "--db", str(db_path), "--listen", "0.0.0.0:0"])
    assert result.exit_code != 0
    assert "--token" in result.output


def test_cli_needs_an_existing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["view", "--db", str(tmp_path / "none.db")])
    assert result.exit_code != 0
    assert "no such database" in result.output
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1.attacker.example", "127.attacker.example", "localhost.attacker.example",
     "127.0.0.1.nip.io", "attacker.example", "0.0.0.0", "[::]", "10.0.0.1"],
)  # fmt: skip
async def test_a_host_that_only_looks_local_is_refused(client: TestClient, host: str) -> None:
    """Issue 17, row 3: any Host starting with `127.` passed as loopback (DNS rebinding)."""
    port = client.server.port
    resp = await client.get("/api/exchanges", headers={"Host": f"{host}:{port}"})
    assert resp.status == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST", "127.1.2.3", "[::1]"])
async def test_loopback_hosts_on_our_port_get_in(client: TestClient, host: str) -> None:
    resp = await client.get("/api/exchanges", headers={"Host": f"{host}:{client.server.port}"})
    assert resp.status == 200


async def test_the_host_port_must_be_ours(client: TestClient) -> None:
    other = client.server.port + 1 if client.server.port < 65535 else 1
    for host in (f"127.0.0.1:{other}", "localhost", "127.0.0.1"):
        resp = await client.get("/api/exchanges", headers={"Host": host})
        assert resp.status == 403, host


def test_is_loopback_is_exact() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]")
    assert is_loopback("localhost") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("127.0.0.1.attacker.example")
    assert not is_loopback("127.evil") and not is_loopback("") and not is_loopback("0.0.0.0")


@pytest.mark.parametrize("token", ["", "   ", "short", "fifteen-chars!!"])
def test_an_empty_or_short_token_is_refused_at_start(db_path: Path, token: str) -> None:
    """Issue 17, row 4: `--token ""` (an unset variable) was accepted and `?token=` got in."""
    args = ["view", "--db", str(db_path), "--listen", "0.0.0.0:0", "--token", token]
    try:
        done = subprocess.run([*HUBSCOPE, *args], cwd=REPO, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hubscope view started serving with --token {token!r}")
    output = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 2, output
    assert "--token" in output
    assert "empty" in output or "at least 16" in output
    with pytest.raises(ValueError, match="token"):  # WeakToken
        make_app(db_path, token=token)


async def raw_get(port: int, target: str) -> tuple[int, dict[str, str]]:
    """One request with the target exactly as given (no client normalises it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    writer.close()
    status_line, *lines = head.strip().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers


@pytest.mark.parametrize(
    ("target", "location"),
    [
        (f"//evil.example/x?token={TOKEN}", "/evil.example/x"),
        (f"///evil.example/x?a=1&token={TOKEN}", "/evil.example/x?a=1"),
        (f"/\\evil.example/x?token={TOKEN}", "/evil.example/x"),
        (f"/%2F%2Fevil.example?token={TOKEN}", "/%2F%2Fevil.example"),
        (f"/sessions?token={TOKEN}&b=2", "/sessions?b=2"),
    ],
)
async def test_the_token_redirect_stays_on_this_origin(
    db_path: Path, target: str, location: str
) -> None:
    """Issue 17, row 10: `//evil.example/x?token=T` redirected to `////evil.example/x`."""
    viewer = await start_viewer(db_path, token=TOKEN)
    try:
        status, headers = await raw_get(viewer.port, target)
    finally:
        await serve.stop([viewer])
    assert status == 303
    assert headers["location"] == location
    assert headers["location"].startswith("/") and headers["location"][1:2] not in ("/", "\\")
