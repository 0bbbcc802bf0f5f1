"""Staging scale part of `make bench`: four proxies, 16 connections each, one PostgreSQL.

Starts a throwaway PostgreSQL (as `make test` does: tests/postgres.py), the stand-in hub,
and four `hubscope proxy --db postgresql://…` processes; drives each with 16 concurrent
connections of installation PUTs (the load test's request); stops the proxies (each
writer stores the rest of its journal before its proxy exits) and counts the rows.
Prints and writes: requests answered per second, exchanges stored per second (first
request to the last row committed), and whether every answered exchange is stored once.

    .venv/bin/python bench/pg_fleet.py --each 5000 --json bench/results/pg-fleet.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sqlite3
import sys
import time
from pathlib import Path

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy import sas  # noqa: E402
from proxy.localhub import FULL_RULE, HubSettings, start_hub  # noqa: E402
from tests.postgres import start_server  # noqa: E402
from tests.servers import free_port, spawn_hubscope, wait_for_port  # noqa: E402

PROXIES, CONNECTIONS = 4, 16


def _count(where: str) -> tuple[int, int, int]:
    """(rows, distinct resource ids, distinct instances); (0, 0, 0) before the table exists."""
    sql = "select count(*), count(distinct resource_id), count(distinct instance) from exchanges"
    try:
        if where.startswith("postgresql://"):
            with psycopg.connect(where, autocommit=True) as conn:
                row = conn.execute(sql).fetchone()
        else:
            with sqlite3.connect(f"file:{where}?mode=ro", uri=True) as conn:
                row = conn.execute(sql).fetchone()
    except (psycopg.Error, sqlite3.Error):
        return 0, 0, 0
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


async def fleet(each: int, *, sqlite: Path | None = None) -> dict[str, object]:
    server = start_server()
    hub = await start_hub(HubSettings(hubs=frozenset({"bench"})))
    url = str(sqlite) if sqlite is not None else server.url(server.create_database())
    ports = [free_port() for _ in range(PROXIES)]
    procs = [
        await spawn_hubscope(
            "proxy", "--upstream", hub.url, "--listen", f"127.0.0.1:{port}", "--db", url,
            "--session", "fleet", stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for port in ports
    ]
    statuses: dict[int, int] = {}
    try:
        for port, proc in zip(ports, procs, strict=True):
            for attempt in range(8):  # four proxies starting at once may take a while
                try:
                    await wait_for_port(port, proc)
                    break
                except TimeoutError:
                    if attempt == 7:
                        raise
        key = hub.settings.keys[FULL_RULE]
        started = time.monotonic()
        await asyncio.gather(*(_drive(port, key, each, statuses) for port in ports))
        answered = time.monotonic() - started
        stored, store_seconds, distinct = 0, 0.0, (0, 0, 0)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            distinct = _count(url)
            stored = distinct[0]
            if stored >= PROXIES * each:
                store_seconds = time.monotonic() - started
                break
            await asyncio.sleep(0.05)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(proc.wait(), 120) for proc in procs]
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await hub.stop()
        server.stop()
    total = PROXIES * each
    return {
        "proxies": PROXIES,
        "connections_each": CONNECTIONS,
        "requests": total,
        "statuses": statuses,
        "answered_per_s": round(total / answered, 1),
        "stored": stored,
        "stored_once": distinct[1] == total and stored == total,
        "instances": distinct[2],
        "store": "SQLite file" if sqlite is not None else "PostgreSQL",
        "stored_per_s": round(total / store_seconds, 1) if store_seconds else None,
        "proxy_exit_codes": codes,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "postgresql": str(server.bin_dir.parent.name),
    }


async def _drive(port: int, key: str, each: int, statuses: dict[int, int]) -> None:
    token = sas.make_token(f"http://127.0.0.1:{port}/bench", FULL_RULE, key, ttl=3600)
    numbers = iter(range(each))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTIONS)) as client:

        async def worker() -> None:
            for i in numbers:
                name = f"p{port}-{i}"
                body = json.dumps(
                    {"installationId": name, "platform": "apns", "pushChannel": f"{i:064x}",
                     "tags": [f"user:{i % 97}"]}  # fmt: skip
                )
                async with client.put(
                    f"http://127.0.0.1:{port}/bench/installations/{name}?api-version=2020-06",
                    data=body,
                    headers={"Authorization": token, "Content-Type": "application/json"},
                ) as resp:
                    await resp.read()
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--each", type=int, default=5000, help="requests per proxy")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--sqlite", type=Path, help="record into this SQLite file instead")
    args = parser.parse_args()
    result = asyncio.run(fleet(args.each, sqlite=args.sqlite))
    print(
        f"{result['store']} fleet: {result['proxies']} proxies × {result['connections_each']} "
        f"connections, {result['requests']} requests: {result['answered_per_s']} answered/s, "
        f"{result['stored_per_s']} stored/s, every exchange stored once: "
        f"{result['stored_once']} ({result['machine']})"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
