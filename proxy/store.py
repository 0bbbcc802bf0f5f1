"""The SQLite store: schema (versioned with sqlite-utils migrations) and rows ↔ records.

The only module that names tables. Readers open it read-only; one writer writes.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .exchange import Exchange, Message

BUSY_TIMEOUT_MS = 30_000
migrations = Migrations("hubscope")


@migrations()
def m001_sessions_and_exchanges(db: Database) -> None:
    db.table("sessions").create(
        {
            "name": str,
            "started_at": float,
            "kind": str,
            "upstream": str,
            "replay_of": str,
            "note": str,
        },
        pk="name",
    )
    db.table("exchanges").create(
        {
            "id": str,
            "session": str,
            "started_at": float,
            "duration_ms": float,
            "method": str,
            "url": str,
            "host": str,
            "path": str,
            "query": str,
            "client": str,
            "request_headers": str,
            "request_body": bytes,
            "request_body_size": int,
            "request_body_sha256": str,
            "request_truncated": int,
            "status": int,
            "reason": str,
            "response_headers": str,
            "response_body": bytes,
            "response_body_size": int,
            "response_body_sha256": str,
            "response_truncated": int,
            "error": str,
            "proxy_status": int,
            "sas_verdict": str,
        },
        pk="id",
        foreign_keys=[("session", "sessions", "name")],
    )
    db.table("exchanges").create_index(["session", "started_at"])
    db.table("exchanges").create_index(["started_at", "id"])


@migrations()
def m002_decoded(db: Database) -> None:
    exchanges = db.table("exchanges")
    for name, kind in [
        ("operation", str),
        ("hub", str),
        ("resource_id", str),
        ("api_version", str),
        ("request_format", str),
        ("request_decode_error", str),
        ("response_format", str),
        ("response_decode_error", str),
        ("error_code", str),
        ("error_detail", str),
        ("tracking_id", str),
        ("patch", str),
    ]:
        exchanges.add_column(name, kind)
    exchanges.create_index(["operation"])
    db.table("devices").create(
        {
            "id": str,
            "exchange_id": str,
            "direction": str,
            "position": int,
            "kind": str,
            "source_type": str,
            "platform": str,
            "handle": str,
            "registration_id": str,
            "installation_id": str,
            "user_id": str,
            "tags": str,
            "expiration": str,
            "etag": str,
            "push_variables": str,
            "push_channel_expired": int,
            "template_name": str,
            "template_body": str,
            "templates": str,
            "extra": str,
            "elements": str,
        },
        pk="id",
        foreign_keys=[("exchange_id", "exchanges", "id")],
    )
    for column in ("exchange_id", "handle", "registration_id", "installation_id", "platform"):
        db.table("devices").create_index([column])
    db.table("device_tags").create(
        {"device_id": str, "exchange_id": str, "tag": str},
        pk=("device_id", "tag"),
        foreign_keys=[("device_id", "devices", "id")],
    )
    db.table("device_tags").create_index(["tag"])


def connect(path: str | Path, *, readonly: bool = False) -> Database:
    """Open the database; the writer (readonly=False) also applies migrations and WAL."""
    if readonly:
        conn = sqlite3.connect(
            f"file:{Path(path).resolve()}?mode=ro", uri=True, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return Database(conn)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db = Database(conn)
    _prepare(db)
    return db


def _prepare(db: Database, *, attempts: int = 100) -> None:
    """WAL and migrations, retried: processes opening a new file at once race to migrate.

    A read transaction that must upgrade to write gets SQLITE_BUSY at once (no busy
    wait), and the loser may find the table it wanted to create already there. Each
    migration is atomic, so retrying after a short random sleep is safe.
    """
    for attempt in range(attempts):
        try:
            db.enable_wal()
            db.conn.execute("PRAGMA synchronous = NORMAL")
            migrations.apply(db)
            return
        except (sqlite3.OperationalError, sqlite3.IntegrityError):
            if db.conn.in_transaction:
                db.conn.rollback()
            if attempt == attempts - 1:
                raise
            time.sleep(0.02 + random.random() * 0.05)


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


def headers_to_text(headers: Iterable[tuple[str, str]]) -> str:
    return json.dumps([list(pair) for pair in headers], ensure_ascii=False)


def headers_from_text(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    return tuple((str(k), str(v)) for k, v in json.loads(text))


def exchange_from_row(row: dict[str, Any]) -> Exchange:
    """The recorded (redacted, possibly truncated) exchange of a row."""
    response = None
    if row.get("status") is not None or row.get("response_headers"):
        response = Message(
            headers=headers_from_text(row.get("response_headers")),
            body=row.get("response_body") or b"",
        )
    return Exchange(
        id=row["id"],
        session=row["session"],
        started_at=row["started_at"],
        duration_ms=row["duration_ms"] or 0.0,
        method=row["method"],
        url=row["url"],
        request=Message(
            headers=headers_from_text(row.get("request_headers")),
            body=row.get("request_body") or b"",
        ),
        status=row.get("status"),
        reason=row.get("reason"),
        response=response,
        error=row.get("error"),
        client=row.get("client"),
        proxy_status=row.get("proxy_status"),
        sas_verdict=row.get("sas_verdict"),
    )


def iter_exchange_rows(
    db: Database, session: str | None = None, *, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every exchange row in time order, optionally of one session, read in pages."""
    where = "where session = :session" if session is not None else ""
    last_started, last_id = -1.0, ""
    while True:
        page = list(
            db.query(
                f"select * from exchanges {where} {'and' if where else 'where'} "
                "(started_at, id) > (:started, :id) order by started_at, id limit :limit",
                {"session": session, "started": last_started, "id": last_id, "limit": batch},
            )
        )
        if not page:
            return
        yield from page
        last_started, last_id = page[-1]["started_at"], page[-1]["id"]


@migrations()
def m003_viewer_indexes(db: Database) -> None:
    """Full-text search over bodies (fed by a trigger) and indexes for the viewer's filters."""
    db.execute(
        "create virtual table if not exists exchanges_fts using fts5("
        "request, response, content='', tokenize='unicode61')"
    )
    # Bodies are BLOBs; index their first 64 KiB as text so the writer's cost stays bounded.
    fts_values = (
        "substr(cast({p}request_body as text), 1, 65536), "
        "substr(cast({p}response_body as text), 1, 65536)"
    )
    db.execute(
        "create trigger if not exists exchanges_fts_insert after insert on exchanges begin "
        "insert into exchanges_fts(rowid, request, response) "
        f"values (new.rowid, {fts_values.format(p='new.')}); end"
    )
    db.execute(
        "insert into exchanges_fts(rowid, request, response) "
        f"select rowid, {fts_values.format(p='')} from exchanges"
    )
    db.table("exchanges").create_index(["resource_id"], if_not_exists=True)
    db.table("exchanges").create_index(["operation", "started_at"], if_not_exists=True)


@migrations()
def m004_replay_links(db: Database) -> None:
    """Which original exchange each replayed exchange re-sent, and how its answer compared."""
    db.table("replay_links").create(
        {
            "replay_exchange_id": str,
            "original_exchange_id": str,
            "verdict": str,
            "diff": str,
        },
        pk="replay_exchange_id",
        foreign_keys=[
            ("replay_exchange_id", "exchanges", "id"),
            ("original_exchange_id", "exchanges", "id"),
        ],
        if_not_exists=True,
    )
    db.table("replay_links").create_index(["original_exchange_id"], if_not_exists=True)


@migrations()
def m005_decode_notes(db: Database) -> None:
    """What the decoders noticed that is not an error (JSON labelled XML, duplicate keys, …)."""
    db.table("exchanges").add_column("decode_notes", str)
