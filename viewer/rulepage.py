"""A rule's own page: its declaration, the sentence it enforces and where to read it.

The same facts `docs/spec-rules.md` lists per rule, read from the rule registry, so the
viewer's findings can link to an explanation that ships with the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from proxy.rules import Rule, citations, rules


@dataclass(frozen=True, slots=True)
class RuleView:
    id: str
    severity: str
    expected: str
    spec: str
    source: str
    title: str
    url: str | None
    docs: str
    session: bool
    """A session rule (judges a sequence of exchanges) rather than one exchange."""


def rule_view(rule_id: str) -> RuleView | None:
    for rule in rules():
        if rule.id == rule_id:
            return RuleView(
                id=rule.id, severity=rule.severity, expected=rule.expected, spec=rule.spec,
                source=rule.source, title=citations.title(rule.source),
                url=citations.url(rule.source), docs=citations.docs(rule.id),
                session=not isinstance(rule, Rule),
            )  # fmt: skip
    return None


def load_rule(request: web.Request) -> RuleView:
    found = rule_view(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text=f"no rule {request.match_info['id']}\n")
    return found
