"""Judge every recorded exchange of a store against the spec rules, in one streaming pass.

Per-exchange findings are read where the recorder (or an earlier audit) stored them
under the current rule set; an exchange judged under an older rule set, or never, is
decoded and judged again from its stored raw bytes (and stored, given a writable
`save_to`), so an improved rule or decoder re-judges an old database. Session rules are
fed each session's exchanges in time order with bounded state. The report keeps counts
and a few examples per rule and operation, never every finding: `on_finding` sees each
one as it is found, and `--format json` streams them (stored ones printed from their
rows, so a stored finding is only made into an object when the report keeps it).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlite_utils import Database

from proxy import store
from proxy.audit.ahead import pages_ahead
from proxy.audit.pages import (
    CURRENT,
    EXAMPLES,
    ID,
    OPERATION,
    StoredFinding,
    Tally,
    operation_name,
    pages,
    stored_finding,
)
from proxy.audit.printed import JsonStream
from proxy.audit.slim import SlimCtx
from proxy.decode import decode_exchange
from proxy.rules import RANK, Ctx, Finding, SessionJudge, check_ctx
from proxy.rules.bounded import STATE_CAP
from proxy.store import findings as stored

FailOn = Literal["error", "warning", "never"]
Format = Literal["text", "json", "markdown"]
_UNKNOWN = "unknown"


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

    def add_stored(self, values: StoredFinding, operation: str) -> None:
        """`add` for a stored finding's row: made a `Finding` only if it is kept."""
        self.severities[values[2]] += 1
        bucket = self.buckets.get((operation, values[1]))
        if bucket is None:
            finding = stored_finding(values)
            self.buckets[(operation, values[1])] = Bucket(1, finding, {finding.actual: finding})
            return
        bucket.count += 1
        if len(bucket.examples) < EXAMPLES and (values[3] or "") not in bucket.examples:
            finding = stored_finding(values)
            bucket.examples[finding.actual] = finding

    def merge(self, tally: Tally) -> None:
        """Add a page's stored findings counted where the page was read, as `add_stored`
        would have one by one: the first few distinct actual values of a bucket in a page
        are all that `add_stored` could keep of it."""
        self.severities.update(tally.severities)
        for key, candidates in tally.candidates.items():
            bucket = self.buckets.get(key)
            if bucket is None:
                first = stored_finding(candidates[0])
                bucket = self.buckets[key] = Bucket(0, first, {first.actual: first})
            bucket.count += tally.counts[key]
            for values in candidates:
                if len(bucket.examples) >= EXAMPLES:
                    break
                if (values[3] or "") not in bucket.examples:
                    finding = stored_finding(values)
                    bucket.examples[finding.actual] = finding

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
    stream: JsonStream | None = None,
    save_to: Database | None = None,
    read_ahead: Path | None = None,
) -> Audit:
    """Audit the exchanges of one session (or all), reading rows in pages.

    `on_progress(n)` is called after each page of `n` exchanges; `on_finding` and
    `stream` with each finding in the order found (the stream takes a stored one as its
    row, or printed); `save_to` (a writable connection to the same file) stores what had
    to be judged again; `read_ahead` (the SQLite file `db` reads) lets a second process
    read the pages, and print and count the stored findings, while this one judges.
    """
    result = Audit()
    reader = _Reader(db, save_to)
    tell = _both(on_finding, stream.finding if stream is not None else None)
    report = _Reporter(result, db, tell)
    for name in _sessions(db, session):
        judge = SessionJudge()
        report.operations.clear()
        read = (
            pages(db, name, page)
            if read_ahead is None
            else pages_ahead(read_ahead, name, page, printed=stream is not None)
        )
        for rows in read:
            fresh = reader.judged(rows.rows)
            if rows.tally is not None:
                result.merge(rows.tally)
            printed = rows.printed if stream is not None and rows.tally is not None else None
            done = 0  # the rows whose printed findings are written
            for index, row in enumerate(rows.rows):
                ident = row[ID]
                found = fresh.get(ident)
                if found is None:
                    ctx: Ctx = SlimCtx(row, rows.devices.get(ident, []))
                    operation = operation_name(row[OPERATION])
                    report.named(ident, operation)
                    for values in rows.findings.get(ident, ()):
                        result.add_stored(values, operation)
                        if stream is not None:
                            stream.stored(values)
                        if on_finding is not None:
                            on_finding(stored_finding(values))
                else:
                    ctx, judged = found
                    operation = ctx.op.value
                    report.named(ident, operation)
                    for finding in judged:
                        report.found(finding, operation)
                completed = judge.feed(ctx)
                if completed:
                    if printed is not None and stream is not None:
                        stream.printed_all(printed[done : index + 1])
                        done = index + 1
                    for finding in completed:
                        report.found(finding, operation)
            if printed is not None and stream is not None:
                stream.printed_all(printed[done:])
            result.exchanges += len(rows.rows)
            result.judged = reader.judged_now
            if on_progress is not None:
                on_progress(len(rows.rows))
        for finding in judge.end():
            report.found(finding, None)
    return result


def _both(
    first: Callable[[Finding], None] | None, second: Callable[[Finding], None] | None
) -> Callable[[Finding], None] | None:
    if first is None or second is None:
        return first or second

    def tell(finding: Finding) -> None:
        first(finding)
        second(finding)

    return tell


class _Reporter:
    """Counts a finding under the operation of the exchange it names, and passes it on."""

    def __init__(
        self, result: Audit, db: Database, on_finding: Callable[[Finding], None] | None
    ) -> None:
        self.result = result
        self.db = db
        self.tell = on_finding or (lambda finding: None)
        self.operations: OrderedDict[str, str] = OrderedDict()
        """Exchange id → its operation, for the latest STATE_CAP exchanges of the session."""

    def named(self, exchange_id: str, operation: str) -> None:
        self.operations[exchange_id] = operation
        if len(self.operations) > STATE_CAP:
            self.operations.popitem(last=False)

    def found(self, finding: Finding, operation: str | None) -> None:
        named = self.operations.get(finding.exchange_id)
        if named is None:
            row = self.db.conn.execute(
                "select operation from exchanges where id = ?", [finding.exchange_id]
            ).fetchone()
            named = (row[0] if row else None) or operation or _UNKNOWN
        self.result.add(finding, named)
        self.tell(finding)


def _sessions(db: Database, session: str | None) -> list[str]:
    if session is not None:
        return [session]
    return [r[0] for r in db.conn.execute("select distinct session from exchanges order by 1")]


class _Reader:
    """The exchanges of a page that must be judged now (no findings stored under the
    current rule set): decoded from their stored bytes, judged, and stored when it can."""

    def __init__(self, db: Database, save_to: Database | None) -> None:
        self.db = db
        self.save_to = save_to if save_to is not None and stored.has_tables(save_to) else None
        self.judged_now = 0

    def judged(self, rows: list[tuple[Any, ...]]) -> dict[str, tuple[Ctx, list[Finding]]]:
        """Exchange id → its decoded context and findings, for the stale rows of a page."""
        stale = [r[ID] for r in rows if not r[CURRENT]]
        if not stale:
            return {}
        out: dict[str, tuple[Ctx, list[Finding]]] = {}
        for ident, full in self._full_rows(stale).items():
            ctx = _decoded_ctx(full)
            out[ident] = (ctx, check_ctx(ctx))
        self.judged_now += len(out)
        if self.save_to is not None and out:
            try:
                stored.save(self.save_to, [(i, found) for i, (_, found) in out.items()])
            except Exception:  # a busy or read-only file: judged again next time
                if self.save_to.conn.in_transaction:
                    self.save_to.conn.rollback()
                self.save_to = None
        return out

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
