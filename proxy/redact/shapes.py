"""Secrets recognisable in plain text: SAS `sig`, `SharedAccessKey=`, bearer tokens, JWTs.

Each shape is matched as written and percent-encoded once or twice (`sig%3D…%26se`,
as in a token carried inside a `Location` URL). `sr`, `se` and `skn` stay readable so
later checks can judge audience, expiry and key name.
"""

from __future__ import annotations

import re

MARKER = "[redacted]"

_ENCODED_SEPARATORS = ("%26", "%3f", "%3b", "%20", "%2b", "%2526", "%253b")


def _word(word: str) -> str:
    """`word` where a field name may start: not inside a longer word, or right after an
    encoded `&?; +`. The word comes first so the regex engine can look for it directly."""
    after = "".join(f"|(?<={sep}{word})" for sep in _ENCODED_SEPARATORS)
    return f"{word}(?:(?<![A-Za-z0-9_]{word}){after})"


_EQUALS = r"(?:\s*=\s*|%3d|%253d)"
_END = r"(?:%26|%2526|%3b|%253b|%20|%2520)"
"""An encoded separator ends an encoded value."""
_NOT_DONE = r"(?!\[redacted\])"
"""A value already replaced is left alone."""

_SIG = re.compile(rf"(?i)({_word('sig')}{_EQUALS}){_NOT_DONE}(?:(?!{_END})[^&\s\"'<>;,\\)\]}}])+")
_KEY = re.compile(
    rf"(?i)({_word('SharedAccessKey')}{_EQUALS}){_NOT_DONE}(?:(?!{_END})[^;&\s\"'<>,\\)\]}}])+"
)
_BEARER = re.compile(rf"(?i)(\bBearer(?:\s+|%20|\+)){_NOT_DONE}[A-Za-z0-9\-._~+/%]{{8,}}=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_\-]*")

_BY_NEEDLE = (("sig", _SIG), ("sharedaccesskey", _KEY), ("bearer", _BEARER), ("eyj", _JWT))
"""Each shape needs its word (lowercased); text without it is not searched for that shape."""
_REPLACE = {
    _SIG: rf"\g<1>{MARKER}",
    _KEY: rf"\g<1>{MARKER}",
    _BEARER: rf"\g<1>{MARKER}",
    _JWT: MARKER,
}
NEEDLES: tuple[str, ...] = tuple(needle for needle, _ in _BY_NEEDLE)

CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "servicebusauthorization"})
"""Headers whose whole value is a credential."""

PLACEHOLDERS = frozenset({"sanitized"})
"""Values that stand for a credential already removed (Azure SDK test-proxy recordings)."""


def scrub(text: str) -> str:
    """`text` with every recognisable secret replaced by the marker."""
    lowered = text.lower()
    for needle, pattern in _BY_NEEDLE:
        if needle in lowered:
            text = pattern.sub(_REPLACE[pattern], text)
    return text


def credential(value: str) -> str:
    """An `Authorization`-like value: a SAS token keeps its readable fields, any other scheme
    keeps only its name (`Bearer [redacted]`, `Basic [redacted]`)."""
    stripped = value.strip()
    if not stripped or MARKER in stripped or stripped.lower() in PLACEHOLDERS:
        return scrub(value)
    if stripped.lower().startswith("sharedaccesssignature") or "sig=" in stripped.lower():
        return scrub(value)
    scheme, space, _ = stripped.partition(" ")
    if space and re.fullmatch(r"[A-Za-z][A-Za-z0-9!#$&'*+.^_`|~-]*", scheme):
        return f"{scheme} {MARKER}"
    return MARKER
