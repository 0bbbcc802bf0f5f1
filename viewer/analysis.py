"""Findings of a stored exchange: those stored under the current rule set, else judged on read.

The recorder stores each exchange's findings (`proxy/store/findings.py`); an exchange
judged under an older rule set (or never) is decoded and judged here. Pure functions of
the stored row, so they are cached by exchange id: a stored exchange never changes.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from proxy import audit, store
from proxy.decode import decode_exchange
from proxy.exchange import Exchange
from proxy.io.facts import assess
from proxy.model import Decoded
from proxy.rules import RANK, SESSION_RULES, Finding
from proxy.store import findings as stored

SESSION_RULE_IDS = frozenset(rule.id for rule in SESSION_RULES)
CACHE_SIZE = 200_000
STORED = "_findings"
"""The list query's column of a row's stored findings, `severity rule` per line."""
JUDGED = "_judged"
"""The list query's column saying the row's findings are stored under the current rule set."""
SESSION_LIMIT = 2_000
"""Sessions up to this many exchanges get their session rules run on a detail view."""


@dataclass(frozen=True, slots=True)
class Analysis:
    """One exchange, its decoding and its findings (violations only, worst first)."""

    exchange: Exchange
    decoded: Decoded
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Badge:
    """How many findings of each severity an exchange has (the list's badge)."""

    error: int = 0
    warning: int = 0
    note: int = 0
    rules: tuple[tuple[str, str], ...] = ()
    """(rule id, severity) of every finding, worst first."""

    def worst(self) -> str | None:
        for name in ("error", "warning", "note"):
            if getattr(self, name):
                return name
        return None

    def first(self) -> tuple[str, str] | None:
        """The worst finding's (rule, severity), if it is a warning or an error."""
        if self.rules and self.rules[0][1] in ("error", "warning"):
            return self.rules[0]
        return None

    def severities(self) -> frozenset[str]:
        """Each severity this badge reaches (`warning` when there is an error, too)."""
        return frozenset(s for s in ("error", "warning", "note") if self.has(s))

    def has(self, severity: str) -> bool:
        """At least one finding of `severity` or worse."""
        return any(
            getattr(self, name) for name in ("error", "warning", "note")
            if RANK[name] >= RANK[severity]
        )


def analyse(row: dict[str, Any], db: Database | None = None) -> Analysis:
    """Decode one stored exchange row; its findings as stored under the current rule set
    (given `db`), else judged now, as an export judges them (`proxy.io.facts.assess`)."""
    exchange = store.exchange_from_row(row)
    if db is None or not stored.has_tables(db) or not stored.judged(db, [exchange.id]):
        now = assess(exchange, row)
        return Analysis(exchange, now.decoded, now.findings)
    decoded = decode_exchange(
        exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
    )
    found = stored.load(db, [exchange.id]).get(exchange.id, [])
    return Analysis(exchange, decoded, tuple(sorted(found, key=lambda f: -RANK[f.severity])))


class Badges:
    """A bounded, thread-safe cache of badges by exchange id."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._cache: OrderedDict[str, Badge] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def of(self, row: dict[str, Any]) -> Badge:
        ident = row["id"]
        with self._lock:
            badge = self._cache.get(ident)
            if badge is not None:
                self._cache.move_to_end(ident)
                return badge
        if row.get(JUDGED):
            badge = _stored_badge(row.get(STORED))
        else:
            findings = analyse(row).findings
            counts = Counter(f.severity for f in findings)
            rules = tuple(dict.fromkeys((f.rule, f.severity) for f in findings))
            badge = Badge(counts["error"], counts["warning"], counts["note"], rules)
        with self._lock:
            self._cache[ident] = badge
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return badge


def _stored_badge(lines: str | None) -> Badge:
    """The badge of stored findings (`severity rule` lines in rule order), worst first."""
    pairs = [tuple(line.split(" ", 1)) for line in (lines or "").split("\n") if line]
    pairs.sort(key=lambda pair: -RANK[pair[0]])
    counts = Counter(severity for severity, _ in pairs)
    rules = tuple(dict.fromkeys((rule, severity) for severity, rule in pairs))
    return Badge(counts["error"], counts["warning"], counts["note"], rules)


class SessionFindings:
    """Session rules (sequences of calls) per session, cached until the session grows."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[int, int], dict[str, list[Finding]]]] = {}
        self._lock = threading.Lock()

    def of(self, db: Database, session: str) -> dict[str, list[Finding]] | None:
        """Exchange id → its session findings; None when the session is too big to judge."""
        count, last = db.conn.execute(
            "select count(*), max(r) from (select rowid as r from exchanges"
            f" where session = ? limit {SESSION_LIMIT + 1})",
            [session],
        ).fetchone()
        if count > SESSION_LIMIT:
            return None
        with self._lock:
            cached = self._cache.get(session)
        if cached is not None and cached[0] == (count, last):
            return cached[1]
        found: dict[str, list[Finding]] = defaultdict(list)

        def keep(finding: Finding) -> None:
            if finding.rule in SESSION_RULE_IDS:
                found[finding.exchange_id].append(finding)

        audit.run(db, session, on_finding=keep)  # stored findings, session rules streamed
        with self._lock:
            self._cache[session] = ((count, last), dict(found))
        return dict(found)
