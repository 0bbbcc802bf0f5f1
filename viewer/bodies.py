"""Bodies pretty-printed line by line, each line knowing which element or JSON pointer it shows.

That is what lets a finding's pointer light up the offending lines. XML goes through the
decoders' hardened parser; anything that does not parse is shown as text, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from proxy.decode.installations import parse_json
from proxy.decode.xml import DecodeError, charset_of, local_name, parse_xml

Marks = Mapping[str, list[str]]
"""Finding pointer → the rule ids that point there."""

HEX_PREVIEW = 4096


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    rules: tuple[str, ...] = ()


@dataclass(slots=True)
class Pretty:
    """A body ready to show: its kind, its lines, and why it fell back to text if it did."""

    kind: Literal["xml", "json", "text", "binary", "empty"]
    lines: list[Line] = field(default_factory=list)
    note: str | None = None

    @property
    def hits(self) -> int:
        return sum(1 for line in self.lines if line.rules)


def pretty(body: bytes, content_type: str | None, marks: Marks) -> Pretty:
    """Pretty-print a body by sniffing it; the Content-Type only supplies the charset."""
    head = body.lstrip()[:1]
    if not body.strip():
        return Pretty("empty")
    note = None
    try:
        if head == b"<" or body.startswith(b"\xef\xbb\xbf<"):
            root, _ = parse_xml(body, charset=charset_of(content_type))
            out: list[Line] = []
            _xml(root, 0, {}, marks, (), out)
            return Pretty("xml", out)
        if head in (b"{", b"["):
            value, _ = parse_json(body, charset=charset_of(content_type))
            out = []
            _json(value, "", None, 0, True, marks, out)
            return Pretty("json", out)
    except (DecodeError, ValueError) as error:
        note = f"shown as text: {error}"
    return _text(body, note)


def _text(body: bytes, note: str | None) -> Pretty:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Pretty("binary", hexdump(body[:HEX_PREVIEW]), note or "not UTF-8 text")
    return Pretty("text", [Line(t) for t in text.splitlines()], note)


def hexdump(data: bytes) -> list[Line]:
    lines = []
    for at in range(0, len(data), 16):
        chunk = data[at : at + 16]
        shown = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(Line(f"{at:08x}  {chunk.hex(' '):<47}  {shown}"))
    return lines


def _qname(tag: str, nsmap: Mapping[str | None, str]) -> str:
    if not tag.startswith("{"):
        return tag
    uri, _, local = tag[1:].partition("}")
    for prefix, known in nsmap.items():
        if known == uri and prefix:
            return f"{prefix}:{local}"
    return local


def _xml(
    el: etree._Element,
    depth: int,
    parent_ns: Mapping[str | None, str],
    marks: Marks,
    inherited: tuple[str, ...],
    out: list[Line],
) -> None:
    """Serialize `el` as indented lines; an element named by a pointer marks all its lines."""
    nsmap: dict[str | None, str] = dict(el.nsmap)
    tag = f"{el.prefix}:{local_name(el)}" if el.prefix else local_name(el)
    attrs = [
        f"xmlns{':' + p if p else ''}={quoteattr(uri)}"
        for p, uri in nsmap.items()
        if parent_ns.get(p) != uri
    ]
    attrs += [f"{_qname(str(k), nsmap)}={quoteattr(str(v))}" for k, v in el.attrib.items()]
    start = "<" + " ".join([tag, *attrs])
    rules = inherited + tuple(marks.get(local_name(el), ()))
    pad = "  " * depth
    children = [c for c in el if isinstance(c.tag, str)]
    text = (el.text or "").strip()
    if not children:
        shown = f"{start}>{escape(text)}</{tag}>" if text else f"{start}/>"
        out.append(Line(pad + shown, rules))
        return
    out.append(Line(pad + start + ">", rules))
    if text:
        out.append(Line(pad + "  " + escape(text), rules))
    for child in children:
        _xml(child, depth + 1, nsmap, marks, rules, out)
        tail = (child.tail or "").strip()
        if tail:
            out.append(Line(pad + "  " + escape(tail), rules))
    out.append(Line(f"{pad}</{tag}>", rules))


def _pointer_rules(pointer: str, marks: Marks) -> tuple[str, ...]:
    found: list[str] = []
    for target, rules in marks.items():
        if target.startswith("/") and (pointer == target or pointer.startswith(target + "/")):
            found += rules
    return tuple(found)


def _json(
    value: Any, pointer: str, key: str | None, depth: int, last: bool, marks: Marks,
    out: list[Line],
) -> None:  # fmt: skip
    """Serialize a JSON value as indented lines, each tagged with its JSON pointer's rules."""
    pad = "  " * depth
    label = f"{json.dumps(key, ensure_ascii=False)}: " if key is not None else ""
    comma = "" if last else ","
    rules = _pointer_rules(pointer, marks)
    if isinstance(value, dict) and value:
        out.append(Line(f"{pad}{label}{{", rules))
        for i, (k, v) in enumerate(value.items()):
            step = str(k).replace("~", "~0").replace("/", "~1")
            _json(v, f"{pointer}/{step}", str(k), depth + 1, i == len(value) - 1, marks, out)
        out.append(Line(f"{pad}}}{comma}", rules))
    elif isinstance(value, list) and value:
        out.append(Line(f"{pad}{label}[", rules))
        for i, v in enumerate(value):
            _json(v, f"{pointer}/{i}", None, depth + 1, i == len(value) - 1, marks, out)
        out.append(Line(f"{pad}]{comma}", rules))
    else:
        out.append(Line(f"{pad}{label}{json.dumps(value, ensure_ascii=False)}{comma}", rules))
