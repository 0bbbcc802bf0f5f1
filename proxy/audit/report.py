"""The audit as a report: findings grouped by operation and rule, as text, JSON or Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring

from proxy.audit.pages import StoredFinding
from proxy.audit.run import Audit, Format, stored_finding
from proxy.rules import RANK, Finding, rules

EXAMPLES = 3
_dump = json.JSONEncoder(ensure_ascii=False).encode
_string = encode_basestring


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


class JsonStream:
    """`--format json` written as the audit runs: each finding printed when it is found.

    `{"findings": [{exchange_id, rule, severity, …}, …], "exchanges": N}`; the count comes
    last because it is known last. Written a few hundred findings at a time.
    """

    def __init__(self, write: Callable[[str], object], *, batch: int = 500) -> None:
        self._write = write
        self._batch = batch
        self._held: list[str] = []
        self._first = True
        self._fragments: dict[tuple[str | None, ...], tuple[str, str]] = {}
        write('{"findings": [')

    def finding(self, finding: Finding) -> None:
        self._hold(_dump(finding.as_json()))

    def stored(self, values: StoredFinding) -> None:
        """A stored finding's row, printed as `finding` prints it as a `Finding`."""
        key = values[1:3] + values[5:]
        fragments = self._fragments.get(key)
        if fragments is None:
            if len(self._fragments) > 4096:  # overridden expectations may vary without end
                self._fragments.clear()
            fragments = self._fragments[key] = _fragments(stored_finding(values))
        middle, tail = fragments
        self._hold(f'{{"exchange_id": {_string(values[0])}{middle}{_string(values[3] or "")}{tail}')

    def _hold(self, text: str) -> None:
        if self._first:
            self._first = False
        else:
            text = ", " + text
        self._held.append(text)
        if len(self._held) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if self._held:
            self._write("".join(self._held))
            self._held.clear()

    def end(self, audit: Audit) -> None:
        self.flush()
        self._write(f'], "exchanges": {audit.exchanges}}}\n')


def _fragments(finding: Finding) -> tuple[str, str]:
    """What `_dump(finding.as_json())` prints between the exchange id and the actual
    value, and after it: the same for every finding of its rule and stored declaration."""
    fields = finding.as_json()
    keys = list(fields)
    if keys[0] != "exchange_id" or "actual" not in keys:
        raise ValueError(f"unexpected finding fields: {keys}")
    cut = keys.index("actual")
    parts = [f"{_dump(k)}: {_dump(v)}" for k, v in fields.items()]
    middle = ", ".join(["", *parts[1:cut], f"{_dump('actual')}: "])
    return middle, ", ".join(["", *parts[cut + 1 :]]) + "}"


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
