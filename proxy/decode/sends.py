"""Recorded sends: what a `POST /{hub}/messages` targeted, and what a debug send answered.

A send's target is in its headers, not its body (spec §9): `ServiceBusNotification-Format`
picks the platform (or `template`), `ServiceBusNotification-Tags` the tag expression
(absent: broadcast), `?direct` with `ServiceBusNotification-DeviceHandle` (or a multipart
`devices` part for `$batch`) names handles instead of registrations, and `?test` asks for
a `NotificationOutcome` listing the registrations reached (§9.7).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from proxy.decode.xml import DecodeError, local_name, parse_xml, text_of
from proxy.exchange import Message
from proxy.model import Op, Platform
from proxy.operations import classify

__all__ = [
    "FORMATS",
    "NATIVE_FORMATS",
    "SEND_OPS",
    "OutcomeResult",
    "Send",
    "decode_send",
    "format_of",
]

SEND_OPS = frozenset({Op.SEND, Op.SEND_DIRECT, Op.SEND_BATCH, Op.SCHEDULE_SEND})

NATIVE_FORMATS: dict[str, Platform | None] = {
    "apple": Platform.APNS,
    "gcm": Platform.GCM,
    "fcmv1": Platform.FCMV1,
    "windows": Platform.WNS,
    "windowsphone": Platform.MPNS,
    "adm": Platform.ADM,
    "baidu": Platform.BAIDU,
    "browser": Platform.BROWSER,
    "xiaomi": Platform.XIAOMI,
    "nokiax": None,
}
"""`ServiceBusNotification-Format` values of native sends → the platform they reach (§9.3).
Nokia X is listed only for direct sends: no registration type receives it."""

FORMATS = frozenset({*NATIVE_FORMATS, "template"})
_FORMAT_OF = {platform: fmt for fmt, platform in NATIVE_FORMATS.items() if platform}


def format_of(platform: Platform) -> str | None:
    """The native format that reaches a platform (`apns` → `apple`)."""
    return _FORMAT_OF.get(platform)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeResult:
    """One `RegistrationResult` of a debug send's `NotificationOutcome`."""

    platform: str | None
    handle: str | None
    registration_id: str | None
    outcome: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """The target of one recorded send."""

    operation: Op
    hub: str | None
    format: str | None
    """The format header, stripped and lower-cased; None when absent."""

    tags: str | None
    """The tag expression as sent; None when the header is absent or blank (a broadcast)."""

    test: bool = False
    """`?test`: a debug send, answered with the registrations reached (at most 10)."""

    handles: tuple[str, ...] = ()
    """Direct sends: the device handle, or the `$batch` devices part."""

    schedule_time: str | None = None
    outcome: tuple[OutcomeResult, ...] | None = None
    """A debug send's answer, when it carried a `NotificationOutcome`."""

    notification_id: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def direct(self) -> bool:
        return self.operation in (Op.SEND_DIRECT, Op.SEND_BATCH)


def _is_test(url: str) -> bool:
    """Like the service's query reading: `?test`, `?test=true` (anything but `false`)."""
    query = urlsplit(url).query if not url.startswith("/") else url.partition("?")[2]
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() == "test":
            return value.lower() != "false"
    return False


_BOUNDARY = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)


def _batch_handles(request: Message, notes: list[str]) -> tuple[str, ...]:
    """The JSON array of the `devices` part (parsed leniently, as the docs' examples need)."""
    match = _BOUNDARY.search(request.header("Content-Type") or "")
    if match is None:
        notes.append("$batch send without a multipart boundary")
        return ()
    delimiter = b"--" + match.group(1).strip().encode("latin-1", "replace")
    for part in request.body.split(delimiter)[1:]:
        head, _, body = part.replace(b"\r\n", b"\n").partition(b"\n\n")
        if b"name=devices" not in head.replace(b'"', b"").replace(b" ", b"").lower():
            continue
        text = body.decode("utf-8", "replace").strip().removesuffix("--").strip()
        for candidate in (text, text.replace("'", '"')):
            try:
                value = json.loads(candidate)
            except ValueError:
                continue
            if isinstance(value, list):
                return tuple(str(v) for v in value)
        notes.append("the devices part is not a JSON array")
        return ()
    notes.append("$batch send without a devices part")
    return ()


def _outcome(response: Message, notes: list[str]) -> tuple[OutcomeResult, ...] | None:
    body = response.body
    if b"NotificationOutcome" not in body[:512]:
        return None
    try:
        root, _ = parse_xml(body)
    except DecodeError as exc:
        notes.append(f"NotificationOutcome does not parse: {exc}")
        return None
    if local_name(root) != "NotificationOutcome":
        return None
    results: list[OutcomeResult] = []
    for holder in root:
        if local_name(holder) != "Results":
            continue
        for item in holder:
            fields = {local_name(c): text_of(c) for c in item}
            results.append(
                OutcomeResult(
                    platform=fields.get("ApplicationPlatform"),
                    handle=fields.get("PnsHandle"),
                    registration_id=fields.get("RegistrationId"),
                    outcome=fields.get("Outcome"),
                )
            )
    return tuple(results)


def decode_send(
    method: str, url: str, request: Message, status: int | None, response: Message | None
) -> Send | None:
    """The target of a send exchange; None for any other operation. Never raises on bodies."""
    operation = classify(method, url)
    if operation.name not in SEND_OPS:
        return None
    notes: list[str] = []
    fmt = request.header("ServiceBusNotification-Format")
    tags = request.header("ServiceBusNotification-Tags")
    handles: tuple[str, ...] = ()
    if operation.name is Op.SEND_DIRECT:
        handle = request.header("ServiceBusNotification-DeviceHandle")
        handles = (handle,) if handle else ()
    elif operation.name is Op.SEND_BATCH:
        handles = _batch_handles(request, notes)
    outcome = None
    location = None
    if response is not None and status is not None and 200 <= status < 300:
        outcome = _outcome(response, notes)
        location = response.header("Location")
    notification_id = None
    if location:
        notification_id = urlsplit(location).path.rstrip("/").rpartition("/")[2] or None
    return Send(
        operation=operation.name,
        hub=operation.hub,
        format=fmt.strip().lower() if fmt is not None else None,
        tags=tags if tags and tags.strip() else None,
        test=operation.name is Op.SEND and _is_test(url),
        handles=handles,
        schedule_time=request.header("ServiceBusNotification-ScheduleTime"),
        outcome=outcome,
        notification_id=notification_id,
        notes=tuple(notes),
    )
