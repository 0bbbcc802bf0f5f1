"""Read-side SQL: the filtered list with keyset paging, one exchange, devices, sessions.

Every function takes a read-only `Database` first and runs in a worker thread.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from viewer.analysis import Badge, Badges
from viewer.filters import COUNT, SELECTIVE, Filters, make_cursor

DRIVE_CAP = 5000
"""A filter matching fewer rows than this drives the query (its matches listed, then sorted)."""

SCAN_BUDGET = 600
"""Rows judged per request when filtering on findings (they are not in SQL)."""

DEVICE_KEYS = ("handle", "registration_id", "installation_id")
TIMELINE_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Item:
    """One row of the exchange list."""

    row: dict[str, Any]
    badge: Badge
    devices: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        keep = ("id", "rowid", "session", "started_at", "duration_ms", "method", "url",
                "path", "operation", "hub", "resource_id", "api_version", "status",
                "reason", "error", "proxy_status")  # fmt: skip
        first = self.devices[0] if self.devices else {}
        return {
            **{k: self.row.get(k) for k in keep},
            "platform": first.get("platform"),
            "handle": first.get("handle"),
            "findings": {"error": self.badge.error, "warning": self.badge.warning,
                         "note": self.badge.note},
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the list, the cursor of the next one, and how many rows were judged."""

    items: list[Item]
    next_cursor: str | None
    scanned: int
    partial: bool = False
    """True when the findings filter stopped at its scan budget before filling the page."""


def _select(
    db: Database, where: list[str], params: dict[str, Any], order: str, limit: int
) -> list[dict[str, Any]]:
    """Matching rows in order: keys first, so only the rows shown are read whole."""
    clause = f"where {' and '.join(where)}" if where else ""
    sql = f"select e.rowid from exchanges e {clause} order by {order} limit {limit}"
    keys = [r[0] for r in db.conn.execute(sql, params)]
    if not keys:
        return []
    marks = ", ".join("?" for _ in keys)
    found = {r["rowid"]: r for r in db.query(
        f"select rowid as rowid, * from exchanges where rowid in ({marks})", keys
    )}  # fmt: skip
    return [found[k] for k in keys if k in found]


def driver(db: Database, filters: Filters) -> str | None:
    """The selective filter with the fewest matches, if it has fewer than DRIVE_CAP."""
    params = filters.params()
    best, fewest = None, DRIVE_CAP
    for name in SELECTIVE:
        if name in params:
            sql = f"select count(*) from ({COUNT[name]} limit {DRIVE_CAP})"
            count = db.conn.execute(sql, {name: params[name]}).fetchone()[0]
            if count < fewest:
                best, fewest = name, count
    return best


def list_page(
    db: Database,
    filters: Filters,
    cursor: tuple[float, str] | None,
    limit: int,
    badges: Badges,
) -> Page:
    """Newest first, after `cursor`; findings filtering judges rows as it goes."""
    where, params = filters.sql(driver(db, filters))
    batch = limit + 1 if filters.findings is None else max(limit * 4, 200)
    items: list[Item] = []
    scanned = 0
    position = cursor
    while True:
        conds = list(where)
        if position is not None:
            conds.append("(e.started_at, e.id) < (:c_started, :c_id)")
            params.update(c_started=position[0], c_id=position[1])
        rows = _select(db, conds, params, "e.started_at desc, e.id desc", batch)
        for row in rows:
            if len(items) == limit:
                last = items[-1].row
                return _finish(db, items, make_cursor(last["started_at"], last["id"]), scanned)
            scanned += 1
            position = (row["started_at"], row["id"])
            badge = badges.of(row)
            if filters.findings is None or badge.has(filters.findings):
                items.append(Item(row, badge))
        if len(rows) < batch:
            return _finish(db, items, None, scanned)
        if scanned >= SCAN_BUDGET and position is not None:
            return _finish(db, items, make_cursor(*position), scanned, partial=True)


def rows_after(
    db: Database, filters: Filters, after_rowid: int, badges: Badges, limit: int = 200
) -> tuple[list[Item], int]:
    """Rows recorded after `after_rowid` that match, oldest first; and the last rowid seen."""
    where, params = filters.sql()
    where.append("e.rowid > :after")
    params["after"] = after_rowid
    rows = _select(db, where, params, "e.rowid", limit)
    last = rows[-1]["rowid"] if rows else after_rowid
    items = []
    for row in rows:
        badge = badges.of(row)
        if filters.findings is None or badge.has(filters.findings):
            items.append(Item(row, badge))
    return _finish(db, items, None, len(rows)).items, last


def _finish(
    db: Database, items: list[Item], cursor: str | None, scanned: int, *, partial: bool = False
) -> Page:
    by_exchange = devices_of(db, [item.row["id"] for item in items])
    full = [Item(i.row, i.badge, by_exchange.get(i.row["id"], [])) for i in items]
    return Page(full, cursor, scanned, partial)


def devices_of(db: Database, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Device rows of these exchanges, request side first, in body order."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not ids:
        return out
    marks = ", ".join("?" for _ in ids)
    sql = (
        f"select * from devices where exchange_id in ({marks})"
        " order by exchange_id, direction, position"
    )
    for row in db.query(sql, ids):
        out[row["exchange_id"]].append(row)
    return out


def warm(db: Database, badges: Badges, after: int, newest: int, limit: int = 500) -> None:
    """Judge rows recorded after `after` (at most the newest `limit`) so lists open warm."""
    for row in _select(db, ["e.rowid > :after"], {"after": max(after, newest - limit)},
                       "e.rowid desc", limit):  # fmt: skip
        badges.of(row)


def max_rowid(db: Database) -> int:
    row = next(db.query("select max(rowid) as m from exchanges"))
    return int(row["m"] or 0)


def exchange_row(db: Database, ident: str) -> dict[str, Any] | None:
    rows = list(db.query("select rowid as rowid, * from exchanges where id = ?", [ident]))
    return rows[0] if rows else None


History = list[tuple[dict[str, Any], list[dict[str, Any]]]]


def timeline(db: Database, key: str, value: str) -> History:
    """Every exchange that touched the device (by `key`), oldest first, with its snapshots."""
    if key not in DEVICE_KEYS:
        raise ValueError(f"unknown device key {key!r}")
    ids_sql = f"select exchange_id from devices where {key} = :v"
    if key != "handle":
        ids_sql += " union select id from exchanges where resource_id = :v"
    sql = (
        f"select rowid as rowid, * from exchanges where id in ({ids_sql})"
        f" order by started_at, id limit {TIMELINE_LIMIT}"
    )
    rows = list(db.query(sql, {"v": value}))
    devices = devices_of(db, [r["id"] for r in rows])
    return [(r, [d for d in devices.get(r["id"], []) if d[key] == value]) for r in rows]


def sessions(db: Database) -> list[dict[str, Any]]:
    """Every session, newest first, with its exchange count."""
    sql = (
        "select s.*, (select count(*) from exchanges e where e.session = s.name) as exchanges"
        " from sessions s order by s.started_at desc"
    )
    return list(db.query(sql))


def session_version(db: Database, name: str) -> tuple[Any, ...] | None:
    """The newest exchange of a session (by time, via the index): changes when one is added."""
    row = db.conn.execute(
        "select started_at, rowid from exchanges where session = ?"
        " order by started_at desc limit 1",
        [name],
    ).fetchone()
    return tuple(row) if row else None


def session_counts(db: Database, name: str) -> dict[str, Any] | None:
    """A session's row and its exchanges counted by operation, status and platform."""
    found = list(db.query("select * from sessions where name = ?", [name]))
    if not found:
        return None

    def counts(sql: str) -> list[tuple[Any, int]]:
        return [(r["k"], r["n"]) for r in db.query(sql, [name])]

    return {
        "session": found[0],
        "total": counts("select 'all' as k, count(*) as n from exchanges where session = ?")[0][1],
        "operation": counts(
            "select coalesce(operation, 'unknown') as k, count(*) as n from exchanges"
            " where session = ? group by k order by n desc"
        ),
        "status": counts(
            "select coalesce(cast(status as text), 'failed') as k, count(*) as n from exchanges"
            " where session = ? group by k order by k"
        ),
        "platform": counts(
            "select d.platform as k, count(distinct d.exchange_id) as n from devices d"
            " join exchanges e on e.id = d.exchange_id where e.session = ?"
            " group by k order by n desc"
        ),
    }


def session_names(db: Database, limit: int = 200) -> list[str]:
    """Recent session names, for the filter menu."""
    sql = f"select name from sessions order by started_at desc limit {limit}"
    return [r["name"] for r in db.query(sql)]
