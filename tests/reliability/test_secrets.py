"""After real traffic with SAS tokens everywhere, the signature and the key appear nowhere:
not in the database, the logs, the viewer's pages and API, audit output or replay output."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote

import aiohttp

from proxy import sas, serve
from proxy.localhub import HubSettings, start_hub
from tests.servers import free_port, spawn_hubscope, wait_for_port
from viewer.app import start_viewer

KEY = "U2VjcmV0S2V5VGhhdE11c3ROZXZlckxlYWtBbnl3aGVyZTE="
RULE = "DefaultFullSharedAccessSignature"


def secrets_in(text: bytes, signatures: set[str]) -> list[str]:
    found = [KEY] if KEY.encode() in text else []
    return found + [s for s in signatures if s.encode() in text]


async def test_signatures_and_keys_never_leak(tmp_path: Path) -> None:
    cs = f"Endpoint=sb://127.0.0.1/;SharedAccessKeyName={RULE};SharedAccessKey={KEY}"
    hub = await start_hub(HubSettings.build(connection_string=cs, hubs=("hub",)))
    db, port = tmp_path / "s.db", free_port()
    proxy_cs = f"Endpoint=http://{hub.host}/;SharedAccessKeyName={RULE};SharedAccessKey={KEY}"
    proc = await spawn_hubscope(
        "proxy",
        "--connection-string",
        proxy_cs,
        "-v",
        "--listen",
        f"127.0.0.1:{port}",
        "--db",
        str(db),
        "--session",
        "secrets",
        stdout=asyncio.subprocess.PIPE,
    )
    signatures: set[str] = set()
    try:
        await wait_for_port(port, proc)
        async with aiohttp.ClientSession() as client:
            for i in range(5):
                token = sas.make_token(f"http://127.0.0.1:{port}/hub", RULE, KEY)
                sig = sas.parse_token(token).sig or ""
                signatures |= {sig, unquote(sig)}
                body = (
                    f'{{"installationId":"i{i}","platform":"apns","pushChannel":"ab{i}",'
                    f'"tags":["cs:{quote(cs)}"],"note":"{cs}","token":"{token}"}}'
                ).encode()
                async with client.put(
                    f"http://127.0.0.1:{port}/hub/installations/i{i}?api-version=2020-06&sig={sig}",
                    data=body,
                    headers={"Authorization": token, "Content-Type": "application/json"},
                ) as resp:
                    assert resp.status in (200, 400), await resp.text()
        proc.send_signal(signal.SIGTERM)
        logs = (await asyncio.wait_for(proc.communicate(), 30))[0]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await hub.stop()
    assert proc.returncode == 0, logs.decode()

    for path in tmp_path.glob("s.db*"):
        assert not secrets_in(path.read_bytes(), signatures), path
    assert not secrets_in(logs, signatures), "proxy logs"

    viewer = await start_viewer(db)
    try:
        async with aiohttp.ClientSession() as client:
            base = f"http://127.0.0.1:{viewer.port}"
            async with client.get(base + "/api/exchanges") as resp:
                listing = await resp.json()
            pages = [
                "/",
                "/sessions",
                "/sessions/secrets",
                "/api/sessions",
                "/api/sessions/secrets",
            ]
            for item in listing["items"]:
                ident = item["id"]
                pages += [
                    f"/exchanges/{ident}",
                    f"/api/exchanges/{ident}",
                    f"/api/exchanges/{ident}/raw/request",
                    f"/api/exchanges/{ident}/raw/response",
                ]
            assert len(pages) > 10
            for page in pages:
                async with client.get(base + page) as resp:
                    assert resp.status == 200, page
                    assert not secrets_in(await resp.read(), signatures), page
    finally:
        await serve.stop([viewer])

    for fmt in ("text", "json", "markdown"):
        audit = subprocess.run(
            [
                sys.executable,
                "-m",
                "proxy",
                "audit",
                "--db",
                str(db),
                "--format",
                fmt,
                "--fail-on",
                "never",
            ],
            capture_output=True,
            timeout=60,
        )
        assert audit.returncode == 0, audit.stderr
        assert not secrets_in(audit.stdout + audit.stderr, signatures), f"audit {fmt}"

    replay = subprocess.run(
        [
            sys.executable,
            "-m",
            "proxy",
            "replay",
            "--db",
            str(db),
            "--session",
            "secrets",
            "--target",
            "http://127.0.0.1:9",
            "--connection-string",
            cs,
            "--dry-run",
        ],
        capture_output=True,
        timeout=60,
    )
    assert not secrets_in(replay.stdout + replay.stderr, signatures), "replay --dry-run"
    assert b"installations/i0" in replay.stdout, replay.stdout + replay.stderr


def test_hub_does_not_echo_a_key_it_was_given() -> None:
    port = free_port()
    cs = f"Endpoint=sb://127.0.0.1/;SharedAccessKeyName={RULE};SharedAccessKey={KEY}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proxy",
            "hub",
            "--listen",
            f"127.0.0.1:{port}",
            "--connection-string",
            cs,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        from tests.servers import wait_until_responds

        wait_until_responds(f"http://127.0.0.1:{port}/", proc=proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert b"hubscope hub listening" in output
    assert KEY.encode() not in output
