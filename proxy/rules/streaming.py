"""Session rules over a stream: each fed the exchanges it can act on, one at a time."""

from __future__ import annotations

from proxy.model import Op
from proxy.rules.context import Ctx
from proxy.rules.findings import Finding
from proxy.rules.registry import SESSION_RULES, SessionRule, SessionState

Judged = list[tuple[SessionRule, SessionState]]


class SessionJudge:
    """The session rules' states for one session; holds no exchange, only their keyed state.

    A state whose class names the operations it acts on (`ops`, a frozenset of `Op`) is fed
    only those exchanges (it answers nothing and remembers nothing of the others:
    `tests/rules/test_session_ops.py` holds it so); one without `ops` is fed every one."""

    def __init__(self, rules: list[SessionRule] | None = None) -> None:
        chosen = SESSION_RULES if rules is None else rules
        self._states: Judged = [(r, r.start()) for r in chosen]
        self._by_op: dict[Op, Judged] = {
            op: [(rule, state) for rule, state in self._states if acts_on(state, op)] for op in Op
        }

    def feed(self, ctx: Ctx) -> list[Finding]:
        """The session findings this exchange completes (naming it or an earlier one)."""
        found: list[Finding] = []
        for rule, state in self._by_op[ctx.op]:
            for exchange_id, breach in state.feed(ctx):
                found.append(rule.finding(exchange_id, breach))
        return found

    def end(self) -> list[Finding]:
        """The findings only the session's end decides (an id never used, …)."""
        return [
            rule.finding(exchange_id, breach)
            for rule, state in self._states
            for exchange_id, breach in state.end()
        ]


def acts_on(state: SessionState, op: Op) -> bool:
    """Whether a session rule's state can find or remember anything in an exchange of `op`."""
    ops: frozenset[Op] | None = getattr(state, "ops", None)
    return ops is None or op in ops
