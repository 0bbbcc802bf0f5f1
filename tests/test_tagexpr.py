"""The one tag-expression evaluator: the service's grammar and limits, matching, explanations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.tagexpr import (
    MAX_TAGS,
    MAX_TAGS_OR_ONLY,
    And,
    InvalidTagExpression,
    Not,
    Or,
    Tag,
    parse_tag_expression,
)


def test_precedence_is_not_then_and_then_or() -> None:
    expression = parse_tag_expression("a || !b && c")
    assert expression.root == Or((Tag("a"), And((Not(Tag("b")), Tag("c")))))
    assert expression.tags == ("a", "b", "c")
    assert expression.operators == {"||", "&&", "!"}


@pytest.mark.parametrize(
    ("text", "tags", "expected"),
    [
        ("sports", {"SPORTS"}, True),
        ("a && !b", {"a"}, True),
        ("a && !b", {"a", "b"}, False),
        ("(a || b) && c", {"b", "c"}, True),
        ("(a || b) && c", {"a"}, False),
        ("$UserId:{alice@x.com}", {"$userid:{ALICE@x.com}"}, True),
        ("!!a", {"a"}, True),
    ],
)  # fmt: skip
def test_matching(text: str, tags: set[str], expected: bool) -> None:
    assert parse_tag_expression(text)(tags) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("||".join(f"t{n}" for n in range(MAX_TAGS_OR_ONLY + 1)), "21 tags; at most 20"),
        ("&&".join(f"t{n}" for n in range(MAX_TAGS + 1)), "7 tags; at most 6"),
        ("!t0 || " + "||".join(f"t{n}" for n in range(1, 7)), "7 tags; at most 6"),
        ("a b", "is invalid"),
        ("a & b", "is invalid"),
        ("(a || b", "ends too early"),
        ("(a b)", "unclosed parenthesis"),
        ("my tag!", "is invalid"),
        ("x" * 121, "not a valid tag"),
        ("tag+plus", "not a valid tag"),
        ("", "ends too early"),
    ],
)  # fmt: skip
def test_the_service_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidTagExpression, match=message.replace("(", r"\(")):
        parse_tag_expression(text)


def test_the_limits_themselves_are_allowed() -> None:
    assert len(parse_tag_expression("||".join(f"t{n}" for n in range(20))).tags) == 20
    assert len(parse_tag_expression("&&".join(f"t{n}" for n in range(6))).tags) == 6
    parse_tag_expression("x" * 120)


def test_explain_names_the_false_conjunct_and_its_tags() -> None:
    expression = parse_tag_expression("(a || b) && !c && d")
    value, parts = expression.explain({"b", "c", "d"})
    assert value is False
    [part] = parts
    assert (part.text, part.value, part.missing, part.present) == ("!c", False, (), ("c",))
    value, parts = expression.explain({"x"})
    assert value is False
    assert [(p.text, p.missing, p.present) for p in parts] == [
        ("(a || b)", ("a", "b"), ()),
        ("d", ("d",), ()),
    ]


def test_explain_of_a_true_expression_names_what_made_it_true() -> None:
    value, [part] = parse_tag_expression("a || b").explain({"b"})
    assert value is True and part.text == "a || b" and part.present == ("b",)
    value, [part] = parse_tag_expression("x && !y").explain({"x"})
    assert value is True and part.present == ("x",) and part.missing == ("y",)


TAGS = st.sampled_from(["a", "b", "c", "d"])


def expressions(depth: int = 3) -> st.SearchStrategy[str]:
    leaf = TAGS
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda e: f"!{e}", inner),
            st.builds(lambda x, y: f"({x} && {y})", inner, inner),
            st.builds(lambda x, y: f"({x} || {y})", inner, inner),
        ),
        max_leaves=depth * 2,
    )


def reference(text: str, tags: set[str]) -> bool:
    """Python's own boolean evaluation of the same text."""
    py = text.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    return bool(eval(py, {}, {t: t in tags for t in "abcd"}))


@given(expressions(), st.sets(TAGS))
def test_matching_agrees_with_boolean_logic(text: str, tags: set[str]) -> None:
    try:
        expression = parse_tag_expression(text)
    except InvalidTagExpression:
        assert len([c for c in text if c in "abcd"]) > MAX_TAGS
        return
    assert expression(tags) is reference(text, tags)
    value, parts = expression.explain(tags)
    assert value is reference(text, tags)
    for part in parts:
        assert set(part.missing).isdisjoint(tags) and set(part.present) <= tags
        assert parse_tag_expression(part.text)(tags) is part.value
