"""Spec expectations as rule-by-rule findings: `check` one exchange, `check_session` many.

Findings are computed from stored records by pure functions, so a better rule re-judges
old databases without a migration. Each topic module declares its rules on import.

May import only the vocabulary: rules judge records, they never read a store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from proxy.exchange import Exchange
from proxy.model import Decoded
from proxy.rules import (  # noqa: F401  (importing a topic module registers its rules)
    auth,
    common,
    installation_templates,
    installations,
    patch,
    registration_ops,
    registration_templates,
    registrations,
    responses,
    sends,
    session,
    tags,
)
from proxy.rules.context import Ctx
from proxy.rules.findings import RANK, SEVERITIES, Breach, Finding, Severity
from proxy.rules.registry import RULES, SESSION_RULES, Rule, SessionRule, rules_for
from proxy.rules.streaming import SessionJudge

__all__ = [
    "RANK",
    "RULES",
    "SESSION_RULES",
    "SEVERITIES",
    "Breach",
    "Ctx",
    "Finding",
    "Rule",
    "SessionJudge",
    "SessionRule",
    "Severity",
    "check",
    "check_ctx",
    "check_session",
    "check_session_ctx",
    "rules",
]


def check(exchange: Exchange, decoded: Decoded, *, include_ok: bool = False) -> list[Finding]:
    """Every per-exchange rule's findings for one exchange (met rules too with include_ok)."""
    return check_ctx(Ctx(exchange, decoded), include_ok=include_ok)


def check_ctx(ctx: Ctx, *, include_ok: bool = False) -> list[Finding]:
    """`check` on a prepared context (the audit reuses contexts for the session rules)."""
    rules_here = rules_for(ctx.op)
    if not include_ok:
        try:  # the fast path: no per-rule wrapper
            return [
                rule.finding(ctx.id, breach)
                for rule in rules_here
                if rule.applies(ctx)
                for breach in rule.check(ctx)
            ]
        except Exception:  # some rule failed: judge one by one so it shows as a finding
            pass
    found: list[Finding] = []
    for rule in rules_here:
        found.extend(rule.judge(ctx, include_ok=include_ok))
    return found


def check_session(items: Sequence[tuple[Exchange, Decoded]]) -> list[Finding]:
    """Session rules over exchanges in time order; each finding names the exchange at fault."""
    ctxs = [Ctx(exchange, decoded) for exchange, decoded in items]
    return check_session_ctx(ctxs)


def check_session_ctx(ctxs: Iterable[Ctx]) -> list[Finding]:
    """Session rules over contexts in time order, in one pass (see `SessionJudge`)."""
    judge = SessionJudge()
    found = [finding for ctx in ctxs for finding in judge.feed(ctx)]
    return found + judge.end()


def rules() -> list[Rule | SessionRule]:
    """Every rule, per-exchange ones first, in declaration order."""
    return [*RULES, *SESSION_RULES]
