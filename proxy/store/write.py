"""Writing: sessions, batches of rows in one transaction, re-decoded rows in place."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database


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
    """Insert one batch in one transaction."""
    with write_transaction(db):
        insert_many(db, "exchanges", rows.exchanges)
        insert_many(db, "devices", rows.devices)
        insert_many(db, "device_tags", rows.device_tags)


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
        db.conn.executemany(
            f"INSERT OR REPLACE INTO [{table}] ({names}) VALUES ({marks})",
            [tuple(row[name] for name in columns) for row in group],
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
