"""Secrets recognisable in plain text: SAS `sig`, `SharedAccessKey=`, bearer tokens, JWTs.

Each shape is matched as written and percent-encoded once or twice (`sig%3D…%26se`,
as in a token carried inside a `Location` URL). `sr`, `se` and `skn` stay readable so
later checks can judge audience, expiry and key name.
"""

from __future__ import annotations

import re

MARKER = "[redacted]"

_BEFORE = (
    r"(?:(?<![A-Za-z0-9_])|(?<=%26)|(?<=%3f)|(?<=%3b)|(?<=%20)|(?<=%2b)|(?<=%2526)|(?<=%253b))"
)
"""Where a field name may start: not inside a word, or right after an encoded `&?; +`."""

_EQUALS = r"(?:\s*=\s*|%3d|%253d)"
_END = r"(?:%26|%2526|%3b|%253b|%20|%2520)"
_NOT_DONE = r"(?!\[redacted\])"
"""A value already replaced is left alone."""
"""An encoded separator ends an encoded value."""

_SIG = re.compile(rf"(?i)({_BEFORE}sig{_EQUALS}){_NOT_DONE}(?:(?!{_END})[^&\s\"'<>;,\\)\]}}])+")
_KEY = re.compile(
    rf"(?i)({_BEFORE}SharedAccessKey{_EQUALS}){_NOT_DONE}(?:(?!{_END})[^;&\s\"'<>,\\)\]}}])+"
)
_BEARER = re.compile(rf"(?i)(\bBearer(?:\s+|%20|\+)){_NOT_DONE}[A-Za-z0-9\-._~+/%]{{8,}}=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_\-]*")

NEEDLES = ("sig", "sharedaccesskey", "bearer", "eyj")
"""Every shape above needs one of these (lowercased); text without them is left alone."""

CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "servicebusauthorization"})
"""Headers whose whole value is a credential."""


def scrub(text: str) -> str:
    """`text` with every recognisable secret replaced by the marker."""
    lowered = text.lower()
    if not any(needle in lowered for needle in NEEDLES):
        return text
    text = _SIG.sub(rf"\g<1>{MARKER}", text)
    text = _KEY.sub(rf"\g<1>{MARKER}", text)
    text = _BEARER.sub(rf"\g<1>{MARKER}", text)
    return _JWT.sub(MARKER, text)


def credential(value: str) -> str:
    """An `Authorization`-like value: a SAS token keeps its readable fields, any other scheme
    keeps only its name (`Bearer [redacted]`, `Basic [redacted]`)."""
    stripped = value.strip()
    if not stripped or MARKER in stripped:
        return scrub(value)
    if stripped.lower().startswith("sharedaccesssignature") or "sig=" in stripped.lower():
        return scrub(value)
    scheme, space, _ = stripped.partition(" ")
    if space and re.fullmatch(r"[A-Za-z][A-Za-z0-9!#$&'*+.^_`|~-]*", scheme):
        return f"{scheme} {MARKER}"
    return MARKER
