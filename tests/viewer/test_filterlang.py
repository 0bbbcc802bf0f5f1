"""The filter language: terms, precedence, canonical text, and errors that name the term."""

from __future__ import annotations

import pytest

from viewer.filterlang import And, Atom, FilterError, Not, Or, parse, status_range, text


def test_and_binds_tighter_than_or_and_not_applies_to_one_term() -> None:
    node = parse("status:4xx platform:apns or not rule:response.* and method:get")
    assert node == Or((
        And((Atom("status", "4xx"), Atom("platform", "apns"))),
        And((Not(Atom("rule", "response.*")), Atom("method", "GET"))),
    ))  # fmt: skip


def test_parentheses_bang_and_symbols() -> None:
    assert parse("!(tag:a | tag:b) & op:read_*") == And((
        Not(Or((Atom("tag", "a"), Atom("tag", "b")))), Atom("op", "read_*"),
    ))  # fmt: skip


@pytest.mark.parametrize(
    ("written", "atom"),
    [
        ("operation:read_registration", Atom("op", "read_registration")),
        ("registration_id:r-1", Atom("reg", "r-1")),
        ("installation_id:i-1", Atom("inst", "i-1")),
        ("findings:warning", Atom("severity", "warning")),
        ("Severity:ERROR", Atom("severity", "error")),
        ('"TrackingId:1a2b"', Atom("text", "TrackingId:1a2b")),
        ("tag:user:42", Atom("tag", "user:42")),
        ('"two words"', Atom("text", "two words")),
        ('header:"Content-Type: application/xml"', Atom("header", "Content-Type: application/xml")),
        ('body:"say ""hi"""', Atom("body", 'say "hi"')),
    ],
)  # fmt: skip
def test_keys_aliases_and_bare_words(written: str, atom: Atom) -> None:
    assert parse(written) == atom


@pytest.mark.parametrize(
    "expression",
    [
        "status:4xx and platform:apns and not rule:response.*",
        "(tag:a or tag:b) and not (status:2xx or status:3xx)",
        'header:"x-ms-version: 2015" and "two words" and url:does-not',
        "since:2026-11-23T10:00:00Z and duration:>100 and handle:00fc",
    ],
)
def test_canonical_text_parses_back_to_the_same_filter(expression: str) -> None:
    node = parse(expression)
    assert parse(text(node)) == node
    assert text(parse(text(node))) == text(node)


@pytest.mark.parametrize(
    ("value", "bounds"),
    [("4xx", (400, 499)), ("404", (404, 404)), ("400-403", (400, 403)),
     ("400..403", (400, 403)), (">=500", (500, 10**9)), ("<300", (0, 299)),
     ("failed", None)],
)  # fmt: skip
def test_status_values(value: str, bounds: tuple[int, int] | None) -> None:
    assert status_range(value) == bounds


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("status:7xx", "status"),
        ("severity:fatal", "severity"),
        ("since:yesterday", "since"),
        ("duration:fast", "duration"),
        ("method:G3T", "method"),
        ("(status:4xx", "'(' is not closed"),
        ("status:4xx and", "ends where a term was expected"),
        ("or status:4xx", "a term was expected"),
        ("status:4xx )", "unexpected ')'"),
        ("tag:", "needs a value"),
        ("platfrom:apns", "unknown name 'platfrom'"),
        ("TrackingId:1a2b", 'put it in quotes: "TrackingId:1a2b"'),
    ],
)
def test_errors_name_the_term(expression: str, message: str) -> None:
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(expression)


def test_blank_is_no_filter() -> None:
    assert parse("   ") is None
