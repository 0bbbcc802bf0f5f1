"""SIGKILL leaves a clean database; two proxies can share one file."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import aiohttp

from proxy import store
from tests.conftest import Upstream
from tests.servers import free_port, spawn_hubscope, wait_for_port


async def start(
    upstream: Upstream, db: Path, session: str
) -> tuple[asyncio.subprocess.Process, int]:
    port = free_port()
    log = (db.parent / f"{session}.log").open("wb")
    proc = await spawn_hubscope(
        "proxy",
        "--upstream",
        upstream.url,
        "--listen",
        f"127.0.0.1:{port}",
        "--db",
        str(db),
        "--session",
        session,
        stdout=log,
    )
    log.close()
    await wait_for_port(port, proc)
    return proc, port


async def hammer(
    port: int, prefix: str, count: int, stop_after: asyncio.Event | None = None
) -> list[int]:
    answered: list[int] = []
    async with aiohttp.ClientSession() as client:

        async def worker(offset: int) -> None:
            for i in range(offset, count, 8):
                try:
                    async with client.put(
                        f"http://127.0.0.1:{port}/hub/installations/{prefix}{i}", data=b"{}"
                    ) as resp:
                        await resp.read()
                        if resp.status == 200:
                            answered.append(i)
                except aiohttp.ClientError:
                    return

        await asyncio.gather(*(worker(n) for n in range(8)))
    return answered


async def test_sigkill_under_load_leaves_a_database_that_opens_cleanly(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "k.db"
    proc, port = await start(upstream, db, "killed")
    try:
        load = asyncio.ensure_future(hammer(port, "k", 100_000))
        while len(upstream.seen) < 500:
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        answered = await asyncio.wait_for(load, 30)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    rows = conn.execute("select path, status, response_body from exchanges").fetchall()
    conn.close()
    assert len(rows) > 0 and len(answered) >= 450
    assert all(status == 200 and body == b"{}" for _, status, body in rows), "no torn rows"
    recorded = {int(path.rsplit("/k", 1)[1]) for path, _, _ in rows}
    assert recorded <= set(answered), "only answered exchanges are recorded"
    print(f"\nSIGKILL: {len(answered)} answered, {len(recorded)} committed before the kill")


async def test_two_proxies_on_one_database_file(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    (first, port1), (second, port2) = await asyncio.gather(
        start(upstream, db, "one"), start(upstream, db, "two")
    )
    try:
        a, b = await asyncio.gather(hammer(port1, "a", 1500), hammer(port2, "b", 1500))
    finally:
        for proc in (first, second):
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(proc.wait(), 30) for proc in (first, second)]
    logs = [(tmp_path / f"{name}.log").read_text() for name in ("one", "two")]
    assert codes == [0, 0], logs
    assert len(a) == len(b) == 1500
    conn = store.connect(db, readonly=True)
    counts = dict(
        conn.execute("select session, count(*) from exchanges group by session").fetchall()
    )
    assert counts == {"one": 1500, "two": 1500}
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
