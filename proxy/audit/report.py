"""The audit as a report: findings grouped by operation and rule, as text, JSON or Markdown."""

from __future__ import annotations

import json
from dataclasses import dataclass

from proxy.audit.run import Audit, Format
from proxy.rules import RANK, Finding, rules

EXAMPLES = 3
_dump = json.JSONEncoder(ensure_ascii=False).encode


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
    url: str | None
    docs: str | None
    examples: tuple[Finding, ...]


def groups(audit: Audit) -> list[Group]:
    """Findings grouped by operation and rule, worst severity and biggest count first."""
    general = {r.id: r.expected for r in rules()}
    out = []
    for (op, rule), bucket in audit.buckets.items():
        first = bucket.first
        examples = tuple(bucket.examples.values())[:EXAMPLES]
        expected = general.get(rule, first.expected)
        out.append(
            Group(op, rule, first.severity, bucket.count, expected, first.spec, first.source,
                  first.url, first.docs, examples)
        )  # fmt: skip
    out.sort(key=lambda g: (g.operation, -RANK[g.severity], -g.count, g.rule))
    return out


def render_json(audit: Audit) -> str:
    """The report as JSON: the examples it holds (stream with `JsonStream` for every finding)."""
    findings = [f.as_json() for f in audit.examples()]
    return json.dumps({"exchanges": audit.exchanges, "findings": findings}, ensure_ascii=False)


def _summary(audit: Audit) -> str:
    counts = audit.counts()
    parts = ", ".join(f"{counts[s]} {s}s" for s in ("error", "warning", "note"))
    return f"{audit.exchanges} exchanges, {audit.total} findings ({parts})"


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
        lines.append(f"          spec: “{_clip(group.spec, 160)}”")
        lines.append(f"          see:  {group.url or group.source}" + (
            f" · {group.docs}" if group.docs else ""))  # fmt: skip
        lines += [f"          - {f.exchange_id}: {_example(f, group)}" for f in group.examples]
    if not audit.total:
        lines.append("no findings")
    return "\n".join(lines)


def render_markdown(audit: Audit) -> str:
    """A Markdown report: one table per operation."""
    lines = ["# hubscope audit", "", _summary(audit)]
    current = None
    for group in groups(audit):
        if group.operation != current:
            current = group.operation
            lines += ["", f"## {current}", "",
                      "| severity | rule | count | expected | spec | examples |",
                      "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        examples = "<br>".join(
            f"`{f.exchange_id}`: {_cell(_example(f, group))}" for f in group.examples
        )
        rule = f"[`{group.rule}`]({group.docs})" if group.docs else f"`{group.rule}`"
        spec = f"[{_cell(group.spec)}]({group.url})" if group.url else _cell(group.spec)
        lines.append(
            f"| {group.severity} | {rule} | {group.count} | {_cell(group.expected)} "
            f"| {spec} | {examples} |"
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
