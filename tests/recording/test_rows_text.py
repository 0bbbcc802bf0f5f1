"""The writer's fast text of stored columns is the same text the readers parse back."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from proxy.store.read import headers_from_text, headers_to_text
from proxy.store.rows import headers_json

AWKWARD = (
    ("Host", "127.0.0.1:8080"),
    ("X-Quote", 'a "quoted" \\ back\\slash'),
    ("X-Ünïcode", "café ☕ \u2028"),
    ("X-Control", "tab\there\nnewline\x00nul"),
    ("X-Lone", "\ud800 surrogate escape \udcff"),
)


def test_headers_json_is_headers_to_text() -> None:
    assert headers_json(AWKWARD) == headers_to_text(AWKWARD)
    assert headers_json(()) == headers_to_text(()) == "[]"
    clean = AWKWARD[:4]
    assert headers_from_text(headers_json(clean)) == clean
    assert json.loads(headers_json(clean)) == [list(pair) for pair in clean]


@given(st.lists(st.tuples(st.text(), st.text()), max_size=8))
def test_headers_json_matches_the_encoder_on_any_text(pairs: list[tuple[str, str]]) -> None:
    headers = tuple(pairs)
    assert headers_json(headers) == headers_to_text(headers)
