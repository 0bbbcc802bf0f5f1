"""The prototype of the writer's topology (issue 15), without the writer process around it.

Each of P processes decodes, builds and stores its own share of the same exchanges
(`bench/scale.py`'s mix), a lock taking turns at SQLite, so no rows cross processes: what
`proxy/recording/worker_writes.py` now does for the writer's workers. Prints the rate and
the CPU per exchange of all P processes, to compare with `bench/scale.py`'s
`writer_cpu_us_per_exchange` (docs/benchmarks.md).

    .venv/bin/python bench/share_writers.py --processes 2 --n 50000
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from exchanges import generate_exchanges, remove_database  # noqa: E402

from proxy import store  # noqa: E402
from proxy.recording import records  # noqa: E402
from proxy.recording.prepare import collect_rarely  # noqa: E402
from proxy.recording.records import journal_payload  # noqa: E402
from proxy.store import rows  # noqa: E402

SESSION = "bench-scale"


def share(args: argparse.Namespace, index: int, t0: float) -> list[list[bytes]]:
    """This process's batches of journal records: every P-th batch, from `index`."""
    payloads = [
        journal_payload(ex, 1 << 20, {})
        for ex in generate_exchanges(args.n, session=SESSION, t0=t0)
    ]
    step = args.processes * args.batch
    return [payloads[at : at + args.batch] for at in range(index * args.batch, args.n, step)]


def store_share(args: argparse.Namespace, index: int, t0: float, lock: Any, start: Any,
                done: Any) -> None:  # fmt: skip
    """One process: check, decode, build and store its batches; reports its CPU seconds."""
    batches = share(args, index, t0)
    db = store.connect(args.db)
    db.conn.execute("PRAGMA cache_size = -65536")  # as `SqliteTarget` sets it
    collect_rarely()  # as the writer and its workers do
    start.wait()
    cpu = time.process_time()
    for number, batch in enumerate(batches):
        for payload in batch:
            records.check(payload)
        built = [rows.build_one(records.decode(p), {}, judge=False) for p in batch]
        with lock:
            store.write_batch(db, built, progress={f"share-{index}": number})
    done.put(time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "work" / "share.db")
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    remove_database(args.db)
    db = store.connect(args.db)
    store.ensure_session(db, SESSION, kind="proxy")
    context = multiprocessing.get_context("spawn")
    lock, start, done = context.Lock(), context.Barrier(args.processes + 1), context.Queue()
    t0 = time.time()
    processes = [
        context.Process(target=store_share, args=(args, index, t0, lock, start, done))
        for index in range(args.processes)
    ]
    for process in processes:
        process.start()
    start.wait()
    began = time.perf_counter()
    cpu = sum(done.get() for _ in processes)
    seconds = time.perf_counter() - began
    for process in processes:
        process.join()
    stored = db.conn.execute("select count(*) from exchanges").fetchone()[0]
    print(
        f"{args.processes} processes, {args.n:,} exchanges ({stored:,} stored): "
        f"{args.n / seconds:,.0f}/s, {cpu / args.n * 1e6:.0f} µs of CPU per exchange"
    )
    remove_database(args.db)


if __name__ == "__main__":
    main()
