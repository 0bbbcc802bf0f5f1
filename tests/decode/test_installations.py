"""Installation JSON and JSON Patch bodies to records."""

from __future__ import annotations

import json

import pytest

from proxy.decode import decode_body, decode_exchange
from proxy.exchange import Message
from proxy.model import DecodedBody, Device, Op, Operation, PatchOp, Platform, Template

PUT = Operation(name=Op.CREATE_OR_OVERWRITE_INSTALLATION, hub="h", resource_id="i1")
PATCH = Operation(name=Op.PATCH_INSTALLATION, hub="h", resource_id="i1")


def decode(value: object | str, operation: Operation = PUT) -> DecodedBody:
    body = value if isinstance(value, str) else json.dumps(value)
    result = decode_body(body.encode(), "application/json", operation=operation,
                         direction="request")
    assert result.decode_error is None, result.decode_error
    return result


def device_of(value: object | str) -> Device:
    (device,) = decode(value).devices
    return device


def test_full_installation() -> None:
    device = device_of({
        "installationId": "inst-1",
        "pushChannel": "00fc13",
        "tags": ["likes_hockey", "$UserId:{u}"],
        "userId": "user1",
        "templates": {"t1": {"body": '{"aps":{"alert":"$(message)"}}',
                             "headers": {"apns-priority": "10"}, "expiry": "$(e)",
                             "tags": ["tt"]}},
        "pushVariables": {"a": "b"},
        "expirationTime": "9999-12-31T23:59:59.9999999Z",
        "pushChannelExpired": False,
        "platform": "apns",
    })
    assert device.kind == "installation" and device.source_type == "installation"
    assert device.platform is Platform.APNS
    assert (device.installation_id, device.user_id, device.handle) == ("inst-1", "user1", "00fc13")
    assert device.tags == ("likes_hockey", "$UserId:{u}")
    assert device.templates == (
        Template(name="t1", body='{"aps":{"alert":"$(message)"}}',
                 headers=(("apns-priority", "10"),), expiry="$(e)", tags=("tt",)),
    )
    assert device.push_variables == '{"a":"b"}'
    assert device.expiration == "9999-12-31T23:59:59.9999999Z"
    assert device.push_channel_expired is False
    assert device.elements == ("installationId", "pushChannel", "tags", "userId", "templates",
                               "pushVariables", "expirationTime", "pushChannelExpired",
                               "platform")


@pytest.mark.parametrize(
    ("value", "platform"),
    [("fcmV1", Platform.FCMV1), ("FCMV1", Platform.FCMV1), ("fcmv1", Platform.FCMV1),
     ("APNS", Platform.APNS), ("Wns", Platform.WNS), ("gcm", Platform.GCM),
     ("baidu", Platform.BAIDU), ("xiaomi", Platform.XIAOMI), ("browser", Platform.BROWSER),
     ("fcm", Platform.UNKNOWN)],
)
def test_platform_any_case(value: str, platform: Platform) -> None:
    assert device_of({"installationId": "i", "platform": value}).platform is platform


@pytest.mark.parametrize("key", ["userId", "userID", "UserID"])
def test_user_id_spellings(key: str) -> None:
    assert device_of({"installationId": "i", key: "alice"}).user_id == "alice"


def test_expired_push_channel_doc_spelling() -> None:
    assert device_of({"installationId": "i", "expiredPushChannel": True}).push_channel_expired


SUBSCRIPTION = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "p256dh": "BPkey",
                "auth": "authsecret"}


@pytest.mark.parametrize("channel", [SUBSCRIPTION, json.dumps(SUBSCRIPTION)],
                         ids=["object", "json-string"])
def test_browser_push_channel_forms(channel: object) -> None:
    device = device_of({"installationId": "i", "platform": "browser", "pushChannel": channel})
    assert device.handle == "https://fcm.googleapis.com/fcm/send/abc"
    assert device.extra == (("P256DH", "BPkey"), ("Auth", "authsecret"))


def test_broken_json_string_push_channel_is_kept() -> None:
    result = decode({"installationId": "i", "pushChannel": "{not json"})
    assert result.devices[0].handle == "{not json"
    assert any("does not parse" in n for n in result.notes)


def test_secondary_tiles_and_unknown_keys_in_extra() -> None:
    tiles = {"tile1": {"pushChannel": "c2", "tags": ["x"]}}
    device = device_of({"installationId": "i", "platform": "wns", "secondaryTiles": tiles,
                        "lastActiveOn": "2020-01-01"})
    assert device.extra == (
        ("secondaryTiles", '{"tile1":{"pushChannel":"c2","tags":["x"]}}'),
        ("lastActiveOn", "2020-01-01"),
    )


def test_dotnet_nulls_are_absent() -> None:
    device = device_of({"installationId": "i", "userId": None, "pushChannel": "c",
                        "pushChannelExpired": None, "platform": "fcmV1", "expirationTime": None,
                        "tags": None, "pushVariables": None, "templates": None})
    assert (device.user_id, device.push_channel_expired, device.expiration) == (None, None, None)
    assert (device.tags, device.templates, device.push_variables) == ((), (), None)


def test_wrong_shapes_give_notes_not_errors() -> None:
    result = decode({"installationId": "i", "tags": "a,b", "templates": [], "platform": 3,
                     "pushChannelExpired": "yes"})
    (device,) = result.devices
    assert device.tags == ("a", "b")
    assert device.platform is Platform.UNKNOWN
    assert device.push_channel_expired is None
    assert len(result.notes) == 4


def test_json_patch() -> None:
    ops = [{"op": "add", "path": "/tags", "value": "likes_football"},
           {"op": "remove", "path": "/tags/likes_hockey"},
           {"op": "replace", "path": "/userId", "value": None},
           {"op": "add", "path": "/templates/t", "value": {"body": "{}"}},
           {"op": "add", "path": "/tags", "value": ["a", "b"]}]
    assert decode(ops, PATCH).patch == (
        PatchOp(op="add", path="/tags", value="likes_football"),
        PatchOp(op="remove", path="/tags/likes_hockey", value=None),
        PatchOp(op="replace", path="/userId", value="null"),
        PatchOp(op="add", path="/templates/t", value='{"body":"{}"}'),
        PatchOp(op="add", path="/tags", value='["a","b"]'),
    )


def test_patch_items_that_are_not_objects() -> None:
    result = decode([1, {"op": "add", "path": "/x", "value": "v"}], PATCH)
    assert result.patch == (PatchOp(op="add", path="/x", value="v"),)
    assert result.notes == ("patch operation 0 is not an object",)


def test_send_bodies_are_not_installations() -> None:
    send = Operation(name=Op.SEND, hub="h")
    result = decode({"aps": {"alert": "hi"}, "installationId": "x"}, send)
    assert (result.format, result.devices) == ("json", ())


def test_service_labels_json_as_xml() -> None:
    body = b'{"installationId":"i","pushChannel":"c","platform":"wns"}'
    result = decode_body(body, "application/xml; charset=utf-8",
                         operation=Operation(name=Op.READ_INSTALLATION), direction="response")
    assert result.format == "json"
    assert result.devices[0].handle == "c"
    assert result.notes == ("body is JSON but Content-Type is application/xml",)


def test_exchange_flags_id_mismatch_between_url_and_body() -> None:
    request = Message(headers=(("Content-Type", "application/json"),),
                      body=b'{"installationId":"other","platform":"apns","pushChannel":"AB"}')
    decoded = decode_exchange("PUT", "/h/installations/i1?api-version=2020-06", request, 200,
                              Message(headers=(), body=b""))
    assert decoded.operation.name is Op.CREATE_OR_OVERWRITE_INSTALLATION
    assert decoded.response is not None and decoded.response.format == "empty"
    assert decoded.notes == (
        "request: installation id 'other' in the body differs from 'i1' in the URL",
    )


def test_exchange_without_response() -> None:
    request = Message(headers=(), body=b"")
    decoded = decode_exchange("DELETE", "/h/installations/i1", request, None, None)
    assert decoded.response is None
    assert decoded.request.format == "empty"
    assert decoded.operation.resource_id == "i1"


def test_exchange_flags_status_and_body_disagreeing() -> None:
    request = Message(headers=(), body=b"")
    error = Message(headers=(), body=b"<Error><Code>404</Code><Detail>x</Detail></Error>")
    ok = decode_exchange("GET", "/h/installations/i1", request, 200, error)
    assert ok.notes == ("response: status 200 carries an <Error> body",)
    json_404 = Message(headers=(), body=b'{"installationId":"i1"}')
    failed = decode_exchange("GET", "/h/installations/i1", request, 404, json_404)
    assert failed.notes == ("response: status 404 without an <Error> body",)
    empty_403 = decode_exchange("POST", "/h/messages", request, 403, Message(headers=(), body=b""))
    assert empty_403.notes == ()
