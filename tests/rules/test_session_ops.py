"""Session rules fed only the operations they name (`ops`) miss nothing: fed any other
exchange of real traffic or of the rules' examples, a rule answers nothing and its state
stays as it was, so skipping that exchange changes no finding."""

from __future__ import annotations

import copy
from itertools import groupby
from typing import Any

import pytest

from proxy.decode import decode_exchange
from proxy.exchange import Exchange
from proxy.model import Op
from proxy.rules import SESSION_RULES, Ctx, SessionJudge, SessionRule
from proxy.rules.streaming import acts_on
from tests.audit.test_same_findings import _corpus, _examples


@pytest.fixture(scope="module")
def sessions() -> list[list[Ctx]]:
    """Real traffic and every rule's examples, each session its contexts in time order."""
    exchanges = sorted(_corpus() + _examples(), key=lambda ex: (ex.session, ex.started_at, ex.id))
    return [[_ctx(ex) for ex in group] for _, group in groupby(exchanges, lambda ex: ex.session)]


def _ctx(ex: Exchange) -> Ctx:
    return Ctx(ex, decode_exchange(ex.method, ex.url, ex.request, ex.status, ex.response))


NARROWED = [rule for rule in SESSION_RULES if getattr(rule.start(), "ops", None) is not None]


def test_some_rules_name_their_operations_and_some_see_every_exchange() -> None:
    assert 3 <= len(NARROWED) < len(SESSION_RULES)
    assert all(acts_on(rule.start(), op) for rule in SESSION_RULES if rule not in NARROWED
               for op in Op)  # fmt: skip


@pytest.mark.parametrize("rule", NARROWED, ids=lambda rule: rule.id)
def test_an_exchange_outside_a_rules_operations_changes_nothing(
    rule: SessionRule, sessions: list[list[Ctx]]
) -> None:
    skipped = fed = 0
    for ctxs in sessions:
        state = rule.start()
        for ctx in ctxs:
            if acts_on(state, ctx.op):
                fed += 1
                list(state.feed(ctx))
                continue
            before = _snapshot(state)
            assert list(state.feed(ctx)) == [], (rule.id, ctx.id)
            assert _snapshot(state) == before, (rule.id, ctx.id, ctx.op)
            skipped += 1
    assert skipped > 100 and fed > 10


def _snapshot(state: Any) -> dict[str, Any]:
    """A state's fields, copied (a `BoundedMap` compares its keys in order too)."""
    return copy.deepcopy({k: v for k, v in vars(state).items() if k != "ops"})


def test_the_judge_finds_what_every_rule_fed_every_exchange_finds(
    sessions: list[list[Ctx]],
) -> None:
    found = every = 0
    for ctxs in sessions:
        judge = SessionJudge()
        narrowed = [f for ctx in ctxs for f in judge.feed(ctx)] + judge.end()
        unfiltered = [f for rule in SESSION_RULES for f in rule.judge(ctxs)]
        assert sorted(map(repr, narrowed)) == sorted(map(repr, unfiltered))
        found += len(narrowed)
        every += len(ctxs)
    assert found > 10 and every > 300
