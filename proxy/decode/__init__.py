"""Decode recorded Notification Hubs bodies into normalized records; never raises.

May import only the vocabulary (`proxy.model`, `proxy.exchange`, `proxy.operations`,
`proxy.inflate`).
"""

from __future__ import annotations

from typing import Literal

from proxy.decode.errors import is_error, parse_error
from proxy.decode.installations import (
    decode_installation,
    decode_patch,
    looks_like_installation,
    parse_json,
)
from proxy.decode.registrations import decode_atom, is_atom
from proxy.decode.sends import Send, decode_send
from proxy.decode.xml import MAX_BODY_BYTES, DecodeError, charset_of, local_name, parse_xml
from proxy.exchange import Message
from proxy.inflate import codings, inflate
from proxy.model import Decoded, DecodedBody, Op, Operation
from proxy.operations import classify

__all__ = ["DecodeError", "Send", "decode_body", "decode_exchange", "decode_send"]

Direction = Literal["request", "response"]

_SENDS = frozenset({Op.SEND, Op.SEND_DIRECT, Op.SEND_BATCH, Op.SCHEDULE_SEND, Op.READ_NOTIFICATION})
_REGISTRATION_OPS = frozenset(
    {
        Op.CREATE_REGISTRATION,
        Op.CREATE_OR_UPDATE_REGISTRATION,
        Op.UPDATE_REGISTRATION,
        Op.READ_REGISTRATION,
        Op.LIST_REGISTRATIONS,
        Op.LIST_REGISTRATIONS_BY_TAG,
        Op.LIST_REGISTRATIONS_BY_CHANNEL,
    }
)
_BOM_PREFIXES = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _sniff(body: bytes, content_type: str | None) -> Literal["xml", "json", "other"]:
    """Guess XML or JSON from the first meaningful byte; the Content-Type only breaks ties."""
    head = body[:64]
    for bom in _BOM_PREFIXES:
        if head.startswith(bom):
            head = head[len(bom) :].replace(b"\x00", b"")
            break
    first = head.lstrip()[:1]
    if first == b"<":
        return "xml"
    if first in (b"{", b"["):
        return "json"
    media = (content_type or "").split(";")[0].strip().lower()
    if media.endswith("json"):
        return "json"
    if media.endswith("xml"):
        return "xml"
    return "other"


def _hint_note(kind: str, content_type: str | None) -> list[str]:
    """A note when the Content-Type names a different format than the body has."""
    media = (content_type or "").split(";")[0].strip().lower()
    if kind == "json" and media.endswith("xml"):
        return [f"body is JSON but Content-Type is {media}"]
    if kind == "xml" and media.endswith("json"):
        return [f"body is XML but Content-Type is {media}"]
    return []


def _guess_xml_format(
    body: bytes, content_type: str | None, operation: Operation
) -> Literal["atom", "error", "other"]:
    """What an unparseable XML body meant to be, from its first bytes and the call."""
    head = body[:4096]
    if head.lstrip().startswith(b"<Error"):
        return "error"
    if any(m in head for m in (b"<entry", b"<feed", b"RegistrationDescription")):
        return "atom"
    if operation.name in _REGISTRATION_OPS or "atom" in (content_type or "").lower():
        return "atom"
    return "other"


def _decode_xml(body: bytes, content_type: str | None, operation: Operation) -> DecodedBody:
    notes = _hint_note("xml", content_type)
    try:
        root, parse_notes = parse_xml(body, charset=charset_of(content_type))
    except DecodeError as exc:
        fmt = _guess_xml_format(body, content_type, operation)
        label = {"atom": "Atom", "error": "an error"}.get(fmt, "XML")
        return DecodedBody(
            format=fmt, decode_error=f"failed to parse as {label}: {exc}", notes=tuple(notes)
        )
    notes += parse_notes
    if is_error(root):
        return DecodedBody(format="error", error=parse_error(root), notes=tuple(notes))
    if is_atom(root):
        devices, atom_notes = decode_atom(root)
        return DecodedBody(format="atom", devices=devices, notes=tuple(notes + atom_notes))
    if operation.name not in _SENDS:
        notes.append(f"XML document {local_name(root)!r} is neither Atom nor an error")
    return DecodedBody(format="other", notes=tuple(notes))


def _decode_json(body: bytes, content_type: str | None, operation: Operation) -> DecodedBody:
    notes = _hint_note("json", content_type)
    try:
        value, parse_notes = parse_json(body, charset=charset_of(content_type))
    except DecodeError as exc:
        return DecodedBody(
            format="json", decode_error=f"failed to parse as JSON: {exc}", notes=tuple(notes)
        )
    notes += parse_notes
    if operation.name in _SENDS:
        return DecodedBody(format="json", notes=tuple(notes))
    if isinstance(value, list):
        return DecodedBody(format="json", patch=decode_patch(value, notes), notes=tuple(notes))
    if looks_like_installation(value) or operation.name in (
        Op.CREATE_OR_OVERWRITE_INSTALLATION,
        Op.READ_INSTALLATION,
    ):
        devices = (decode_installation(value, notes),) if isinstance(value, dict) else ()
        if not devices:
            notes.append("installation body is not a JSON object")
        return DecodedBody(format="json", devices=devices, notes=tuple(notes))
    return DecodedBody(format="json", notes=tuple(notes))


def decode_body(
    body: bytes,
    content_type: str | None,
    *,
    operation: Operation,
    direction: Direction,
) -> DecodedBody:
    """Decode one body by sniffing it (Content-Type is only a hint). Never raises."""
    try:
        if not body.strip():
            return DecodedBody(format="empty")
        if len(body) > MAX_BODY_BYTES:
            kind = _sniff(body, content_type)
            fmt: Literal["json", "other"] = "json" if kind == "json" else "other"
            return DecodedBody(
                format=fmt, decode_error=f"body too large to decode ({len(body)} bytes)"
            )
        kind = _sniff(body, content_type)
        if kind == "xml":
            return _decode_xml(body, content_type, operation)
        if kind == "json":
            return _decode_json(body, content_type, operation)
        return DecodedBody(format="other")
    except Exception as exc:  # a decoder bug must never reach the recorder
        return DecodedBody(
            format="other",
            decode_error=f"decoder failed on the {direction} body: {type(exc).__name__}: {exc}",
        )


def decode_exchange(
    method: str,
    url: str,
    request: Message,
    status: int | None,
    response: Message | None,
) -> Decoded:
    """Classify an exchange and decode both bodies. Never raises."""
    try:
        return _decode_exchange(method, url, request, status, response)
    except Exception as exc:  # a decoder bug must never reach the recorder
        return Decoded(
            operation=Operation(name=Op.UNKNOWN),
            request=DecodedBody(
                format="other", decode_error=f"decoder failed: {type(exc).__name__}: {exc}"
            ),
        )


def _decode_exchange(
    method: str, url: str, request: Message, status: int | None, response: Message | None
) -> Decoded:
    operation = classify(method, url, if_match=request.header("If-Match"), joined_query=True)
    notes: list[str] = []
    decoded_request = _decode_message(request, operation, "request")
    decoded_response = None
    if response is not None:
        decoded_response = _decode_message(response, operation, "response")
    notes += [f"request: {n}" for n in decoded_request.notes]
    if decoded_response is not None:
        notes += [f"response: {n}" for n in decoded_response.notes]
    notes += _id_notes(operation, decoded_request)
    if decoded_response is not None and status is not None:
        notes += _status_notes(status, decoded_response)
    return Decoded(
        operation=operation,
        request=decoded_request,
        response=decoded_response,
        notes=tuple(notes),
    )


def _decode_message(message: Message, operation: Operation, direction: Direction) -> DecodedBody:
    """Decode a message's body as its sender meant it: a compressed body is inflated first.

    The proxy forwards and stores bodies exactly as received, so a gzip request body
    reaches the decoder compressed; inflation is bounded (`proxy.inflate`).
    """
    content_type = message.header("Content-Type")
    encoding = message.header("Content-Encoding")
    if not codings(encoding) or not message.body:
        return decode_body(message.body, content_type, operation=operation, direction=direction)
    inflated = inflate(message.body, encoding, limit=MAX_BODY_BYTES)
    if inflated.error is not None:
        return DecodedBody(
            format="other",
            decode_error=f"the {direction} body could not be inflated: {inflated.error}",
        )
    return decode_body(inflated.body, content_type, operation=operation, direction=direction)


def _id_notes(operation: Operation, request: DecodedBody) -> list[str]:
    """Flag a body id that differs from the id in the URL."""
    if operation.resource_id is None:
        return []
    notes: list[str] = []
    for device in request.devices:
        is_registration = device.kind == "registration"
        body_id = device.registration_id if is_registration else device.installation_id
        if body_id is not None and body_id != operation.resource_id:
            notes.append(
                f"request: {device.kind} id {body_id!r} in the body differs from "
                f"{operation.resource_id!r} in the URL"
            )
    return notes


def _status_notes(status: int, response: DecodedBody) -> list[str]:
    """Flag an error body on a success status, or a failure status with a non-error body."""
    if status < 400 and response.format == "error":
        return [f"response: status {status} carries an <Error> body"]
    if status >= 400 and response.format not in ("error", "empty"):
        return [f"response: status {status} without an <Error> body"]
    return []
