"""Registration lists: everything a hub holds, `$filter` by channel, by tag, and paging."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from urllib.parse import quote, unquote

from proxy.localhub.installations import materialise
from proxy.localhub.state import Registration, Store

__all__ = [
    "BadQuery",
    "all_registrations",
    "channel_filter",
    "decode_token",
    "encode_token",
    "find_registration",
    "page",
]

Key = tuple[int, int]
Item = tuple[Key, Registration]


class BadQuery(ValueError):
    """A `$filter` or continuation token the service would refuse with 400."""


def all_registrations(store: Store, hub: str) -> list[Item]:
    """Stored and installation-backed registrations, in creation order."""
    items: list[Item] = [((r.seq, 0), r) for r in store.registrations(hub)]
    for inst in store.installations(hub):
        items.extend(((inst.seq, i), r) for i, r in enumerate(materialise(hub, inst)))
    return sorted(items, key=lambda item: item[0])


def find_registration(store: Store, hub: str, registration_id: str) -> Registration | None:
    """A stored registration, or one an installation materialises as."""
    found = store.registration(hub, registration_id)
    if found is not None:
        return found
    for _, reg in all_registrations(store, hub):
        if reg.registration_id == registration_id:
            return reg
    return None


_PREDICATE = re.compile(r"\s*([\w-]+)\s+eq\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)
_AND = re.compile(r"and", re.IGNORECASE)
_HANDLES = (
    "ChannelUri",
    "DeviceToken",
    "GcmRegistrationId",
    "FcmV1RegistrationId",
    "AdmRegistrationId",
    "XiaomiRegistrationId",
    "Endpoint",
    "BaiduUserId",
)
_PROPERTIES = frozenset(
    {*_HANDLES, "P256DH", "Auth", "BaiduChannelId", "BaiduUserId-BaiduChannelId"}
)
UNSUPPORTED = "Bad Request. Notification hubs do not support this query"


def _predicates(expression: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    rest = expression
    while True:
        match = _PREDICATE.match(rest)
        if match is None:
            raise BadQuery(UNSUPPORTED)
        name = next((p for p in _PROPERTIES if p.lower() == match.group(1).lower()), None)
        if name is None:
            raise BadQuery(UNSUPPORTED)
        out.append((name, match.group(2).replace("''", "'")))
        rest = rest[match.end() :]
        if not rest.strip():
            return out
        joiner = _AND.match(rest)
        if joiner is None:
            raise BadQuery(UNSUPPORTED)
        rest = rest[joiner.end() :]


def _value(reg: Registration, name: str) -> list[str]:
    if name == "ChannelUri":
        # .NET filters every platform by ChannelUri; the service treats it as "any handle".
        return [v for k, v in reg.fields if k in _HANDLES]
    if name == "BaiduUserId-BaiduChannelId":
        return [f"{reg.field('BaiduUserId')}-{reg.field('BaiduChannelId')}"]
    value = reg.field(name)
    return [value] if value is not None else []


def channel_filter(expression: str) -> Callable[[Registration], bool]:
    """A predicate for `X eq 'v' [and Y eq 'w']`; DeviceToken compares case-insensitively."""
    predicates = _predicates(expression)

    def matches(reg: Registration) -> bool:
        for name, literal in predicates:
            wanted = {literal, unquote(literal)}
            values = _value(reg, name)
            if name in ("DeviceToken", "ChannelUri"):
                wanted |= {w.upper() for w in wanted}
                values = values + [v.upper() for v in values]
            if not wanted & set(values):
                return False
        return True

    return matches


def encode_token(key: Key) -> str:
    """An opaque token, percent-encoded as the service sends it (`…%3D%3D`)."""
    raw = base64.b64encode(f"{key[0]};{key[1]}".encode()).decode("ascii")
    return quote(raw, safe="")


def decode_token(token: str) -> Key:
    """Undo any number of percent-encodings (clients re-encode it), then base64."""
    text = token
    for _ in range(4):
        text = unquote(text)
    try:
        seq, _, sub = base64.b64decode(text, validate=True).decode("ascii").partition(";")
        return int(seq), int(sub)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadQuery("The continuation token is not valid") from None


def page(items: list[Item], top: int, token: str | None) -> tuple[list[Registration], str | None]:
    """One page of at most `top` items from the token's position, and the next token."""
    start = decode_token(token) if token else (-1, -1)
    remaining = [item for item in items if item[0] >= start]
    chosen = remaining[:top]
    more = remaining[top:]
    return [reg for _, reg in chosen], encode_token(more[0][0]) if more else None
