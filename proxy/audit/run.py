"""Judge every recorded exchange of a store against the spec rules, in one streaming pass.

Per-exchange findings are read where the recorder (or an earlier audit) stored them
under the current rule set; an exchange judged under an older rule set, or never, is
decoded and judged again from its stored raw bytes (and stored, given a writable
`save_to`), so an improved rule or decoder re-judges an old database. Session rules are
fed each session's exchanges in time order with bounded state. The report keeps counts
and a few examples per rule and operation, never every finding: `on_finding` sees each
one as it is found (`--format json` streams them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlite_utils import Database

from proxy import store
from proxy.audit.slim import (
    ROW_COLUMNS,
    STORED_COLUMNS,
    WITHOUT_STORED,
    SlimCtx,
    stored_findings,
)
from proxy.decode import decode_exchange
from proxy.rules import RANK, Ctx, Finding, SessionJudge, check_ctx
from proxy.rules.bounded import BoundedMap
from proxy.store import findings as stored

FailOn = Literal["error", "warning", "never"]
Format = Literal["text", "json", "markdown"]
EXAMPLES = 3


@dataclass(slots=True)
class Bucket:
    """The findings of one rule on one operation: how many, and a few distinct examples."""

    count: int
    first: Finding
    examples: dict[str, Finding]
    """Actual value → its first finding, at most EXAMPLES of them."""


@dataclass(slots=True)
class Audit:
    """Counts of every finding (violations only) and a few examples per rule and operation."""

    exchanges: int = 0
    buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    """(operation, rule) → its bucket; bounded by operations × rules."""

    severities: Counter[str] = field(default_factory=Counter)
    judged: int = 0
    """Exchanges judged by this run (not found judged under the current rule set)."""

    def add(self, finding: Finding, operation: str) -> None:
        self.severities[finding.severity] += 1
        bucket = self.buckets.get((operation, finding.rule))
        if bucket is None:
            self.buckets[(operation, finding.rule)] = Bucket(1, finding, {finding.actual: finding})
            return
        bucket.count += 1
        if len(bucket.examples) < EXAMPLES:
            bucket.examples.setdefault(finding.actual, finding)

    @property
    def total(self) -> int:
        """How many findings in all."""
        return sum(self.severities.values())

    def counts(self) -> Counter[str]:
        return Counter(self.severities)

    def examples(self) -> Iterator[Finding]:
        """Every finding the report holds (the examples of each bucket)."""
        for bucket in self.buckets.values():
            yield from bucket.examples.values()

    def fails(self, fail_on: FailOn) -> bool:
        """Whether any finding is at or above `fail_on`."""
        if fail_on == "never":
            return False
        return any(n and RANK[s] >= RANK[fail_on] for s, n in self.severities.items())


def count(db: Database, session: str | None = None) -> int:
    """How many exchanges `run` will judge (for a progress bar)."""
    where, args = ("where session = ?", [session]) if session is not None else ("", [])
    return int(db.execute(f"select count(*) from exchanges {where}", args).fetchone()[0])


def run(
    db: Database,
    session: str | None = None,
    *,
    page: int = 1000,
    on_progress: Callable[[int], None] | None = None,
    on_finding: Callable[[Finding], None] | None = None,
    save_to: Database | None = None,
) -> Audit:
    """Audit the exchanges of one session (or all), reading rows in pages.

    `on_progress(n)` is called after each page of `n` exchanges; `save_to` (a writable
    connection to the same file) stores what had to be judged again.
    """
    result = Audit()
    reader = _Reader(db, save_to)
    for name in _sessions(db, session):
        judge = SessionJudge()
        operations: BoundedMap[str, str] = BoundedMap()
        for rows in _pages(db, name, page):
            for ctx, found in reader.judged(rows):
                result.exchanges += 1
                operation = ctx.op.value
                operations[ctx.id] = operation
                for finding in [*found, *judge.feed(ctx)]:
                    _report(result, finding, operation, operations, db, on_finding)
            result.judged = reader.judged_now
            if on_progress is not None:
                on_progress(len(rows))
        for finding in judge.end():
            _report(result, finding, None, operations, db, on_finding)
    return result


def _report(
    result: Audit,
    finding: Finding,
    operation: str | None,
    operations: BoundedMap[str, str],
    db: Database,
    on_finding: Callable[[Finding], None] | None,
) -> None:
    """Count a finding under the operation of the exchange it names."""
    named = operations.get(finding.exchange_id)
    if named is None:
        row = db.conn.execute(
            "select operation from exchanges where id = ?", [finding.exchange_id]
        ).fetchone()
        named = (row[0] if row else None) or operation or "unknown"
    result.add(finding, named)
    if on_finding is not None:
        on_finding(finding)


def _sessions(db: Database, session: str | None) -> list[str]:
    if session is not None:
        return [session]
    return [r[0] for r in db.conn.execute("select distinct session from exchanges order by 1")]


def _pages(db: Database, session: str, size: int) -> Iterator[list[dict[str, Any]]]:
    """A session's exchanges in time order, without bodies, with their judged mark,
    stored findings and devices, in pages (keyset paging)."""
    extra = STORED_COLUMNS if stored.has_tables(db) else WITHOUT_STORED
    last = (-1.0, "")
    while True:
        cursor = db.conn.execute(
            f"select {ROW_COLUMNS}, {extra} from exchanges e where e.session = ?"
            " and (e.started_at, e.id) > (?, ?) order by e.started_at, e.id limit ?",
            [session, *last, size],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor]
        if not rows:
            return
        yield rows
        last = (rows[-1]["started_at"], rows[-1]["id"])


class _Reader:
    """Each exchange's context and per-exchange findings: stored ones, or judged now."""

    def __init__(self, db: Database, save_to: Database | None) -> None:
        self.db = db
        self.ruleset = stored.ruleset()
        self.save_to = save_to if save_to is not None and stored.has_tables(save_to) else None
        self.judged_now = 0

    def judged(self, rows: list[dict[str, Any]]) -> Iterator[tuple[Ctx, list[Finding]]]:
        stale = [r["id"] for r in rows if r["ruleset"] != self.ruleset]
        full = self._full_rows(stale) if stale else {}
        judged_now: list[tuple[str, list[Finding]]] = []
        for row in rows:
            ident = row["id"]
            if ident not in full:
                found = [stored.finding_from_row(f) for f in stored_findings(row)]
                yield SlimCtx(row), found
                continue
            ctx = _decoded_ctx(full[ident])
            now = check_ctx(ctx)
            judged_now.append((ident, now))
            yield ctx, now
        self.judged_now += len(judged_now)
        if self.save_to is not None and judged_now:
            try:
                stored.save(self.save_to, judged_now)
            except Exception:  # a busy or read-only file: judged again next time
                if self.save_to.conn.in_transaction:
                    self.save_to.conn.rollback()
                self.save_to = None

    def _full_rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for row in self.db.query(f"select * from exchanges where id in ({marks})", chunk):
                out[row["id"]] = row
        return out


def _decoded_ctx(row: dict[str, Any]) -> Ctx:
    exchange = store.exchange_from_row(row)
    decoded = decode_exchange(
        exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
    )
    return Ctx(exchange, decoded, truncated=bool(row.get("request_truncated")))
