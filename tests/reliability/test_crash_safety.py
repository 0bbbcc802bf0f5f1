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
    """The proxy killed mid-load: its writer stores what the journal holds, then exits."""
    db = tmp_path / "k.db"
    proc, port = await start(upstream, db, "killed")
    try:
        writers = _writer_pids(proc.pid)
        load = asyncio.ensure_future(hammer(port, "k", 100_000))
        while len(upstream.seen) < 500:
            await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        answered = await asyncio.wait_for(load, 30)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    for _ in range(600):  # bounded: the orphaned writer drains the journal and exits
        if not any(Path(f"/proc/{pid}").exists() for pid in writers):
            break
        await asyncio.sleep(0.1)
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    rows = conn.execute("select path, status, response_body from exchanges").fetchall()
    conn.close()
    assert writers and len(answered) >= 450
    assert all(status == 200 and body == b"{}" for _, status, body in rows), "no torn rows"
    recorded = {int(path.rsplit("/k", 1)[1]) for path, _, _ in rows}
    forwarded = {int(s.raw_path.rsplit("/k", 1)[1]) for s in upstream.seen}
    assert set(answered) <= recorded, "every answered exchange is stored"
    assert recorded <= forwarded, "only exchanges the hub really answered are stored"
    print(
        f"\nSIGKILL: {len(answered)} answered, {len(recorded)} stored, {len(forwarded)} forwarded"
    )


def _writer_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(child) for child in children.read_text().split()] if children.exists() else []
    return [c for c in found if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


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
