"""Copy sessions from one store into another (a laptop's file into the team's PostgreSQL).

Idempotent: rows are keyed (exchange, device and session ids), rows already in the
destination are kept as they are and counted as such, so pushing twice adds nothing.
Columns the destination does not have (an older schema there) are left out, never an
error; the destination is migrated first when it is opened for writing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from proxy.store import findings, pg
from proxy.store.read import iter_exchange_rows

PAGE = 1000


@dataclass(slots=True)
class Pushed:
    """What a push found and what it added."""

    sessions: int = 0
    sessions_added: int = 0
    exchanges: int = 0
    exchanges_added: int = 0


def count(source: Database, session: str | None) -> int:
    where, args = ("where session = ?", [session]) if session is not None else ("", [])
    return int(source.execute(f"select count(*) from exchanges {where}", args).fetchone()[0])


def push(
    source: Database,
    destination: Database,
    session: str | None = None,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> Pushed:
    """Copy one session (or all) with its devices, tags and replay links; see the docstring."""
    result = Pushed()
    where, args = ("where name = ?", [session]) if session is not None else ("", [])
    sessions = list(source.query(f"select * from sessions {where} order by started_at", args))
    result.sessions = len(sessions)
    result.sessions_added = _insert(destination, "sessions", sessions)
    page: list[dict[str, Any]] = []
    for row in iter_exchange_rows(source, session, batch=PAGE):
        page.append(row)
        if len(page) == PAGE:
            result.exchanges_added += _copy_page(source, destination, page)
            result.exchanges += len(page)
            if on_progress is not None:
                on_progress(len(page))
            page = []
    if page:
        result.exchanges_added += _copy_page(source, destination, page)
        result.exchanges += len(page)
        if on_progress is not None:
            on_progress(len(page))
    return result


def _copy_page(source: Database, destination: Database, exchanges: list[dict[str, Any]]) -> int:
    ids = [row["id"] for row in exchanges]
    marks = ", ".join("?" * len(ids))
    devices = list(source.query(f"select * from devices where exchange_id in ({marks})", ids))
    tags = list(source.query(f"select * from device_tags where exchange_id in ({marks})", ids))
    links = list(
        source.query(f"select * from replay_links where replay_exchange_id in ({marks})", ids)
    )
    return _insert_all(
        destination,
        [("exchanges", exchanges), ("devices", devices), ("device_tags", tags),
         ("replay_links", links), *_judged(source, destination, ids)],
    )[0]  # fmt: skip


def _judged(
    source: Database, destination: Database, ids: list[str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The stored findings of the exchanges new to the destination (judged once, kept).

    Exchanges already there keep the findings they have, so no exchange ends up with two
    rule sets' findings mixed.
    """
    if not (findings.has_tables(source) and findings.has_tables(destination)):
        return []
    marks = ", ".join("?" * len(ids))
    present = {r["id"] for r in destination.query(
        f"select id from exchanges where id in ({marks})", ids)}  # fmt: skip
    new = [i for i in ids if i not in present]
    if not new:
        return []
    marks = ", ".join("?" * len(new))
    return [
        (table, list(source.query(f"select * from {table} where exchange_id in ({marks})", new)))
        for table in ("findings", "findings_judged")
    ]


def _insert_all(
    destination: Database, tables: Sequence[tuple[str, list[dict[str, Any]]]]
) -> list[int]:
    """Insert each table's rows in one transaction; how many of each were new."""
    if isinstance(destination, pg.PgDatabase):
        with destination.conn.raw.transaction():
            return [_insert(destination, table, rows) for table, rows in tables]
    with destination.conn:
        return [_insert(destination, table, rows) for table, rows in tables]


def _insert(destination: Database, table: str, rows: Iterable[dict[str, Any]]) -> int:
    wanted = _columns(destination, table) - {"rowid"}  # each store numbers its own rows
    kept = [{k: v for k, v in row.items() if k in wanted} for row in rows]
    if not kept:
        return 0
    if isinstance(destination, pg.PgDatabase):
        return pg.write.insert_many(destination.conn.raw, table, kept)
    added = 0
    for row in kept:
        names = ", ".join(f"[{name}]" for name in row)
        marks = ", ".join("?" * len(row))
        cursor = destination.conn.execute(
            f"insert or ignore into [{table}] ({names}) values ({marks})", list(row.values())
        )
        added += cursor.rowcount
    return added


def _columns(db: Database, table: str) -> set[str]:
    if isinstance(db, pg.PgDatabase):
        return {
            str(row["column_name"])
            for row in db.query(
                "select column_name from information_schema.columns "
                "where table_schema = current_schema() and table_name = ?",
                [table],
            )
        }
    return set(db[table].columns_dict)
