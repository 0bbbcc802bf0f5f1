"""Direct batch sends (`messages/$batch?direct`) on the stand-in hub.

Evidence: spec/nh-rest-api.md §9.2 — `multipart/mixed` with a `notification` part and a
`devices` part (a JSON array of at most 1,000 handles), 400 "could not find a part of the
multipart content" when one is missing; the `ServiceBusNotification-Format` header is
required as on every send (§9.1); the body shape is the one the JS SDK 2.1.0 builds
(`createMultipartDirectNotification`, `boundary = "…"` with spaces) and the 201 +
`Location` answer is the .NET MockData recording
`SendDirectNotificationAsync_SendDirectAppleBatchNotification_GetSuccessfulResultBack`.
"""

from __future__ import annotations

import json
import re

import pytest

from proxy.localhub.batch import MAX_HANDLES, BatchRefused, parse_batch
from proxy.localhub.media import media_type
from tests.hubclient import HUB, HubClient

BOUNDARY = "nh-boundary-9a3c1d2e"
APPLE = {"ServiceBusNotification-Format": "apple"}


def multipart(handles: object, *, notification: bool = True, devices: bool = True) -> bytes:
    """The body the JS SDK writes, part by part."""
    parts = []
    if notification:
        parts.append(
            "Content-type: application/json;charset=utf-8\r\n"
            'Content-Disposition: inline; name=notification\r\n\r\n{"aps":{"alert":"hi"}}'
        )
    if devices:
        parts.append(
            "Content-type: application/json\r\nContent-Disposition: inline; name=devices\r\n\r\n"
            + json.dumps(handles)
        )
    body = "".join(f"--{BOUNDARY}\r\n{part}\r\n" for part in parts) + f"--{BOUNDARY}--"
    return body.encode()


JS_TYPE = f'multipart/mixed; boundary = "{BOUNDARY}"'


async def send(hub: HubClient, body: bytes, content_type: str = JS_TYPE, **headers: str):
    return await hub.call("POST", "/messages/$batch?direct", body,
                          headers={**APPLE, "Content-Type": content_type, **headers})  # fmt: skip


async def test_the_js_sdk_batch_is_accepted(hub: HubClient) -> None:
    answer = await send(hub, multipart(["aa", "bb"]))
    assert answer.status == 201 and answer.text == ""
    assert re.fullmatch(rf"https://{re.escape(hub.running.host)}/{HUB}/messages/\S+",
                        answer.headers["Location"])  # fmt: skip
    plain = await send(hub, multipart(["aa"]), f"multipart/mixed; boundary={BOUNDARY}")
    assert plain.status == 201


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (multipart([], notification=False, devices=False), "Could not find a part"),
        (multipart(["aa"], devices=False), "Could not find a part"),
        (multipart(["aa"], notification=False), "Could not find a part"),
        (multipart([f"h{n}" for n in range(1500)]), "1500 handles; at most 1000"),
        (multipart([]), "lists no device handle"),
        (multipart("aa"), "JSON array of device handles"),
        (multipart([1, 2]), "JSON array of device handles"),
        # The docs' example devices part, single-quoted: not JSON (nh-rest-api §9.2, §16.21).
        (multipart(["t1"]).replace(b'["t1"]', b"['t1','t2']"), "JSON array of device handles"),
    ],
)
async def test_malformed_batches_are_400(hub: HubClient, body: bytes, detail: str) -> None:
    answer = await send(hub, body)
    assert answer.status == 400 and detail in answer.text, answer.text


async def test_a_thousand_handles_are_allowed(hub: HubClient) -> None:
    assert (await send(hub, multipart([f"h{n}" for n in range(MAX_HANDLES)]))).status == 201


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "",
        "multipart/mixed",
        # a boundary does not make another type multipart
        f'application/json; boundary="{BOUNDARY}"',
        f"text/plain; boundary={BOUNDARY}",
    ],
)
async def test_a_batch_that_is_not_multipart_is_400(hub: HubClient, content_type: str) -> None:
    answer = await send(hub, multipart(["aa"]), content_type)
    assert answer.status == 400 and "multipart/mixed" in answer.text


async def test_a_batch_without_a_format_is_400(hub: HubClient) -> None:
    answer = await hub.call("POST", "/messages/$batch?direct", multipart(["aa"]),
                            headers={"Content-Type": JS_TYPE})  # fmt: skip
    assert answer.status == 400 and "ServiceBusNotification-Format" in answer.text


async def test_the_notification_part_is_judged_like_a_send(hub: HubClient) -> None:
    body = multipart(["aa"]).replace(b"application/json;charset=utf-8", b"text/plain")
    answer = await send(hub, body)
    assert answer.status == 400 and "text/plain" in answer.text


def test_parse_batch_reads_both_parts() -> None:
    batch = parse_batch(JS_TYPE, multipart(["aa", "bb"]))
    assert batch.handles == ("aa", "bb")
    assert batch.notification == b'{"aps":{"alert":"hi"}}'
    assert media_type(batch.notification_type) == "application/json"
    with pytest.raises(BatchRefused):
        parse_batch(None, multipart(["aa"]))
