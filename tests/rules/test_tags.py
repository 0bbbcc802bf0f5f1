"""The tag rules look at every tag list, and the grammar has no room for spaces.

Hand mutations that survived `test_examples.py` (one example per rule): the rules ignoring
installation template tags, and the grammar allowing spaces.
"""

from __future__ import annotations

import pytest

from proxy.rules import check, check_ctx
from proxy.rules.context import Ctx
from proxy.rules.tags import TAG
from tests.rules.factories import TOKEN_EL, Item, el, inst, installation, reg


def broken(item: Item, rule: str) -> list[tuple[str, str | None]]:
    return [(f.severity, f.pointer) for f in check(*item) if f.rule == rule and not f.ok]


@pytest.mark.parametrize("tag", ["my tag", "a b", " lead", "trail ", "tab\tbed", "x,y "])
def test_spaces_are_not_tag_characters(tag: str) -> None:
    assert TAG.match(tag) is None
    assert broken(inst(installation(tags=[tag])), "tags.grammar") == [("error", "/tags")]


@pytest.mark.parametrize("tag", ["a_b", "c:d", "u@x.y", "#1-2", "$UserId:{bob=1}", "Ünïcode"])
def test_grammar_tags_are_fine(tag: str) -> None:
    assert TAG.match(tag)
    assert broken(inst(installation(tags=[tag])), "tags.grammar") == []


def test_registration_tags_with_a_space_are_an_error() -> None:
    assert broken(reg(el("Tags", "ok,my tag"), TOKEN_EL), "tags.grammar") == [("error", "Tags")]


@pytest.mark.parametrize(
    ("rule", "bad"),
    [("tags.grammar", "my tag!"), ("tags.length", "t" * 121)],
)
def test_installation_template_tags_are_judged_too(rule: str, bad: str) -> None:
    templates = {"t1": {"body": "{}", "tags": ["fine", bad]}}
    found = broken(inst(installation(tags=["ok"], templates=templates)), rule)
    assert found == [("error", "/templates/t1/tags")]


def test_few_tags_are_not_a_count_finding() -> None:
    assert broken(inst(installation(tags=["a", "b", "c"])), "tags.count") == []
    assert broken(inst(installation(tags=[f"t{n}" for n in range(61)])), "tags.count") == [
        ("warning", "Tags")
    ]


def test_a_truncated_body_is_not_judged() -> None:
    exchange, decoded = inst(installation(tags=["my tag!"]))
    assert [f.rule for f in check_ctx(Ctx(exchange, decoded, truncated=True))
            if f.rule.startswith("tags.")] == []  # fmt: skip


def test_findings_quote_the_tag_cut_to_a_readable_length() -> None:
    bad = "!" + "x" * 99
    [grammar] = [f for f in check(*inst(installation(tags=[bad]))) if f.rule == "tags.grammar"]
    assert grammar.actual == f"tag {bad[:80]!r}"
    long = "y" * 130
    [length] = [f for f in check(*inst(installation(tags=[long]))) if f.rule == "tags.length"]
    assert length.actual == f"130 characters: {long[:40]!r}…"
