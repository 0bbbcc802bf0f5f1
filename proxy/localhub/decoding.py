"""The hub's one entry point into the shared decoders (`proxy.decode`)."""

from __future__ import annotations

from dataclasses import dataclass

from proxy.decode.registrations import decode_atom
from proxy.decode.xml import DecodeError, charset_of, decode_text, parse_xml
from proxy.model import Device

__all__ = ["DecodedDescription", "decode_description"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodedDescription:
    """A request body's registration description, or why there is none."""

    device: Device | None
    text: str
    """The body as text, for error positions."""

    error: str | None = None


def decode_description(body: bytes, content_type: str | None) -> DecodedDescription:
    """Decode an Atom entry carrying one `*RegistrationDescription`; never raises."""
    try:
        text, _ = decode_text(body, charset_of(content_type))
    except DecodeError:
        text = body.decode("utf-8", "replace")
    try:
        root, _ = parse_xml(body, charset=charset_of(content_type))
        devices, notes = decode_atom(root)
    except DecodeError as exc:
        return DecodedDescription(device=None, text=text, error=str(exc))
    if not devices:
        return DecodedDescription(device=None, text=text, error="; ".join(notes) or "no entry")
    return DecodedDescription(device=devices[0], text=text)
