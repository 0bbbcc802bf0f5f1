"""Session rules fed one exchange at a time: the same findings, bounded state."""

from __future__ import annotations

import pytest

from proxy.rules import SESSION_RULES, Ctx, SessionJudge, check_session
from proxy.rules.bounded import BoundedMap
from tests.rules.factories import el, reg
from tests.rules.test_session import SESSION_EXAMPLES


@pytest.mark.parametrize("rule_id", sorted(SESSION_EXAMPLES))
def test_fed_one_by_one_finds_what_the_sequence_finds(rule_id: str) -> None:
    _, failing = SESSION_EXAMPLES[rule_id]
    judge = SessionJudge()
    fed = [f for ex, dec in failing for f in judge.feed(Ctx(ex, dec))] + judge.end()
    assert sorted(map(repr, fed)) == sorted(map(repr, check_session(failing)))
    assert any(f.rule == rule_id for f in fed)


def test_state_stays_bounded_however_many_handles_a_session_has() -> None:
    judge = SessionJudge()
    cap = 50
    for state in (s for _, s in judge._states):
        for value in vars(state).values():
            if isinstance(value, BoundedMap):
                value.cap = cap
    for n in range(200):
        handle = f"{n:064x}"
        ex, dec = reg(el("DeviceToken", handle), status=200)
        judge.feed(Ctx(ex, dec))
    sizes = [len(v) for _, s in judge._states for v in vars(s).values() if isinstance(v, dict)]
    assert sizes and max(sizes) == cap


def test_every_session_rule_starts_a_fresh_state() -> None:
    assert all(rule.start() is not rule.start() for rule in SESSION_RULES)
