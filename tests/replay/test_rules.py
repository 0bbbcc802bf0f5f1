"""Replay rules one by one: token shapes, remapping, comparison by meaning."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from urllib.parse import quote

import pytest

from proxy import sas
from proxy.exchange import Exchange, Message
from proxy.model import Decoded, DecodedBody, Device, NhError, Op, Operation, Platform, Template
from proxy.replay.compare import Difference, compare, labels
from proxy.replay.load import Recorded
from proxy.replay.remap import Remapper
from proxy.replay.run import pause
from proxy.signing import JS_SHAPE, Signer, shape_of, sr_for

URL = "http://127.0.0.1:8080/MyHub/registrations/123-456-1?api-version=2020-06"
TARGET = "https://other.servicebus.windows.net/newhub/registrations/987-654-2?api-version=2020-06"
HTTPS_URL = URL.replace("http://", "https://")
SHAPES: dict[str, tuple[str, Callable[[str], str], str]] = {
    "js root": (
        URL,
        lambda u: quote("http://127.0.0.1:8080/", safe=""),
        quote("https://other.servicebus.windows.net/", safe=""),
    ),
    "dotnet forces http": (
        HTTPS_URL,
        lambda u: quote("http://127.0.0.1/myhub/registrations/123-456-1/", safe="").lower(),
        quote(
            "http://other.servicebus.windows.net/newhub/registrations/987-654-2/", safe=""
        ).lower(),
    ),
    "java full url": (
        URL,
        lambda u: quote(u.lower(), safe="").lower(),
        quote(TARGET.lower(), safe="").lower(),
    ),
    "hub, case kept": (
        URL,
        lambda u: quote("http://127.0.0.1:8080/MyHub", safe=""),
        quote("https://other.servicebus.windows.net/newhub", safe=""),
    ),
    "unencoded": (
        URL,
        lambda u: "http://127.0.0.1:8080/myhub/",
        "https://other.servicebus.windows.net/newhub/",
    ),
}


@pytest.mark.parametrize("name", SHAPES)
def test_sr_shape_is_read_and_recreated(name: str) -> None:
    url, make, expected = SHAPES[name]
    recorded = make(url)
    token = f"SharedAccessSignature sr={recorded}&sig=%5Bredacted%5D&se=1&skn=old"
    shape = shape_of(token, url)
    assert sr_for(shape, url) == recorded
    assert sr_for(shape, TARGET) == expected


def test_unreadable_tokens_get_the_js_shape_and_fresh_tokens_verify() -> None:
    assert shape_of("Sanitized", URL) == JS_SHAPE
    assert shape_of(None, URL) == JS_SHAPE
    signer = Signer("rule", "secret-key")
    token = sas.parse_token(signer.token(shape_of("Sanitized", URL), TARGET))
    assert token is not None
    assert sas.verify(token, {"rule": "secret-key"}, host="other.servicebus.windows.net") is None
    assert "secret-key" not in repr(signer)
    shown = signer.placeholder(JS_SHAPE, TARGET)
    assert "sig={signature}&se={expiry}&skn=rule" in shown


def test_remapper_rewrites_paths_bodies_headers_and_if_match() -> None:
    remap = Remapper(
        target="http://t:1", source_hub="MyHub", target_hub="newhub", ids={"123-456-1": "9-9-9"}
    )
    remap.etags[("123-456-1", "3")] = "7"
    assert remap.url(URL) == "http://t:1/newhub/registrations/9-9-9?api-version=2020-06"
    body = (
        b"<entry><id>https://ns.servicebus.windows.net/MyHub/registrations/123-456-1</id>"
        b"<a:RegistrationId> 123-456-1 </a:RegistrationId><Tags>123-456-1</Tags></entry>"
    )
    assert remap.body(body) == (
        b"<entry><id>https://ns.servicebus.windows.net/newhub/registrations/123-456-1</id>"
        b"<a:RegistrationId>9-9-9</a:RegistrationId><Tags>123-456-1</Tags></entry>"
    )
    headers = remap.headers(
        (
            ("Host", "x"),
            ("Authorization", "old"),
            ("If-Match", 'W/"3"'),
            ("Content-Length", "9"),
            ("Connection", "close"),
            ("X-Keep", "1"),
        ),
        "new-token",
        "123-456-1",
    )
    assert headers == (("Authorization", "new-token"), ("If-Match", 'W/"7"'), ("X-Keep", "1"))
    assert remap.if_match('"3"', "123-456-1") == '"7"'
    assert remap.if_match("*", "123-456-1") == "*"
    assert remap.if_match('"4"', "123-456-1") == '"4"'


def reg(rid: str, tags: tuple[str, ...], handle: str = "ab", **extra: object) -> Device:
    return Device(
        kind="registration",
        source_type="AppleRegistrationDescription",
        platform=Platform.APNS,
        handle=handle,
        registration_id=rid,
        tags=tags,
        etag=rid,
        expiration=rid,
        **extra,  # type: ignore[arg-type]
    )


def answer(op: Op, *devices: Device, error: str | None = None) -> Decoded:
    body = DecodedBody(
        format="error" if error else "atom",
        devices=devices,
        error=NhError(code=error, detail="TrackingId:x") if error else None,
    )
    return Decoded(operation=Operation(name=op), request=DecodedBody(format="empty"), response=body)


def test_single_records_compare_by_meaning() -> None:
    same = compare(
        Op.READ_REGISTRATION,
        (200, answer(Op.READ_REGISTRATION, reg("1", ("a", "b"), "AB"))),
        (200, answer(Op.READ_REGISTRATION, reg("2", ("b", "a"), "ab"))),
        {},
    )
    assert same.verdict == "same"
    templated = Template(name="t", body="{}", tags=("x",))
    different = compare(
        Op.READ_REGISTRATION,
        (200, answer(Op.READ_REGISTRATION, reg("1", ("a",), templates=(templated,)))),
        (201, answer(Op.READ_REGISTRATION, reg("2", ("a", "c")))),
        {},
    )
    fields = [d.field for d in different.differences]
    assert fields == ["status", "record[0].tags", "record[0].templates"]
    errors = compare(
        Op.READ_REGISTRATION,
        (404, answer(Op.READ_REGISTRATION, error="404")),
        (404, answer(Op.READ_REGISTRATION, error="410")),
        {},
    )
    assert errors.differences == (Difference("error_code", "404", "410"),)


def test_lists_match_session_records_by_mapped_id_and_note_foreign_ones() -> None:
    ids = {"o1": "n1", "o2": "n2"}
    original = answer(
        Op.LIST_REGISTRATIONS,
        reg("o1", ("a",), handle="0f744707bebcf74f9b7c25d48e3358945f6aa01d"),
        reg("o2", ("b",), handle="tok-2"),
        reg("old", ("z",), handle="tok-3"),
    )
    replay = answer(
        Op.LIST_REGISTRATIONS,
        reg("n2", ("b",), handle="tok-2"),
        reg("n1", ("a", "c"), handle="0f744707bebcf74f9b7c25d48e3358945f6aa01d"),
    )
    result = compare(Op.LIST_REGISTRATIONS, (200, original), (200, replay), ids)
    assert result.differences == (Difference("record[apns 0f744707…a01d].tags", "a", "a,c"),)
    assert result.notes == (
        "records not created by this session, not compared: 1 only in the original, "
        "0 only in the replay",
    )
    missing = compare(
        Op.LIST_REGISTRATIONS,
        (200, original),
        (200, answer(Op.LIST_REGISTRATIONS, reg("n1", ("a",), handle="tok-1"))),
        ids,
    )
    assert Difference("record[apns tok-2]", "listed", "missing") in missing.differences
    for difference in (*result.differences, *missing.differences):  # README: ids are ignored
        assert not {"o1", "o2", "n1", "n2"} & set(difference.field.strip("[].").split())


def test_list_records_with_the_same_device_are_told_apart_by_ordinal() -> None:
    ids = {"o1": "n1", "o2": "n2"}
    template = Template(name="greeting", body="{}")
    original = answer(
        Op.LIST_REGISTRATIONS_BY_TAG,
        reg("o1", ("a",)),
        reg("o2", ("a",)),
        reg("o3", ("a",), templates=(template,)),
    )
    replay = answer(Op.LIST_REGISTRATIONS_BY_TAG, reg("n1", ("a",)), reg("n2", ("b",)))
    result = compare(Op.LIST_REGISTRATIONS_BY_TAG, (200, original), (200, replay), ids)
    assert result.differences == (Difference("record[apns ab #2].tags", "a", "b"),)
    assert labels(original.response.devices) == [  # type: ignore[union-attr]
        "record[apns ab #1]",
        "record[apns ab #2]",
        "record[apns ab template greeting]",
    ]


def test_remapper_learns_created_ids_etags_and_continuation_tokens() -> None:
    remap = Remapper(target="http://t:1")
    was = Message(headers=(("X-MS-ContinuationToken", "old/+="),), body=b"")
    now = Message(headers=(("X-MS-ContinuationToken", "new"),), body=b"")
    remap.learn(
        Op.CREATE_REGISTRATION,
        (answer(Op.CREATE_REGISTRATION, reg("o1", ())), was),
        (answer(Op.CREATE_REGISTRATION, reg("n1", ())), now),
    )
    assert remap.ids == {"o1": "n1"}
    assert remap.etags == {("o1", "o1"): "n1"}
    listed = "http://h/hub/registrations?api-version=2020-06&continuationtoken=old%2F%2B%3D"
    assert (
        remap.url(listed)
        == "http://t:1/hub/registrations?api-version=2020-06&continuationtoken=new"
    )


def recorded_at(started_at: float) -> Recorded:
    exchange = Exchange(
        id="x",
        session="s",
        started_at=started_at,
        duration_ms=0,
        method="GET",
        url=URL,
        request=Message(headers=(), body=b""),
    )
    return Recorded(index=1, exchange=exchange, decoded=answer(Op.READ_REGISTRATION))


async def test_delays_keep_original_gaps_fixed_gaps_or_stop_at_once() -> None:
    first, second = recorded_at(100.0), recorded_at(100.3)
    clock = time.monotonic()
    await pause(None, second, first, time.monotonic(), asyncio.Event())
    assert 0.25 < time.monotonic() - clock < 1
    clock = time.monotonic()
    await pause(50, second, first, time.monotonic(), asyncio.Event())
    assert 0.04 < time.monotonic() - clock < 0.25
    stop = asyncio.Event()
    stop.set()
    clock = time.monotonic()
    await pause(None, recorded_at(1000.0), first, time.monotonic(), stop)
    assert time.monotonic() - clock < 0.1
