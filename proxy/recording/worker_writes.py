"""A backlog's rows stored by the worker that built them, into the SQLite file the writer has open.

Rows sent back from a worker to the writer cost a tenth of the writer's CPU again:
marshalled, piped, unmarshalled, then inserted by the writer alone. So when the target is
an SQLite file, each worker stores the slice it built, the workers taking turns at the
file (`set_turns`), and sends back only what it did not store. The writer writes the
batch's journal position after every slice of it is in (`follow.py`), so progress never
passes an exchange not yet stored; an exchange stored again after a crash replaces itself
(every row's key is deterministic).

Anything unusual is left to the writer, which knows how to wait and what to say: a worker
that finds the file locked for more than `BUSY_MS`, full, deleted, replaced or unreadable
sends the rows back, and the writer stores them as it stores any batch. A worker only
writes into the file the writer has open (same device and inode), checked before and
after its write: rows that may have gone into a file unlinked meanwhile are sent back too.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from proxy import store
from proxy.store import Rows
from proxy.store.builder import RowBuilder
from proxy.store.judge_later import latest_rowid
from proxy.store.rows import Captured

log = logging.getLogger(__name__)

BUSY_MS = 1000
"""How long a worker waits for a lock held outside the writer before it leaves the batch to
the writer, which waits for as long as the lock lasts and says so."""
TURN_WAIT = 5.0
"""Seconds a worker waits for its turn: a worker killed during its turn never gives it back
(SQLite's own lock, released by the kernel, still keeps the writes apart)."""
CACHE_KIB = 16384
"""Each worker's SQLite page cache (the writer's own connection has 64 MiB)."""


@dataclass(frozen=True, slots=True)
class SharedFile:
    """The SQLite file a target has open, for its workers to store into."""

    path: str
    identity: tuple[int, int]
    """(device, inode) of the file the target has open: a worker writes into no other."""


@dataclass(frozen=True, slots=True)
class Stored:
    """In place of an exchange's rows: a worker stored them."""

    after: int | None
    """The newest exchange rowid before that worker's write, when its rows were stored
    unjudged (they all come after it); None when they were judged."""


_turns: Any = None
_open: dict[str, tuple[Database, tuple[int, int]]] = {}


def set_turns(lock: Any) -> None:
    """In each worker: the lock the pool's workers take turns at the file with."""
    global _turns
    _turns = lock


def store_share(
    where: SharedFile, batch: Sequence[Captured], built: list[Rows], builder: RowBuilder
) -> list[Rows | Stored]:
    """Store `built` (the rows of `batch`) into `where`; what was stored becomes `Stored`,
    what was not (any failure, an exchange no form of which would go in) stays rows."""
    db = _connection(where)
    if db is None:
        return list(built)
    taken = _turns.acquire(timeout=TURN_WAIT) if _turns is not None else False
    try:
        after = latest_rowid(db)
        result = store.write_batch(
            db, built, fallback=lambda index, why: builder.fallback(batch[index], why)
        )
    except Exception as error:  # the writer handles it: waits, stops, reopens
        if db.conn.in_transaction:
            db.conn.rollback()
        log.debug("leaving %d exchanges to the writer: %s", len(built), error)
        return list(built)
    finally:
        if taken:
            _turns.release()
    if _identity(where.path) != where.identity:  # deleted or replaced during the write
        return list(built)
    for exchange_id, why in result.reduced:
        log.error("exchange %s stored without its decoded rows: %s", exchange_id, why)
    rejected = {index for index, _ in result.rejected}
    mark = Stored(None if builder.judge else after)
    return [built[index] if index in rejected else mark for index in range(len(built))]


def _connection(where: SharedFile) -> Database | None:
    """This worker's connection to `where`, opened on first use; None unless the file at the
    path is still the one the writer has open."""
    if _identity(where.path) != where.identity:
        return None
    held = _open.pop(where.path, None)
    if held is not None:
        if held[1] == where.identity:
            _open[where.path] = held
            return held[0]
        held[0].conn.close()  # the old file's: SQLite leaves a moved file's WAL alone
    try:  # never created here (mode=rw): the writer made and migrated it
        uri = f"{Path(where.path).resolve().as_uri()}?mode=rw"
        db = Database(sqlite3.connect(uri, uri=True, check_same_thread=False))
        db.conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        db.conn.execute("PRAGMA synchronous = NORMAL")  # as the writer's: WAL, no fsync per commit
        db.conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    except sqlite3.Error as error:
        log.debug("a worker could not open %s: %s", where.path, error)
        return None
    if _identity(where.path) != where.identity:  # replaced while it was being opened
        db.conn.close()
        return None
    _open[where.path] = (db, where.identity)
    return db


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


__all__ = ["SharedFile", "Stored", "set_turns", "store_share"]
