"""After real traffic with SAS tokens everywhere, the signature and the key appear nowhere:
not in the database, the logs, the viewer's pages and API, audit output or replay output."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path
from urllib.parse import quote, unquote

import aiohttp
from aiohttp import web

from proxy import sas, serve
from proxy.localhub import HubSettings, start_hub
from tests import leaky
from tests.servers import REPO, free_port, spawn_hubscope, start_app, wait_for_port
from viewer import sample
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


async def hubscope_run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """`hubscope ARGS` to its end, in a thread: this loop goes on serving the hub it calls."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "proxy", *args],
        cwd=REPO,
        capture_output=True,
        timeout=timeout,
    )


async def malformed_answer(request: web.Request) -> web.StreamResponse:
    """Not HTTP at all: the proxy's client fails parsing it (and names the URL)."""
    assert request.transport is not None
    request.transport.write(b"HTTP/1.1 abc\r\nthis is: not\r\nhttp\r\n\r\n")
    request.transport.close()
    await asyncio.sleep(0.1)
    return web.Response()


async def test_every_shape_through_proxy_importer_and_replay_leaks_nowhere(
    tmp_path: Path,
) -> None:
    """Issue 17, rows 1 and 2: each secret shape goes through `hubscope proxy` (a real
    process, its log captured), `hubscope import` and `hubscope replay` against a hub that
    answers with secrets; then the database (+WAL), the logs, every viewer page and API
    answer, the audit reports, the exports (HAR, JSON Lines, masked) and every command's
    output are searched for any of them."""
    app = leaky.leaky_hub(delay=30)
    app.router.add_route("*", "/myhub/malformed", malformed_answer)
    hub = await start_app(app)
    upstream = f"http://127.0.0.1:{hub.port}"
    db, port = tmp_path / "s.db", free_port()
    proc = await spawn_hubscope(
        "proxy", "--upstream", upstream, "--timeout", "1", "-v",
        "--listen", f"127.0.0.1:{port}", "--db", str(db), "--session", "proxied",
    )  # fmt: skip
    outputs: dict[str, bytes] = {}
    try:
        await wait_for_port(port, proc)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(auto_decompress=False) as client:
            for request in leaky.requests(base):
                async with client.request(**request) as resp:
                    assert resp.status in (200, 201), await resp.text()
            for path, sig, status in (
                ("slow", "timeout_sig", 504),
                ("malformed", "malformed_sig", 502),
            ):
                url = f"{base}/myhub/{path}?api-version=2020-06&sig={leaky.S[sig]}"
                async with client.get(url, headers={"Authorization": leaky.CLIENT_TOKEN}) as resp:
                    assert resp.status == status, await resp.text()
        proc.send_signal(signal.SIGTERM)
        outputs["proxy log"] = (await asyncio.wait_for(proc.communicate(), 60))[0]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, outputs.get("proxy log", b"").decode()
    log = outputs["proxy log"].decode()
    assert "/myhub/slow → 504" in log and "/myhub/malformed → 502" in log, log
    assert leaky.leaks(outputs["proxy log"]) == [], "row 2: a secret in the proxy's log"
    assert "sig=[redacted]" in log, "the failing URL is logged, without its signature"

    recording = tmp_path / "recording_leaky.json"
    recording.write_text(json.dumps(leaky.recording()))
    imported = await hubscope_run(
        "import", str(recording), "--db", str(db), "--session", "imported"
    )
    assert imported.returncode == 0, imported.stderr
    outputs["import"] = imported.stdout + imported.stderr

    cs = f"Endpoint=sb://127.0.0.1/;SharedAccessKeyName={RULE};SharedAccessKey={KEY}"
    for session in ("proxied", "imported"):
        replayed = await hubscope_run(
            "replay", "--db", str(db), "--session", session, "--target", upstream,
            "--connection-string", cs, "--timeout", "2", "--name", f"replay-{session}",
        )  # fmt: skip
        assert replayed.returncode in (0, 1), replayed.stderr
        outputs[f"replay {session}"] = replayed.stdout + replayed.stderr
    await serve.stop([hub])
    assert KEY.encode() not in b"".join(outputs.values())

    for fmt in ("text", "json", "markdown"):
        audit = await hubscope_run("audit", "--db", str(db), "--format", fmt, "--fail-on", "never")
        assert audit.returncode == 0, audit.stderr
        outputs[f"audit {fmt}"] = audit.stdout + audit.stderr
    for fmt, mask in (("har", None), ("jsonl", None), ("har", "all")):
        export = await hubscope_run(
            "export", "--db", str(db), "--format", fmt, *(["--mask", mask] if mask else [])
        )
        assert export.returncode == 0, export.stderr
        assert b"28 exchanges" in export.stderr, export.stderr
        outputs[f"export {fmt} mask={mask}"] = export.stdout + export.stderr
    first = sqlite3.connect(db).execute("select id from exchanges limit 1").fetchone()[0]
    curl = await hubscope_run("curl", first, "--db", str(db))
    assert curl.returncode == 0 and curl.stdout.startswith(b"curl "), curl.stderr
    outputs["curl"] = curl.stdout + curl.stderr

    viewer = await start_viewer(db)
    try:
        outputs.update(await viewer_pages(viewer.port))
    finally:
        await serve.stop([viewer])

    assert leaky.leaks_in_database(db) == {}
    leaked = {where: names for where, data in outputs.items() if (names := leaky.leaks(data))}
    assert leaked == {}
    counts = dict(
        sqlite3.connect(db).execute("select session, count(*) from exchanges group by session")
    )
    assert counts == {"proxied": 7, "imported": 7, "replay-proxied": 7, "replay-imported": 7}


async def viewer_pages(port: int) -> dict[str, bytes]:
    """Every page and API answer of every exchange and session, by URL."""
    found: dict[str, bytes] = {}
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as client:
        ids: list[str] = []
        url: str | None = "/api/exchanges?limit=200"
        while url:
            async with client.get(base + url) as resp:
                listing = await resp.json()
            ids += [item["id"] for item in listing["items"]]
            url = listing.get("next")
        sessions = ["proxied", "imported", "replay-proxied", "replay-imported"]
        pages = ["/", "/sessions", "/api/sessions", "/devices?installation_id=i1", "/devices",
                 "/problems", "/tags", "/export?format=har", "/export?format=jsonl"]  # fmt: skip
        pages += [f"/sessions/{s}" for s in sessions] + [f"/api/sessions/{s}" for s in sessions]
        for ident in ids:
            api = f"/api/exchanges/{ident}"
            pages += [f"/exchanges/{ident}", api, f"{api}/raw/request", f"{api}/raw/response",
                      f"{api}/curl"]  # fmt: skip
        for page in pages:
            async with client.get(base + page) as resp:
                assert resp.status == 200, page
                found[f"viewer {page}"] = await resp.read()
    assert len(ids) == 28
    return found


def gzip_bomb(size: int) -> bytes:
    packer = zlib.compressobj(9, wbits=31)
    chunk = bytes(1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(size >> 20)) + packer.flush()


async def test_replay_against_a_gzip_bomb_stays_small(tmp_path: Path) -> None:
    """Issue 17, row 7: a 512 MB gzip bomb from the target grew the replay to its full size
    (`zlib.decompress` without a limit). Now it stops at the limit and says so."""
    bomb = gzip_bomb(512 << 20)
    assert len(bomb) < 1 << 20

    async def answer(request: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": sample.ATOM}
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    target = await start_app(app)
    db = tmp_path / "r.db"
    sample.record(db, [sample.exchange("GET", "registrations/1", 200, session="s", at=1e9)])
    # VmHWM is this process's own peak (ru_maxrss would include the forking pytest's).
    measure = (
        "import re, sys\n"
        "from proxy.cli import cli\n"
        "try:\n    cli(sys.argv[1:])\n"
        "finally:\n"
        "    status = open('/proc/self/status').read()\n"
        "    print('peak_kib', re.search(r'VmHWM:\\s*(\\d+)', status)[1], file=sys.stderr)"
    )
    cs = f"Endpoint=sb://127.0.0.1/;SharedAccessKeyName={RULE};SharedAccessKey={KEY}"
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", measure, "replay", "--db", str(db), "--session", "s",
             "--target", f"http://127.0.0.1:{target.port}", "--connection-string", cs,
             "--name", "bombed"],
            cwd=REPO, capture_output=True, timeout=300,
        )  # fmt: skip
    finally:
        await serve.stop([target])
    err = done.stderr.decode()
    peak_mib = int(err.rsplit("peak_kib", 1)[1].split()[0]) >> 10
    print(f"replay against a {len(bomb) >> 10} KiB gzip bomb: peak RSS {peak_mib} MiB")
    assert peak_mib < 300, err
    assert b"too large to inflate" in done.stdout, done.stdout + done.stderr
    [stored] = sqlite3.connect(db).execute(
        "select response_body from exchanges where session = 'bombed'"
    )
    assert stored[0].startswith(b"[hubscope: body not stored: gzip: too large to inflate")
