"""The in-process recorder of replay, import and resend: the proxy's journal path, in a thread.

`submit()` cuts, checks and redacts the exchange and appends it to a journal run of its
own beside the database (`journal.py`), exactly as the proxy does; a thread follows that
run into the store (`follow.py`). So the proxy's guarantees hold here too: no secret is
ever written, even to the journal; memory stays flat while the database is locked (the
journal grows on disk, the lock is waited out with a log line every few seconds); a bad
exchange is stored reduced or set aside alone; a full disk stops the recorder loudly
(mitmproxy's save addon: better to stop than to go on unrecorded); and a `kill -9` of
`hubscope import` or `replay` loses nothing submitted: the next command that opens the
database stores it (`pending.py`). The proxy follows its journal from a writer process
instead (`writer_process.py`), so decoding never competes with its event loop.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from proxy.exchange import Exchange
from proxy.recording import journal, records, stores
from proxy.recording.follow import Follower
from proxy.recording.records import SessionStart
from proxy.recording.target import Target
from proxy.store import location

log = logging.getLogger(__name__)


class RecorderFailed(RuntimeError):
    """The recorder cannot write to its database; traffic must not go on unrecorded."""


class ExchangeSink(Protocol):
    """What the forwarding handler needs of a recorder (thread or process)."""

    failure: str | None

    @property
    def healthy(self) -> bool: ...

    def submit(self, exchange: Exchange) -> None: ...

    def payload(self, exchange: Exchange) -> bytes:
        """The exchange as its journal record (cut, checked, redacted); safe on any thread."""
        ...

    def append(self, payload: bytes) -> None:
        """Write a `payload()` to the journal; it is safe on disk when this returns."""
        ...


class JournalRecorder:
    """What both recorders share: each exchange redacted into the capture journal before
    the answer leaves, and the failure that stops recording (a full disk)."""

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
        self.journal = journal.JournalWriter(stores.journal_dir_for(self.db_path))
        self._keys = dict(keys or {})
        self._on_fatal = on_fatal
        self.failure: str | None = None
        self.written = 0
        """Exchanges the store has taken (this run's and any caught up from earlier runs)."""

    def submit(self, exchange: Exchange) -> None:
        """Append the exchange (redacted) to the journal; it is safe on disk when this returns."""
        self.append(self.payload(exchange))

    def payload(self, exchange: Exchange) -> bytes:
        """The exchange as its journal record (cut, checked, redacted); safe on any thread.

        Should cutting or redacting it fail (a bug), it is recorded bare: what was asked
        and answered, without the headers, bodies and query that could not be redacted,
        and why (`records.bare`). The exchange was answered: it is never left out."""
        try:
            return records.journal_payload(exchange, self.body_cap, self._keys)
        except Exception as error:
            log.error(
                "exchange %s recorded without its headers, bodies and query: cutting or "
                "redacting it failed (%s)", exchange.id, type(error).__name__,
            )  # fmt: skip
            return records.encode(records.bare(exchange, type(error).__name__))

    def append(self, payload: bytes) -> None:
        """Write a `payload()` to the journal; it is safe on disk when this returns."""
        if self.failure is not None:
            raise RecorderFailed(self.failure)
        try:
            self.journal.append(journal.EXCHANGE, payload)
        except journal.JournalFull as error:
            self._fail(str(error))
            raise RecorderFailed(str(error)) from None

    def _fail(self, message: str) -> None:
        if self.failure is None:
            self.failure = message
            log.critical("hubscope recorder stopped: %s", message)
            if self._on_fatal is not None:
                self._on_fatal(message)


class Recorder(JournalRecorder):
    """Accepts finished exchanges with `submit()`; a thread stores them from the journal."""

    _thread: threading.Thread | None = None
    _live = True
    rejected = 0
    """Journal records no form of which the store would take (set aside, see `follow`)."""

    def start(self, *, kind: str = "proxy", replay_of: str | None = None) -> None:
        """Open the database (migrating it), create the session, start the journal run
        and the thread that stores it."""
        session = SessionStart(self.session, kind, self.upstream, replay_of)
        target = stores.open_target(self.db_path, keys=self._keys)
        try:
            target.ensure_session(session)
        except Exception:
            stores.close(target)
            raise
        self.journal.open(records.encode_session(session))
        run = journal.run_named(self.journal.directory, self.journal.run)
        lock = journal.hold(run, exclusive=False)
        assert lock is not None, "a shared hold on our own run cannot be refused"
        follower = Follower(self.journal.directory, target, on_stored=self._stored)
        self._thread = threading.Thread(
            target=self._follow, args=(follower, target, run, lock),
            name="hubscope-recorder", daemon=True,
        )  # fmt: skip
        self._thread.start()

    @property
    def healthy(self) -> bool:
        return self.failure is None

    def close(self) -> None:
        """End the journal run, wait until the store has it all, stop the thread."""
        if self._thread is None:
            return
        self.journal.close()
        self._live = False
        self._thread.join()
        self._thread = None
        if self.failure is not None:
            raise RecorderFailed(self.failure)

    def _follow(self, follower: Follower, target: Target, run: journal.Run, lock: int) -> None:
        try:
            follower.follow(run, lock_fd=lock, live=lambda: self._live)
        except Exception as error:  # disk full, not a database: fatal; the journal keeps the rest
            try:
                os.close(lock)  # the next command on the database stores what is left
            except OSError:
                pass
            text = str(error)
            if location.describe(self.db_path) not in text:
                text = f"cannot write to {location.describe(self.db_path)}: {text}"
            self._fail(text)
        finally:
            self.rejected = follower.rejected
            stores.close(target)

    def _stored(self, total: int) -> None:
        self.written = total
