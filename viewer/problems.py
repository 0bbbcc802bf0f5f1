"""The problems view: the failing calls of a filter, grouped by error code and by rule.

Status and error code are columns, so those groups are counted in SQL over everything the
filter matches. Rules are judged on read, so the rule groups cover the newest `BUDGET`
matching exchanges and say so when there are more.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from proxy.rules import RANK
from viewer import filterlang, queries
from viewer.analysis import Badges
from viewer.filters import Filters

BUDGET = 1000
BATCH = 500
FAILING = "(e.status is null or e.status < 200 or e.status > 299)"


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
    if not plan.needs_findings:
        clause = " and ".join([*plan.where, FAILING])
        sql = (
            "select coalesce(cast(e.status as text), 'failed') as status, e.error_code as code,"
            " count(*) as n, max(e.id) as example, max(e.error_detail) as detail"
            f" from exchanges e where {clause} group by 1, 2 order by n desc limit 100"
        )
        for row in db.query(sql, plan.params):
            statuses[(row["status"], row["code"])] = row["n"]
            examples[(row["status"], row["code"])] = row["example"]
            details[(row["status"], row["code"])] = row["detail"]
    rules: Counter[tuple[str, str]] = Counter()
    findings = queries.findings_of(badges)
    position: tuple[float, str] | None = None
    params = dict(plan.params)
    while True:
        where = list(plan.where)
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
        {"rule": r, "severity": s, "count": n, "example": examples.get((r, s))}
        for (r, s), n in sorted(rules.items(), key=lambda kv: (-RANK[kv[0][1]], -kv[1], kv[0][0]))
    ]
    return out
