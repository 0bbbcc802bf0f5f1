"""SQLite's share of the writer's cost as the database grows, table by table (issue 15).

Builds `bench/payloads.py`'s mix as `bench/scale.py` does and stores it the way a worker
does: 2,000 exchanges per transaction (`follow.BATCH_FRAMES`), with `store.write`'s own
inserts. Between transactions a second connection writes a journal position, as the
writer process and the other worker do, so every transaction starts with a cold page
cache, as in the real writer. Prints, every `--step` exchanges, the CPU per exchange of
each table's inserts and of the commit (which runs the WAL checkpoint), and the kernel's
share of it. With the checkpoint off, also how many bytes of WAL each exchange added.

    .venv/bin/python bench/sqlite_growth.py --n 200000 [--checkpoint-pages 0] [--page-size 4096]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from exchanges import generate_exchanges  # noqa: E402

from proxy import store  # noqa: E402
from proxy.recording import records  # noqa: E402
from proxy.recording.prepare import collect_rarely  # noqa: E402
from proxy.store import rows  # noqa: E402
from proxy.store.write import insert_many, merge, write_transaction  # noqa: E402

SESSION = "bench-scale"
TRANSACTION = 2000
TABLES = ("exchanges", "devices", "device_tags")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--step", type=int, default=20_000)
    parser.add_argument(
        "--checkpoint-pages", type=int, default=None,
        help="PRAGMA wal_autocheckpoint on both connections (0: never; default: SQLite's 1000)",
    )  # fmt: skip
    parser.add_argument(
        "--page-size", type=int, default=store.schema.PAGE_SIZE,
        help="bytes per page of the new database (default: hubscope's)",
    )  # fmt: skip
    args = parser.parse_args()
    store.schema.PAGE_SIZE = args.page_size
    collect_rarely()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "growth.db"
        db = store.connect(path)
        db.conn.execute(
            "insert or ignore into sessions (name, started_at, kind) values (?, 0, 'proxy')",
            [SESSION],
        )
        db.conn.commit()
        other = sqlite3.connect(path)
        other.execute("PRAGMA busy_timeout = 5000")
        if args.checkpoint_pages is not None:
            for conn in (db.conn, other):
                conn.execute(f"PRAGMA wal_autocheckpoint = {args.checkpoint_pages}")
        wal = Path(f"{path}-wal")
        traffic = generate_exchanges(args.n, session=SESSION, t0=time.time() - args.n / 1000)
        done = 0
        print(
            "stored   all µs  kernel  "
            + "  ".join(f"{name:>11}" for name in TABLES)
            + "  commit"
            + ("  WAL bytes" if args.checkpoint_pages == 0 else "")
        )
        while done < args.n:
            size = min(args.step, args.n - done)
            payloads = [records.journal_payload(next(traffic), 1 << 20, {}) for _ in range(size)]
            built = [rows.build_one(records.decode(one), {}, judge=False) for one in payloads]
            spent: dict[str, float] = {}
            cpu, kernel = time.process_time(), os.times().system
            wal_before = wal.stat().st_size
            for at in range(0, size, TRANSACTION):
                part = merge(built[at : at + TRANSACTION])
                with write_transaction(db):
                    for name in TABLES:
                        start = time.process_time()
                        insert_many(db, name, getattr(part, name))
                        spent[name] = spent.get(name, 0.0) + time.process_time() - start
                    for name, more in part.more.items():
                        insert_many(db, name, more)
                    start = time.process_time()
                spent["commit"] = spent.get("commit", 0.0) + time.process_time() - start
                other.execute(
                    "insert or replace into journal_progress (segment, position, updated_at)"
                    " values ('growth', ?, 0)",
                    [done + at],
                )
                other.commit()
            done += size
            each = {name: spent[name] / size * 1e6 for name in spent}
            total = (time.process_time() - cpu) / size * 1e6
            system = (os.times().system - kernel) / size * 1e6
            print(
                f"{done:>7,} {total:>7.0f} {system:>7.0f}  "
                + "  ".join(f"{each[name]:>11.1f}" for name in TABLES)
                + f"  {each['commit']:>6.1f}"
                + (
                    f"  {(wal.stat().st_size - wal_before) / size:>9,.0f}"
                    if args.checkpoint_pages == 0
                    else ""
                ),
                flush=True,
            )
        other.close()
        db.conn.close()


if __name__ == "__main__":
    main()
