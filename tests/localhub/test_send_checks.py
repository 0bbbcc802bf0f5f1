"""Scheduled sends, raw payload sizes and the Send claim on the stand-in hub.

Evidence: spec/nh-rest-api.md §10 (`ServiceBusNotification-ScheduleTime`, UTC ISO-8601,
at most 7 days ahead), §9.4 and §13 (WNS raw ≤ 5 KB, MPNS raw ≤ 1 KB; §9.1 lists "message
exceeds size" among the 400s), §2.4 (sends and scheduled sends need Send) with §1.6 (a
missing claim at 2020-06 is 403 with no body, the .NET MockData Listen-only recording).
The service's wording for a bad schedule time or an oversized raw payload is not recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from proxy.localhub import LISTEN_RULE
from proxy.localhub.send_checks import MPNS_RAW_MAX, WNS_RAW_MAX
from tests.hubclient import HubClient

APPLE = {"ServiceBusNotification-Format": "apple", "Content-Type": "application/json"}


def ahead(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


def dotnet_ahead(**delta: float) -> Callable[[], str]:
    """A schedule time as .NET and Java write it, `delta` after the test starts (computed
    then, not at collection: each pytest-xdist worker must collect the same test names)."""
    return lambda: ahead(**delta).strftime("%Y-%m-%dT%H:%M:%S")


async def schedule(hub: HubClient, when: str, rule: str | None = None):
    headers = {**APPLE, "ServiceBusNotification-ScheduleTime": when}
    extra = {"rule": rule} if rule else {}
    return await hub.call("POST", "/schedulednotifications", "{}", headers=headers, **extra)


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(dotnet_ahead(days=6), id="6d-dotnet-java"),
        pytest.param(
            lambda: ahead(hours=1).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            id="1h-js",
        ),
        pytest.param(dotnet_ahead(days=6, hours=23), id="6d23h"),
    ],
)
async def test_a_schedule_time_within_seven_days_is_accepted(
    hub: HubClient, when: Callable[[], str]
) -> None:
    answer = await schedule(hub, when())
    assert answer.status == 201, answer.text
    assert "/schedulednotifications/" in answer.headers["Location"]


@pytest.mark.parametrize(
    ("when", "detail"),
    [
        ("garbage", "is not a valid UTC date"),
        ("2001-07-04'T'12:08:56", "is not a valid UTC date"),  # notificationhubs-rest-python
        ("2099-01-01T00:00:00", "at most 7 days ahead"),
        pytest.param(dotnet_ahead(days=7, hours=1), "at most 7 days ahead", id="7d1h"),
        ("", "is missing"),
    ],
)
async def test_a_bad_schedule_time_is_400(
    hub: HubClient, when: str | Callable[[], str], detail: str
) -> None:
    answer = await schedule(hub, when() if callable(when) else when)
    assert answer.status == 400 and detail in answer.text, answer.text


async def test_a_listen_key_cannot_schedule(hub: HubClient) -> None:
    answer = await schedule(hub, ahead(days=1).strftime("%Y-%m-%dT%H:%M:%S"), rule=LISTEN_RULE)
    assert (answer.status, answer.text) == (403, "")
    cancel = await hub.call("DELETE", "/schedulednotifications/abc", rule=LISTEN_RULE)
    assert cancel.status == 403


async def test_raw_wns_is_at_most_5_kb(hub: HubClient) -> None:
    raw = {"ServiceBusNotification-Format": "windows", "X-WNS-Type": "wns/raw",
           "Content-Type": "application/octet-stream"}  # fmt: skip
    big = await hub.call("POST", "/messages", b"x" * (6 * 1024), headers=raw)
    assert big.status == 400 and f"at most {WNS_RAW_MAX}" in big.text
    assert (await hub.call("POST", "/messages", b"x" * WNS_RAW_MAX, headers=raw)).status == 201
    toast = {**raw, "X-WNS-Type": "wns/toast", "Content-Type": "application/xml"}
    assert (await hub.call("POST", "/messages", b"<a>" + b"x" * 6000 + b"</a>",
                           headers=toast)).status == 201  # fmt: skip


async def test_raw_mpns_is_at_most_1_kb(hub: HubClient) -> None:
    raw = {"ServiceBusNotification-Format": "windowsphone", "Content-Type": "application/xml"}
    big = await hub.call("POST", "/messages", b"x" * (MPNS_RAW_MAX + 1), headers=raw)
    assert big.status == 400 and f"at most {MPNS_RAW_MAX}" in big.text
    toast = {**raw, "X-WindowsPhone-Target": "toast"}
    assert (await hub.call("POST", "/messages", b"x" * 2000, headers=toast)).status == 201


async def test_size_limits_sit_exactly_at_their_documented_numbers(hub: HubClient) -> None:
    """5 KB, 1 KB and 64 KB as numbers, not as the module's own constants."""
    raw = {"ServiceBusNotification-Format": "windows", "X-WNS-Type": "wns/raw",
           "Content-Type": "application/octet-stream"}  # fmt: skip
    assert (await hub.call("POST", "/messages", b"x" * 5120, headers=raw)).status == 201
    assert (await hub.call("POST", "/messages", b"x" * 5121, headers=raw)).status == 400
    mpns = {"ServiceBusNotification-Format": "windowsphone", "Content-Type": "application/xml"}
    for size, status in ((1023, 201), (1024, 201), (1025, 400)):
        answer = await hub.call("POST", "/messages", b"x" * size, headers=mpns)
        assert answer.status == status, size
    apple = {"ServiceBusNotification-Format": "apple", "Content-Type": "application/json"}
    assert (await hub.call("POST", "/messages", b" " * 65536, headers=apple)).status == 201
    assert (await hub.call("POST", "/messages", b" " * 65537, headers=apple)).status == 413


async def test_only_raw_wns_is_capped_and_octets(hub: HubClient) -> None:
    badge = {"ServiceBusNotification-Format": "windows", "X-WNS-Type": "wns/badge",
             "Content-Type": "application/xml"}  # fmt: skip
    big = b"<badge value='1'/>" + b" " * 6000
    assert (await hub.call("POST", "/messages", big, headers=badge)).status == 201
    stray = {"X-WNS-Type": "wns/raw", "Content-Type": "application/json"}
    for fmt in ("apple", "adm"):
        headers = {**stray, "ServiceBusNotification-Format": fmt}
        answer = await hub.call("POST", "/messages", "{}", headers=headers)
        assert answer.status == 201, fmt
    phone = {"ServiceBusNotification-Format": "windowsphone", "X-WNS-Type": "wns/raw",
             "X-WindowsPhone-Target": "toast", "Content-Type": "application/xml"}  # fmt: skip
    assert (await hub.call("POST", "/messages", "<x/>", headers=phone)).status == 201


async def test_the_mpns_raw_cap_is_for_windowsphone_only(hub: HubClient) -> None:
    for fmt in ("xiaomi", "windowsphone"):
        media = "application/json" if fmt == "xiaomi" else "application/xml"
        headers = {"ServiceBusNotification-Format": fmt, "Content-Type": media}
        answer = await hub.call("POST", "/messages", b"x" * 2000, headers=headers)
        assert answer.status == (201 if fmt == "xiaomi" else 400), fmt
