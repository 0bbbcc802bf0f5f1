"""The recorder: the request path hands exchanges over without waiting; one thread writes.

Like datasette's write thread: one connection owned by one thread, fed by a queue,
drained on a sentinel at shutdown. Decoding happens here, off the event loop.
If a batch cannot be written the recorder fails loudly (mitmproxy's save addon:
better to stop than to let traffic through unrecorded).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlite_utils import Database

from proxy import store
from proxy.exchange import Exchange
from proxy.store import rows

log = logging.getLogger(__name__)

_SHUTDOWN = object()
MAX_BATCH = 500


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
        self.db_path = Path(db_path)
        self.session = session
        self.upstream = upstream
        self.body_cap = body_cap
        self._keys = dict(keys or {})
        self._on_fatal = on_fatal
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.failure: str | None = None
        self.written = 0

    def start(self, *, kind: str = "proxy", replay_of: str | None = None) -> None:
        """Open the database (migrating it), create the session and start the writer."""
        db = store.connect(self.db_path)
        store.ensure_session(
            db, self.session, kind=kind, upstream=self.upstream, replay_of=replay_of
        )
        self._thread = threading.Thread(
            target=self._run, args=(db,), name="hubscope-recorder", daemon=True
        )
        self._thread.start()

    @property
    def healthy(self) -> bool:
        return self.failure is None

    def submit(self, exchange: Exchange) -> None:
        """Queue an exchange for writing; never blocks, never touches the database."""
        if self.failure is not None:
            raise RecorderFailed(self.failure)
        self._queue.put_nowait(exchange)

    def close(self) -> None:
        """Write everything already queued, then stop the writer and close the database."""
        if self._thread is None:
            return
        self._queue.put(_SHUTDOWN)
        self._thread.join()
        self._thread = None
        if self.failure is not None:
            raise RecorderFailed(self.failure)

    def _run(self, db: Database) -> None:
        try:
            while True:
                batch, done = self._next_batch()
                if batch:
                    self._write(db, batch)
                if done:
                    return
        except Exception as error:  # disk full, locked for good, schema gone: all fatal
            self.failure = f"cannot write to {self.db_path}: {error}"
            log.critical("hubscope recorder stopped: %s", self.failure)
            if self._on_fatal is not None:
                self._on_fatal(self.failure)
        finally:
            db.conn.close()

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

    def _write(self, db: Database, batch: list[Exchange]) -> None:
        store.write_rows(db, rows.build(batch, body_cap=self.body_cap, keys=self._keys))
        self.written += len(batch)
