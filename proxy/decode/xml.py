"""The one hardened XML parser: no DTDs, no entities, no network, bounded size."""

from __future__ import annotations

import codecs
import re
import threading
from typing import Any

from lxml import etree

__all__ = [
    "MAX_BODY_BYTES",
    "XSI",
    "DecodeError",
    "charset_of",
    "decode_text",
    "local_name",
    "parse_xml",
    "text_of",
]

MAX_BODY_BYTES = 8 * 1024 * 1024
"""Bodies above this are never parsed (Notification Hubs caps payloads far lower)."""

XSI = "http://www.w3.org/2001/XMLSchema-instance"


class DecodeError(ValueError):
    """A body that cannot be decoded; the message says why."""


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARATION = re.compile(r"\A\s*<\?xml\b[^>]*?\?>", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(
    rb"""\A\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']"""
)
_FORBIDDEN = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)

def _parser(*, recover: bool = False) -> etree.XMLParser:
    """A new hardened parser."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
        recover=recover,
    )


def _only_namespace_errors(parser: etree.XMLParser) -> bool:
    """Whether the last parse failed only on undeclared prefixes (otherwise well-formed)."""
    log: Any = parser.error_log  # per parse; the exception's log is thread-global
    domains = [entry.domain for entry in log]
    return bool(domains) and all(d == etree.ErrorDomains.NAMESPACE for d in domains)


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    return match.group(1) if match else None


def _codec(name: str) -> codecs.CodecInfo | None:
    """The text codec called `name`, or None for unknown names and bytes-to-bytes codecs."""
    try:
        codec = codecs.lookup(name)
    except LookupError:
        return None
    return codec if codec._is_text_encoding else None


def decode_text(
    body: bytes, charset: str | None, declared: str | None = None, notes: list[str] | None = None
) -> tuple[str, str]:
    """Bytes to text by BOM, then charset parameter, then declaration, then UTF-8.

    Returns the text and the encoding used; raises DecodeError on bad bytes or on
    a declared encoding that is not a character encoding. An unusable charset
    parameter is skipped with a note.
    """
    start = 0
    codec: codecs.CodecInfo | None = None
    for bom, name in _BOMS:
        if body.startswith(bom):
            codec, start = codecs.lookup(name), len(bom)
            break
    if codec is None and charset:
        codec = _codec(charset)
        if codec is None and notes is not None:
            notes.append(f"ignored unknown charset {charset!r} in Content-Type")
    if codec is None and declared:
        codec = _codec(declared)
        if codec is None:
            raise DecodeError(f"unknown character encoding {declared!r}")
    codec = codec or codecs.lookup("utf-8")
    try:
        return body[start:].decode(codec.name), codec.name
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"invalid {codec.name} at byte {exc.start + start}: {exc.reason}"
        ) from None


def parse_xml(body: bytes, *, charset: str | None = None) -> tuple[etree._Element, list[str]]:
    """Parse an untrusted XML body; returns the root element and decode notes.

    DOCTYPE and entity declarations are refused before lxml sees the document,
    so no entity is ever expanded and no external resource is ever read.
    """
    notes: list[str] = []
    if len(body) > MAX_BODY_BYTES:
        raise DecodeError(f"body too large to decode ({len(body)} bytes)")
    match = _DECLARED_ENCODING.match(body)
    declared = match.group(1).decode("ascii") if match else None
    text, used = decode_text(body, charset, declared, notes)
    declared_codec = _codec(declared) if declared else None
    if declared_codec is not None and declared_codec.name != used:
        notes.append(f"XML declares encoding {declared!r} but was decoded as {used}")
    # Anywhere, even inside CDATA: a comment can fake a CDATA start and hide a DOCTYPE.
    if _FORBIDDEN.search(text):
        raise DecodeError("DOCTYPE/entity declarations are not allowed (possible XXE)")
    text = _DECLARATION.sub("", text, count=1)
    try:
        root = _fromstring(text, notes)
    except etree.XMLSyntaxError as exc:
        raise DecodeError(str(exc)) from None
    except ValueError as exc:
        raise DecodeError(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise DecodeError("DOCTYPE declarations are not allowed")
    return root, notes


_STRICT = threading.local()
"""One strict parser per thread (lxml parsers are not shared across threads): making one
costs a third of parsing a registration. lxml clears its error log at each parse."""


def _strict_parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_STRICT, "parser", None)
    if parser is None:
        parser = _STRICT.parser = _parser()
    return parser


def _fromstring(text: str, notes: list[str]) -> etree._Element:
    """Parse strictly; retry leniently only when undeclared prefixes were the sole fault."""
    parser = _strict_parser()
    try:
        return etree.fromstring(text, parser)
    except etree.XMLSyntaxError as exc:
        if not _only_namespace_errors(parser):
            raise
        root = etree.fromstring(text, _parser(recover=True))
        if root is None:
            raise
        notes.append(f"not namespace-well-formed ({exc}); decoded leniently")
        return root


def local_name(element: etree._Element) -> str:
    """The element's tag without its namespace."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def text_of(element: etree._Element) -> str | None:
    """The element's text, None when it is `i:nil="true"`."""
    if element.get(f"{{{XSI}}}nil", "").strip().lower() == "true":
        return None
    return element.text if element.text is not None else ""
