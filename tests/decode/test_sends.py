"""A send's target from its headers, direct handles from `$batch` parts, debug outcomes."""

from __future__ import annotations

import pytest

from proxy.decode import decode_send
from proxy.decode.sends import OutcomeResult, format_of
from proxy.exchange import Message
from proxy.model import Op, Platform

URL = "https://ns.servicebus.windows.net/myhub/messages/?api-version=2020-06"


FORMAT = "ServiceBusNotification-Format"
TAGS = "ServiceBusNotification-Tags"


def request(*headers: tuple[str, str], body: bytes = b"{}") -> Message:
    return Message(headers=headers, body=body)


def test_a_tag_send() -> None:
    send = decode_send(
        "POST",
        URL,
        request((FORMAT, " Apple "), (TAGS, "a && !b")),
        201,
        Message(
            headers=(("Location", "https://ns/myhub/messages/3f2a-20260101000000-1-2?api-version=2020-06"),),
            body=b"",
        ),
    )  # fmt: skip
    assert send is not None
    assert (send.operation, send.hub, send.format) == (Op.SEND, "myhub", "apple")
    assert send.tags == "a && !b"
    assert not send.test and not send.direct and send.outcome is None
    assert send.notification_id == "3f2a-20260101000000-1-2"


@pytest.mark.parametrize(
    ("query", "test"),
    [("?test", True), ("?test=true", True), ("?Test=1", True), ("?test=False", False), ("", False)],
)
def test_debug_sends_are_told_by_the_query(query: str, test: bool) -> None:
    url = f"https://ns/myhub/messages{query}{'&' if query else '?'}api-version=2020-06"
    send = decode_send("POST", url, request(("ServiceBusNotification-Format", "gcm")), 201, None)
    assert send is not None and send.test is test


def test_a_blank_tags_header_is_a_broadcast() -> None:
    send = decode_send("POST", URL, request(("ServiceBusNotification-Tags", "  ")), 400, None)
    assert send is not None and send.tags is None and send.format is None


def test_a_direct_send_names_its_handle() -> None:
    send = decode_send(
        "POST",
        "https://ns/myhub/messages?direct&api-version=2015-04",
        request((FORMAT, "fcmv1"), ("ServiceBusNotification-DeviceHandle", "tok")),
        201,
        None,
    )  # fmt: skip
    assert send is not None and send.direct and send.handles == ("tok",)


@pytest.mark.parametrize(
    ("content_type", "devices"),
    [
        ('multipart/mixed; boundary = "nh-boundary-1"', b'["t1","t2"]'),
        ("multipart/mixed; boundary=nh-boundary-1", b"['t1','t2']"),
    ],
)
def test_a_batch_send_names_the_devices_part(content_type: str, devices: bytes) -> None:
    body = (
        b"--nh-boundary-1\r\nContent-Type: application/json\r\n"
        b"Content-Disposition: inline; name=notification\r\n\r\n{}\r\n"
        b"--nh-boundary-1\r\nContent-Type: application/json\r\n"
        b'Content-Disposition: inline; name="devices"\r\n\r\n' + devices + b"\r\n--nh-boundary-1--"
    )
    send = decode_send(
        "POST",
        "https://ns/myhub/messages/$batch?direct&api-version=2015-08",
        request(("Content-Type", content_type), body=body),
        201,
        None,
    )
    assert send is not None and send.operation is Op.SEND_BATCH and send.handles == ("t1", "t2")


def test_a_batch_without_its_parts_is_noted() -> None:
    send = decode_send(
        "POST",
        "https://ns/myhub/messages/$batch?direct",
        request(("Content-Type", "application/json")),
        400,
        None,
    )
    assert send is not None and send.handles == () and send.notes == (
        "$batch send without a multipart boundary",
    )


def test_a_debug_send_outcome_is_read() -> None:
    body = (
        b'<NotificationOutcome xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus'
        b'/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Success>1</Success>'
        b"<Failure>0</Failure><Results><RegistrationResult><ApplicationPlatform>apple"
        b"</ApplicationPlatform><PnsHandle>AA01</PnsHandle><RegistrationId>1-2-3</RegistrationId>"
        b"<Outcome>The Notification was successfully sent</Outcome></RegistrationResult></Results>"
        b"</NotificationOutcome>"
    )
    send = decode_send(
        "POST",
        URL.replace("?", "?test&"),
        request(("ServiceBusNotification-Format", "apple")),
        201,
        Message(headers=(("Content-Type", "application/xml; charset=utf-8"),), body=body),
    )
    assert send is not None and send.test
    assert send.outcome == (
        OutcomeResult(
            platform="apple",
            handle="AA01",
            registration_id="1-2-3",
            outcome="The Notification was successfully sent",
        ),
    )


def test_a_scheduled_send_keeps_its_time_and_other_calls_are_not_sends() -> None:
    send = decode_send(
        "POST",
        "https://ns/myhub/schedulednotifications?api-version=2020-06",
        request(("ServiceBusNotification-ScheduleTime", "2026-05-01T10:00:00")),
        201,
        None,
    )
    assert send is not None and send.schedule_time == "2026-05-01T10:00:00"
    assert decode_send("POST", "https://ns/myhub/registrations", request(), 200, None) is None


def test_formats_of_platforms() -> None:
    assert format_of(Platform.MPNS) == "windowsphone" and format_of(Platform.UNKNOWN) is None
