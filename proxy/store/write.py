"""Writing: sessions, batches of rows in one transaction, re-decoded rows in place."""

from __future__ import annotations

import logging
import operator
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlite_utils import Database

log = logging.getLogger(__name__)


def ensure_session(
    db: Database,
    name: str,
    *,
    kind: str,
    upstream: str | None = None,
    replay_of: str | None = None,
    note: str | None = None,
) -> None:
    """Create the session row unless it exists (a proxy may resume a named session)."""
    db.table("sessions").insert(
        {
            "name": name,
            "started_at": time.time(),
            "kind": kind,
            "upstream": upstream,
            "replay_of": replay_of,
            "note": note,
        },
        ignore=True,
    )


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows of one write batch, table by table."""

    exchanges: list[dict[str, Any]]
    devices: list[dict[str, Any]]
    device_tags: list[dict[str, Any]]
    more: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Rows of other tables, by table (per-exchange findings at ingest, say): written
    after the three above, in the same transaction."""


@contextmanager
def write_transaction(db: Database) -> Iterator[None]:
    """BEGIN IMMEDIATE: take the write lock up front, waiting on the busy timeout.

    A deferred transaction that reads first and then writes gets SQLITE_BUSY at once,
    with no waiting, when another process (a second proxy) wrote in between.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    db.conn.execute("COMMIT")


def write_rows(db: Database, rows: Rows) -> None:
    """Insert rows; in one transaction of its own unless one is already open."""
    if not db.conn.in_transaction:
        with write_transaction(db):
            write_rows(db, rows)
        return
    insert_many(db, "exchanges", rows.exchanges)
    insert_many(db, "devices", rows.devices)
    insert_many(db, "device_tags", rows.device_tags)
    for table, more in rows.more.items():
        insert_many(db, table, more)


def insert_many(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    """`INSERT OR REPLACE` rows of plain SQLite values with one `executemany` per column set.

    The recorder's hot path: sqlite-utils' `insert_all` spent 60 % of the write time
    checking every value for JSON conversion, which these rows (built by `rows.py`,
    already text, bytes or numbers) never need.
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for columns, group in groups.items():
        names = ", ".join(f"[{name}]" for name in columns)
        marks = ", ".join("?" * len(columns))
        values = operator.itemgetter(*columns)
        db.conn.executemany(
            f"INSERT OR REPLACE INTO [{table}] ({names}) VALUES ({marks})",
            [values(row) for row in group]
            if len(columns) > 1
            else [(row[columns[0]],) for row in group],
        )


def replace_decoded(db: Database, decoded: list[tuple[str, Rows]]) -> None:
    """Swap the decode columns, devices and tags of exchanges for freshly decoded ones."""
    with write_transaction(db):
        for exchange_id, rows in decoded:
            db.execute("delete from device_tags where exchange_id = ?", [exchange_id])
            db.execute("delete from devices where exchange_id = ?", [exchange_id])
            for update in rows.exchanges:
                db.table("exchanges").update(exchange_id, update)
            insert_many(db, "devices", rows.devices)
            insert_many(db, "device_tags", rows.device_tags)


Failure = Literal["busy", "full", "gone", "row", "fatal"]
"""How a failed write is handled: wait (`busy`), stop loudly (`full`), reopen the file
(`gone`), store that one exchange another way (`row`), or give up (`fatal`)."""

_ROW_ERRORS = (
    UnicodeError, OverflowError, ValueError, TypeError,
    sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError, sqlite3.ProgrammingError,
)  # fmt: skip


def classify(error: BaseException) -> Failure:
    """What kind of failure a write error is (SQLite's result codes, then Python's)."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return "busy"
    if name == "SQLITE_FULL" or "disk is full" in text:
        return "full"
    if isinstance(error, OSError) and error.errno in (28, 27, 122):  # ENOSPC, EFBIG, EDQUOT
        return "full"
    if name in ("SQLITE_READONLY_DBMOVED", "SQLITE_NOTADB", "SQLITE_CANTOPEN") or (
        "no such table" in text
    ):
        return "gone"
    if isinstance(error, _ROW_ERRORS) and not isinstance(error, sqlite3.OperationalError):
        return "row"
    if name in ("SQLITE_TOOBIG", "SQLITE_CONSTRAINT", "SQLITE_MISMATCH", "SQLITE_RANGE"):
        return "row"
    return "fatal"


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch write did: how many exchanges went in whole, reduced, or not at all."""

    stored: int
    reduced: list[tuple[str, str]]
    """(exchange id, why): stored without its decoded rows, because those could not be."""

    rejected: list[tuple[int, str]]
    """(index in the batch, why): not even the reduced row could be stored."""


def write_batch(
    db: Database,
    batch: Sequence[Rows],
    *,
    progress: Mapping[str, int] | None = None,
    fallback: Any = None,
) -> BatchResult:
    """Write each exchange's rows and the journal progress in one transaction.

    The fast path inserts the whole batch with one `executemany` per table. When a row
    cannot be written, the batch is written again one exchange per savepoint, so the bad
    one fails alone: it is stored reduced (`fallback(index, error)` gives its row:
    identity, raw bodies and the reason) or, failing that, reported as rejected. Errors
    that are not about a row (locked, disk full) propagate for the caller to handle.
    """
    try:
        with write_transaction(db):
            write_rows(db, merge(batch))
            _set_progress(db, progress)
        return BatchResult(stored=len(batch), reduced=[], rejected=[])
    except Exception as error:
        if classify(error) != "row":
            raise
    return _write_isolated(db, batch, progress, fallback)


def _write_isolated(
    db: Database, batch: Sequence[Rows], progress: Mapping[str, int] | None, fallback: Any
) -> BatchResult:
    reduced: list[tuple[str, str]] = []
    rejected: list[tuple[int, str]] = []
    with write_transaction(db):
        for index, rows in enumerate(batch):
            why = _try(db, lambda rows=rows: write_rows(db, rows))
            if why is None:
                continue
            replacement = fallback(index, why) if fallback is not None else None
            if (
                replacement is not None
                and _try(db, lambda r=replacement: write_rows(db, r)) is None
            ):
                reduced.append((str(replacement.exchanges[0]["id"]), why))
                continue
            rejected.append((index, why))
        _set_progress(db, progress)
    return BatchResult(stored=len(batch) - len(rejected), reduced=reduced, rejected=rejected)


def _try(db: Database, write: Any) -> str | None:
    """Run `write` in a savepoint; None when it worked, else why it failed (rolled back)."""
    db.conn.execute("SAVEPOINT one_exchange")
    try:
        write()
    except Exception as error:
        db.conn.execute("ROLLBACK TO one_exchange")
        db.conn.execute("RELEASE one_exchange")
        if classify(error) != "row":
            raise
        return f"{type(error).__name__}: {error}"
    db.conn.execute("RELEASE one_exchange")
    return None


def merge(batch: Sequence[Rows]) -> Rows:
    """The rows of many exchanges as one `Rows`, table by table."""
    out = Rows(exchanges=[], devices=[], device_tags=[])
    for rows in batch:
        out.exchanges.extend(rows.exchanges)
        out.devices.extend(rows.devices)
        out.device_tags.extend(rows.device_tags)
        for table, more in rows.more.items():
            out.more.setdefault(table, []).extend(more)
    return out


def _set_progress(db: Database, progress: Mapping[str, int] | None) -> None:
    if progress:
        now = time.time()
        db.conn.executemany(
            "INSERT OR REPLACE INTO journal_progress (segment, position, updated_at) "
            "VALUES (?, ?, ?)",
            [(segment, position, now) for segment, position in progress.items()],
        )


def journal_positions(db: Database) -> dict[str, int]:
    """How far into each journal segment this database has stored."""
    return {
        str(segment): int(position)
        for segment, position in db.conn.execute("select segment, position from journal_progress")
    }


def forget_segments(db: Database, segments: Sequence[str]) -> None:
    """Drop the progress rows of journal segments that were stored in full and deleted."""
    if segments:
        with write_transaction(db):
            db.conn.executemany(
                "delete from journal_progress where segment = ?", [(s,) for s in segments]
            )
