"""The in-process recorder of replay and import: a bounded queue, one writer thread.

Like datasette's write thread: one connection owned by one thread, fed by a queue,
drained on a sentinel at shutdown. Decoding happens here. A locked database is waited
out (with a log line every few seconds); a bad exchange is stored reduced or skipped
alone; a full disk stops the recorder loudly (mitmproxy's save addon: better to stop
than to go on unrecorded). The proxy records through the journal instead
(`writer_process.py`), which also survives a crash.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from proxy.exchange import Exchange
from proxy.recording import stores
from proxy.recording.follow import LAG_LOG_EVERY, StoreBusy, Target
from proxy.recording.records import SessionStart
from proxy.store import location, rows

log = logging.getLogger(__name__)

_SHUTDOWN = object()
MAX_BATCH = 500
MAX_QUEUED = 10_000
"""Exchanges waiting for the writer; above this `submit()` waits (memory stays bounded)."""


class RecorderFailed(RuntimeError):
    """The recorder cannot write to its database; traffic must not go on unrecorded."""


class ExchangeSink(Protocol):
    """What the forwarding handler needs of a recorder (thread or process)."""

    failure: str | None

    @property
    def healthy(self) -> bool: ...

    def submit(self, exchange: Exchange) -> None: ...


class Recorder:
    """Accepts finished exchanges with `submit()`; a writer thread decodes and stores them."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        session: str,
        upstream: str | None = None,
        body_cap: int = 1 << 20,
        keys: dict[str, str] | None = None,
        on_fatal: Callable[[str], None] | None = None,
    ) -> None:
        self.db_path = location.parse(db_path)
        self.session = session
        self.upstream = upstream
        self.body_cap = body_cap
        self._keys = dict(keys or {})
        self._on_fatal = on_fatal
        self._queue: queue.Queue[object] = queue.Queue(maxsize=MAX_QUEUED)
        self._thread: threading.Thread | None = None
        self.failure: str | None = None
        self.written = 0
        self.rejected = 0

    def start(self, *, kind: str = "proxy", replay_of: str | None = None) -> None:
        """Open the database (migrating it), create the session and start the writer."""
        target = stores.open_target(self.db_path, keys=self._keys)
        target.ensure_session(SessionStart(self.session, kind, self.upstream, replay_of))
        self._thread = threading.Thread(
            target=self._run, args=(target,), name="hubscope-recorder", daemon=True
        )
        self._thread.start()

    @property
    def healthy(self) -> bool:
        return self.failure is None

    def submit(self, exchange: Exchange) -> None:
        """Queue an exchange for writing; waits only while `MAX_QUEUED` are already waiting."""
        if self.failure is not None:
            raise RecorderFailed(self.failure)
        self._queue.put(exchange)

    def close(self) -> None:
        """Write everything already queued, then stop the writer and close the database."""
        if self._thread is None:
            return
        self._queue.put(_SHUTDOWN)
        self._thread.join()
        self._thread = None
        if self.failure is not None:
            raise RecorderFailed(self.failure)

    def _run(self, target: Target) -> None:
        try:
            while True:
                batch, done = self._next_batch()
                if batch:
                    self._write(target, batch)
                if done:
                    return
        except Exception as error:  # disk full, not a database: fatal
            self.failure = (
                str(error)
                if str(self.db_path) in str(error)
                else (f"cannot write to {self.db_path}: {error}")
            )
            log.critical("hubscope recorder stopped: %s", self.failure)
            if self._on_fatal is not None:
                self._on_fatal(self.failure)
            while self._next_batch()[1] is False:  # let waiting submit() calls return
                pass
        finally:
            stores.close(target)

    def _next_batch(self) -> tuple[list[Exchange], bool]:
        batch: list[Exchange] = []
        item = self._queue.get()
        while item is not _SHUTDOWN:
            assert isinstance(item, Exchange)
            batch.append(item)
            if len(batch) >= MAX_BATCH:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _write(self, target: Target, batch: list[Exchange]) -> None:
        captured = [rows.capture(exchange, self.body_cap) for exchange in batch]
        prepared = target.prepare(captured)
        since = last_log = time.monotonic()
        while True:
            try:
                written = target.write(captured, prepared, {})
                break
            except StoreBusy as error:
                if time.monotonic() - last_log >= LAG_LOG_EVERY:
                    last_log = time.monotonic()
                    log.warning(
                        "%s is busy (%s) for %.0f s; waiting with %d exchanges",
                        self.db_path, error, last_log - since, len(batch) + self._queue.qsize(),
                    )  # fmt: skip
                time.sleep(0.1)
        for index, why in written.rejected:
            log.error("exchange %s could not be stored: %s", batch[index].id, why)
        self.rejected += len(written.rejected)
        self.written += written.stored
