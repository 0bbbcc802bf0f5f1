"""The hub's one entry point into the shared decoders (`proxy.decode`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from proxy.decode import decode_body
from proxy.decode.installations import parse_json
from proxy.decode.xml import DecodeError, charset_of, decode_text
from proxy.model import Device, Operation

__all__ = ["DecodedDescription", "decode_description", "decode_json"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedDescription:
    """A request body's registration description, or why there is none."""

    device: Device | None
    text: str
    """The body as text, for error positions."""

    error: str | None = None


def decode_description(
    body: bytes, content_type: str | None, operation: Operation
) -> DecodedDescription:
    """Decode an Atom entry carrying one `*RegistrationDescription`; never raises."""
    try:
        text, _ = decode_text(body, charset_of(content_type))
    except DecodeError:
        text = body.decode("utf-8", "replace")
    decoded = decode_body(body, content_type, operation=operation, direction="request")
    if decoded.decode_error is not None:
        return DecodedDescription(device=None, text=text, error=decoded.decode_error)
    if decoded.format != "atom" or not decoded.devices:
        detail = "; ".join(decoded.notes) or f"the body is {decoded.format}, not an Atom entry"
        return DecodedDescription(device=None, text=text, error=detail)
    return DecodedDescription(device=decoded.devices[0], text=text)


def decode_json(body: bytes, content_type: str | None) -> Any:
    """An installation or patch body through the shared hardened JSON parser.

    Raises ValueError with the reason when the body is not JSON.
    """
    try:
        value, _ = parse_json(body, charset=charset_of(content_type))
    except DecodeError as exc:
        raise ValueError(f"The request body is not valid JSON: {exc}") from None
    return value
