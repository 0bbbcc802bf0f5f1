"""Writing on PostgreSQL: sessions, batches with their journal positions, idempotently.

Exchange ids are keys, so every insert is `ON CONFLICT DO NOTHING`: a batch written
twice (a writer that retried after losing its connection, a second `hubscope push`)
adds nothing, and N proxies writing at once never wait on each other's rows. A row
PostgreSQL will not take (a NUL in text, which SQLite accepts) fails alone in a
savepoint and is stored reduced, as on SQLite.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import errors

from proxy.store.pg.keys import CONFLICT_KEYS
from proxy.store.write import BatchResult, Failure, Rows, merge


def ensure_session(conn: psycopg.Connection[Any], row: Mapping[str, Any]) -> None:
    """Create the session row unless it exists (as `proxy.store.ensure_session`)."""
    insert_many(conn, "sessions", [{"started_at": time.time(), **row}])


def insert_many(
    conn: psycopg.Connection[Any], table: str, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert rows that are not there yet (by key); one `executemany` per column set."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    inserted = 0
    for columns, group in groups.items():
        names = ", ".join(f'"{name}"' for name in columns)
        marks = ", ".join(["%s"] * len(columns))
        values = operator.itemgetter(*columns)
        with conn.cursor() as cursor:
            cursor.executemany(
                f'insert into "{table}" ({names}) values ({marks}) '
                f"on conflict ({CONFLICT_KEYS[table]}) do nothing",
                [clean(values(r) if len(columns) > 1 else (r[columns[0]],)) for r in group],
            )
            inserted += max(cursor.rowcount, 0)
    return inserted


def clean(values: Any) -> tuple[Any, ...]:
    """PostgreSQL's text cannot hold NUL: U+FFFD stands in for it (raw bodies are bytea)."""
    return tuple(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in values)


def write_rows(conn: psycopg.Connection[Any], rows: Rows) -> None:
    insert_many(conn, "exchanges", rows.exchanges)
    insert_many(conn, "devices", rows.devices)
    insert_many(conn, "device_tags", rows.device_tags)


def write_batch(
    conn: psycopg.Connection[Any],
    batch: Sequence[Rows],
    *,
    progress: Mapping[str, int] | None = None,
    fallback: Callable[[int, str], Rows | None] | None = None,
) -> BatchResult:
    """Each exchange's rows and the progress in one transaction (as `store.write_batch`)."""
    try:
        with conn.transaction():
            write_rows(conn, merge(batch))
            set_progress(conn, progress)
        return BatchResult(stored=len(batch), reduced=[], rejected=[])
    except Exception as error:
        if classify(error) != "row":
            raise
    reduced: list[tuple[str, str]] = []
    rejected: list[tuple[int, str]] = []
    with conn.transaction():
        for index, rows in enumerate(batch):
            why = _try(conn, rows)
            if why is None:
                continue
            replacement = fallback(index, why) if fallback is not None else None
            if replacement is not None and _try(conn, replacement) is None:
                reduced.append((str(replacement.exchanges[0]["id"]), why))
                continue
            rejected.append((index, why))
        set_progress(conn, progress)
    return BatchResult(stored=len(batch) - len(rejected), reduced=reduced, rejected=rejected)


def _try(conn: psycopg.Connection[Any], rows: Rows) -> str | None:
    try:
        with conn.transaction():  # a savepoint inside the batch's transaction
            write_rows(conn, rows)
    except Exception as error:
        if classify(error) != "row":
            raise
        return f"{type(error).__name__}: {error}"
    return None


def set_progress(conn: psycopg.Connection[Any], progress: Mapping[str, int] | None) -> None:
    if progress:
        now = time.time()
        with conn.cursor() as cursor:
            cursor.executemany(
                "insert into journal_progress (segment, position, updated_at) values (%s, %s, %s) "
                "on conflict (segment) do update set position = excluded.position, "
                "updated_at = excluded.updated_at",
                [(segment, position, now) for segment, position in progress.items()],
            )


def journal_positions(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return {
        str(segment): int(position)
        for segment, position in conn.execute("select segment, position from journal_progress")
    }


def forget_segments(conn: psycopg.Connection[Any], segments: Sequence[str]) -> None:
    if segments:
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(
                "delete from journal_progress where segment = %s", [(s,) for s in segments]
            )


_ROW_ERRORS = (
    UnicodeError, OverflowError, ValueError, TypeError,
    psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError,
)  # fmt: skip


def classify(error: BaseException) -> Failure:
    """What kind of failure a PostgreSQL write error is (SQLSTATE classes, then Python's)."""
    if isinstance(error, errors.DiskFull | errors.OutOfMemory) or (
        isinstance(error, OSError) and error.errno in (28, 27, 122)
    ):
        return "full"
    if isinstance(
        error,
        errors.UndefinedTable
        | errors.UndefinedColumn
        | errors.InsufficientPrivilege
        | errors.ReadOnlySqlTransaction
        | errors.InvalidPassword
        | errors.InvalidAuthorizationSpecification,
    ):
        return "fatal"
    if isinstance(
        error,
        psycopg.OperationalError
        | errors.AdminShutdown
        | errors.CannotConnectNow
        | errors.SerializationFailure
        | errors.DeadlockDetected
        | errors.LockNotAvailable
        | errors.TooManyConnections,
    ) or (isinstance(error, psycopg.InterfaceError) and "closed" in str(error)):
        return "busy"
    if isinstance(error, _ROW_ERRORS):
        return "row"
    return "fatal"
