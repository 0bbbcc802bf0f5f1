"""Proxies recording into PostgreSQL: many at once, each exchange once, an outage loses nothing."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from urllib.parse import quote

import aiohttp
import psycopg
import pytest

from proxy import sas, serve
from proxy.localhub import FULL_RULE, HubSettings, start_hub
from proxy.recording.pg_target import PgTarget
from proxy.recording.records import SessionStart
from proxy.recording.target import StoreBusy
from proxy.store.rows import capture
from tests.conftest import Upstream
from tests.postgres import PostgresServer, start_server
from tests.recording.test_recorder import exchange
from tests.servers import free_port, spawn_hubscope, start_proxy, wait_for_port
from viewer.app import start_viewer

PROXIES, CONNECTIONS, EACH = 4, 16, 200
OUTAGE = 30.0
"""Seconds the server is away (the issue's figure)."""


async def _listening(port: int, proc: asyncio.subprocess.Process) -> None:
    """Four proxies start at once (each migrating or waiting for the first's migration):
    on a loaded two-core machine that takes longer than `wait_for_port`'s 15 s."""
    for _ in range(8):
        try:
            await wait_for_port(port, proc)
            return
        except TimeoutError:
            continue
    await wait_for_port(port, proc)


def count(url: str, sql: str = "select count(*) from exchanges") -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


async def test_four_proxies_into_one_database_store_every_exchange_once(
    postgres_url: str,
) -> None:
    hub = await start_hub(HubSettings(hubs=frozenset({"staging"})))
    ports = [free_port() for _ in range(PROXIES)]
    procs = [
        await spawn_hubscope(
            "proxy",
            "--upstream",
            hub.url,
            "--listen",
            f"127.0.0.1:{port}",
            "--db",
            postgres_url,
            "--session",
            "staging",
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for port in ports
    ]
    statuses: Counter[int] = Counter()
    try:
        for port, proc in zip(ports, procs, strict=True):
            await _listening(port, proc)
        key = hub.settings.keys[FULL_RULE]

        async def drive(port: int) -> None:
            token = sas.make_token(f"http://127.0.0.1:{port}/staging", FULL_RULE, key, ttl=3600)
            numbers = iter(range(EACH))
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=CONNECTIONS)
            ) as client:

                async def worker() -> None:
                    for i in numbers:
                        name = f"p{port}-i{i}"
                        body = json.dumps({"installationId": name, "platform": "apns",
                                           "pushChannel": f"{i:064x}"})  # fmt: skip
                        async with client.put(
                            f"http://127.0.0.1:{port}/staging/installations/{name}"
                            "?api-version=2020-06",
                            data=body,
                            headers={"Authorization": token, "Content-Type": "application/json"},
                        ) as resp:
                            await resp.read()
                            statuses[resp.status] += 1

                await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))

        await asyncio.gather(*(drive(port) for port in ports))
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            assert await asyncio.wait_for(proc.wait(), 90) == 0
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await hub.stop()
    assert statuses == {200: PROXIES * EACH}
    assert count(postgres_url) == PROXIES * EACH
    assert count(postgres_url, "select count(distinct resource_id) from exchanges") == (
        PROXIES * EACH
    )
    with psycopg.connect(postgres_url) as conn:
        per_instance = dict(
            conn.execute("select instance, count(*) from exchanges group by instance").fetchall()
        )
        sessions = conn.execute("select name from sessions").fetchall()
    assert sorted(per_instance.values()) == [EACH] * PROXIES
    assert sorted(name.rsplit("/", 1)[1] for name in per_instance) == sorted(
        f"127.0.0.1:{port}" for port in ports
    )
    assert sessions == [("staging",)]
    one = sorted(per_instance)[0]
    viewer = await start_viewer(postgres_url)
    try:
        async with aiohttp.ClientSession() as client:
            base = f"http://127.0.0.1:{viewer.port}/api/exchanges?limit=500"
            for query in (f"&instance={quote(one)}", f"&f=instance:{quote(one)}"):
                async with client.get(base + query) as resp:
                    page = await resp.json()
                assert len(page["items"]) == EACH and page["next_cursor"] is None, query
    finally:
        await serve.stop([viewer])


@pytest.fixture
def own_server() -> PostgresServer:
    """A server of this test's own, to stop and start without disturbing the others."""
    try:
        server = start_server()
    except FileNotFoundError as error:
        from tests.outside import unavailable

        unavailable(str(error))
        raise
    yield server  # type: ignore[misc]
    server.stop()


async def test_a_server_away_and_back_loses_nothing(
    own_server: PostgresServer, upstream: Upstream
) -> None:
    url = own_server.url(own_server.create_database())
    running = await start_proxy(upstream.url, url, session="outage")  # type: ignore[arg-type]
    try:
        async with aiohttp.ClientSession() as client:

            async def send(n: int) -> None:
                for i in range(n):
                    async with client.put(
                        f"http://127.0.0.1:{running.port}/hub/installations/x{i}", data=b"{}"
                    ) as r:
                        assert r.status == 200

            await send(10)
            for _ in range(100):
                try:
                    if count(url) == 10:
                        break
                except psycopg.errors.UndefinedTable:  # the writer has not migrated it yet
                    pass
                await asyncio.sleep(0.1)
            own_server.stop()
            started = time.monotonic()
            await send(40)  # answered while the store is away: the journal keeps them
            await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - started)))
            own_server.restart()
    finally:
        await serve.stop([running])  # waits until the writer has stored the rest
    assert count(url) == 50
    assert count(url, "select count(distinct id) from exchanges") == 50


def test_an_unreachable_server_is_busy_and_never_shows_the_password() -> None:
    url = f"postgresql://app:hunter22@127.0.0.1:{free_port()}/nothing"
    target = PgTarget(url)
    with pytest.raises(StoreBusy) as caught:
        target.positions()
    assert "hunter22" not in str(caught.value) and target.name == url.replace("hunter22", "***")


def test_rows_name_the_instance_and_sessions_come_from_the_journal(postgres_url: str) -> None:
    target = PgTarget(postgres_url, instance="box/42/127.0.0.1:8080")
    target.ensure_session(SessionStart("s1", "proxy", "http://hub", None))
    batch = [capture(exchange(i, session="s1"), 1 << 20) for i in range(3)]
    prepared = target.prepare(batch)
    for _ in range(2):
        assert target.write(batch, prepared, {"r.000000.seg": 9}).stored == 3
    assert target.positions() == {"r.000000.seg": 9}
    target.close()
    stamped = "select count(*) from exchanges where instance = 'box/42/127.0.0.1:8080'"
    assert count(postgres_url, stamped) == 3
