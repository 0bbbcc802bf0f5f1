"""The recorder writes every exchange, or fails loudly: never silent, never unrecorded."""

from __future__ import annotations

import asyncio
import resource
from pathlib import Path

import aiohttp

from proxy import store
from proxy.exchange import Exchange, Message, new_id
from proxy.recording.recorder import Recorder
from tests.conftest import Upstream
from tests.servers import free_port, spawn_hubscope, wait_for_port


def exchange(i: int, session: str = "s") -> Exchange:
    return Exchange(
        id=new_id(),
        session=session,
        started_at=1000.0 + i,
        duration_ms=1.0,
        method="GET",
        url=f"https://ns.servicebus.windows.net/hub/registrations/{i}?api-version=2020-06",
        request=Message(
            headers=(("Authorization", "SharedAccessSignature sig=abc&se=1"),), body=b""
        ),
        status=404,
        response=Message(headers=(), body=b"<Error><Code>404</Code></Error>"),
    )


def test_close_drains_everything_queued(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "r.db", session="s")
    recorder.start()
    for i in range(2500):
        recorder.submit(exchange(i))
    recorder.close()
    db = store.connect(tmp_path / "r.db", readonly=True)
    assert db.execute("select count(*) from exchanges").fetchone()[0] == 2500
    assert [r["name"] for r in db.query("select name from sessions")] == ["s"]
    assert recorder.written == 2500


def test_reopening_an_old_file_keeps_it_and_its_migrations(tmp_path: Path) -> None:
    for session in ("one", "two"):
        recorder = Recorder(tmp_path / "r.db", session=session)
        recorder.start()
        recorder.submit(exchange(1, session))
        recorder.close()
    db = store.connect(tmp_path / "r.db", readonly=True)
    assert db.execute("select count(*) from exchanges").fetchone()[0] == 2
    applied = [r["name"] for r in db.query("select name from _sqlite_migrations")]
    assert applied[:2] == ["m001_sessions_and_exchanges", "m002_decoded"]
    assert len(applied) == len(set(applied)), "each migration applied once"
    assert list(store.migrations.pending(store.connect(tmp_path / "r.db"))) == []


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))


async def test_disk_full_stops_the_proxy_instead_of_forwarding_unrecorded(
    upstream: Upstream, tmp_path: Path
) -> None:
    db, port = tmp_path / "full.db", free_port()
    proc = await spawn_hubscope(
        "proxy",
        "--upstream",
        upstream.url,
        "--listen",
        f"127.0.0.1:{port}",
        "--db",
        str(db),
        stdout=asyncio.subprocess.PIPE,
        preexec_fn=_limit_file_size,
    )
    statuses: list[int] = []
    try:
        await wait_for_port(port, proc)
        async with aiohttp.ClientSession() as client:
            for i in range(200):
                try:
                    async with client.put(
                        f"http://127.0.0.1:{port}/hub/installations/{i}", data=b"z" * 20_000
                    ) as resp:
                        statuses.append(resp.status)
                except aiohttp.ClientError:
                    break
                if resp.status == 503:
                    break
                await asyncio.sleep(0.01)
        output = (await asyncio.wait_for(proc.communicate(), 60))[0].decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode not in (0, None), output
    assert "cannot write to" in output and "full" in output.lower(), output
    assert 200 in statuses
    assert statuses[-1] == 503 or len(statuses) < 200, "it stopped forwarding"
    assert len(upstream.seen) == statuses.count(200), "nothing forwarded after the failure"
