"""The problems view: the failing calls of a filter, grouped by error code and by rule.

Status and error code are columns, and findings are stored per exchange under the rule
set they were judged by: both are counted in SQL over every matching exchange judged
under the current rule set. Exchanges that are not (an older database) are judged on
read, the newest `BUDGET` of them, and the page says so when there are more.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from proxy.rules import RANK, citations
from proxy.rules import rules as all_rules
from proxy.store import findings as stored
from viewer import filterlang, queries
from viewer.analysis import Badges
from viewer.filters import Filters

BUDGET = 1000
BATCH = 500
FAILING = "(e.status is null or e.status < 200 or e.status > 299)"
JUDGED = (
    "exists (select 1 from findings_judged j where j.exchange_id = e.id and j.ruleset = :rs)"
)


@dataclass(slots=True)
class Problems:
    filters: Filters
    by_status: list[dict[str, Any]] = field(default_factory=list)
    """{status, code, count, example, detail}: non-2xx answers, biggest group first."""

    by_rule: list[dict[str, Any]] = field(default_factory=list)
    """{rule, severity, count, example}: errors first, then warnings, biggest first."""

    judged: int = 0
    complete: bool = True
    """False when more exchanges match than were judged for rules."""

    def link(self, term: str) -> str:
        """The list query for this filter narrowed by `term`."""
        return Filters(filterlang.conjoin([self.filters.node, filterlang.parse(term)])).query()

    def json(self) -> dict[str, Any]:
        return {"filter": self.filters.text, "by_status": self.by_status,
                "by_rule": self.by_rule, "judged": self.judged,
                "complete": self.complete}  # fmt: skip


def problems(db: Database, filters: Filters, badges: Badges) -> Problems:
    plan = queries.plan_for(db, filters)
    out = Problems(filters)
    statuses: Counter[tuple[str, str | None]] = Counter()
    examples: dict[Any, str] = {}
    details: dict[Any, str | None] = {}
    rules: Counter[tuple[str, str]] = Counter()
    params = dict(plan.params)
    on_read: list[str] = []
    """Conditions for the rows judged here: those without findings stored for this rule set."""
    if stored.has_tables(db):
        params["rs"] = stored.ruleset()
        _stored_counts(db, plan.where, params, out, rules, examples)
        on_read.append(f"not {JUDGED}")
    if not plan.needs_findings or on_read:
        conds = [*plan.where, FAILING, *([JUDGED] if plan.needs_findings else [])]
        sql = (
            "select coalesce(cast(e.status as text), 'failed') as status, e.error_code as code,"
            " count(*) as n, max(e.id) as example, max(e.error_detail) as detail"
            f" from exchanges e where {' and '.join(conds)} group by 1, 2 order by n desc"
            " limit 100"
        )
        for row in db.query(sql, params):
            statuses[(row["status"], row["code"])] = row["n"]
            examples[(row["status"], row["code"])] = row["example"]
            details[(row["status"], row["code"])] = row["detail"]
    findings = queries.findings_of(badges)
    position: tuple[float, str] | None = None
    while True:
        where = [*plan.where, *on_read]
        if position is not None:
            where.append("(e.started_at, e.id) < (:c_started, :c_id)")
            params.update(c_started=position[0], c_id=position[1])
        rows = queries.select_rows(db, where, params, "e.started_at desc, e.id desc", BATCH,
                                   plan.columns)  # fmt: skip
        for row in rows:
            out.judged += 1
            position = (row["started_at"], row["id"])
            if not plan.keep(row, findings):
                continue
            badge = badges.of(row)
            for rule, severity in dict.fromkeys(badge.rules):
                if severity in ("error", "warning"):
                    rules[(rule, severity)] += 1
                    examples.setdefault((rule, severity), row["id"])
            status = row["status"]
            if plan.needs_findings and (status is None or not 200 <= status <= 299):
                key = ("failed" if status is None else str(status), row["error_code"])
                statuses[key] += 1
                examples.setdefault(key, row["id"])
                details.setdefault(key, row["error_detail"])
        if len(rows) < BATCH:
            break
        if out.judged >= BUDGET:
            out.complete = False
            break
    out.by_status = [
        {"status": s, "code": c, "count": n, "example": examples.get((s, c)),
         "detail": details.get((s, c))}
        for (s, c), n in statuses.most_common()
    ]  # fmt: skip
    out.by_rule = [
        {"rule": r, "severity": s, "count": n, "example": examples.get((r, s)),
         "url": _url(r), "docs": citations.docs(r)}
        for (r, s), n in sorted(rules.items(), key=lambda kv: (-RANK[kv[0][1]], -kv[1], kv[0][0]))
    ]
    return out


def _url(rule_id: str) -> str | None:
    """The public page of a rule's sentence (its declared source)."""
    for rule in all_rules():
        if rule.id == rule_id:
            return citations.url(rule.source)
    return None


def _stored_counts(
    db: Database,
    where: list[str],
    params: dict[str, Any],
    out: Problems,
    rules: Counter[tuple[str, str]],
    examples: dict[Any, str],
) -> None:
    """Errors and warnings per rule over every matching exchange judged under the current
    rule set (for those, the filter's SQL is exact), counted in SQL."""
    conds = " and ".join([*where, JUDGED])
    sql = (
        "select f.rule as rule, f.severity as severity, count(distinct e.id) as n,"
        " max(e.id) as example from exchanges e join findings f on f.exchange_id = e.id"
        f" where {conds} and f.severity in ('error', 'warning') group by 1, 2"
    )
    for row in db.query(sql, params):
        rules[(row["rule"], row["severity"])] += row["n"]
        examples.setdefault((row["rule"], row["severity"]), row["example"])
    counted = db.conn.execute(f"select count(*) from exchanges e where {conds}", params)
    out.judged += int(counted.fetchone()[0])
