"""The viewer's defences: escaping of hostile traffic, CSP, the token, loopback only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner

from proxy.cli import cli
from viewer import sample
from viewer.app import make_app

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
TOKEN = "s3cret-token"


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
