"""Devices, installations and tags as pages of their own, each leading to a device timeline.

The device index lists the devices seen in the exchanges a filter matches, most recently
seen first: the exchanges are walked newest first (the list's own query), and each device
is summed up from its own rows through the `devices` indexes. Tags are listed by a skip
scan of the tag index, so neither page reads the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from viewer import queries
from viewer.analysis import Badges
from viewer.filters import Filters, make_cursor, parse_cursor

BY = {"handle": "handle", "installation": "installation_id", "registration": "registration_id"}
"""What one entry of the device index is: a handle, an installation or a registration."""

SCAN_LIMIT = 5000
"""Exchanges walked per page of the device index."""

TAG_COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class DevicePage:
    devices: list[dict[str, Any]]
    next_cursor: str | None
    scanned: int


def device_index(
    db: Database, filters: Filters, by: str, cursor: tuple[float, str] | None, limit: int,
    badges: Badges,
) -> DevicePage:  # fmt: skip
    """The distinct devices (by `by`) of the matching exchanges, most recently seen first."""
    column = BY[by]
    seen: dict[str, None] = {}
    scanned, position = 0, cursor
    while scanned < SCAN_LIMIT:
        page = queries.list_page(db, filters, position, 200, badges)
        for item in page.items:
            scanned += 1
            position = (item.row["started_at"], item.row["id"])
            for device in item.devices:
                value = device.get(column)
                if value and value not in seen and not _listed_before(db, column, value, cursor):
                    seen[value] = None
            if len(seen) >= limit:
                return _page(db, column, seen, make_cursor(*position), scanned)
        if page.next_cursor is None:
            return _page(db, column, seen, None, scanned)
        position = parse_cursor(page.next_cursor)
    return _page(db, column, seen, make_cursor(*position) if position else None, scanned)


def _page(
    db: Database, column: str, seen: dict[str, None], cursor: str | None, scanned: int
) -> DevicePage:
    return DevicePage([summary(db, column, v) for v in seen], cursor, scanned)


def _listed_before(db: Database, column: str, value: str, cursor: tuple[float, str] | None) -> bool:
    """Whether an earlier page already listed this device (it was seen after the cursor)."""
    if cursor is None:
        return False
    row = db.conn.execute(
        f"select 1 from devices d join exchanges e on e.id = d.exchange_id where d.{column} = ?"
        " and (e.started_at, e.id) >= (?, ?) limit 1",
        [value, cursor[0], cursor[1]],
    ).fetchone()
    return row is not None


def summary(db: Database, column: str, value: str) -> dict[str, Any]:
    """One device: its newest snapshot, how often and when it was seen, how its calls went."""
    ids = f"select exchange_id from devices where {column} = :v"
    counts = db.conn.execute(
        f"select count(*), max(started_at), min(started_at),"
        f" sum(status is null or status >= 400), count(distinct session)"
        f" from exchanges where id in ({ids})",
        {"v": value},
    ).fetchone()
    last = db.conn.execute(
        f"select e.status, e.id, e.operation, e.session from exchanges e where e.id in ({ids})"
        " order by e.started_at desc limit 1",
        {"v": value},
    ).fetchone()
    snapshot = next(iter(db.query(
        f"select d.* from devices d join exchanges e on e.id = d.exchange_id"
        f" where d.{column} = :v order by e.started_at desc, d.direction desc limit 1",
        {"v": value},
    )), {})  # fmt: skip
    return {
        "key": column, "value": value, "platform": snapshot.get("platform"),
        "kind": snapshot.get("kind"), "handle": snapshot.get("handle"),
        "installation_id": snapshot.get("installation_id"),
        "registration_id": snapshot.get("registration_id"),
        "tags": [t for t in (snapshot.get("tags") or "").split(",") if t],
        "exchanges": counts[0], "last_seen": counts[1], "first_seen": counts[2],
        "errors": counts[3] or 0, "sessions": counts[4],
        "last_status": last[0] if last else None, "last_exchange": last[1] if last else None,
        "last_operation": last[2] if last else None,
    }  # fmt: skip


def tag_index(
    db: Database, prefix: str, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Tags in order (those starting with `prefix`), after `after`, with device counts."""
    tags: list[str] = []
    low = max(prefix, after or "")
    strict = after is not None and after >= prefix
    while len(tags) < limit + 1:
        op = ">" if strict else ">="
        sql = f"select min(tag) from device_tags where tag {op} ?"
        row = db.conn.execute(sql, [low]).fetchone()
        if row[0] is None or not str(row[0]).startswith(prefix):
            break
        tags.append(row[0])
        low, strict = row[0], True
    more = tags[limit] if len(tags) > limit else None
    return [tag_summary(db, tag) for tag in tags[:limit]], (tags[limit - 1] if more else None)


def tag_summary(db: Database, tag: str) -> dict[str, Any]:
    """How many device snapshots carry the tag, and how many distinct devices (when few)."""
    snapshots = db.conn.execute(
        f"select count(*) from (select 1 from device_tags where tag = ? limit {TAG_COUNT_CAP})",
        [tag],
    ).fetchone()[0]
    out: dict[str, Any] = {"tag": tag, "snapshots": snapshots,
                           "capped": snapshots >= TAG_COUNT_CAP}  # fmt: skip
    if snapshots < TAG_COUNT_CAP:
        row = db.conn.execute(
            "select count(distinct d.handle), count(distinct d.installation_id),"
            " group_concat(distinct d.platform)"
            " from device_tags t join devices d on d.id = t.device_id where t.tag = ?",
            [tag],
        ).fetchone()
        out |= {"devices": row[0], "installations": row[1],
                "platforms": sorted((row[2] or "").split(",")) if row[2] else []}  # fmt: skip
    return out
