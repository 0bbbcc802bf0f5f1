"""The writer's row building on every core: a backlog's rows built in worker processes.

Redaction, decoding, device and tag rows and findings are pure Python: in the writer's
own process they share one GIL with the store calls, which holds the writer to one core.
When the follower has a backlog (a batch of at least `POOL_MIN_BATCH` exchanges) it hands
the batch, in slices, to worker processes and reads on; the store thread takes the rows
in journal order. Batches of live traffic (a few exchanges at a time) are built in the
writer's process: a round trip to a worker would cost more than it saves. A worker that
dies costs nothing: its slice is built again in the writer's process, and the pool is
started again for the next batch. The same workers judge what a backlog stored unjudged,
when the traffic pauses (`PreparePool.judge`).
"""

from __future__ import annotations

import gc
import logging
import marshal
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from proxy import redact
from proxy.recording import records
from proxy.recording.worker_writes import SharedFile, Stored, set_turns, store_share
from proxy.store import Rows
from proxy.store.builder import RowBuilder
from proxy.store.findings import Judged
from proxy.store.judge_later import judge_rows

log = logging.getLogger(__name__)

WORKERS_ENV = "HUBSCOPE_WRITER_WORKERS"
"""Worker processes that build rows for the writer; 0 builds them in the writer's process."""
POOL_MIN_BATCH = 200
"""A batch this large means the writer is behind: worth the round trip to the workers."""
SLICE = 250
"""Exchanges per task whose rows come back: small enough to keep every worker busy, large
enough to amortise. A worker that stores its rows itself takes the whole batch: SQLite's
cost per exchange falls with a transaction's size (a page many rows share is written once
per commit), and the batches, a few in flight, keep the workers busy in turn."""


MAX_DEFAULT_WORKERS = 4
"""Beyond this many, the workers would wait on the writer's own share (journal, SQLite)."""


def default_workers() -> int:
    """`$HUBSCOPE_WRITER_WORKERS`, else one per core, at most `MAX_DEFAULT_WORKERS`, and
    none on one core (rows are built in the writer). The workers run at the writer's lower
    priority (`writer_process.NICE`), so they take only what the proxy leaves free."""
    value = os.environ.get(WORKERS_ENV, "")
    if value.isdigit():
        return int(value)
    cores = os.cpu_count() or 1
    return 0 if cores < 2 else min(cores, MAX_DEFAULT_WORKERS)


class Pending(Protocol):
    """A batch's rows, built or being built; `Stored` where a worker stored them itself."""

    def result(self) -> list[Rows | Stored]: ...


class _Built:
    def __init__(self, rows: list[Rows]) -> None:
        self._rows = rows

    def result(self) -> list[Rows | Stored]:
        return list(self._rows)


class _Remote:
    """Slices of a batch in the workers; `result()` joins them in order.

    A worker gets the journal records as they are on disk and, given a `SharedFile`,
    stores the rows itself (`worker_writes.py`); what it did not store it sends back
    marshalled: both cost a fraction of pickling exchanges and rows."""

    def __init__(
        self,
        pool: PreparePool,
        builder: RowBuilder,
        slices: list[records.Lazy],
        shared: SharedFile | None,
    ) -> None:
        self._pool = pool
        self._builder = builder
        self._slices = slices
        self._futures: list[Future[bytes]] = []
        try:
            executor = pool.executor()
            self._futures = [executor.submit(_build, builder, part.raw, shared) for part in slices]
            pool.remote_batches += 1
        except Exception as error:  # no workers to be had: the writer builds the rows itself
            pool.broken(error)

    def result(self) -> list[Rows | Stored]:
        out: list[Rows | Stored] = []
        for index, part in enumerate(self._slices):
            out.extend(self._one(index, part))
        return out

    def _one(self, index: int, part: records.Lazy) -> list[Rows | Stored]:
        if index < len(self._futures):
            try:
                sent = marshal.loads(self._futures[index].result())
                out = [Stored(one[0]) if len(one) == 1 else Rows(*one) for one in sent]
                self._pool.remote_stored += sum(isinstance(one, Stored) for one in out)
                return out
            except (BrokenProcessPool, OSError) as error:
                self._pool.broken(error)
            except Exception as error:  # e.g. rows that would not pickle: build them here
                log.warning("a row-building worker failed (%s); building in the writer", error)
        return list(self._builder(part))


class PreparePool:
    """Worker processes for row building, started on the first backlog; `close()` stops them."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else workers
        self.remote_batches = 0
        """Batches handed to the workers (for tests and `make bench`)."""
        self.remote_judged = 0
        """Exchanges stored unjudged that the workers judged (for tests)."""
        self.remote_stored = 0
        """Exchanges the workers stored themselves (for tests)."""
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(
        self, builder: RowBuilder, batch: records.Lazy, shared: SharedFile | None = None
    ) -> Pending:
        """The rows of `batch` (checked journal records): built here for small batches,
        else in the workers, which store them into `shared` themselves when they can."""
        if self.workers < 1 or not builder.portable or len(batch) < POOL_MIN_BATCH:
            return _Built(builder(batch))
        size = SLICE if shared is None else len(batch)
        cuts = range(0, len(batch), size)
        return _Remote(self, builder, [batch[at : at + size] for at in cuts], shared)

    def judge(self, stored: list[dict[str, object]]) -> Judged:
        """The findings of exchange rows a backlog stored unjudged (`judge_later`), judged
        in the workers, a share each, when there are workers; else in this process."""
        if self.workers < 1 or len(stored) < 2:
            return judge_rows(stored)
        shares = [stored[at :: self.workers] for at in range(self.workers)]
        try:
            executor = self.executor()
            futures = [executor.submit(judge_rows, share) for share in shares]
            judged = [one for future in futures for one in future.result()]
        except (BrokenProcessPool, OSError) as error:
            self.broken(error)
            return judge_rows(stored)
        self.remote_judged += len(stored)
        return judged

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_start,
                    initargs=(os.getpid(), multiprocessing.get_context("spawn").Lock()),
                )
            return self._executor

    def broken(self, error: BaseException) -> None:
        """A worker died: build in this process for now; the next batch starts a new pool."""
        log.warning("row-building workers unavailable (%s); building in the writer", error)
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _build(
    builder: RowBuilder, journal_records: Sequence[bytes], shared: SharedFile | None
) -> bytes:
    """In a worker: the rows of these journal records, stored into `shared` if given;
    marshalled, what was stored as `(after,)` and what was not as its rows."""
    batch = records.Lazy(journal_records)
    built = builder(batch)
    out = built if shared is None else store_share(shared, batch, built, builder)
    return marshal.dumps(
        [
            (one.after,)
            if isinstance(one, Stored)
            else (one.exchanges, one.devices, one.device_tags, one.more)
            for one in out
        ]
    )


def _worker_start(writer_pid: int, turns: Any) -> None:
    """In each worker: stops come from the writer, and a worker never outlives it;
    `turns`: the lock the pool's workers take turns at a shared file with."""
    set_turns(turns)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )  # fmt: skip
    redact.install_logging()
    threading.Thread(target=_exit_with, args=(writer_pid,), daemon=True).start()
    collect_rarely()


def collect_rarely() -> None:
    """Python's cyclic garbage collector, set for a process that builds or stores rows in
    batches (the writer and its workers): about 5 % of their CPU went to collections.

    Everything alive now (modules, parsers, the decoders imported here for that) is
    frozen out of every later collection, and the youngest generation is collected every
    50,000 allocations instead of 700: a batch's rows, plain dicts and tuples without
    cycles, are then mostly freed by reference counting before a collection sees them."""
    import proxy.decode  # noqa: F401 -- imported now, so that its objects are frozen too

    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _exit_with(writer_pid: int) -> None:
    while os.getppid() == writer_pid:  # a killed writer (kill -9) leaves us to init
        time.sleep(0.5)
    os._exit(0)


__all__ = [
    "MAX_DEFAULT_WORKERS",
    "POOL_MIN_BATCH",
    "WORKERS_ENV",
    "Pending",
    "PreparePool",
    "collect_rarely",
    "default_workers",
]
