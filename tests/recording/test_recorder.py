"""The recorder writes every exchange, or fails loudly: never silent, never unrecorded."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

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


def test_a_new_file_has_pages_that_hold_several_exchanges(tmp_path: Path) -> None:
    """`schema.PAGE_SIZE`: three 2–3 KB exchange rows to a page, not one to a 4 KiB page."""
    recorder = Recorder(tmp_path / "r.db", session="s")
    recorder.start()
    big = Message(headers=(("Content-Type", "application/json"),), body=b"x" * 1800)
    for i in range(30):
        recorder.submit(replace(exchange(i), request=big))
    recorder.close()
    db = store.connect(tmp_path / "r.db", readonly=True)
    assert db.execute("pragma page_size").fetchone()[0] == 8192
    pages = db.execute("select count(*) from dbstat where name = 'exchanges'").fetchone()[0]
    assert pages <= 12, f"30 rows of 2 KB took {pages} pages"


def test_a_file_made_with_4_kib_pages_keeps_them_and_records_on(tmp_path: Path) -> None:
    """A database from before `schema.PAGE_SIZE`: its page size is not changed under it."""
    path = tmp_path / "old.db"
    made = sqlite3.connect(path)
    made.execute("pragma page_size = 4096")
    made.execute("pragma journal_mode = wal")  # writes the header: the file is no longer empty
    made.close()
    recorder = Recorder(path, session="s")
    recorder.start()
    recorder.submit(exchange(1))
    recorder.close()
    db = store.connect(path, readonly=True)
    assert db.execute("pragma page_size").fetchone()[0] == 4096
    assert db.execute("select count(*) from exchanges").fetchone()[0] == 1


FILE_LIMIT = 20 << 20


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


async def _proxy(
    upstream: Upstream, db: Path, port: int, **options: Any
) -> asyncio.subprocess.Process:
    return await spawn_hubscope(
        "proxy", "--upstream", upstream.url, "--listen", f"127.0.0.1:{port}", "--db", str(db),
        "--session", "full", stdout=asyncio.subprocess.PIPE, **options,
    )  # fmt: skip


async def test_disk_full_stops_the_proxy_instead_of_forwarding_unrecorded(
    upstream: Upstream, tmp_path: Path
) -> None:
    """The file size limit stands in for a full disk: the journal (or the database) hits it."""
    db, port = tmp_path / "full.db", free_port()
    proc = await _proxy(upstream, db, port, preexec_fn=_limit_file_size)
    statuses: list[int] = []
    try:
        await wait_for_port(port, proc)
        async with aiohttp.ClientSession() as client:
            for i in range(200):
                try:
                    async with client.put(
                        f"http://127.0.0.1:{port}/hub/installations/{i}", data=os.urandom(500_000)
                    ) as resp:
                        statuses.append(resp.status)
                except aiohttp.ClientError:
                    break
                if resp.status == 503:
                    break
        output = (await asyncio.wait_for(proc.communicate(), 90))[0].decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode not in (0, None), output
    assert "hubscope recorder stopped" in output, output
    assert "File too large" in output or "full" in output, output
    assert statuses.count(200) > 5 and statuses[-1] == 503, statuses
    assert len(upstream.seen) == statuses.count(200), "nothing forwarded after the failure"
    # Room freed: the next start stores every exchange that was answered, from the journal.
    port = free_port()
    proc = await _proxy(upstream, db, port)
    try:
        await wait_for_port(port, proc)
        proc.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(proc.communicate(), 90))[0].decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, output
    conn = store.connect(db, readonly=True)
    stored = conn.execute("select count(*) from exchanges where status = 200").fetchone()[0]
    assert stored == statuses.count(200), output


def test_exchange_ids_sort_in_the_order_they_were_made() -> None:
    """UUIDv7: the store's keys on them grow at one end (docs/benchmarks.md)."""
    ids = [new_id() for _ in range(1000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(one) == 32 and uuid.UUID(one).version == 7 for one in ids)
