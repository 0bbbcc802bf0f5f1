"""The redactor's first look: the words secrets are made of, counted a chunk at a time."""

from __future__ import annotations

from proxy.redact import triggers


def test_a_word_across_a_chunk_boundary_is_found_once() -> None:
    chunk = 64 << 10
    for cut in range(1, len("sharedaccesskey")):
        data = b"x" * (chunk - cut) + b"SharedAccessKey" + b"x" * 100
        assert triggers.in_bytes(data, enough=10) == 1, cut
    assert triggers.in_bytes(b"x" * (3 * chunk)) == 0


def test_counting_stops_at_enough() -> None:
    data = b"sig " * (200 << 10)  # 200k words over 13 chunks
    assert triggers.in_bytes(data, enough=5) < 20_000, "stopped after the first chunk"
    assert triggers.in_bytes(data, enough=10**9) == 200 << 10
    assert triggers.in_text("\\u0073ig: BEARER x", enough=10) == 2


def test_text_is_folded_as_str_lower_folds_it() -> None:
    assert triggers.in_text("SharedAccess\u212aey=abc") == 1, "a Kelvin sign lowers to k"
