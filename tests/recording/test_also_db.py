"""`hubscope proxy --db local.db --also-db postgresql://…`: one journal, two stores.

Each store follows the journal at its own pace from its own positions; the SQLite file
keeps recording while the server is away, and the run leaves the journal only when both
have stored it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import psycopg

from proxy import serve
from proxy.recording import journal
from tests.conftest import Upstream
from tests.postgres import PostgresServer
from tests.recording.test_pg_target import count, own_server  # noqa: F401 (a fixture)
from tests.servers import start_proxy

OUTAGE = 5.0
"""Seconds the server is away: a restart or a failover, as a user would see one."""


def local_count(path: Path, sql: str = "select count(*) from exchanges") -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


async def until(test: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if test():
                return
        except (psycopg.errors.UndefinedTable, sqlite3.OperationalError):
            pass  # the writer has not migrated the store yet
        await asyncio.sleep(0.1)
    raise AssertionError("the store did not get there in time")


async def test_both_stores_hold_every_exchange_once_and_an_outage_costs_nothing(
    own_server: PostgresServer,  # noqa: F811
    upstream: Upstream,
    tmp_path: Path,
) -> None:
    url = own_server.url(own_server.create_database())
    local = tmp_path / "local.db"
    running = await start_proxy(upstream.url, local, session="shared", also_db=url)
    try:
        async with aiohttp.ClientSession() as client:

            async def send(first: int, n: int) -> None:
                for i in range(first, first + n):
                    async with client.put(
                        f"http://127.0.0.1:{running.port}/hub/installations/x{i}", data=b"{}"
                    ) as r:
                        assert r.status == 200

            await send(0, 10)
            await until(lambda: count(url) == 10 and local_count(local) == 10)
            own_server.stop()
            started = time.monotonic()
            await send(10, 40)  # answered while the server is away
            await until(lambda: local_count(local) == 50)  # the file does not wait for it
            await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
            assert journal.runs(journal.journal_dir(local)), "removed before the server had it"
            own_server.restart()
    finally:
        await serve.stop([running])  # waits until both stores have the rest
    distinct = "select count(distinct id) from exchanges"
    assert (count(url), count(url, distinct)) == (50, 50)
    assert (local_count(local), local_count(local, distinct)) == (50, 50)
    assert count(url, "select count(*) from sessions where name = 'shared'") == 1
    assert journal.runs(journal.journal_dir(local)) == []


def test_the_same_store_twice_is_a_usage_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from proxy.cli import cli

    same = str(tmp_path / "one.db")
    result = CliRunner().invoke(
        cli, ["proxy", "--upstream", "http://127.0.0.1:9", "--db", same, "--also-db", same]
    )
    assert result.exit_code == 2 and "second store" in result.output
