"""Benchmark (not a test): the viewer over a database of 1,000,000 exchanges.

    .venv/bin/python bench/viewer_bench.py [--rows 1000000] [--db bench/work/viewer-1m.db]

Fills the file once with direct SQLite inserts of realistic rows (cloned from rows the
real decoders produced, with fresh ids, times, handles, tags and statuses), then starts
the viewer in-process and times list and detail pages, HTML and JSON. Target: < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proxy import serve, store
from proxy.store import rows
from viewer import sample
from viewer.app import start_viewer
from viewer.search import Indexer

PLATFORMS = ("apns", "fcmv1", "wns")
BATCH = 20_000
Row = dict[str, Any]


def templates() -> list[rows.Rows]:
    """One decoded row set per scenario call, to clone."""
    return [rows.build([ex], body_cap=1 << 20, keys={}) for ex in sample.scenario("t", 0.0)]


def _swap(body: bytes | None, handle: str) -> bytes | None:
    """The template's device token replaced by this row's handle, so bodies differ."""
    return body.replace(sample.APNS_TOKEN.encode(), handle.encode()) if body else body


def insert(db: Any, table: str, items: list[dict[str, Any]]) -> None:
    if not items:
        return
    columns = list(items[0])
    marks = ", ".join("?" for _ in columns)
    db.conn.executemany(
        f"insert into {table} ({', '.join(columns)}) values ({marks})",
        [tuple(item[c] for c in columns) for item in items],
    )


SESSIONS = [f"bench-{i}" for i in range(10)]


def generate(total: int) -> Iterator[tuple[list[Row], list[Row], list[Row]]]:
    """`total` exchanges (10 sessions, ~total/5 devices) as batches of (exchange rows,
    device rows, device tag rows) of BATCH exchanges: what `fill` writes to SQLite and
    `pg_viewer.py` copies into PostgreSQL."""
    shapes, rng = templates(), random.Random(7)
    start = time.time() - total * 0.05
    for base in range(0, total, BATCH):
        ex_rows: list[Row] = []
        dev_rows: list[Row] = []
        tag_rows: list[Row] = []
        for n in range(base, min(total, base + BATCH)):
            shape = shapes[n % len(shapes)]
            ident = uuid.uuid4().hex
            device = rng.randrange(max(1, total // 5))
            roll = rng.random()
            status = 201 if roll < 0.9 else 404 if roll < 0.98 else 503
            handle = f"{device:064x}"
            ex = dict(shape.exchanges[0], id=ident, session=SESSIONS[n * 10 // total],
                      started_at=start + n * 0.05, status=status,
                      error_code=str(status) if status >= 400 else None,
                      request_body=_swap(shape.exchanges[0]["request_body"], handle),
                      response_body=_swap(shape.exchanges[0]["response_body"], handle))  # fmt: skip
            ex_rows.append(ex)
            tags = f"user:{device % 50_000},lang:{('en', 'fr', 'de')[device // 3 % 3]}"
            for d in shape.devices:
                did = f"{ident}:{d['direction'][:3]}:{d['position']}"
                dev_rows.append(dict(
                    d, id=did, exchange_id=ident, platform=PLATFORMS[device % 3],
                    handle=handle, tags=tags,
                    registration_id=f"reg-{device}" if d["kind"] == "registration" else None,
                    installation_id=f"inst-{device}" if d["kind"] == "installation" else None,
                ))  # fmt: skip
                tag_rows += [{"device_id": did, "exchange_id": ident, "tag": t}
                             for t in tags.split(",")]  # fmt: skip
        yield ex_rows, dev_rows, tag_rows


def fill(path: Path, total: int) -> None:
    """Write `total` exchanges (`generate`) as fast as SQLite allows."""
    db = store.connect(path)
    db.conn.execute("pragma synchronous = off")
    db.conn.execute("pragma cache_size = -400000")
    for name in SESSIONS:
        store.ensure_session(db, name, kind="import", upstream=sample.NS)
    t0, done = time.perf_counter(), 0
    for ex_rows, dev_rows, tag_rows in generate(total):
        with db.conn:
            insert(db, "exchanges", ex_rows)
            insert(db, "devices", dev_rows)
            insert(db, "device_tags", tag_rows)
        done += len(ex_rows)
        rate = done / (time.perf_counter() - t0)
        print(f"\r  {done:>9,} exchanges written ({rate:,.0f}/s)", end="", flush=True)
    print()
    db.conn.execute("analyze")
    db.conn.close()
    t0, cpu = time.perf_counter(), time.process_time()
    indexer = Indexer(path)
    done = indexer.catch_up(budget_seconds=3600)
    indexer.close()
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu
    ro = store.connect(path, readonly=True)
    size = ro.conn.execute("select sum(length(block)) from exchanges_fts_data").fetchone()[0]
    ro.conn.close()
    print(f"  search index: {done:,} rows in {took:.0f} s ({done / took:,.0f}/s),"
          f" {cpu / max(done, 1) * 1e6:.0f} µs CPU/exchange,"
          f" {size / 1e6:,.0f} MB ({size / max(done, 1):,.0f} B/exchange)")


async def timed(client: aiohttp.ClientSession, url: str) -> tuple[float, Any]:
    t = time.perf_counter()
    async with client.get(url) as resp:
        assert resp.status == 200, (url, resp.status, await resp.text())
        body = await (resp.json() if "/api/" in url else resp.text())
    return (time.perf_counter() - t) * 1000, body


FIGURES: dict[str, dict[str, float]] = {}
"""Each timed request's label → first, median and p95 in ms, as `report` printed them."""


def report(label: str, samples: list[float]) -> None:
    """The first request (cold caches) apart from the steady state of the rest."""
    first, ordered = samples[0], sorted(samples[1:])
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    median = statistics.median(ordered)
    FIGURES[label] = {"first": round(first, 1), "median": round(median, 1), "p95": round(p95, 1)}
    verdict = "ok" if p95 < 150 else "SLOW"
    print(f"  {label:<44} first {first:6.1f} ms   median {median:6.1f} ms"
          f"   p95 {p95:6.1f} ms   {verdict}")  # fmt: skip


async def measure(path: Path | str, repeat: int, total: int) -> None:
    """Time each page over HTTP through a viewer on `path` (a file or a PostgreSQL URL)."""
    running = await start_viewer(path)
    base = f"http://127.0.0.1:{running.port}"
    try:
        async with aiohttp.ClientSession() as client:
            await timed(client, base + "/api/exchanges?limit=1")
            cases = {
                "list page / (HTML, warm)": "/",
                "list page /api/exchanges (JSON, warm)": "/api/exchanges",
                "list f=platform:fcmv1": "/?f=platform:fcmv1",
                "list f=tag:user:123": "/?f=tag:user:123",
                "list f=status:4xx": "/?f=status:4xx",
                "list f=status:503": "/?f=status:503",
                "list f=not status:2xx": "/?f=not+status:2xx",
                "list f=session:bench-3": "/?f=session:bench-3",
                "list f=op:read_registration": "/?f=op:read_registration",
                "list f=handle:<full>": f"/?f=handle:{1234:064x}",
                "list f=handle:<12-char prefix>": f"/?f=handle:{1234:064x}"[:-52],
                "list f=reg:reg-77": "/?f=reg:reg-77",
                "list f=platform:apns tag:lang:fr status:2xx":
                    "/?f=platform:apns+tag:lang:fr+status:2xx",
                "list f=(status:4xx or status:5xx) and not platform:wns":
                    "/?f=(status:4xx+or+status:5xx)+and+not+platform:wns",
                "list f=tag:user:7* and not method:get": "/?f=tag:user:7*+and+not+method:get",
                "list q=<a handle> (body text)": f"/?q={1234:064x}",
                "list q=vip (common word)": "/?q=vip",
                "list q=\"x-ms-version: 2015\" (header)": "/?q=%22x-ms-version:+2015%22",
                "list q=TrackingId:1a2b (error body)": "/?q=TrackingId:1a2b",
                "list q=nothing-like-this (no hit)": "/?q=nothing-like-this",
                "list f=severity:error (judged on read)": "/?f=severity:error",
                "list f=rule:common.* and status:2xx": "/?f=rule:common.*+and+status:2xx",
                "list f=since…until (one hour)": "/?f=since:{h0}+until:{h1}",
                "problems f=session:bench-3": "/problems?f=session:bench-3",
                "devices (most recent)": "/devices",
                "devices f=tag:user:123": "/devices?f=tag:user:123",
                "installations": "/devices?by=installation",
                "tags": "/tags",
                "tags prefix=user:12": "/tags?prefix=user:12",
            }  # fmt: skip
            first = (await timed(client, base + "/api/exchanges?limit=1"))[1]["items"][0]
            h0 = first["started_at"] - total * 0.025
            for label, url in cases.items():
                url = url.format(h0=h0, h1=h0 + 3600)
                report(label, [(await timed(client, base + url))[0] for _ in range(repeat)])
            cold, cursor = [], ""
            for _ in range(repeat):
                ms, page = await timed(client, f"{base}/api/exchanges?cursor={cursor}")
                cold.append(ms)
                cursor = page["next_cursor"]
            report("list pages 2..N via keyset cursor (cold)", cold)
            deep = f"{first['started_at'] - total * 0.03!r}~{'f' * 32}"
            report("list page deep in the file (cursor)",
                   [(await timed(client, f"{base}/?cursor={deep}"))[0] for _ in range(repeat)])
            ids = [i["id"] for i in page["items"]]
            report("detail page /exchanges/{id} (HTML)",
                   [(await timed(client, f"{base}/exchanges/{i}"))[0] for i in ids[:repeat]])
            report("detail /api/exchanges/{id} (JSON)",
                   [(await timed(client, f"{base}/api/exchanges/{i}"))[0] for i in ids[:repeat]])
            report("timeline ?registration_id=reg-77",
                   [(await timed(client, f"{base}/devices?registration_id=reg-77"))[0]
                    for _ in range(repeat)])  # fmt: skip
            report("detail j/k neighbours under f=status:4xx",
                   [(await timed(client, f"{base}/exchanges/{i}?f=status:4xx"))[0]
                    for i in ids[:repeat]])  # fmt: skip
            report("session page bench-3 (100,000 exchanges, charts)",
                   [(await timed(client, f"{base}/sessions/bench-3"))[0]
                    for _ in range(3)])  # fmt: skip
    finally:
        await serve.stop([running])


def _schema_before(db: Any) -> None:
    """Turn a fresh file back into the schema before the search migration (m006)."""
    conn = db.conn
    for index in ("status", "error_code", "session_summary"):
        conn.execute(f"drop index idx_exchanges_{index}")
    conn.execute("create index idx_exchanges_session_started_at on exchanges (session, started_at)")
    conn.execute("drop table exchanges_fts")
    conn.execute("create virtual table exchanges_fts using fts5("
                 "request, response, content='', tokenize='unicode61')")  # fmt: skip
    values = ("substr(cast(new.request_body as text), 1, 65536),"
              " substr(cast(new.response_body as text), 1, 65536)")  # fmt: skip
    conn.execute("create trigger exchanges_fts_insert after insert on exchanges begin insert"
                 f" into exchanges_fts(rowid, request, response) values (new.rowid, {values}); end")


def write_cost(total: int = 8000, batch: int = 200) -> None:
    """`store.write_rows` CPU per exchange with the schema before and after m006."""
    import tempfile

    batches = [
        rows.build([e for _ in range(batch // 8) for e in sample.scenario("s", 1e9 + i)],
                   body_cap=1 << 20, keys={})
        for i in range(total // batch)
    ]  # fmt: skip
    for variant in ("before", "after") * 2:
        db = store.connect(Path(tempfile.mkdtemp()) / "w.db")
        store.ensure_session(db, "s", kind="demo")
        if variant == "before":
            _schema_before(db)
        cpu = time.process_time()
        for chunk in batches:
            store.write_rows(db, chunk)
        spent = (time.process_time() - cpu) / total * 1e6
        db.conn.close()
        print(f"  write_rows, schema {variant} m006: {spent:.0f} µs CPU per exchange")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("bench/work/viewer-1m.db"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--write-cost", action="store_true",
                        help="only measure the writer's cost with the schema before and after")
    args = parser.parse_args()
    if args.write_cost:
        write_cost()
        return
    args.db.parent.mkdir(parents=True, exist_ok=True)
    if not args.db.exists():
        print(f"filling {args.db} with {args.rows:,} exchanges")
        t = time.perf_counter()
        fill(args.db, args.rows)
        print(f"  filled in {time.perf_counter() - t:.0f} s, {args.db.stat().st_size >> 20} MiB")
    asyncio.run(measure(args.db, args.repeat, args.rows))


if __name__ == "__main__":
    main()
