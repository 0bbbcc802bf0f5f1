"""Installations on the local hub: PUT/GET/PATCH/DELETE, registrations they show up as, --db."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from proxy.localhub import HubSettings, start_hub
from tests.hubclient import TIMEOUT, HubClient, apple

NewStore = Callable[[str], Path | str]
TOKEN = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"


def installation(iid: str = "inst-1", **extra: object) -> str:
    return json.dumps({"installationId": iid, "platform": "apns", "pushChannel": TOKEN, **extra})


async def test_put_get_delete(hub: HubClient) -> None:
    put = await hub.call("PUT", "/installations/inst-1", installation(tags=["t1"], userId="u1"))
    assert put.status == 200 and put.text == ""
    assert put.headers["Content-Type"] == "application/xml; charset=utf-8"
    got = await hub.call("GET", "/installations/inst-1")
    assert got.status == 200 and got.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert list(json.loads(got.text).items()) == [
        ("installationId", "inst-1"),
        ("pushChannel", TOKEN),
        ("pushChannelExpired", False),
        ("platform", "apns"),
        ("expirationTime", "9999-12-31T23:59:59.9999999Z"),
        ("userId", "u1"),
        ("tags", ["t1"]),
    ]
    deleted = await hub.call("DELETE", "/installations/inst-1")
    assert deleted.status == 204
    missing = await hub.call("GET", "/installations/inst-1")
    assert missing.status == 404
    assert "<Detail>Installation not found.TrackingId:" in missing.text
    assert (await hub.call("DELETE", "/installations/never-there")).status == 204


async def test_template_name_becomes_a_template_tag(hub: HubClient) -> None:
    templates = {"Template Name": {"body": '{"aps":{}}', "headers": {"apns-priority": "10"}}}
    await hub.call(
        "PUT", "/installations/inst-1", installation(templates=templates, platform="APNS")
    )
    doc = json.loads((await hub.call("GET", "/installations/inst-1")).text)
    assert doc["platform"] == "apns"
    assert doc["templates"]["Template Name"]["tags"] == ["Template Name"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("inst-1", "{not json"),
        ("inst-1", "[]"),
        ("inst-1", json.dumps({"platform": "apns", "pushChannel": "aa"})),
        ("inst-1", json.dumps({"installationId": "inst-1", "pushChannel": "aa"})),
        (
            "inst-1",
            json.dumps({"installationId": "inst-1", "platform": "nokia", "pushChannel": "a"}),
        ),
        ("inst-1", json.dumps({"installationId": "inst-1", "platform": "apns"})),
        ("other", installation()),
        ("inst-1", installation(tags="not-a-list")),
        ("inst-1", installation(templates={"t": {"headers": {}}})),
    ],
)
async def test_invalid_installations_are_400(hub: HubClient, path: str, body: str) -> None:
    answer = await hub.call("PUT", f"/installations/{path}", body)
    assert answer.status == 400 and "<Code>400</Code>" in answer.text


async def patch(
    hub: HubClient, ops: list[dict[str, object]], iid: str = "inst-1"
) -> dict[str, object]:
    answer = await hub.call(
        "PATCH",
        f"/installations/{iid}",
        json.dumps(ops),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert answer.status == 200, answer.text
    assert answer.text == ""
    doc: dict[str, object] = json.loads((await hub.call("GET", f"/installations/{iid}")).text)
    return doc


async def test_patch_semantics(hub: HubClient) -> None:
    await hub.call("PUT", "/installations/inst-1", installation(userId="u1"))
    doc = await patch(hub, [{"op": "add", "path": "/tags", "value": "likes_hockey"}])
    assert doc["tags"] == ["likes_hockey"]
    doc = await patch(hub, [{"op": "add", "path": "/tags", "value": '["a","b"]'}])
    assert doc["tags"] == ["likes_hockey", "a", "b"]
    doc = await patch(hub, [{"op": "remove", "path": "/tags/a"}])
    assert doc["tags"] == ["likes_hockey", "b"]
    doc = await patch(hub, [{"op": "replace", "path": "/userId", "value": "u2"}])
    assert doc["userId"] == "u2"
    doc = await patch(hub, [{"op": "remove", "path": "/userId"}])
    assert "userId" not in doc
    template = '{"body": "{\\"aps\\":{}}", "tags": ["tt"]}'
    doc = await patch(hub, [{"op": "add", "path": "/templates/t1", "value": template}])
    assert doc["templates"] == {"t1": {"body": '{"aps":{}}', "tags": ["tt", "t1"]}}
    doc = await patch(hub, [{"op": "replace", "path": "/templates/t1/body", "value": "{}"}])
    assert doc["templates"]["t1"]["body"] == "{}"  # type: ignore[index]
    doc = await patch(hub, [{"op": "remove", "path": "/templates/t1"}])
    assert "templates" not in doc
    doc = await patch(hub, [{"op": "replace", "path": "/pushChannel", "value": "ABCD"}])
    assert doc["pushChannel"] == "ABCD" and doc["pushChannelExpired"] is False
    doc = await patch(
        hub,
        [{"op": "remove", "path": "/tags/likes_hockey"}, {"op": "remove", "path": "/tags/b"}],
    )
    assert "tags" not in doc


@pytest.mark.parametrize(
    "ops",
    [
        "not json",
        "{}",
        "[]",
        json.dumps([{"op": "move", "path": "/tags", "from": "/x"}]),
        json.dumps([{"op": "add", "path": "/platform", "value": "wns"}]),
        json.dumps([{"op": "add", "path": "/tags"}]),
        json.dumps([{"op": "remove", "path": "/pushChannel"}]),
        json.dumps([{"op": "add", "path": "/templates/nope/body", "value": "x"}]),
    ],
)
async def test_bad_patches_are_400(hub: HubClient, ops: str) -> None:
    await hub.call("PUT", "/installations/inst-1", installation())
    answer = await hub.call("PATCH", "/installations/inst-1", ops)
    assert answer.status == 400, answer.text


async def test_patch_of_missing_installation_is_404(hub: HubClient) -> None:
    ops = json.dumps([{"op": "add", "path": "/tags", "value": "x"}])
    answer = await hub.call("PATCH", "/installations/ghost", ops)
    assert answer.status == 404 and "Installation not found." in answer.text


async def test_installations_show_up_as_registrations(hub: HubClient) -> None:
    templates = {"Template Name": {"body": '{"aps":{}}', "expiry": "2030-01-01T00:00:00Z"}}
    body = installation(userId="u1", tags=["tag1"], templates=templates, pushVariables={"v": "1"})
    await hub.call("PUT", "/installations/inst-1", body)
    await hub.call("POST", "/registrations", apple())
    feed = await hub.call("GET", "/registrations")
    devices = feed.devices()
    assert len(devices) == 3
    native, template = devices[0], devices[1]
    assert native.source_type == "AppleRegistrationDescription"
    assert native.tags == ("$InstallationId:{inst-1}", "$UserId:{u1}", "tag1")
    assert native.handle == TOKEN.upper()
    assert native.push_variables == '{"v":"1"}'
    assert template.source_type == "AppleTemplateRegistrationDescription"
    assert template.tags[-1] == "Template Name"
    assert template.templates[0].name == "Template Name"
    assert template.templates[0].expiry == "2030-01-01T00:00:00Z"
    tag = quote("$InstallationId:{inst-1}", safe="")
    by_tag = await hub.call("GET", f"/tags/{tag}/registrations")
    assert [d.registration_id for d in by_tag.devices()] == [
        native.registration_id,
        template.registration_id,
    ]
    read = await hub.call("GET", f"/registrations/{native.registration_id}")
    assert read.status == 200 and read.devices()[0].installation_id == "inst-1"
    removed = await hub.call(
        "DELETE", f"/registrations/{template.registration_id}", headers={"If-Match": "*"}
    )
    assert removed.status == 200
    doc = json.loads((await hub.call("GET", "/installations/inst-1")).text)
    assert "templates" not in doc
    await hub.call("DELETE", "/installations/inst-1")
    assert len((await hub.call("GET", "/registrations")).devices()) == 1


async def test_db_keeps_state_across_restarts(new_store: NewStore) -> None:
    """On both backends: an SQLite file, a PostgreSQL database."""
    settings = HubSettings.build(db_path=str(new_store("hub")))
    first = await start_hub(settings)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            client = HubClient(first, session)
            created = (await client.call("POST", "/registrations", apple())).devices()[0]
            await client.call("PUT", "/installations/inst-1", installation(tags=["kept"]))
            await client.call("PUT", f"/registrations/{created.registration_id}", apple(tags="v2"))
    finally:
        await first.stop()
    second = await start_hub(settings)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            client = HubClient(second, session)
            read = await client.call("GET", f"/registrations/{created.registration_id}")
            assert read.status == 200
            assert read.devices()[0].etag == "2" and read.devices()[0].tags == ("v2",)
            inst = json.loads((await client.call("GET", "/installations/inst-1")).text)
            assert inst["tags"] == ["kept"]
            new = (await client.call("POST", "/registrations", apple())).devices()[0]
            listed = [
                d.registration_id for d in (await client.call("GET", "/registrations")).devices()
            ]
            assert listed[0] == created.registration_id and listed[-1] == new.registration_id
    finally:
        await second.stop()


async def test_concurrent_writes_are_all_kept(new_store: NewStore) -> None:
    settings = HubSettings.build(db_path=str(new_store("hub")))
    running = await start_hub(settings)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            client = HubClient(running, session)
            creates = [client.call("POST", "/registrations", apple(f"{n:04x}")) for n in range(60)]
            installs = [
                client.call("PUT", f"/installations/i{n}", installation(f"i{n}")) for n in range(20)
            ]
            answers = await asyncio.gather(*creates, *installs)
            assert {a.status for a in answers} == {200}
            listed = await client.call("GET", "/registrations?$top=100")
            assert len(listed.devices()) == 80
    finally:
        await running.stop()
    again = await start_hub(settings)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            listed = await HubClient(again, session).call("GET", "/registrations?$top=100")
            assert len(listed.devices()) == 80
    finally:
        await again.stop()


async def test_writing_over_a_materialised_registration_is_a_conflict(hub: HubClient) -> None:
    await hub.call("PUT", "/installations/inst-1", installation())
    (native,) = (await hub.call("GET", "/registrations")).devices()
    path = f"/registrations/{native.registration_id}"
    for headers in ({}, {"If-Match": "*"}):
        answer = await hub.call("PUT", path, apple(), headers=headers)
        assert answer.status == 409 and "inst-1" in answer.text
    assert len((await hub.call("GET", "/registrations")).devices()) == 1


async def test_patch_replace_tags_replaces_them_all(hub: HubClient) -> None:
    """`replace /tags` is remove + add (nh-rest-api §8): the old tags are gone."""
    await hub.call("PUT", "/installations/inst-1", installation(tags=["old1", "old2"]))
    doc = await patch(hub, [{"op": "replace", "path": "/tags", "value": '["new1","new2"]'}])
    assert doc["tags"] == ["new1", "new2"]
    doc = await patch(hub, [{"op": "replace", "path": "/tags", "value": "only"}])
    assert doc["tags"] == ["only"]
