"""The rule registry: each rule is a small declaration next to the sentence it enforces."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from proxy.model import Op
from proxy.rules import citations
from proxy.rules.context import Ctx
from proxy.rules.findings import Breach, Finding, Severity

Check = Callable[[Ctx], Iterable[Breach]]
Applies = Callable[[Ctx], bool]


class SessionState(Protocol):
    """One session rule's state over one session: fed exchanges in time order, then ended."""

    def feed(self, ctx: Ctx) -> Iterable[tuple[str, Breach]]: ...

    def end(self) -> Iterable[tuple[str, Breach]]: ...


SessionStart = Callable[[], SessionState]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """An expectation on one exchange: when it applies, and how it is broken."""

    id: str
    severity: Severity
    spec: str
    source: str
    expected: str
    applies: Applies
    check: Check
    ops: frozenset[Op] | None = None
    """The operations the rule is about (None: every one); also indexes rules by operation."""

    def judge(self, ctx: Ctx, *, include_ok: bool = False) -> list[Finding]:
        """The rule's findings for one exchange (an `ok` one when met and asked for)."""
        if self.ops is not None and ctx.op not in self.ops:
            return []
        try:
            if not self.applies(ctx):
                return []
            found = [self.finding(ctx.id, breach) for breach in self.check(ctx)]
        except Exception as exc:  # a rule bug must not stop an audit; show it instead
            crash = Breach(actual=f"rule failed: {type(exc).__name__}: {exc}"[:300])
            return [self.finding(ctx.id, crash, severity="warning")]
        if not found and include_ok:
            return [self.finding(ctx.id, Breach(actual="as expected"), severity="ok")]
        return found

    def finding(
        self, exchange_id: str, breach: Breach, *, severity: Severity | None = None
    ) -> Finding:
        return make_finding(self, exchange_id, breach, severity or self.severity)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRule:
    """An expectation on a sequence of exchanges; findings name the exchange at fault.

    `start()` gives a fresh state that is fed the session's exchanges one by one (its
    memory bounded per handle or id, never the whole session)."""

    id: str
    severity: Severity
    spec: str
    source: str
    expected: str
    start: SessionStart

    def judge(self, ctxs: Iterable[Ctx]) -> list[Finding]:
        state = self.start()
        found = [self.finding(i, b) for ctx in ctxs for i, b in state.feed(ctx)]
        return found + [self.finding(i, b) for i, b in state.end()]

    def finding(self, exchange_id: str, breach: Breach) -> Finding:
        return make_finding(self, exchange_id, breach, self.severity)


def make_finding(
    rule: Rule | SessionRule, exchange_id: str, breach: Breach, severity: Severity
) -> Finding:
    """A rule's finding: the breach's specifics over the rule's, with where to read more."""
    source = breach.source or rule.source
    return Finding(
        exchange_id=exchange_id,
        rule=rule.id,
        severity=severity,
        expected=breach.expected or rule.expected,
        actual=breach.actual,
        spec=breach.spec or rule.spec,
        source=source,
        pointer=breach.pointer,
        url=citations.url(source),
        docs=citations.docs(rule.id),
    )


RULES: list[Rule] = []
SESSION_RULES: list[SessionRule] = []
_BY_OP: dict[Op, tuple[Rule, ...]] = {}
KNOWN_OPS = frozenset(op for op in Op if op is not Op.UNKNOWN)


def rules_for(op: Op) -> tuple[Rule, ...]:
    """The rules that can apply to an operation, in declaration order."""
    found = _BY_OP.get(op)
    if found is None:
        found = _BY_OP[op] = tuple(r for r in RULES if r.ops is None or op in r.ops)
    return found


def always(ctx: Ctx) -> bool:
    return True


def rule(
    id: str,
    *,
    severity: Severity,
    spec: str,
    source: str,
    expected: str,
    applies: Applies = always,
    ops: Iterable[Op] | None = None,
) -> Callable[[Check], Check]:
    """Register the decorated check as rule `id`."""

    def register(check: Check) -> Check:
        if any(existing.id == id for existing in RULES):
            raise ValueError(f"rule {id!r} is declared twice")
        RULES.append(
            Rule(
                id=id,
                severity=severity,
                spec=spec,
                source=source,
                expected=expected,
                applies=applies,
                check=check,
                ops=frozenset(ops) if ops is not None else None,
            )
        )
        _BY_OP.clear()
        return check

    return register


S = TypeVar("S", bound=SessionStart)


def session_rule(
    id: str, *, severity: Severity, spec: str, source: str, expected: str
) -> Callable[[S], S]:
    """Register the decorated state class (or factory) as session rule `id`."""

    def register(start: S) -> S:
        SESSION_RULES.append(
            SessionRule(
                id=id, severity=severity, spec=spec, source=source, expected=expected, start=start
            )
        )
        return start

    return register
