"""Facts every export shares: bodies never lossy, findings recomputed, rule bugs contained."""

from __future__ import annotations

from proxy.exchange import Exchange, Message
from proxy.io.facts import assess, body_from_json, body_json, decoded_json

ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom">'
    b'<content type="application/xml"><GcmRegistrationDescription '
    b'xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">'
    b"<GcmRegistrationId>token-1</GcmRegistrationId><Tags>t1</Tags>"
    b"</GcmRegistrationDescription></content></entry>"
)


def test_bodies_are_text_when_utf8_and_base64_otherwise() -> None:
    for body in (b"", "é".encode(), b"\xff\xfe\x00", bytes(range(256))):
        assert body_from_json(body_json(body)) == body
    assert body_json("é".encode()) == {"text": "é", "base64": None}
    assert body_json(b"\xff")["text"] is None


def test_an_exchange_is_decoded_and_judged() -> None:
    exchange = Exchange(
        id="b" * 32, session="s", started_at=1.0, duration_ms=1.0, method="POST",
        url="https://ns.servicebus.windows.net/hub/registrations?api-version=2020-06",
        request=Message(headers=(("Content-Type", "application/atom+xml"),), body=ATOM),
        status=200, response=Message(headers=(), body=b""),
    )  # fmt: skip
    item = assess(exchange, {"request_truncated": 0})
    decoded = decoded_json(item.decoded)
    assert decoded["operation"]["name"] == "create_registration"
    device = decoded["request"]["devices"][0]
    assert (device["platform"], device["handle"], list(device["tags"])) == (
        "gcm",
        "token-1",
        ["t1"],
    )
    rules = {f.rule for f in item.findings}
    assert rules, "no Authorization header and Tags after the handle break rules"
    assert all(f.severity != "ok" for f in item.findings)
    ranks = [("error", "warning", "note").index(f.severity) for f in item.findings]
    assert ranks == sorted(ranks)
