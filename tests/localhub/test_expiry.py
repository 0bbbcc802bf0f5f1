"""Expiry on the stand-in hub: the hub's `RegistrationTtl` and channels the PNS reported gone.

Evidence (../shared/seeds/create-or-overwrite-installation.md, spec §4.4, §7.1, §8):
`expirationTime` is read-only, "the date and time … in which the registration will expire.
The value can be set at the hub level on create or update, and will default to never
expire"; `expiredPushChannel` (on the wire `pushChannelExpired`) is "Ignored when updating.
Returned when reading. … true if the PNS expired the channel"; `add /pushChannel` flips it.
The hub-level value is the hub description's `RegistrationTtl` (recorded in the .NET
management MockData: `P10675199DT2H48M5.4775807S`, i.e. never).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from proxy.cli import cli
from proxy.localhub import HubSettings, start_hub
from proxy.localhub.settings import parse_duration
from proxy.localhub.state import NEVER, expiration_after, stamp
from tests.hubclient import TIMEOUT, HubClient, apple

TOKEN = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"
APPLE_SEND = {"ServiceBusNotification-Format": "apple", "Content-Type": "application/json"}


def installation(iid: str, channel: str = TOKEN, **extra: object) -> str:
    body = {"installationId": iid, "platform": "apns", "pushChannel": channel, **extra}
    return json.dumps(body)


async def client(settings: HubSettings) -> AsyncIterator[HubClient]:
    running = await start_hub(settings)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            yield HubClient(running, session)
    finally:
        await running.stop()


@pytest.fixture
async def short_ttl() -> AsyncIterator[HubClient]:
    async for hub in client(HubSettings(registration_ttl=timedelta(seconds=1.5))):
        yield hub


@pytest.fixture
async def pns_expired() -> AsyncIterator[HubClient]:
    # Upper-case here, lower-case in the installation: the service compares APNs tokens
    # without regard to case (it upper-cases them on registrations).
    async for hub in client(HubSettings(expired_handles=frozenset({"dead" + TOKEN[4:]}))):
        yield hub


def seconds(text: str) -> float:
    return datetime.fromisoformat(text.rstrip("Z")[:26]).replace(tzinfo=UTC).timestamp()


async def reached(hub: HubClient, tags: str) -> list[str]:
    answer = await hub.call(
        "POST", "/messages?test", "{}", headers={**APPLE_SEND, "ServiceBusNotification-Tags": tags}
    )
    assert answer.status == 201, answer.text
    return [d.split("</RegistrationId>")[0] for d in answer.text.split("<RegistrationId>")[1:]]


async def test_written_registrations_expire_after_the_hubs_ttl_and_are_then_gone(
    short_ttl: HubClient,
) -> None:
    before = time.time()
    created = await short_ttl.call("POST", "/registrations", apple(tags="a"))
    assert created.status == 200
    [device] = created.devices()
    written = "<ExpirationTime>" + (device.expiration or "") + "</ExpirationTime>"
    assert written in created.text and not (device.expiration or "").endswith("Z")
    expires = seconds(device.expiration or "")
    assert before + 1.5 <= expires + 0.001 and expires <= time.time() + 1.5
    rid = device.registration_id or ""
    put = await short_ttl.call("PUT", "/installations/i1", installation("i1", tags=["a"]))
    assert put.status == 200
    inst = json.loads((await short_ttl.call("GET", "/installations/i1")).text)
    assert inst["expirationTime"].endswith("Z") and seconds(inst["expirationTime"]) > before + 1.4
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.3)
    assert (await short_ttl.call("GET", f"/registrations/{rid}")).status == 404
    assert (await short_ttl.call("GET", "/installations/i1")).status == 404
    listed = await short_ttl.call("GET", "/registrations")
    assert listed.status == 200 and "<entry" not in listed.text
    assert await reached(short_ttl, "a") == []
    assert (await short_ttl.call("DELETE", f"/registrations/{rid}")).status == 404


async def test_a_write_starts_the_ttl_again(short_ttl: HubClient) -> None:
    created = (await short_ttl.call("POST", "/registrations", apple(tags="a"))).devices()[0]
    rid = created.registration_id or ""
    await asyncio.sleep(1.0)
    updated = await short_ttl.call("PUT", f"/registrations/{rid}", apple(tags="a"))
    assert updated.status == 200
    later = updated.devices()[0].expiration or ""
    assert seconds(later) >= seconds(created.expiration or "") + 0.9
    await asyncio.sleep(max(0.0, seconds(created.expiration or "") - time.time()) + 0.2)
    assert (await short_ttl.call("GET", f"/registrations/{rid}")).status == 200


async def test_without_a_ttl_nothing_expires_and_a_clients_expiration_is_ignored(
    hub: HubClient,
) -> None:
    body = apple(tags="a").replace(
        "<Tags>", "<ExpirationTime>2001-01-01T00:00:00Z</ExpirationTime><Tags>"
    )
    created = await hub.call("POST", "/registrations", body)
    assert created.status == 200
    assert f"<ExpirationTime>{NEVER}</ExpirationTime>" in created.text
    rid = created.devices()[0].registration_id or ""
    read = await hub.call("GET", f"/registrations/{rid}")
    assert f"<ExpirationTime>{NEVER}Z</ExpirationTime>" in read.text
    sent = installation("i1", expirationTime="2001-01-01T00:00Z", pushChannelExpired=True)
    assert (await hub.call("PUT", "/installations/i1", sent)).status == 200
    doc = json.loads((await hub.call("GET", "/installations/i1")).text)
    assert doc["expirationTime"] == NEVER + "Z" and doc["pushChannelExpired"] is False
    assert len(await reached(hub, "$InstallationId:{i1}")) == 1


async def test_a_channel_the_pns_reported_expired_is_shown_and_sent_nothing(
    pns_expired: HubClient,
) -> None:
    hub = pns_expired
    dead = "DEAD" + TOKEN[4:]
    stale = installation("stale", dead.lower(), tags=["a"], templates={"t": {"body": "{}"}})
    assert (await hub.call("PUT", "/installations/stale", stale)).status == 200
    fresh_body = installation("fresh", tags=["a"])
    assert (await hub.call("PUT", "/installations/fresh", fresh_body)).status == 200
    doc = json.loads((await hub.call("GET", "/installations/stale")).text)
    assert doc["pushChannelExpired"] is True
    fresh = json.loads((await hub.call("GET", "/installations/fresh")).text)
    assert fresh["pushChannelExpired"] is False
    listed = await hub.call("GET", "/registrations")
    assert listed.text.count("$InstallationId:{stale}") == 2
    native = [d.registration_id for d in listed.devices() if d.installation_id == "fresh"]
    assert await reached(hub, "a") == native
    template = await hub.call(
        "POST",
        "/messages?test",
        "{}",
        headers={**APPLE_SEND, "ServiceBusNotification-Format": "template",
                 "ServiceBusNotification-Tags": "t"},
    )  # fmt: skip
    assert template.status == 201 and "<Success>0</Success>" in template.text
    new_channel = [{"op": "replace", "path": "/pushChannel", "value": TOKEN}]
    assert (await hub.call("PATCH", "/installations/stale", json.dumps(new_channel))).status == 200
    doc = json.loads((await hub.call("GET", "/installations/stale")).text)
    assert doc["pushChannelExpired"] is False
    assert len(await reached(hub, "a")) == 2
    back = [{"op": "add", "path": "/pushChannel", "value": dead}]
    assert (await hub.call("PATCH", "/installations/stale", json.dumps(back))).status == 200
    assert json.loads((await hub.call("GET", "/installations/stale")).text)["pushChannelExpired"]
    assert await reached(hub, "a") == native


async def test_expirations_survive_a_restart(tmp_path: Path) -> None:
    settings = HubSettings(db_path=str(tmp_path / "hub.db"), registration_ttl=timedelta(days=2))
    async for hub in client(settings):
        await hub.call("PUT", "/installations/i1", installation("i1"))
    async for hub in client(HubSettings(db_path=str(tmp_path / "hub.db"))):
        doc = json.loads((await hub.call("GET", "/installations/i1")).text)
        assert seconds(doc["expirationTime"]) > time.time() + 86400
        [native] = (await hub.call("GET", "/registrations")).devices()
        assert native.expiration == doc["expirationTime"]


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("P90D", timedelta(days=90)),
        ("PT30S", timedelta(seconds=30)),
        ("P1DT2H3M4.5S", timedelta(days=1, hours=2, minutes=3, seconds=4.5)),
        ("pt0.25s", timedelta(seconds=0.25)),
    ],
)
def test_durations_are_iso_8601(text: str, length: timedelta) -> None:
    assert parse_duration(text) == length


@pytest.mark.parametrize("text", ["90", "P", "PT", "P1DT", "PT0S", "1 day", "P1W"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration|longer than zero"):
        parse_duration(text)


def test_expiration_stamps_have_the_services_shape() -> None:
    assert expiration_after(0.0, None) == NEVER
    assert expiration_after(0.0, timedelta(seconds=1.5)) == "1970-01-01T00:00:01.5000000"
    assert stamp(0.0) < NEVER


def test_the_cli_refuses_a_bad_ttl() -> None:
    result = CliRunner().invoke(cli, ["hub", "--registration-ttl", "soon"])
    assert result.exit_code == 2 and "--registration-ttl" in result.output
