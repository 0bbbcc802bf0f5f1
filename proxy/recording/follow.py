"""Follow the capture journal into a store, remembering in the store how far it got.

Two threads: this one reads and decodes the next batch while a writer thread stores
the previous one (SQLite releases the GIL while it works, so both cores are used);
every store call runs on the writer thread, in journal order.

The store is a `Target`: anything that can write a batch of rows together with the
journal positions they reach, in one transaction, and say whether it is still the
store it opened. The loop is the same for SQLite and for a database server: a locked
or unreachable store (`StoreBusy`) is waited out with a line every `LAG_LOG_EVERY`
seconds saying how far behind it is; a full one (`StoreFull`) stops recording; a
replaced or deleted file (`Target.check`) is reopened and the last batch written again.
Journal records are idempotent (exchange ids are keys), so writing one twice is harmless.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from proxy.recording import journal, records
from proxy.recording.journal import Run
from proxy.recording.prepare import POOL_MIN_BATCH, Pending, PreparePool
from proxy.recording.target import StoreBusy, Target
from proxy.recording.worker_writes import Stored
from proxy.store.builder import RowBuilder

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_FRAMES = 2000
BATCH_BYTES = 32 << 20
LAG_LOG_EVERY = 5.0
IDLE_POLL = (0.002, 0.05)
"""Seconds between looks at the journal when it has nothing new: first, and at most.
Once the longest has passed with nothing new (about 0.1 s of quiet), what a backlog
stored unjudged is judged, a few at a time, until traffic comes again."""
JUDGE_AT_END = 5.0
"""Seconds a run's end spends judging a backlog stored unjudged (`_judge_all`)."""
REJECTED = "rejected.seg"
"""Records no store could take, kept as journal frames for a person to look at."""


class Follower:
    """Reads journal runs in order and writes them into one target."""

    def __init__(
        self,
        directory: Path,
        target: Target,
        *,
        on_stored: Callable[[int], None] = lambda total: None,
        skip_first: bool = False,
        patience: float | None = None,
        pool: PreparePool | None = None,
    ) -> None:
        """`patience`: seconds a busy store is waited for before `StoreBusy` is raised;
        None (the writer process) waits for as long as it takes. `pool`: worker processes
        that build a backlog's rows (the writer process); without one, rows are built here."""
        self.directory = directory
        self.target = target
        self.stored = 0
        self.rejected = 0
        self._on_stored = on_stored
        self._skip_first = skip_first
        self._patience = patience
        self._pool = pool or PreparePool(workers=0)
        self._positions: dict[str, int] = {}
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._unjudged = False
        """Whether the target may hold exchanges stored unjudged, to judge when idle."""
        self._behind: tuple[float, float] | None = None
        """While the journal holds more than a batch: since when, and when last said."""

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="store-writer", daemon=True)
            self._thread.start()

    def _stop(self) -> None:
        """Wait for every queued store call, stop the writer thread, re-raise its failure."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._error is None:
                try:
                    job()
                except BaseException as error:  # StoreFull, StoreFatal: the reader re-raises
                    self._error = error

    def _submit(self, job: Callable[[], None]) -> None:
        if self._error is not None:
            self._stop()
        self._jobs.put(job)

    def _call(self, job: Callable[[], T]) -> T:
        """Run `job` on the writer thread (after everything queued) and return its result."""
        result: list[T] = []
        self._submit(lambda: result.append(job()))
        self._stop()
        self._start()
        return result[0]

    def catch_up(self, *, skip: str | None = None) -> int:
        """Store every abandoned run (no live process holds its lock); how many exchanges."""
        before = self.stored
        self._start()
        try:
            self._load_positions()
        finally:
            self._stop()
        for run, fd in journal.abandoned(self.directory, skip=skip):
            log.info("storing %s left in the journal by an earlier run", run.name)
            try:
                self.follow(run, lock_fd=fd, live=lambda: False)
            except BaseException:
                os.close(fd)  # let the next reader or proxy take the run
                raise
        return self.stored - before

    def follow(self, run: Run, *, lock_fd: int | None, live: Callable[[], bool]) -> None:
        """Store `run` until its end frame, or until `live()` is false and nothing is left.

        The run is then removed, unless `lock_fd` is None: another follower of the same
        run (a second store) still needs it, and its owner removes it.
        """
        self._start()
        try:
            self._follow(run, live)
            self._submit(self._judge_all)  # what a backlog left unjudged, for a few seconds
        finally:
            self._stop()
        if lock_fd is not None:
            journal.remove_run(journal.run_named(run.directory, run.name), lock_fd)

    def _follow(self, run: Run, live: Callable[[], bool]) -> None:
        self._load_positions()
        seq, idle, checked = 0, IDLE_POLL[0], time.monotonic()
        while True:
            segment = journal.segment_name(run.name, seq)
            running = live()
            start = self._positions.get(segment, 0)
            try:
                chunk = journal.read_frames(
                    run.directory / segment, start, max_bytes=BATCH_BYTES, max_frames=BATCH_FRAMES
                )
            except FileNotFoundError:
                if seq > 0 and running:  # the next segment is being created
                    time.sleep(idle)
                    continue
                break
            batch, ended, sealed = self._collect(chunk.frames, (segment, start))
            if chunk.frames:
                self._store(segment, start, chunk.end, batch, behind=running)
                idle = IDLE_POLL[0]
            if sealed:
                seq += 1
                continue
            if ended:
                break
            if chunk.stop == "more":
                self._say_behind((segment, chunk.end))
                continue
            self._behind = None
            if not running:
                if chunk.stop == "torn":
                    log.warning(
                        "%s ends in a torn frame at %d (the proxy was killed while writing it; "
                        "that request was never answered)", segment, chunk.end,
                    )  # fmt: skip
                break
            if time.monotonic() - checked > 1.0 and self._jobs.empty():
                checked = time.monotonic()
                self._submit(self._check_store)
            if self._unjudged and idle >= IDLE_POLL[1] and self._jobs.empty():
                self._submit(self._judge_some)  # a pause in the traffic: judge a few
                continue
            time.sleep(idle)
            idle = min(idle * 2, IDLE_POLL[1])

    def _say_behind(self, where: tuple[str, int]) -> None:
        """Every `LAG_LOG_EVERY` seconds while the journal holds more than a batch (traffic
        outruns the writer, which runs at a lower priority than the proxy): how far behind."""
        now = time.monotonic()
        since, said = self._behind or (now, now)
        if now - said >= LAG_LOG_EVERY:
            said = now
            log.info(
                "storing %.0f s behind the traffic, nothing is lost: %s", now - since,
                self._lag(where),
            )  # fmt: skip
        self._behind = (since, said)

    def _judge_some(self) -> None:
        self._unjudged = self._retrying(lambda: self.target.judge_some(self._pool), None)

    def _judge_all(self) -> None:
        """Judge what is left of a backlog, for at most `JUDGE_AT_END` seconds: a stopping
        proxy waits for this, and the audit and the viewer judge the rest on read."""
        deadline = time.monotonic() + JUDGE_AT_END
        while self._unjudged:
            if time.monotonic() >= deadline:
                log.info(
                    "stopping with part of a backlog not yet judged: the audit and the "
                    "viewer judge those exchanges when they read them"
                )
                return
            self._judge_some()

    def _check_store(self) -> None:
        moved = self.target.check()
        if moved is not None:
            log.warning("%s", moved)

    def _collect(
        self, frames: list[journal.Frame], where: tuple[str, int]
    ) -> tuple[list[bytes], bool, bool]:
        batch: list[bytes] = []
        ended = sealed = False
        for item in frames:
            if item.kind == journal.EXCHANGE:
                try:
                    records.check(item.body)  # decoded by whoever builds its rows
                    batch.append(item.body)
                except records.BadRecord as error:
                    self._reject(item.body, str(error))
            elif item.kind == journal.SESSION:
                try:
                    session = records.decode_session(item.body)
                except records.BadRecord as error:
                    log.error("journal session record unreadable: %s", error)
                else:
                    self._submit(
                        lambda s=session: self._retrying(  # type: ignore[misc]
                            lambda: self.target.ensure_session(s), where
                        )
                    )
            elif item.kind == journal.NEXT:
                sealed = True
            elif item.kind == journal.END:
                ended = True
        return batch, ended, sealed

    def _store(
        self, segment: str, start: int, end: int, batch: list[bytes], *, behind: bool
    ) -> None:
        """`behind`: the run is live, so a backlog (a batch of at least `POOL_MIN_BATCH`)
        means traffic is outrunning the writer: it is stored first and judged once the
        traffic pauses, if the target judges later (`RowBuilder.unjudged`); judging
        is a third of the rows' cost. A finished run is judged as it is stored."""
        if self._skip_first and batch:
            self._reject(batch[0], "skipped: the writer process died on it repeatedly")
            batch = batch[1:]
            self._skip_first = False
        lazy = records.Lazy(batch)
        builder = self.target.prepare
        if behind and len(batch) >= POOL_MIN_BATCH:
            builder = builder.unjudged()
        pending = self._pool.submit(builder, lazy, self.target.shared_file())
        self._positions[segment] = end
        self._submit(lambda: self._write(segment, start, end, lazy, pending, builder))

    def _write(
        self,
        segment: str,
        start: int,
        end: int,
        batch: records.Lazy,
        pending: Pending,
        builder: RowBuilder,
    ) -> None:
        """Write what the workers did not store, with the batch's position (after every
        slice of it, in journal order); where the file moved, the whole batch again."""
        prepared = pending.result()
        while True:
            written = self._retrying(
                lambda rows=prepared: self.target.write(batch, rows, {segment: end}),  # type: ignore[misc]
                (segment, start),
            )
            moved = self.target.check()
            if moved is None:
                break
            log.warning("%s; writing the last %d exchanges again", moved, len(batch))
            if any(isinstance(one, Stored) for one in prepared):  # the workers' are in the old file
                prepared = list(builder(batch))
        for index, why in written.rejected:
            self._reject(batch.raw[index], why)
        self.stored += written.stored
        self._unjudged = True
        self._on_stored(self.stored)

    def _retrying(self, write: Callable[[], T], where: tuple[str, int] | None) -> T:
        """`write()`, again and again while the store is busy, saying how far behind it is."""
        since = last_log = time.monotonic()
        delay = 0.05
        while True:
            try:
                return write()
            except StoreBusy as error:
                now = time.monotonic()
                if self._patience is not None and now - since >= self._patience:
                    raise
                if now - last_log >= LAG_LOG_EVERY:
                    last_log = now
                    log.warning(
                        "%s is busy (%s) for %.0f s; waiting, nothing is lost: %s",
                        self.target.name, error, now - since, self._lag(where),
                    )  # fmt: skip
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _lag(self, where: tuple[str, int] | None) -> str:
        if where is None:
            return "the journal keeps every exchange"
        segment, position = where
        total = sum(
            journal.pending_bytes(run, segment, position)
            for run in journal.runs(self.directory)
            if segment in run.segments
        )
        return f"{total / 1e6:.1f} MB of the journal not yet stored"

    def _reject(self, payload: bytes, why: str) -> None:
        self.rejected += 1
        log.error("a journal record could not be stored (%s); kept in %s", why, REJECTED)
        fd = os.open(self.directory / REJECTED, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, journal.frame(journal.EXCHANGE, payload))
        finally:
            os.close(fd)

    def _load_positions(self) -> None:
        if not self._positions:
            self._positions = self._call(lambda: self._retrying(self.target.positions, None))
            present = {name for run in journal.runs(self.directory) for name in run.segments}
            gone = [name for name in self._positions if name not in present]
            if gone:
                self._call(lambda: self._retrying(lambda: self.target.forget(gone), None))
                for name in gone:
                    self._positions.pop(name, None)
