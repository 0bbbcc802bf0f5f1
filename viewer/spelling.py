"""One value, many spellings: what the timeline must treat as equal before it reports a change.

The service answers with its own spelling of what the app sent: `…59.9999999Z` for
`…59.9999999`, a template's JSON re-serialised, empty tags and headers added, an APNs token
in another case. Each function maps a value to a key that is equal exactly when the values
mean the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lxml import etree

from proxy.decode.xml import DecodeError, parse_xml

_INSTANT = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?\s*(Z|[+-]00:?00)?", re.I
)


def instant(value: str | None) -> str | None:
    """A date-time in one spelling: UTC implied, seconds and 7 fraction digits always there."""
    if value is None:
        return None
    text = value.strip()
    found = _INSTANT.fullmatch(text)
    if found is None:
        return text
    date, clock, fraction, _zone = found.groups()
    if clock.count(":") == 1:
        clock += ":00"
    return f"{date}T{clock}.{(fraction or '').ljust(7, '0')[:7]}Z"


def body(value: str | None) -> str | None:
    """A template body with insignificant whitespace and key order gone (JSON or XML)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text[0] in "{[":
        try:
            return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
        except ValueError:
            return text
    if text[0] == "<":
        try:
            root, _ = parse_xml(text.encode(), charset="utf-8")
        except (DecodeError, ValueError):
            return text
        for element in root.iter():
            if isinstance(element.tag, str):
                if element.text is not None and not element.text.strip():
                    element.text = None
                if element.tail is not None and not element.tail.strip():
                    element.tail = None
        return etree.tostring(root, encoding="unicode")
    return text


def template(value: dict[str, Any]) -> dict[str, Any]:
    """A template with empty parts dropped, header names in one case, dates and bodies in one
    spelling, tags as a sorted set."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item in (None, "", [], {}):
            continue
        if key == "body":
            item = body(item)
        elif key == "expiry":
            item = instant(item)
        elif key == "headers" and isinstance(item, dict):
            item = {str(k).lower(): v for k, v in sorted(item.items())}
        elif key == "tags" and isinstance(item, list):
            item = sorted(set(item))
        out[key] = item
    return out


def handle(platform: str | None, value: str | None) -> str | None:
    """A device handle; an APNs token's hex digits in either case are the same token."""
    if value is None:
        return None
    text = value.strip()
    if platform == "apns" and re.fullmatch(r"[0-9A-Fa-f<> ]+", text):
        return text.strip("<>").replace(" ", "").lower()
    return text
