"""Per-exchange findings, judged once and stored, versioned with the rule set.

The recorder judges each exchange as it builds its rows (`add_rows`); the audit and the
viewer read what is stored. Each judged exchange has a `findings_judged` row naming the
rule set (`ruleset()`) it was judged under: when a rule, a decoder or the model changes,
the fingerprint changes and the exchange counts as unjudged again, so an improved rule
re-judges an old database. Findings are judged on the redacted exchange the row holds,
so they quote nothing the store does not.

A finding row keeps only what differs from its rule (the actual value, the pointer, and
the expectation, sentence or source when the breach overrides the rule's); the rest, and
the citation links, come from the rule registry when read.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from proxy.exchange import Exchange
from proxy.model import Decoded
from proxy.rules import RULES, Ctx, Finding, Rule, check_ctx, citations, rules
from proxy.store.write import Rows, write_transaction

log = logging.getLogger(__name__)

RULESET_VERSION = 1
"""Bump when judging changes in a way the source fingerprint cannot see."""

_JUDGING_SOURCES = ("proxy/rules", "proxy/decode", "proxy/model.py", "proxy/operations.py")
"""The code a finding depends on: any change to it makes stored findings stale."""

_ROOT = Path(__file__).resolve().parents[2]
_SURROGATE = re.compile("[\ud800-\udfff]")
_BATCH = 500
"""Ids per `in (…)` lookup (SQLite allows 32,766 parameters; PostgreSQL more)."""


@cache
def ruleset() -> str:
    """The rule set's fingerprint: version, rule ids and severities, and the judging code."""
    digest = hashlib.sha256(f"hubscope findings v{RULESET_VERSION}\n".encode())
    for rule in rules():
        digest.update(f"{rule.id} {rule.severity}\n".encode())
    for name in _JUDGING_SOURCES:
        path = _ROOT / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
        for file in files:
            digest.update(file.relative_to(_ROOT).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def judge(exchange: Exchange, decoded: Decoded, *, truncated: bool = False) -> list[Finding]:
    """The per-exchange rules' violations for one (redacted) exchange, in rule order."""
    return check_ctx(Ctx(exchange, decoded, truncated=truncated))


_BY_ID: dict[str, Rule] = {}
_url = lru_cache(maxsize=1024)(citations.url)


def _rule(rule_id: str) -> Rule | None:
    if not _BY_ID:
        _BY_ID.update((r.id, r) for r in RULES)
    return _BY_ID.get(rule_id)


def finding_rows(exchange_id: str, found: Sequence[Finding]) -> list[dict[str, Any]]:
    """`findings` rows: what a finding says beyond its rule's declaration."""
    out = []
    for position, finding in enumerate(found):
        rule = _rule(finding.rule)
        out.append({
            "exchange_id": exchange_id,
            "position": position,
            "rule": finding.rule,
            "severity": finding.severity,
            "actual": _safe(finding.actual),
            "pointer": _safe(finding.pointer),
            "expected": None if rule and finding.expected == rule.expected
            else _safe(finding.expected),
            "spec": None if rule and finding.spec == rule.spec else _safe(finding.spec),
            "source": None if rule and finding.source == rule.source else _safe(finding.source),
        })  # fmt: skip
    return out


def _safe(text: str | None) -> str | None:
    """Text any store accepts: a finding may quote a lone surrogate a client sent in JSON."""
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


def finding_from_row(row: dict[str, Any]) -> Finding:
    """A stored finding, its rule's declaration and citations filled back in."""
    rule = _rule(row["rule"])
    source = row["source"] or (rule.source if rule else "")
    return Finding(
        exchange_id=row["exchange_id"],
        rule=row["rule"],
        severity=row["severity"],
        expected=row["expected"] or (rule.expected if rule else ""),
        actual=row["actual"] or "",
        spec=row["spec"] or (rule.spec if rule else ""),
        source=source,
        pointer=row["pointer"],
        url=_url(source),
        docs=citations.docs(row["rule"]),
    )


def add_rows(
    out: Rows, exchange: Exchange, decoded: Decoded | None, *, truncated: bool = False
) -> None:
    """The recorder's hook: add an exchange's findings and its judged mark to its rows.

    Never raises: an exchange that cannot be judged now is left unjudged, and the audit
    judges it later.
    """
    if decoded is None:
        return
    try:
        found = judge(exchange, decoded, truncated=truncated)
        rows = finding_rows(exchange.id, found)
    except Exception:
        log.exception("judging exchange %s failed; the audit will judge it", exchange.id)
        return
    out.more.setdefault("findings", []).extend(rows)
    out.more.setdefault("findings_judged", []).append(
        {"exchange_id": exchange.id, "ruleset": ruleset()}
    )


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def judged(db: Database, ids: Sequence[str]) -> set[str]:
    """Which of these exchanges have findings stored under the current rule set."""
    current = ruleset()
    fresh: set[str] = set()
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        fresh.update(
            r[0] for r in db.conn.execute(
                f"select exchange_id from findings_judged where exchange_id in ({marks})"
                " and ruleset = ?", [*chunk, current],
            )
        )  # fmt: skip
    return fresh


def load(db: Database, ids: Sequence[str]) -> dict[str, list[Finding]]:
    """The stored findings of these exchanges, in each exchange's rule order."""
    found: dict[str, list[Finding]] = defaultdict(list)
    for chunk in _chunks(ids):
        marks = ", ".join("?" * len(chunk))
        cursor = db.conn.execute(
            "select exchange_id, rule, severity, actual, pointer, expected, spec, source"
            f" from findings where exchange_id in ({marks}) order by exchange_id, position",
            list(chunk),
        )
        names = [d[0] for d in cursor.description]
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            found[row["exchange_id"]].append(finding_from_row(row))
    return found


Judged = Sequence[tuple[str, Sequence[Finding]]]
"""Exchange ids with the findings each was just judged to have."""


def save(db: Database, judged_now: Judged) -> None:
    """Store freshly judged exchanges' findings under the current rule set, replacing old ones."""
    if not judged_now:
        return
    current = ruleset()
    with write_transaction(db):
        db.conn.executemany(
            "delete from findings where exchange_id = ?", [(i,) for i, _ in judged_now]
        )
        rows = [row for i, found in judged_now for row in finding_rows(i, found)]
        if rows:
            columns = list(rows[0])
            db.conn.executemany(
                f"insert or replace into findings ({', '.join(columns)})"
                f" values ({', '.join('?' * len(columns))})",
                [tuple(r[c] for c in columns) for r in rows],
            )
        db.conn.executemany(
            "insert or replace into findings_judged (exchange_id, ruleset) values (?, ?)",
            [(i, current) for i, _ in judged_now],
        )


def has_tables(db: Database) -> bool:
    """Whether the file has the findings tables (m008); an older file is judged on read."""
    return bool(db.conn.execute(
        "select count(*) from sqlite_master where type = 'table' and name = 'findings_judged'"
    ).fetchone()[0])  # fmt: skip
