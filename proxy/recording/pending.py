"""Exchanges a proxy answered but no writer stored yet, stored by whoever reads the database.

A proxy killed with SIGKILL (or a power cut) leaves its journal run behind: every answered
exchange is in `<db>.capture/`, none is lost, but the database does not show them until
something follows the journal into it. The next `hubscope proxy --db` does; so do the
commands that read a database (`view`, `audit`, `export`, `replay`, `decode`), first,
so that what they show is everything that was answered. Runs a live proxy is still
writing are its own writer's and are left alone. Journal records are already redacted
(the proxy redacts before journaling), so storing them from here is as safe as from the
writer.

When the store cannot take them now (another process holds the write lock for longer
than `PATIENCE`, a read-only file, a full disk), nothing is lost: the command goes on
with what is stored, and says how many exchanges wait in the journal.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from proxy import store
from proxy.recording import journal
from proxy.recording.follow import Follower
from proxy.recording.sqlite_target import SqliteTarget
from proxy.recording.target import StoreBusy, StoreFatal, StoreFull

log = logging.getLogger(__name__)

PATIENCE = 10.0
"""Seconds a reading command waits for a locked database before it goes on without."""


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What catching up did: exchanges stored now, and those still only in the journal."""

    stored: int
    waiting: int
    why: str | None = None
    """Why `waiting` exchanges could not be stored now; None when none wait."""


def catch_up(db_path: Path, *, patience: float = PATIENCE) -> CatchUp:
    """Store every exchange an abandoned journal run beside `db_path` holds."""
    directory = journal.journal_dir(db_path)
    if not directory.is_dir():
        return CatchUp(0, 0)
    target = SqliteTarget(db_path)
    follower = Follower(directory, target, patience=patience)
    try:
        stored = follower.catch_up()
    except (StoreBusy, StoreFull, StoreFatal) as error:
        why = str(error) or type(error).__name__
        return CatchUp(follower.stored, waiting(db_path), why)
    finally:
        target.close()
    return CatchUp(stored, 0)


def describe(result: CatchUp, db_path: Path) -> str | None:
    """The line a command prints about it; None when there was nothing to catch up."""
    directory = journal.journal_dir(db_path)
    if result.waiting:
        return (
            f"{result.waiting} answered exchanges are only in the journal {directory} "
            f"(a proxy stopped before storing them) and could not be stored now: {result.why}. "
            f"Nothing is lost: the next hubscope command that can write to {db_path} "
            "(hubscope proxy, view, audit, export) stores them first."
        )
    if result.stored:
        return (
            f"stored {result.stored} answered exchanges a stopped proxy had left in the "
            f"journal {directory}"
        )
    return None


def waiting(db_path: Path) -> int:
    """How many exchanges abandoned journal runs hold beyond what the database has stored."""
    directory = journal.journal_dir(db_path)
    try:
        db = store.connect(db_path, readonly=True)
        try:
            positions = store.journal_positions(db)
        finally:
            db.conn.close()
    except Exception as error:  # unreadable: count every record
        log.debug("journal positions of %s unreadable: %s", db_path, error)
        positions = {}
    total = 0
    for run, fd in journal.abandoned(directory):  # a live proxy's writer stores its own
        try:
            for segment in run.segments:
                total += _exchanges_after(directory / segment, positions.get(segment, 0))
        finally:
            os.close(fd)
    return total


def _exchanges_after(path: Path, position: int) -> int:
    count = 0
    while True:
        try:
            chunk = journal.read_frames(path, position, max_bytes=32 << 20, max_frames=10_000)
        except FileNotFoundError:
            return count
        count += sum(1 for item in chunk.frames if item.kind == journal.EXCHANGE)
        if chunk.stop != "more" or chunk.end == position:
            return count
        position = chunk.end
