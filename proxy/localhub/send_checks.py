"""What a send must satisfy before the service accepts it (spec/nh-rest-api.md §9, §10, §13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from multidict import CIMultiDictProxy

from proxy.localhub.batch import BatchRefused, parse_batch
from proxy.localhub.media import send_type_problem
from proxy.model import Op

__all__ = [
    "FORMATS",
    "MAX_PAYLOAD",
    "MAX_SCHEDULE_AHEAD",
    "MPNS_RAW_MAX",
    "WNS_RAW_MAX",
    "SendRefused",
    "check_send",
]

MAX_PAYLOAD = 64 * 1024
WNS_RAW_MAX = 5 * 1024
MPNS_RAW_MAX = 1024
MAX_SCHEDULE_AHEAD = timedelta(days=7)
FORMATS = frozenset(
    {
        "apple",
        "gcm",
        "fcmv1",
        "windows",
        "windowsphone",
        "adm",
        "baidu",
        "browser",
        "xiaomi",
        "nokiax",
        "template",
    }
)


@dataclass(frozen=True, slots=True)
class SendRefused(Exception):
    """The status and detail the service answers a send it refuses with."""

    status: int
    message: str


def _platform_payload(fmt: str, headers: CIMultiDictProxy[str], body: bytes) -> None:
    """The size caps of raw WNS and MPNS notifications (§9.4, §13) and the WNS type header."""
    if fmt == "windows":
        wns_type = headers.get("X-WNS-Type")
        if wns_type is None:
            raise SendRefused(400, "The mandatory HTTP header 'X-WNS-Type' is missing.")
        if wns_type.strip().lower() == "wns/raw" and len(body) > WNS_RAW_MAX:
            raise SendRefused(
                400, f"The raw WNS notification is {len(body)} bytes; at most {WNS_RAW_MAX}"
            )
    if fmt == "windowsphone" and "X-WindowsPhone-Target" not in headers:
        if len(body) > MPNS_RAW_MAX:
            raise SendRefused(
                400, f"The raw MPNS notification is {len(body)} bytes; at most {MPNS_RAW_MAX}"
            )


def _content(fmt: str, headers: CIMultiDictProxy[str], content_type: str | None) -> None:
    raw = fmt == "windows" and headers.get("X-WNS-Type", "").strip().lower() == "wns/raw"
    problem = send_type_problem(fmt, content_type, wns_raw=raw)
    if problem is not None:
        raise SendRefused(400, problem)


def schedule_time(value: str | None, now: float) -> datetime:
    """`ServiceBusNotification-ScheduleTime` as UTC; at most 7 days ahead (§10)."""
    if value is None or not value.strip():
        raise SendRefused(400, "The header 'ServiceBusNotification-ScheduleTime' is missing")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise SendRefused(
            400, f"The ServiceBusNotification-ScheduleTime '{value}' is not a valid UTC date"
        ) from None
    when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    if when > datetime.fromtimestamp(now, UTC) + MAX_SCHEDULE_AHEAD:
        raise SendRefused(
            400, "A notification can be scheduled at most 7 days ahead, not for " + value.strip()
        )
    return when


def check_send(op: Op, headers: CIMultiDictProxy[str], body: bytes, now: float) -> str:
    """The send's format once every check passes; raises SendRefused otherwise."""
    if len(body) > MAX_PAYLOAD:
        raise SendRefused(413, "The notification payload is larger than 64 KB")
    fmt = headers.get("ServiceBusNotification-Format", "").strip().lower()
    if fmt not in FORMATS:
        raise SendRefused(
            400, "The header 'ServiceBusNotification-Format' is missing or not supported"
        )
    content_type = headers.get("Content-Type")
    if op is Op.SEND_BATCH:
        try:
            batch = parse_batch(content_type, body)
        except BatchRefused as exc:
            raise SendRefused(400, str(exc)) from None
        body, content_type = batch.notification, batch.notification_type
    elif op is Op.SEND_DIRECT and not headers.get("ServiceBusNotification-DeviceHandle"):
        raise SendRefused(400, "The header 'ServiceBusNotification-DeviceHandle' is missing")
    _content(fmt, headers, content_type)
    _platform_payload(fmt, headers, body)
    if op is Op.SCHEDULE_SEND:
        schedule_time(headers.get("ServiceBusNotification-ScheduleTime"), now)
    return fmt
