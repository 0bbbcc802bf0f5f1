"""Direct batch sends: a `multipart/mixed` body with a notification part and a devices part.

Parsed with the standard library's MIME parser, which also takes the `boundary = "…"`
spelling (spaces, quotes) that the docs and the JS SDK write (spec/nh-rest-api.md §9.2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

__all__ = ["MAX_HANDLES", "Batch", "BatchRefused", "parse_batch"]

MAX_HANDLES = 1000
"""Device handles per direct batch request (§9.2, §13)."""

MISSING_PART = "Could not find a part of the multipart content"
"""The service's 400 for a batch without its notification or devices part (§9.2)."""


class BatchRefused(ValueError):
    """The batch is malformed; the message is the 400 detail."""


@dataclass(frozen=True, slots=True)
class Batch:
    notification: bytes
    notification_type: str | None
    """The notification part's own Content-Type, judged like a single send's."""

    handles: tuple[str, ...]


def _parts(content_type: str, body: bytes) -> dict[str, EmailMessage]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or message.get_boundary() is None:
        raise BatchRefused(
            "A direct batch send needs Content-Type multipart/mixed with a boundary and a body "
            "in two parts (notification, devices)"
        )
    parts: dict[str, EmailMessage] = {}
    if not message.is_multipart():  # a boundary but no part at all
        return parts
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            parts.setdefault(name.strip().lower(), part)  # type: ignore[arg-type]
    return parts


def _handles(part: EmailMessage) -> tuple[str, ...]:
    payload = part.get_payload(decode=True)
    try:
        handles = json.loads(payload if isinstance(payload, bytes) else b"")
    except ValueError:
        handles = None
    if not isinstance(handles, list) or not all(isinstance(h, str) and h for h in handles):
        raise BatchRefused("The devices part must be a JSON array of device handles")
    if not handles:
        raise BatchRefused("The devices part lists no device handle")
    if len(handles) > MAX_HANDLES:
        raise BatchRefused(
            f"The devices part lists {len(handles)} handles; at most {MAX_HANDLES} are allowed"
        )
    return tuple(handles)


def parse_batch(content_type: str | None, body: bytes) -> Batch:
    """The batch's notification and handles; raises BatchRefused with the 400 detail."""
    if not content_type or not content_type.strip().lower().startswith("multipart/"):
        raise BatchRefused(
            f"A direct batch send needs Content-Type multipart/mixed, not {content_type!r}"
        )
    parts = _parts(content_type, body)
    notification, devices = parts.get("notification"), parts.get("devices")
    if notification is None or devices is None:
        raise BatchRefused(MISSING_PART)
    payload = notification.get_payload(decode=True)
    return Batch(
        notification=payload if isinstance(payload, bytes) else b"",
        notification_type=notification.get("Content-Type"),
        handles=_handles(devices),
    )
