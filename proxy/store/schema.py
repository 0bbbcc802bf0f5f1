"""The schema, versioned with sqlite-utils migrations, and opening a database."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 30_000
PAGE_SIZE = 8192
"""Bytes per page of a database created from now on (an older file keeps its own). An
`exchanges` row, bodies and headers, is 2–3 KB: SQLite's default 4 KiB page held one
and left 40 % of it empty, and every page is written twice (WAL, then checkpoint). An
8 KiB page holds three: 3–8 % more exchanges stored per second (docs/benchmarks.md)."""
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


SQLITE_HEADER = b"SQLite format 3\x00"


class NotAHubscopeDatabase(ValueError):
    """The file is not a database, or a database of something else; nothing was written to it."""


def sqlite_tables(path: str | Path) -> list[str] | None:
    """The tables of an existing SQLite file, read without writing; None for a new or empty file.

    Raises NotAHubscopeDatabase when the path is not an SQLite file.
    """
    path = Path(path)
    if not path.exists():
        return None
    if path.is_dir():
        raise NotAHubscopeDatabase(f"{path} is a directory, not a database")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise NotAHubscopeDatabase(f"cannot read {path}: {error.strerror or error}") from None
    if not header:
        return None
    if header != SQLITE_HEADER:
        raise NotAHubscopeDatabase(f"{path} is not a database (not an SQLite file)")
    # Without a -wal file everything is in the main file: read it as immutable, so that
    # SQLite creates no -wal or -shm files beside somebody else's WAL-mode database.
    wal = path.with_name(f"{path.name}-wal")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if wal.exists() else "&immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            names = [
                row[0]
                for row in conn.execute(
                    "select name from sqlite_master where type in ('table', 'view') "
                    "and name not like 'sqlite_%' order by name"
                )
            ]
            if (
                "_sqlite_migrations" in names
                and not conn.execute(
                    "select count(*) from _sqlite_migrations where migration_set = ?",
                    [migrations.name],
                ).fetchone()[0]
            ):
                names.remove("_sqlite_migrations")
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise NotAHubscopeDatabase(f"{path} is not a readable database: {error}") from None
    return names


def is_hubscope(tables: list[str]) -> bool:
    """Whether a file's tables are hubscope's (its migrations are recorded in the file)."""
    return "_sqlite_migrations" in tables


def check(path: str | Path, *, init: bool = False, readonly: bool = False) -> None:
    """Refuse, before anything is written, a file hubscope must not use as its database.

    A missing or empty file is created; a hubscope database is used as it is; an SQLite
    file holding other tables gets hubscope's tables only when `init` asks for it.
    """
    path = Path(path)
    tables = sqlite_tables(path)
    if tables is None and readonly:
        empty = path.exists()
        raise NotAHubscopeDatabase(f"{path} is empty" if empty else f"{path}: no such database")
    if tables is None or is_hubscope(tables):
        return
    if not tables and not readonly:
        return
    listed = ", ".join(tables[:5]) + (", …" if len(tables) > 5 else "")
    held = f"it holds {listed}" if tables else "it has no tables"
    if readonly:
        raise NotAHubscopeDatabase(f"{path} is not a hubscope database ({held})")
    if not init:
        raise NotAHubscopeDatabase(
            f"{path} is not a hubscope database ({held}); pass --init to add hubscope's "
            "tables to it, or choose another --db"
        )


def connect(path: str | Path, *, readonly: bool = False, init: bool = False) -> Database:
    """Open a hubscope database; the writer (readonly=False) also applies migrations and WAL.

    Raises NotAHubscopeDatabase, having written nothing, for a file that is not one
    (`init=True` adds hubscope's tables to an SQLite file that holds others).
    A `postgresql://` URL opens that database instead (`proxy/store/location.py`).
    """
    if isinstance(path, str) and path.lower().startswith(("postgresql://", "postgres://")):
        from proxy.store.location import open_db

        return open_db(path, readonly=readonly)
    check(path, init=init, readonly=readonly)
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
    db.conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only a file still empty takes it
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


SEARCH_TEXT = (
    "{p}url || char(10) || replace(coalesce({p}request_headers, ''), '\", \"', ': ')"
    " || char(10) || replace(coalesce({p}response_headers, ''), '\", \"', ': ')"
    " || char(10) || substr(cast(coalesce({p}request_body, '') as text), 1, 65536)"
    " || char(10) || substr(cast(coalesce({p}response_body, '') as text), 1, 65536)"
)
"""What substring search sees of an exchange: the URL, headers as `Name: value` (the JSON
pairs with `", "` turned into `: `) and the first 64 KiB of each body. `{p}` is a row prefix."""


@migrations()
def m006_search_index(db: Database) -> None:
    """Substring search: a trigram index filled by the viewer, off the recording path.

    Replaces m003's word index and its insert trigger (60–110 µs per exchange on the
    writer). Contentless with detail=none: the index only proposes candidate rows (every
    trigram of a term present); the viewer confirms each with `instr` over SEARCH_TEXT.
    `exchanges_fts_progress.indexed_upto` is the highest exchanges rowid indexed.
    """
    db.execute("drop trigger if exists exchanges_fts_insert")
    db.execute("drop table if exists exchanges_fts")
    db.execute(
        "create virtual table exchanges_fts using fts5("
        "text, content='', detail=none, tokenize='trigram')"
    )
    db.execute("create table if not exists exchanges_fts_progress (indexed_upto integer not null)")
    db.execute("insert into exchanges_fts_progress (indexed_upto) values (0)")
    db.table("exchanges").create_index(["status"], if_not_exists=True)
    db.table("exchanges").create_index(["error_code"], if_not_exists=True)
    # A session's summary (counts, status over time, latency) read from the index alone:
    # bodies sit before these columns in each row. It serves all (session, started_at) did.
    db.table("exchanges").create_index(
        ["session", "started_at", "status", "duration_ms", "operation"],
        index_name="idx_exchanges_session_summary",
        if_not_exists=True,
    )
    db.execute("drop index if exists idx_exchanges_session_started_at")


@migrations()
def m007_journal_progress(db: Database) -> None:
    """How far the writer has stored each capture-journal segment (in the rows' transaction)."""
    db.table("journal_progress").create(
        {"segment": str, "position": int, "updated_at": float}, pk="segment", if_not_exists=True
    )


@migrations()
def m008_findings(db: Database) -> None:
    """Per-exchange findings judged once (at ingest or by the first audit), and under which
    rule set each exchange was judged (`proxy/store/findings.py`)."""
    db.execute(
        "create table if not exists findings ("
        "exchange_id text not null, position integer not null, rule text not null,"
        " severity text not null, actual text, pointer text, expected text, spec text,"
        " source text, primary key (exchange_id, position))"
    )
    db.execute("create index if not exists idx_findings_rule on findings (rule, exchange_id)")
    db.execute(
        "create index if not exists idx_findings_severity on findings (severity, exchange_id)"
    )
    db.execute(
        "create table if not exists findings_judged ("
        "exchange_id text primary key, ruleset text not null)"
    )


@migrations()
def m010_instance(db: Database) -> None:
    """Which proxy instance (host/pid/listen address) recorded each exchange; its twin is in
    `proxy/store/pg/schema.py`."""
    db.table("exchanges").add_column("instance", str)
    db.table("exchanges").create_index(["instance"], if_not_exists=True)
