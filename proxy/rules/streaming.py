"""Session rules over a stream: every session rule fed one exchange at a time."""

from __future__ import annotations

from proxy.rules.context import Ctx
from proxy.rules.findings import Finding
from proxy.rules.registry import SESSION_RULES, SessionRule, SessionState


class SessionJudge:
    """The session rules' states for one session; holds no exchange, only their keyed state."""

    def __init__(self, rules: list[SessionRule] | None = None) -> None:
        chosen = SESSION_RULES if rules is None else rules
        self._states: list[tuple[SessionRule, SessionState]] = [(r, r.start()) for r in chosen]

    def feed(self, ctx: Ctx) -> list[Finding]:
        """The session findings this exchange completes (naming it or an earlier one)."""
        found: list[Finding] = []
        for rule, state in self._states:
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
