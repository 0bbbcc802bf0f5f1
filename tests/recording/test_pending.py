"""What a killed proxy left in the journal is stored by the commands that read the database.

The real proxy on loopback answers installation PUTs while its writer is stopped
(SIGSTOP), then the proxy and its writer die by SIGKILL: every exchange is only in
`<db>.capture/`. `hubscope audit`, `export` and `view` (real processes) then show all
of them, and say they stored them; with the database locked they say how many wait.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from proxy.recording import journal, pending
from tests.conftest import Upstream
from tests.reliability.test_ingest import count, proxy, put_many
from tests.servers import REPO, free_port, spawn_hubscope, wait_for_port

ANSWERED = 40


async def killed_proxy(upstream: str, db: Path) -> None:
    """A proxy run whose ANSWERED exchanges are all in the journal and none in the store."""
    async with proxy(upstream, db, name="killed") as running:
        writers = running.writer_pids()
        assert len(writers) == 1
        for pid in writers:
            os.kill(pid, signal.SIGSTOP)
        answered = await put_many(running.url, "p", ANSWERED)
        running.proc.send_signal(signal.SIGKILL)
        for pid in writers:
            os.kill(pid, signal.SIGKILL)
        await running.proc.wait()
    assert len(answered) == ANSWERED
    assert count(db) == 0, "nothing reached the store"
    assert journal.runs(journal.journal_dir(db)), "the journal holds them"


def hubscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy", *args], cwd=REPO, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("command", ["audit", "export"])
async def test_a_reading_command_stores_what_a_killed_proxy_left(
    upstream: Upstream, tmp_path: Path, command: str
) -> None:
    db = tmp_path / "k.db"
    await killed_proxy(upstream.url, db)
    if command == "audit":
        done = hubscope("audit", "--db", str(db), "--format", "json", "--fail-on", "never")
    else:
        done = hubscope("export", "--db", str(db), "--format", "jsonl")
        assert len(done.stdout.splitlines()) == ANSWERED, "the export shows every exchange"
    assert done.returncode == 0, done.stderr
    assert f"stored {ANSWERED} answered exchanges a stopped proxy had left" in done.stderr
    assert count(db, "session = 'killed'") == ANSWERED
    assert not journal.journal_dir(db).exists(), "stored in full, the journal is cleaned up"
    again = hubscope("audit", "--db", str(db), "--format", "json", "--fail-on", "never")
    assert "stored" not in again.stderr, "nothing left: nothing said"


async def test_view_shows_what_a_killed_proxy_left(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    await killed_proxy(upstream.url, db)
    port = free_port()
    view = await spawn_hubscope("view", "--db", str(db), "--listen", f"127.0.0.1:{port}")
    try:
        await wait_for_port(port, view)
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{port}/api/exchanges?limit=200"
            async with client.get(url) as resp:
                listing = await resp.json()
        assert len(listing["items"]) == ANSWERED
    finally:
        view.send_signal(signal.SIGTERM)
        output = (await asyncio.wait_for(view.communicate(), 30))[0].decode()
    assert f"stored {ANSWERED} answered exchanges" in output


async def test_a_locked_database_says_how_many_wait(upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    await killed_proxy(upstream.url, db)
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        result = await asyncio.to_thread(pending.catch_up, db, patience=0.5)
        assert (result.stored, result.waiting) == (0, ANSWERED)
        line = pending.describe(result, db)
        assert line is not None and f"{ANSWERED} answered exchanges are only in the journal" in line
        assert journal.runs(journal.journal_dir(db)), "still there, for the next command"
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    result = await asyncio.to_thread(pending.catch_up, db)
    assert (result.stored, result.waiting) == (ANSWERED, 0)
    rows = sqlite3.connect(db).execute("select path from exchanges").fetchall()
    assert sorted(json.dumps(r[0]) for r in rows) == sorted(
        json.dumps(f"/hub/installations/p{i}") for i in range(ANSWERED)
    )
