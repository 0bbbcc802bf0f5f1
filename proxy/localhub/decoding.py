"""The hub's one entry point into the shared decoders (`proxy.decode`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from proxy.contract import CONNECT_NS
from proxy.decode import decode_body
from proxy.decode.installations import parse_json
from proxy.decode.xml import DecodeError, charset_of, decode_text, parse_xml
from proxy.localhub.validate import position
from proxy.model import Device, Operation

__all__ = ["DecodedDescription", "decode_description", "decode_json", "envelope_problem"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedDescription:
    """A request body's registration description, or why there is none."""

    device: Device | None
    text: str
    """The body as text, for error positions."""

    error: str | None = None


ATOM_NS = "http://www.w3.org/2005/Atom"
PARSE_FAILED = "Failed to parse RegistrationDescription"


def decode_description(
    body: bytes, content_type: str | None, operation: Operation
) -> DecodedDescription:
    """Decode an Atom entry carrying one `*RegistrationDescription`; never raises.

    `error` is the whole 400 detail: the service reads an Atom entry whose content is
    a description in the servicebus `connect` namespace, and nothing else.
    """
    try:
        text, _ = decode_text(body, charset_of(content_type))
    except DecodeError:
        text = body.decode("utf-8", "replace")
    decoded = decode_body(body, content_type, operation=operation, direction="request")
    if decoded.decode_error is not None:
        return DecodedDescription(
            device=None, text=text, error=f"{PARSE_FAILED} {decoded.decode_error}"
        )
    if decoded.format != "atom" or not decoded.devices:
        detail = "; ".join(decoded.notes) or f"the body is {decoded.format}, not an Atom entry"
        return DecodedDescription(device=None, text=text, error=f"{PARSE_FAILED} {detail}")
    problem = envelope_problem(body, content_type, text)
    if problem is not None:
        return DecodedDescription(device=None, text=text, error=problem)
    return DecodedDescription(device=decoded.devices[0], text=text)


def _names(element: etree._Element) -> tuple[str, str]:
    qname = etree.QName(element)
    return qname.localname, qname.namespace or ""


def envelope_problem(body: bytes, content_type: str | None, text: str) -> str | None:
    """Why the body is not `<entry xmlns=Atom><content><X xmlns=connect>`, or None."""
    try:
        root, notes = parse_xml(body, charset=charset_of(content_type))
    except DecodeError as exc:
        return f"{PARSE_FAILED} {exc}"
    lenient = next((n for n in notes if "not namespace-well-formed" in n), None)
    if lenient is not None:
        return f"{PARSE_FAILED} the body is not namespace-well-formed XML: {lenient}"
    name, namespace = _names(root)
    if (name, namespace) != ("entry", ATOM_NS):
        line, col = position(text, name, 0)
        return (
            f"{PARSE_FAILED} Error in line {line} position {col}. Expecting element 'entry' "
            f"from namespace '{ATOM_NS}'.. Encountered 'Element'  with name '{name}', "
            f"namespace '{namespace}'."
        )
    content = next((c for c in root if _names(c) == ("content", ATOM_NS)), None)
    children = [c for c in content if isinstance(c.tag, str)] if content is not None else []
    description = children[0] if children else None
    if description is None:
        return f"{PARSE_FAILED} the Atom entry has no content with a registration description"
    name, namespace = _names(description)
    if namespace != CONNECT_NS:
        line, col = position(text, name, 0)
        return (
            f"{PARSE_FAILED} Error in line {line} position {col}. Expecting element '{name}' "
            f"from namespace '{CONNECT_NS}'.. Encountered 'Element'  with name '{name}', "
            f"namespace '{namespace}'."
        )
    return None


def decode_json(body: bytes, content_type: str | None) -> Any:
    """An installation or patch body through the shared hardened JSON parser.

    Raises ValueError with the reason when the body is not JSON.
    """
    try:
        value, _ = parse_json(body, charset=charset_of(content_type))
    except DecodeError as exc:
        raise ValueError(f"The request body is not valid JSON: {exc}") from None
    return value
