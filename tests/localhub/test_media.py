"""`Content-Type` on the stand-in hub: each body-carrying call must declare what it sends.

Evidence: spec/nh-rest-api.md §9.1 (a send needs `Content-Type`; a bad one is 400), §9.3
(the type per format), §3.1 and §6.1/§6.3 (registrations are Atom, installations JSON);
real-clients.md §1b and §2 (what every SDK sends, incl. the legacy iOS `application/xml`
and Java's `application/atom+xml; charset=ISO-8859-1`). The real service's wording for a
wrong type is not recorded; the stand-in's detail names what it expected.
"""

from __future__ import annotations

import json

import pytest

from tests.hubclient import HubClient, apple

INSTALLATION = json.dumps({"installationId": "i1", "platform": "apns", "pushChannel": "aa"})


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "", "text/xml"])
async def test_a_registration_write_that_is_not_xml_is_400(
    hub: HubClient, content_type: str
) -> None:
    headers = {"Content-Type": content_type}
    for method, path in (("POST", "/registrations"), ("PUT", "/registrations/1-2-3")):
        answer = await hub.call(method, path, apple(), headers=headers)
        assert answer.status == 400, (method, content_type)
        assert "expected application/atom+xml or application/xml" in answer.text
    assert (await hub.call("GET", "/registrations")).text.count("<entry") == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "application/atom+xml;type=entry;charset=utf-8",  # JS
        "application/atom+xml; charset=utf-8; type=entry",  # .NET
        "application/atom+xml; charset=ISO-8859-1",  # Java
        "application/atom+xml",  # Android legacy
        "application/xml",  # iOS legacy
    ],
)
async def test_every_clients_registration_type_is_accepted(
    hub: HubClient, content_type: str
) -> None:
    answer = await hub.call(
        "POST", "/registrations", apple(), headers={"Content-Type": content_type}
    )
    assert answer.status == 200, answer.text


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/xml"])
async def test_an_installation_that_is_not_json_is_400(hub: HubClient, content_type: str) -> None:
    answer = await hub.call(
        "PUT", "/installations/i1", INSTALLATION, headers={"Content-Type": content_type}
    )
    assert answer.status == 400 and "expected application/json" in answer.text
    assert (await hub.call("GET", "/installations/i1")).status == 404


async def test_patch_takes_json_and_json_patch(hub: HubClient) -> None:
    assert (await hub.call("PUT", "/installations/i1", INSTALLATION)).status == 200
    ops = json.dumps([{"op": "add", "path": "/tags", "value": "a"}])
    for content_type in ("application/json-patch+json; charset=utf-8", "application/json"):
        answer = await hub.call("PATCH", "/installations/i1", ops,
                                headers={"Content-Type": content_type})  # fmt: skip
        assert answer.status == 200, content_type
    plain = await hub.call(
        "PATCH", "/installations/i1", ops, headers={"Content-Type": "text/plain"}
    )
    assert plain.status == 400


@pytest.mark.parametrize(
    ("fmt", "content_type", "status"),
    [
        ("apple", "", 400),
        ("apple", "text/plain", 400),
        ("apple", "application/xml", 400),
        ("apple", "application/json;charset=utf-8", 201),
        ("template", "text/plain; charset=utf-8", 400),
        ("template", "application/json", 201),
        ("baidu", "application/x-www-form-urlencoded", 201),
        ("windowsphone", "application/xml;charset=utf-8", 201),
        ("windowsphone", "application/json", 400),
    ],
)
async def test_a_send_needs_the_content_type_of_its_format(
    hub: HubClient, fmt: str, content_type: str, status: int
) -> None:
    headers = {"ServiceBusNotification-Format": fmt, "Content-Type": content_type}
    if fmt == "windowsphone":
        headers["X-WindowsPhone-Target"] = "toast"
    answer = await hub.call("POST", "/messages", "{}", headers=headers)
    assert answer.status == status, answer.text


async def test_wns_sends_are_xml_and_raw_ones_octets(hub: HubClient) -> None:
    toast = {"ServiceBusNotification-Format": "windows", "X-WNS-Type": "wns/toast"}
    for content_type, status in (("application/xml", 201), ("text/plain", 400), ("", 400)):
        answer = await hub.call("POST", "/messages", "<toast/>",
                                headers={**toast, "Content-Type": content_type})  # fmt: skip
        assert answer.status == status, content_type
    raw = {**toast, "X-WNS-Type": "wns/raw"}
    octets_type = {**raw, "Content-Type": "application/octet-stream"}
    octets = await hub.call("POST", "/messages", b"\x00\x01", headers=octets_type)
    assert octets.status == 201
    xml = await hub.call(
        "POST", "/messages", "<x/>", headers={**raw, "Content-Type": "application/xml"}
    )
    assert xml.status == 400 and "expected application/octet-stream" in xml.text


async def test_the_detail_tells_a_missing_type_from_a_wrong_one(hub: HubClient) -> None:
    none = await hub.call("PUT", "/installations/i1", INSTALLATION, headers={"Content-Type": ""})
    assert "The request has no Content-Type; expected application/json." in none.text
    wrong = await hub.call(
        "PUT", "/installations/i1", INSTALLATION, headers={"Content-Type": "text/plain"}
    )
    assert "The Content-Type 'text/plain' is not supported here; expected application/json." in (
        wrong.text
    )
