"""`hubscope audit`: judge every recorded exchange against the spec rules and summarise.

Findings are recomputed from the stored raw exchanges (re-decoded, never read back from
decode columns), so an improved rule or decoder re-judges an old database as it is.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlite_utils import Database

from . import store
from .decode import decode_exchange
from .spec import RANK, Ctx, Finding, check_ctx, check_session_ctx, rules

FailOn = Literal["error", "warning", "never"]
Format = Literal["text", "json", "markdown"]
EXAMPLES = 3


@dataclass(slots=True)
class Audit:
    """Findings (violations only) of every exchange audited, and each exchange's operation."""

    exchanges: int = 0
    findings: list[Finding] = field(default_factory=list)
    operations: dict[str, str] = field(default_factory=dict)
    """Exchange id → operation name, for grouping."""

    def counts(self) -> Counter[str]:
        return Counter(f.severity for f in self.findings)

    def fails(self, fail_on: FailOn) -> bool:
        """Whether any finding is at or above `fail_on`."""
        if fail_on == "never":
            return False
        return any(RANK[f.severity] >= RANK[fail_on] for f in self.findings)


def run(db: Database, session: str | None = None, *, page: int = 1000) -> Audit:
    """Audit the exchanges of one session (or all), reading rows in pages."""
    result = Audit()
    by_session: dict[str, list[Ctx]] = defaultdict(list)
    for row in store.iter_exchange_rows(db, session, batch=page):
        exchange = store.exchange_from_row(row)
        decoded = decode_exchange(
            exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
        )
        ctx = Ctx(exchange, decoded, truncated=bool(row.get("request_truncated")))
        result.exchanges += 1
        result.operations[exchange.id] = ctx.op.value
        result.findings.extend(check_ctx(ctx))
        by_session[exchange.session].append(_slim(ctx))
    for ctxs in by_session.values():
        result.findings.extend(check_session_ctx(ctxs))
    return result


def _slim(ctx: Ctx) -> Ctx:
    """The context without bodies: session rules read headers and decoded records only."""
    exchange = ctx.exchange
    response = exchange.response
    slim = replace(
        exchange,
        request=replace(exchange.request, body=b""),
        response=replace(response, body=b"") if response is not None else None,
    )
    return Ctx(slim, ctx.decoded, truncated=ctx.truncated)


@dataclass(frozen=True, slots=True)
class Group:
    """The findings of one rule on one operation."""

    operation: str
    rule: str
    severity: str
    count: int
    expected: str
    spec: str
    source: str
    examples: tuple[Finding, ...]


def groups(audit: Audit) -> list[Group]:
    """Findings grouped by operation and rule, worst severity and biggest count first."""
    buckets: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in audit.findings:
        op = audit.operations.get(finding.exchange_id, "unknown")
        buckets[(op, finding.rule)].append(finding)
    general = {r.id: r.expected for r in rules()}
    out = []
    for (op, rule), found in buckets.items():
        first = found[0]
        distinct: dict[str, Finding] = {}
        for finding in found:
            distinct.setdefault(finding.actual, finding)
        examples = tuple(distinct.values())[:EXAMPLES]
        expected = general.get(rule, first.expected)
        out.append(
            Group(op, rule, first.severity, len(found), expected, first.spec, first.source,
                  examples)
        )  # fmt: skip
    out.sort(key=lambda g: (g.operation, -RANK[g.severity], -g.count, g.rule))
    return out


def render_json(audit: Audit) -> str:
    """`{"exchanges": N, "findings": [{exchange_id, rule, severity, …}, …]}`."""
    findings = [f.as_json() for f in audit.findings]
    return json.dumps({"exchanges": audit.exchanges, "findings": findings}, ensure_ascii=False)


def _summary(audit: Audit) -> str:
    counts = audit.counts()
    parts = ", ".join(f"{counts[s]} {s}s" for s in ("error", "warning", "note"))
    return f"{audit.exchanges} exchanges, {len(audit.findings)} findings ({parts})"


def render_text(audit: Audit) -> str:
    """A plain-text report: per operation, one block per rule with its worst examples."""
    lines = [f"hubscope audit: {_summary(audit)}"]
    current = None
    for group in groups(audit):
        if group.operation != current:
            current = group.operation
            lines += ["", f"{current}"]
        lines.append(f"  {group.severity:<7} {group.rule}  ×{group.count}")
        lines.append(f"          expected: {group.expected}")
        lines.append(f"          spec: “{_clip(group.spec, 160)}” ({group.source})")
        lines += [f"          - {f.exchange_id}: {_example(f, group)}" for f in group.examples]
    if not audit.findings:
        lines.append("no findings")
    return "\n".join(lines)


def render_markdown(audit: Audit) -> str:
    """A Markdown report: one table per operation."""
    lines = ["# hubscope audit", "", _summary(audit)]
    current = None
    for group in groups(audit):
        if group.operation != current:
            current = group.operation
            lines += ["", f"## {current}", "", "| severity | rule | count | expected | examples |",
                      "| --- | --- | --- | --- | --- |"]  # fmt: skip
        examples = "<br>".join(
            f"`{f.exchange_id}`: {_cell(_example(f, group))}" for f in group.examples
        )
        lines.append(
            f"| {group.severity} | `{group.rule}` | {group.count} | {_cell(group.expected)} "
            f"| {examples} |"
        )
    return "\n".join(lines)


def render(audit: Audit, fmt: Format) -> str:
    renderers = {"json": render_json, "text": render_text, "markdown": render_markdown}
    return renderers[fmt](audit)


def _example(finding: Finding, group: Group) -> str:
    """The actual value, with the specific expectation when it says more than the rule's."""
    text = _clip(finding.actual, 120)
    if finding.expected != group.expected:
        text += f" (expected {_clip(finding.expected, 100)})"
    return text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(text: str) -> str:
    return _clip(text, 120).replace("|", "\\|").replace("\n", " ")
