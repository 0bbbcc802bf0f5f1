"""Secrets written with escapes: JSON string escapes (`sig\\u003d…`), XML character
references (`sig&#61;…`) and markup escaped inside markup. Each escaped run is decoded,
scrubbed, and written back escaped; runs without a secret are left byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

_JSON_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
"""A JSON string literal."""

_XML_DELIMITERS = re.compile(r"([<>\"'])")
"""What ends a run of XML text or an attribute value."""

_XML_REF = re.compile(r"&(?:#(\d{1,7})|#x([0-9A-Fa-f]{1,6})|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def json_strings(text: str, scrub: Callable[[str], str]) -> str:
    """Every escaped JSON string literal whose decoded value holds a secret, re-encoded."""
    if "\\" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        if "\\" not in inner:
            return match.group(0)
        try:
            decoded = json.loads(f'"{inner}"')
        except ValueError:
            return match.group(0)
        if not isinstance(decoded, str) or (cleaned := scrub(decoded)) == decoded:
            return match.group(0)
        return json.dumps(cleaned, ensure_ascii=inner.isascii())

    return _JSON_STRING.sub(one, text)


def xml_references(text: str, scrub: Callable[[str], str]) -> str:
    """Every run with character references (or escaped markup, `&lt;PrimaryKey&gt;…`) whose
    decoded text holds a secret, re-escaped."""
    if "&#" not in text and "&lt;" not in text:
        return text
    pieces = _XML_DELIMITERS.split(text)
    for index, run in enumerate(pieces):
        if "&#" not in run and "&lt;" not in run:
            continue
        decoded = _XML_REF.sub(_unref, run)
        cleaned = scrub(decoded)
        if cleaned != decoded:
            pieces[index] = (
                cleaned.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace('"', "&quot;")
                .replace("'", "&apos;")
            )
    return "".join(pieces)


def _unref(match: re.Match[str]) -> str:
    decimal, hexadecimal, named = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return match.group(0)
    return chr(code)
