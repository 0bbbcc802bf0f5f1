"""The viewer on PostgreSQL over 1,000,000 exchanges: its list and filters (issue 21: < 150 ms).

Starts a throwaway PostgreSQL as `make test` does (tests/postgres.py: Debian's server as
`nobody`, a free port, a temporary data directory, stopped by its PID at the end), copies
`--rows` exchanges into a fresh database — the rows `viewer_bench.generate` makes for the
SQLite figures (10 sessions, ~rows/5 devices, 50,000 tags, 90 % 201 / 8 % 404 / 2 % 503,
bodies carrying their device's handle), each also naming one of four proxy instances —
with COPY, the indexes built once after the load (`proxy.store.pg.bulk`). Then it starts
the viewer in-process on the URL and times over HTTP the pages `viewer_bench.measure`
times on SQLite, plus the `instance:` filter. Not part of `make test` or `make bench`
(the load takes minutes); `tests/store/pg/test_bulk.py` runs it on a few hundred rows.

    .venv/bin/python bench/pg_viewer.py [--rows 1000000] [--repeat 10] [--json FILE]
    .venv/bin/python bench/pg_viewer.py --url postgresql://…/db --keep   # reuse a loaded one
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import aiohttp
import psycopg
import viewer_bench

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy import serve  # noqa: E402
from proxy.store import pg  # noqa: E402
from proxy.store.pg import bulk  # noqa: E402
from tests.postgres import start_server  # noqa: E402
from viewer import sample  # noqa: E402
from viewer.app import start_viewer  # noqa: E402

INSTANCES = [f"staging-{n}/{4000 + n}/0.0.0.0:8080" for n in range(4)]
TABLES = ("exchanges", "devices", "device_tags")
INSTANCE_CASES = {
    "list f=instance:<one proxy>": f"/?f=instance:{INSTANCES[2]}",
    "list f=instance:staging-1/* status:4xx": "/?f=instance:staging-1/*+status:4xx",
    "list /api/exchanges?instance=<one proxy>": f"/api/exchanges?instance={INSTANCES[1]}",
}
KEPT = ROOT / "bench" / "work" / "pg-viewer.url"
"""With `--keep`: the URL of the loaded database (it holds the throwaway server's password)."""


def load(url: str, total: int) -> dict[str, float]:
    """Copy `total` generated exchanges into the (new) database at `url`; the timings."""
    db = pg.connect(url)  # migrates: the schema and indexes a proxy would create
    conn = db.conn.raw
    for name in viewer_bench.SESSIONS:
        pg.write.ensure_session(conn, {"name": name, "kind": "import", "upstream": sample.NS})
    started = time.perf_counter()
    done = 0
    with bulk.indexes_set_aside(conn, TABLES) as dropped:
        print(f"  indexes set aside while loading: {len(dropped)}", flush=True)
        for ex_rows, dev_rows, tag_rows in viewer_bench.generate(total):
            for n, row in enumerate(ex_rows, done):
                row["instance"] = INSTANCES[n % len(INSTANCES)]
            with conn.transaction():
                bulk.copy_rows(conn, "exchanges", ex_rows)
                bulk.copy_rows(conn, "devices", dev_rows)
                bulk.copy_rows(conn, "device_tags", tag_rows)
            done += len(ex_rows)
            rate = done / (time.perf_counter() - started)
            print(f"\r  {done:>9,} exchanges copied ({rate:,.0f}/s)", end="", flush=True)
        copied = time.perf_counter() - started
        print("\n  building the indexes again …", flush=True)
    indexed = time.perf_counter() - started - copied
    size = conn.execute("select pg_database_size(current_database())").fetchone()
    db.close()
    print(f"  copied in {copied:.0f} s, indexed in {indexed:.0f} s", flush=True)
    return {
        "copy_seconds": round(copied, 1),
        "index_seconds": round(indexed, 1),
        "database_mb": round((size[0] if size else 0) / 1e6),
    }


async def measure(url: str, repeat: int, total: int) -> None:
    """`viewer_bench.measure`'s pages, then one proxy instance's traffic."""
    await viewer_bench.measure(url, repeat, total)
    running = await start_viewer(url)
    base = f"http://127.0.0.1:{running.port}"
    try:
        async with aiohttp.ClientSession() as client:
            for label, query in INSTANCE_CASES.items():
                timed = [(await viewer_bench.timed(client, base + query))[0] for _ in range(repeat)]
                viewer_bench.report(label, timed)
    finally:
        await serve.stop([running])


def count(url: str) -> int:
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("select count(*) from exchanges").fetchone()
    except psycopg.errors.UndefinedTable:
        return 0
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--url", help="a database of yours (loaded unless it holds exchanges)")
    parser.add_argument("--keep", action="store_true", help="leave the server running")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    server = None if args.url else start_server()
    url = args.url or server.url(server.create_database())  # type: ignore[union-attr]
    result: dict[str, object] = {
        "rows": args.rows,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average_before": os.getloadavg(),
    }
    try:
        held = count(url)
        if held == 0:
            print(f"loading {args.rows:,} exchanges into {pg.display(url)}", flush=True)
            result["load"] = load(url, args.rows)
        else:
            print(f"measuring the {held:,} exchanges already in {pg.display(url)}")
            pg.connect(url).close()  # a writer's connection: migrations newer than the load
            result["rows"] = args.rows = held
        with psycopg.connect(url) as conn:
            version = conn.execute("show server_version").fetchone()
        result["server"] = f"PostgreSQL {version[0] if version else '?'}"
        asyncio.run(measure(url, args.repeat, args.rows))
        result["load_average_after"] = os.getloadavg()
        result["figures"] = viewer_bench.FIGURES
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
    finally:
        if server is not None and args.keep:
            KEPT.parent.mkdir(parents=True, exist_ok=True)
            KEPT.touch(0o600)
            KEPT.write_text(url)
            print(f"server left running: pid {server.pid}, {pg.display(url)}, {server.data_dir}")
            print(f'  again: bench/pg_viewer.py --url "$(cat {KEPT.relative_to(ROOT)})"')
        elif server is not None:
            server.stop()
            shutil.rmtree(server.data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
