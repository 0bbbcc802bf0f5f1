"""The SQLite file as a target the journal is followed into, watched for deletion and replacement.

The file is watched by identity (device and inode): when the path is gone or names
another file, the connection to the old one is closed, SQLite's side files left by
the old one are moved aside (a stale `-wal` must never be replayed into a new file),
and the path is opened again: a deleted database is created anew, a replaced one is
written from then on. The batch written just before is written again, so nothing
lands only in an unlinked file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from proxy import store
from proxy.recording.prepare import PreparePool
from proxy.recording.records import SessionStart
from proxy.recording.target import StoreBusy, StoreFatal, StoreFull, Written
from proxy.recording.worker_writes import SharedFile, Stored
from proxy.store import judge_later, rows
from proxy.store.builder import RowBuilder
from proxy.store.rows import Captured

log = logging.getLogger(__name__)

T = TypeVar("T")

WRITER_BUSY_MS = 1000
"""How long one write waits for a lock before the follower logs and tries again."""


class SqliteTarget:
    """One write connection to a hubscope SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        keys: dict[str, str] | None = None,
        add_rows: rows.AddRows | None = None,
        instance: str | None = None,
    ) -> None:
        """`add_rows`: rows of other tables to store with each exchange (`rows.AddRows`);
        `instance`: the proxy instance each exchange row names."""
        self.path = path
        self.name = str(path)
        self.prepare = RowBuilder(dict(keys or {}), instance, add_rows, judge_backlog_later=True)
        self._unjudged_after: int | None = None
        """Set while exchanges stored unjudged (a backlog) wait: the rowid they come after."""
        self._db: Database | None = None
        self._identity: tuple[int, int] | None = None
        self._sessions: list[SessionStart] = []

    @property
    def db(self) -> Database:
        if self._db is None:
            self._open()
        assert self._db is not None
        return self._db

    def positions(self) -> dict[str, int]:
        return self._guard(lambda: store.journal_positions(self.db))

    def ensure_session(self, session: SessionStart) -> None:
        if session not in self._sessions:
            self._sessions.append(session)
        self._guard(lambda: self._ensure(session))

    def write(
        self,
        batch: Sequence[Captured],
        prepared: list[store.Rows | Stored],
        progress: dict[str, int],
    ) -> Written:
        """Write the rows the workers did not store (`Stored`), and the batch's position."""
        left = [index for index, one in enumerate(prepared) if isinstance(one, store.Rows)]
        todo = [one for one in prepared if isinstance(one, store.Rows)]
        self._expect_unjudged(prepared, todo)
        result = self._guard(
            lambda: store.write_batch(
                self.db, todo, progress=progress,
                fallback=lambda at, why: self.prepare.fallback(batch[left[at]], why),
            )
        )  # fmt: skip
        for exchange_id, why in result.reduced:
            log.error("exchange %s stored without its decoded rows: %s", exchange_id, why)
        return Written(
            stored=result.stored + len(prepared) - len(todo),
            rejected=[(left[at], why) for at, why in result.rejected],
        )

    def _expect_unjudged(self, prepared: list[store.Rows | Stored], todo: list[store.Rows]) -> None:
        """Note where exchanges stored unjudged begin, for `judge_some`: before the rows
        written now, and before any a worker stored (its `Stored.after`)."""
        floors = [
            one.after for one in prepared if isinstance(one, Stored) and one.after is not None
        ]
        if not all(_judged(one) for one in todo):
            floors.append(self._guard(lambda: judge_later.latest_rowid(self.db)))
        if floors:
            known = self._unjudged_after
            self._unjudged_after = min(floors) if known is None else min(known, *floors)

    def shared_file(self) -> SharedFile | None:
        if self._identity is None:
            return None
        return SharedFile(str(self.path), self._identity)

    def judge_some(self, pool: PreparePool) -> bool:
        """Judge a few of the exchanges stored unjudged, a few per worker in `pool`;
        whether any may be left."""
        if self._unjudged_after is None:
            return False
        after, limit = self._unjudged_after, judge_later.QUIET_BATCH * max(1, pool.workers)
        self._unjudged_after = self._guard(
            lambda: judge_later.judge_stored(self.db, after, limit, judge=pool.judge)
        )
        return self._unjudged_after is not None

    def forget(self, segments: list[str]) -> None:
        self._guard(lambda: store.forget_segments(self.db, segments))

    def check(self) -> str | None:
        if self._identity is None:
            return None
        try:
            now = _identity(self.path)
        except FileNotFoundError:
            what = "was deleted while recording; creating a new database there"
        else:
            if now == self._identity:
                return None
            what = "was replaced by another file while recording; writing into that file now"
        self._release_wal()
        self.close()
        _move_aside_side_files(self.path)
        try:
            self._open()
        except StoreBusy:
            pass  # the next write waits for it
        return f"{self.path} {what}"

    def _release_wal(self) -> None:
        """Empty the old file's `-wal`: another connection opening the new file at the same
        path would otherwise read the old file's pages from it (SQLite keeps no identity)."""
        if self._db is None:
            return
        try:
            self._db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            log.debug("could not checkpoint the old file: %s", error)

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.conn.close()
            except sqlite3.Error:
                pass
        self._db = None
        self._identity = None
        self._unjudged_after = None  # a batch written again into a new file says so again

    def _open(self) -> None:
        try:
            db = store.connect(self.path)
        except Exception as error:
            raise _translate(error, self.path) from error
        db.conn.execute(f"PRAGMA busy_timeout = {WRITER_BUSY_MS}")
        db.conn.execute("PRAGMA cache_size = -65536")
        self._db, self._identity = db, _identity(self.path)
        for session in self._sessions:
            self._ensure(session)

    def _ensure(self, session: SessionStart) -> None:
        store.ensure_session(
            self.db,
            session.name,
            kind=session.kind,
            upstream=session.upstream,
            replay_of=session.replay_of,
        )

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (StoreBusy, StoreFull, StoreFatal):
            raise
        except Exception as error:
            if self._db is not None and self._db.conn.in_transaction:
                self._db.conn.rollback()
            if store.classify(error) == "gone":
                moved = self.check()
                raise StoreBusy(moved or f"{self.path} could not be written: {error}") from error
            raise _translate(error, self.path) from error


def _judged(rows_of_one: store.Rows) -> bool:
    """Whether one exchange's rows hold its judgement: a backlog's are left for later (so
    are those of an exchange that did not decode, which the quiet then passes over)."""
    return "findings_judged" in rows_of_one.more


def _translate(error: BaseException, path: Path) -> Exception:
    kind = store.classify(error)
    if kind == "busy":
        return StoreBusy(f"{type(error).__name__}: {error}")
    if kind == "full":
        return StoreFull(f"cannot write to {path}: {error} (disk full)")
    return StoreFatal(f"cannot write to {path}: {type(error).__name__}: {error}")


def _identity(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def _move_aside_side_files(path: Path) -> None:
    """A non-empty `-wal` still there after our close belongs to the old file (a reader has
    it open); opened with the new file, SQLite would replay the old pages into it."""
    wal = Path(f"{path}-wal")
    try:
        if wal.stat().st_size == 0:
            return
    except FileNotFoundError:
        return
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            aside = side.with_name(f"{side.name}.orphaned-{stamp}")
            side.rename(aside)
            log.warning("moved %s aside to %s: it belongs to the deleted database", side, aside)
