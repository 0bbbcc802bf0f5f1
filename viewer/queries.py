"""Read-side SQL: the filtered list with keyset paging, one exchange, devices, sessions.

Every function takes a read-only `Database` first and runs in a worker thread.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from proxy.store import findings as stored
from viewer.analysis import JUDGED, STORED, Badge, Badges
from viewer.filters import Filters, make_cursor
from viewer.filtersql import DRIVE_CAP, Findings, Plan, plan
from viewer.search import has_index

SCAN_BUDGET = 600
"""Rows judged on read per request when filtering on findings: only exchanges not judged
under the current rule set are (a database recorded by this version has none)."""

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
                "reason", "error", "proxy_status", "error_code")  # fmt: skip
        first = self.devices[0] if self.devices else {}
        return {
            **{k: self.row.get(k) for k in keep},
            "platform": first.get("platform"),
            "handle": first.get("handle"),
            "findings": {"error": self.badge.error, "warning": self.badge.warning,
                         "note": self.badge.note},
            "rules": [{"rule": r, "severity": s} for r, s in self.badge.rules],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the list, the cursor of the next one, and how many rows were judged."""

    items: list[Item]
    next_cursor: str | None
    scanned: int
    partial: bool = False
    """True when the findings filter stopped at its scan budget before filling the page."""


def select_rows(
    db: Database, where: list[str], params: dict[str, Any], order: str, limit: int,
    columns: list[str] | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Matching rows in order: keys first, so only the rows shown are read whole."""
    clause = f"where {' and '.join(where)}" if where else ""
    columns = [*(columns or []), *stored_columns(db)]
    if columns and "rs" not in params and any(":rs" in c for c in columns):
        params = {**params, "rs": stored.ruleset()}
    extra = "".join(f", {c}" for c in columns)
    sql = f"select e.rowid as rowid{extra} from exchanges e {clause} order by {order} limit {limit}"
    cursor = db.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    keyed = [dict(zip(names, r, strict=True)) for r in cursor]
    if not keyed:
        return []
    marks = ", ".join("?" for _ in keyed)
    found = {r["rowid"]: r for r in db.query(
        f"select rowid as rowid, * from exchanges where rowid in ({marks})",
        [k["rowid"] for k in keyed],
    )}  # fmt: skip
    return [found[k["rowid"]] | k for k in keyed if k["rowid"] in found]


def stored_columns(db: Database) -> list[str]:
    """The row's stored findings (`severity rule` lines, in rule order) and whether they
    were judged under the current rule set, when the file has them."""
    if not stored.has_tables(db):
        return []
    return [
        "(select group_concat(f.severity || ' ' || f.rule, char(10)) from findings f"
        f" where f.exchange_id = e.id) as {STORED}",
        f"exists (select 1 from findings_judged j where j.exchange_id = e.id"
        f" and j.ruleset = :rs) as {JUDGED}",
    ]


def count_capped(db: Database, sql: str, params: dict[str, Any]) -> int:
    """How many rows `sql` yields, counted up to DRIVE_CAP."""
    return int(db.conn.execute(f"select count(*) from ({sql} limit {DRIVE_CAP}) as capped", params)
               .fetchone()[0])  # fmt: skip


def plan_for(db: Database, filters: Filters) -> Plan:
    ruleset = stored.ruleset() if stored.has_tables(db) else None
    return plan(filters.node, lambda sql, params: count_capped(db, sql, params),
                indexed=has_index(db.conn), ruleset=ruleset)  # fmt: skip


def findings_of(badges: Badges) -> Findings:
    def of(row: dict[str, Any]) -> tuple[frozenset[str], tuple[str, ...]]:
        badge = badges.of(row)
        return badge.severities(), tuple(rule for rule, _ in badge.rules)

    return of


def list_page(
    db: Database,
    filters: Filters,
    cursor: tuple[float, str] | None,
    limit: int,
    badges: Badges,
    *,
    newest_first: bool = True,
) -> Page:
    """Newest first (or oldest first), after `cursor`; findings terms judge rows as they go."""
    query = plan_for(db, filters)
    findings = findings_of(badges)
    batch = limit + 1 if not query.needs_findings else max(limit * 4, 200)
    order, before = ("desc", "<") if newest_first else ("asc", ">")
    items: list[Item] = []
    scanned = 0
    position = cursor
    params = dict(query.params)
    while True:
        conds = list(query.where)
        if position is not None:
            conds.append(f"(e.started_at, e.id) {before} (:c_started, :c_id)")
            params.update(c_started=position[0], c_id=position[1])
        rows = select_rows(db, conds, params, f"e.started_at {order}, e.id {order}", batch,
                       query.columns)  # fmt: skip
        for row in rows:
            if len(items) == limit:
                last = items[-1].row
                return _finish(db, items, make_cursor(last["started_at"], last["id"]), scanned)
            scanned += 1
            position = (row["started_at"], row["id"])
            if query.keep(row, findings):
                items.append(Item(row, badges.of(row)))
        if len(rows) < batch:
            return _finish(db, items, None, scanned)
        if scanned >= SCAN_BUDGET and position is not None:
            return _finish(db, items, make_cursor(*position), scanned, partial=True)


def neighbours(
    db: Database, filters: Filters, row: dict[str, Any], badges: Badges
) -> tuple[str | None, str | None]:
    """The ids of the next newer and next older exchange under the same filter."""
    at = (row["started_at"], row["id"])
    newer = list_page(db, filters, at, 1, badges, newest_first=False).items
    older = list_page(db, filters, at, 1, badges).items
    return (newer[0].row["id"] if newer else None), (older[0].row["id"] if older else None)


def rows_after(
    db: Database, filters: Filters, after_rowid: int, badges: Badges, limit: int = 200
) -> tuple[list[Item], int]:
    """Rows recorded after `after_rowid` that match, oldest first; and the last rowid seen."""
    query = plan_for(db, filters)
    where = [*query.where, "e.rowid > :after"]
    rows = select_rows(db, where, {**query.params, "after": after_rowid}, "e.rowid", limit,
                   query.columns)  # fmt: skip
    last = rows[-1]["rowid"] if rows else after_rowid
    findings = findings_of(badges)
    items = [Item(row, badges.of(row)) for row in rows if query.keep(row, findings)]
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
    for row in select_rows(db, ["e.rowid > :after"], {"after": max(after, newest - limit)},
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


PLATFORM_SAMPLE = 5_000
"""Platforms of a bigger session are counted over its newest this many exchanges."""


def session_counts(db: Database, name: str) -> dict[str, Any] | None:
    """A session's row and its exchanges counted by operation, status and platform."""
    found = list(db.query("select * from sessions where name = ?", [name]))
    if not found:
        return None
    by_operation: dict[str, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    for operation, status, n in db.conn.execute(
        "select coalesce(operation, 'unknown'), coalesce(cast(status as text), 'failed'),"
        " count(*) from exchanges where session = ? group by 1, 2",
        [name],
    ):
        by_operation[operation] += n
        by_status[status] += n
    total = sum(by_status.values())
    platforms = [(r[0], r[1]) for r in db.conn.execute(
        "select d.platform, count(distinct d.exchange_id) as n from devices d"
        " where d.exchange_id in (select id from exchanges where session = ?"
        f" order by started_at desc limit {PLATFORM_SAMPLE})"
        " group by d.platform order by n desc", [name],
    )]  # fmt: skip
    return {
        "session": found[0],
        "total": total,
        "operation": sorted(by_operation.items(), key=lambda kv: (-kv[1], kv[0])),
        "status": sorted(by_status.items()),
        "platform": platforms,
        "platform_sampled": total > PLATFORM_SAMPLE,
    }


def session_names(db: Database, limit: int = 200) -> list[str]:
    """Recent session names, for the filter menu."""
    sql = f"select name from sessions order by started_at desc limit {limit}"
    return [r["name"] for r in db.query(sql)]
