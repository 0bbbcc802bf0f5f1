"""A session's exchanges read for the audit in pages: plain tuples, three queries a page.

One query reads a page of exchanges (no bodies) with the rule set each was judged
under, in time order (keyset paging); one reads the page's stored findings and one its
devices, each by the page's ids through the tables' `exchange_id` indexes. Rows stay
tuples: the audit reads a few fields of most of them and builds objects only for what a
rule or the report keeps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlite_utils import Database

from proxy.model import Op
from proxy.rules import Finding
from proxy.store import findings as stored

EXCHANGE_COLUMNS = (
    "id", "session", "started_at", "method", "url", "client", "status", "request_headers",
    "response_headers", "request_truncated", "operation", "hub", "resource_id", "api_version",
)  # fmt: skip
"""What the audit reads of every exchange, in this order, then whether it is `CURRENT`."""
(ID, SESSION, STARTED_AT, METHOD, URL, CLIENT, STATUS, REQUEST_HEADERS, RESPONSE_HEADERS,
 REQUEST_TRUNCATED, OPERATION, HUB, RESOURCE_ID, API_VERSION, CURRENT) = range(15)  # fmt: skip
"""`CURRENT`: 1 when the exchange's findings are stored under the current rule set, else 0
(an int, not the rule set's name: one object fewer per row to read, send and compare)."""

FINDING_COLUMNS = ("exchange_id", "rule", "severity", "actual", "pointer", "expected", "spec",
                   "source")  # fmt: skip
"""A stored finding as the page holds it (`StoredFinding`), in this order."""

StoredFinding = tuple[str, str, str, str | None, str | None, str | None, str | None, str | None]
"""A `findings` row: what a finding says beyond its rule's declaration."""

DEVICE_COLUMNS = ("exchange_id", "direction", "kind", "source_type", "platform", "handle",
                  "registration_id", "installation_id", "etag", "template_name")  # fmt: skip
"""What the session rules read of a device row, in this order."""

EXAMPLES = 3
"""Examples the report keeps per operation and rule (distinct actual values)."""

OPS = {op.value: op for op in Op}
"""A stored operation name → its `Op` (an unknown name is `Op.UNKNOWN`)."""


def operation_name(stored: str | None) -> str:
    """A stored operation name as the report files it: `OPS[stored].value`, or `unknown`
    (a dict lookup; `Op.value` is a Python-level property, read once per exchange)."""
    return _NAMES.get(stored or "", _UNKNOWN)


_NAMES = {op.value: op.value for op in Op}
_UNKNOWN = Op.UNKNOWN.value

_EXCHANGES = (
    f"select {', '.join(f'e.{c}' for c in EXCHANGE_COLUMNS)}, {{current}} from exchanges e"
    " where e.session = ? and (e.started_at, e.id) > (?, ?) order by e.started_at, e.id limit ?"
)
_CURRENT = "exists (select 1 from findings_judged j where j.exchange_id = e.id and j.ruleset = ?)"


@dataclass(frozen=True, slots=True)
class Tally:
    """A page's stored findings counted: by severity, and per (operation, rule) how many
    and the first finding of each of the first EXAMPLES distinct actual values."""

    severities: Counter[str] = field(default_factory=Counter)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    candidates: dict[tuple[str, str], list[StoredFinding]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """Some exchanges of a session in time order, with their stored findings and devices."""

    rows: list[tuple[Any, ...]]
    findings: dict[str, list[StoredFinding]]
    """Exchange id → its stored findings in rule order (judged exchanges only)."""

    devices: dict[str, list[tuple[Any, ...]]]
    """Exchange id → its device rows, request side first, each side in body order."""

    printed: list[str] = field(default_factory=list)
    """Each row's stored findings as printed JSON ("" for none), when `findings` is given
    so (then `tally` is set)."""

    tally: Tally | None = None
    """The stored findings counted, when `findings` is given so."""


def pages(db: Database, session: str, size: int) -> Iterator[Page]:
    """A session's exchanges in time order, `size` at a time."""
    has_tables = stored.has_tables(db)
    query = _EXCHANGES.format(current=_CURRENT if has_tables else "0")
    judged = [stored.ruleset()] if has_tables else []
    last: tuple[float, str] = (-1.0, "")
    while True:
        rows = db.conn.execute(query, [*judged, session, *last, size]).fetchall()
        if not rows:
            return
        ids = [row[ID] for row in rows]
        found = _by_exchange(db, "findings", FINDING_COLUMNS, "position", ids) if has_tables else {}
        devices = _by_exchange(db, "devices", DEVICE_COLUMNS, "direction, position", ids)
        yield Page(rows, found, devices)
        last = (rows[-1][STARTED_AT], rows[-1][ID])


def _by_exchange(
    db: Database, table: str, columns: tuple[str, ...], order: str, ids: list[str]
) -> dict[str, list[Any]]:
    marks = ", ".join("?" * len(ids))
    cursor = db.conn.execute(
        f"select {', '.join(columns)} from {table} where exchange_id in ({marks})"
        f" order by exchange_id, {order}",
        ids,
    )
    return {key: list(group) for key, group in groupby(cursor.fetchall(), itemgetter(0))}


def stored_finding(values: StoredFinding) -> Finding:
    """A stored finding's row as a `Finding`, its rule's declaration filled back in."""
    return stored.finding_from_row(dict(zip(FINDING_COLUMNS, values, strict=True)))
