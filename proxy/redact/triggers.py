"""The words every secret shape is made of, found in one pass: the redactor's cheap first look.

Text holding none of them holds no secret, so the redactor returns it untouched; a body
holding very many of them (`bodies.MAX_WORDS`) is not worth checking word by word.
"""

from __future__ import annotations

import ahocorasick_rs

from proxy.redact import fields, shapes

WORDS = tuple(
    dict.fromkeys((*shapes.NEEDLES, *sorted(fields.SECRET_NAMES), "property", "\\u", "&#", "&lt;"))
)
"""Lowercased text without any of these holds nothing any shape could match. JSON escapes
other than `\\u` only make punctuation or control characters, so they cannot spell a
needle that the raw text lacks; only `\\uXXXX` (at any depth) can."""
_FINDER = ahocorasick_rs.BytesAhoCorasick([trigger.encode() for trigger in WORDS])
"""All triggers looked for in one pass (Aho-Corasick, in Rust): a dozen `in` scans of a
body cost ~15 µs, this ~2; the proxy redacts every exchange before journaling it."""


_CHUNK = 64 << 10
_OVERLAP = max(len(word) for word in WORDS) - 1
"""Chunks overlap by this much, so a word across a boundary is still found (once)."""


def in_text(value: str, *, enough: int = 1) -> int:
    """How many of the words `value` holds (case-insensitive), counted up to `enough`."""
    # str.lower first: it folds non-ASCII letters that lower to ASCII ones (the Kelvin sign).
    return in_bytes(value.lower().encode("utf-8", "surrogatepass"), enough=enough)


def in_bytes(data: bytes, *, enough: int = 1) -> int:
    """How many of the words the bytes hold, read as ASCII (case-insensitive), counted up to
    `enough`: a chunk at a time, so a body full of them costs no more than its first chunk."""
    if len(data) <= _CHUNK + _OVERLAP:  # headers, URLs, most bodies: one look
        return len(_FINDER.find_matches_as_indexes(data.lower()))
    found = 0
    for start in range(0, len(data), _CHUNK):
        window = data[start : start + _CHUNK + _OVERLAP].lower()
        matches = _FINDER.find_matches_as_indexes(window)
        found += sum(1 for _, begin, _ in matches if begin < _CHUNK)
        if found >= enough:
            return found
    return found
