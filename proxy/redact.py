"""Remove secrets before anything is stored or logged: SAS `sig` values and shared keys.

`sr`, `se` and `skn` are kept so later checks can judge audience, expiry and key name.
"""

from __future__ import annotations

import re
from dataclasses import replace

from proxy.exchange import Exchange, Headers, Message

MARKER = "[redacted]"
_SIG = re.compile(r"(?i)(\bsig=)[^&\s\"'<>;,]+")
_KEY = re.compile(r"(?i)(\bSharedAccessKey\s*=\s*)[^;\s\"'<>&]+")
_SIG_B = re.compile(rb"(?i)(\bsig=)[^&\s\"'<>;,]+")
_KEY_B = re.compile(rb"(?i)(\bSharedAccessKey\s*=\s*)[^;\s\"'<>&]+")
_JSON_KEY_B = re.compile(rb'(?i)("(?:SharedAccessKey|PrimaryKey|SecondaryKey)"\s*:\s*")[^"]*(")')
_MARKER_B = MARKER.encode()
_BODY_NEEDLES = (b"sig=", b"sharedaccesskey", b"primarykey", b"secondarykey")
"""Every pattern above needs one of these (case-insensitively); without them nothing matches."""


def text(value: str) -> str:
    """A header value or URL with every signature and key replaced by the marker."""
    lowered = value.lower()
    if "sig=" not in lowered and "sharedaccesskey" not in lowered:
        return value
    value = _SIG.sub(rf"\g<1>{MARKER}", value)
    return _KEY.sub(rf"\g<1>{MARKER}", value)


def body(data: bytes) -> bytes:
    """A body with signatures and keys replaced; untouched (same object) when it has none."""
    lowered = data.lower()
    if not any(needle in lowered for needle in _BODY_NEEDLES):
        return data
    data = _SIG_B.sub(rb"\g<1>" + _MARKER_B, data)
    data = _KEY_B.sub(rb"\g<1>" + _MARKER_B, data)
    return _JSON_KEY_B.sub(rb"\g<1>" + _MARKER_B + rb"\g<2>", data)


def headers(pairs: Headers) -> Headers:
    """The pairs with secrets replaced; the same tuple when no value changed."""
    out = tuple([(name, text(value)) for name, value in pairs])
    return pairs if out == pairs else out


def message(msg: Message) -> Message:
    """The message with secrets replaced; the same object when it had none."""
    new_headers, new_body = headers(msg.headers), body(msg.body)
    if new_headers is msg.headers and new_body is msg.body:
        return msg
    return Message(headers=new_headers, body=new_body)


def exchange(ex: Exchange) -> Exchange:
    """The exchange as it may be stored: no signature, no key, anywhere."""
    return replace(
        ex,
        url=text(ex.url),
        request=message(ex.request),
        response=message(ex.response) if ex.response is not None else None,
        error=text(ex.error) if ex.error else ex.error,
    )
