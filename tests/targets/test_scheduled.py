"""A scheduled send is judged when the hub delivers it: at its `ScheduleTime` header.

The service sends a scheduled notification at that time (spec §10), to the devices
registered then: a registration written between the call and the delivery is reached, one
deleted meanwhile is not. Every other send is judged at its call.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from proxy.decode.sends import decode_send
from proxy.targets import Recording
from tests.targets.recorder import SEND_BODY, Recorder

APPLE = "ab" * 32


def schedule(recorder: Recorder, when: str) -> None:
    content_type, body, _ = SEND_BODY["apple"]
    headers = {
        "ServiceBusNotification-Format": "apple",
        "Content-Type": content_type,
        "ServiceBusNotification-Tags": "sports",
        "ServiceBusNotification-ScheduleTime": when,
    }
    exchange = recorder.call("POST", "/schedulednotifications", body, headers)
    assert exchange.status == 201, exchange.response


def reached(recording: Recording, index: int) -> set[str]:
    send = recording.sends[index]
    return {v.snapshot.ident for v in recording.reach_of(send) if v.reached}


def test_a_scheduled_send_reaches_the_devices_registered_at_its_time(recorder: Recorder) -> None:
    early = recorder.register("Apple", APPLE, ["sports"])
    gone = recorder.register("Apple", "cd" * 32, ["sports"])
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    schedule(recorder, in_an_hour.strftime("%Y-%m-%dT%H:%M:%S"))
    schedule(recorder, (in_an_hour + timedelta(hours=2)).isoformat(timespec="seconds"))
    recorder.debug_send("apple", "sports")
    late = recorder.register("Apple", "ef" * 32, ["sports"])
    recorder.call("DELETE", f"/registrations/{gone}", headers={"If-Match": "*"})
    recording = recorder.recording()
    assert [s.send.schedule_time is not None for s in recording.sends] == [True, True, False]
    scheduled = recording.sends[0]
    assert scheduled.judged_at == in_an_hour.replace(microsecond=0).timestamp()
    assert reached(recording, 0) == {early, late}
    assert reached(recording, 1) == {early, late}
    assert recording.sends[2].judged_at == recording.sends[2].at
    assert reached(recording, 2) == {early, gone}


def test_an_offset_in_the_schedule_time_is_honoured(recorder: Recorder) -> None:
    recorder.register("Apple", APPLE, ["sports"])
    in_a_day = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    schedule(recorder, in_a_day.astimezone(timezone(timedelta(hours=2))).isoformat())
    [send] = recorder.recording().sends
    assert send.judged_at == in_a_day.timestamp()
    decoded = decode_send(
        "POST", "http://h/hub/schedulednotifications", recorder.exchanges[-1].request, 201, None
    )
    assert decoded is not None and (decoded.schedule_time or "").endswith("+02:00")
