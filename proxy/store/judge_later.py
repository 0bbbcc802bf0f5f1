"""Judge, in the quiet, the exchanges a backlog stored unjudged.

When the writer is behind, it stores a batch first and leaves its findings for later:
judging is about a third of what building an exchange's rows costs. When traffic pauses
(or, for up to 5 s, as the run ends), the writer judges those exchanges from their
stored (redacted) rows, a few at a time, exactly as it would have at ingest, and stores
the findings under the current rule set. Until then the audit and the viewer judge
them on read, as they do any exchange without findings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlite_utils import Database

from proxy.rules import Finding
from proxy.store import findings, rows
from proxy.store.read import exchange_from_row

log = logging.getLogger(__name__)

QUIET_BATCH = 50
"""Exchanges judged per call and per process judging: short enough that traffic resuming
waits at most a few tens of ms for the writer."""
QUIET_BYTES = 16 << 20
"""Stored body bytes read per call, at most (and one exchange more): large bodies judge
fewer at a time, so what is in memory stays bounded."""

Judge = Callable[[list[dict[str, object]]], findings.Judged]
"""Stored exchange rows to their findings: `judge_rows`, here or in worker processes."""


def latest_rowid(db: Database) -> int:
    """The newest exchange's rowid (0 in an empty store): what is stored after it is new."""
    return int(db.conn.execute("select coalesce(max(rowid), 0) from exchanges").fetchone()[0])


def judge_stored(
    db: Database, after: int, limit: int = QUIET_BATCH, judge: Judge | None = None
) -> int | None:
    """Judge up to `limit` unjudged exchanges stored after rowid `after`, in rowid order,
    and store their findings. Returns the last rowid looked at, None when none was left.
    `judge`: what judges the rows (the writer's workers); `judge_rows` in this process
    by default.
    """
    cursor = db.conn.execute(
        "select e.rowid as _rowid, e.* from exchanges e where e.rowid > ? and not exists ("
        "select 1 from findings_judged j where j.exchange_id = e.id and j.ruleset = ?)"
        " order by e.rowid limit ?",
        [after, findings.ruleset(), limit],
    )
    names = [d[0] for d in cursor.description]
    found: list[dict[str, Any]] = []
    size = 0
    for values in cursor:  # rows are read one by one: stop at the byte budget
        row = dict(zip(names, values, strict=True))
        found.append(row)
        size += len(row["request_body"] or b"") + len(row["response_body"] or b"")
        if size >= QUIET_BYTES:
            break
    cursor.close()
    if not found:
        return None
    findings.save(db, (judge or judge_rows)(found))
    return int(found[-1]["_rowid"])


def judge_rows(stored: list[dict[str, object]]) -> findings.Judged:
    """The findings of stored exchange rows, judged as at ingest. An exchange that does not
    decode stays unjudged (as at ingest); one whose judging fails is logged and left for
    the audit."""
    out: list[tuple[str, Sequence[Finding]]] = []
    for row in stored:
        exchange = exchange_from_row(row)
        try:
            decoded = rows.decode(exchange)
            if decoded is None:
                continue
            found = findings.judge(exchange, decoded, truncated=bool(row["request_truncated"]))
        except Exception:
            log.exception("judging exchange %s failed; the audit will judge it", exchange.id)
            continue
        out.append((exchange.id, found))
    return out
