"""The viewer shows who each recorded send reached, and each device's sends with the reasons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.targets.recorder import Recorder, installation_doc
from viewer import targets as targets_module
from viewer.app import make_app

APPLE = "5a" * 32


@dataclass
class Sends:
    db: Path
    apple: str
    debug: str
    template: str
    refused: str
    after_delete: str
    create: str


@pytest.fixture
def sends(recorder: Recorder, tmp_path: Path) -> Sends:
    apple = recorder.register("Apple", APPLE, ["sports", "news"])
    create = recorder.exchanges[-1].id
    recorder.register("Windows", "https://db5p.notify.windows.com/?token=v", ["sports"])
    recorder.install(installation_doc("phone-1", "apns", "5b" * 32, ["sports"], {"promo": []}))
    debug = recorder.debug_send("apple", "sports && !news")
    assert debug.status == 201
    template = recorder.call(
        "POST",
        "/messages",
        '{"m":"hi"}',
        {"ServiceBusNotification-Format": "template", "ServiceBusNotification-Tags": "sports",
         "Content-Type": "application/json"},
    )  # fmt: skip
    refused = recorder.debug_send("apple", " || ".join(f"t{n}" for n in range(21)))
    assert refused.status == 400
    recorder.call("DELETE", f"/registrations/{apple}", headers={"If-Match": "*"})
    after = recorder.debug_send("apple", "sports")
    db = tmp_path / "sends.db"
    recorder.save(db)
    return Sends(db, apple, debug.id, template.id, refused.id, after.id, create)


@pytest.fixture
async def client(aiohttp_client, sends: Sends) -> TestClient:
    return await aiohttp_client(make_app(sends.db))


async def test_a_send_shows_who_it_reached(client: TestClient, sends: Sends) -> None:
    resp = await client.get(f"/api/exchanges/{sends.debug}/targets")
    assert resp.status == 200
    body = await resp.json()
    assert [(r["id"], r["registration"]) for r in body["reached"]] == [("phone-1", "native")]
    assert body["agrees_with_hub"] is True and len(body["hub_answer"]) == 1
    missed = {(m["id"], m["registration"]): m["reason"] for m in body["missed"]}
    assert missed[(sends.apple, "native")] == (
        "expression `sports && !news` is false: `!news` is false (has 'news', which a ! excludes)"
    )
    page = await (await client.get(f"/exchanges/{sends.debug}")).text()
    assert "Who this send reaches" in page
    assert "The hub's debug answer lists the same 1 registrations." in page
    assert "which a ! excludes" in page


async def test_a_refused_send_says_why(client: TestClient, sends: Sends) -> None:
    body = await (await client.get(f"/api/exchanges/{sends.refused}/targets")).json()
    assert "21 tags; at most 20" in body["refused"] and body["reached"] == []
    page = await (await client.get(f"/exchanges/{sends.refused}")).text()
    assert "The hub refuses this send:" in page


async def test_other_exchanges_have_no_targets(client: TestClient, sends: Sends) -> None:
    assert (await client.get(f"/api/exchanges/{sends.create}/targets")).status == 404
    page = await (await client.get(f"/exchanges/{sends.create}")).text()
    assert "Who this send reaches" not in page


async def test_a_device_page_lists_its_sends(client: TestClient, sends: Sends) -> None:
    resp = await client.get(f"/api/devices/sends?registration_id={sends.apple}")
    body = await resp.json()
    assert body["computed"] is True
    by_id = {s["exchange_id"]: s for s in body["sends"]}
    assert list(by_id) == [sends.debug, sends.template, sends.refused, sends.after_delete]
    assert by_id[sends.debug]["reached"] is False
    assert by_id[sends.template]["reason"] == (
        "format template reaches template registrations only; this registration is native"
    )
    assert by_id[sends.refused]["reason"].startswith("the send was refused: The tag expression")
    assert by_id[sends.after_delete]["reason"].startswith("no registration left: deleted at ")
    page = await (await client.get(f"/devices?registration_id={sends.apple}")).text()
    assert "Recorded sends" in page and "✗ missed" in page and "no registration left" in page


async def test_an_installation_page_shows_what_reached_it(client: TestClient, sends: Sends) -> None:
    body = await (await client.get("/api/devices/sends?installation_id=phone-1")).json()
    reached = [s["exchange_id"] for s in body["sends"] if s["reached"]]
    assert reached == [sends.debug, sends.template, sends.after_delete]
    page = await (await client.get("/devices?installation_id=phone-1")).text()
    assert page.count("✓ reached") == 3


async def test_a_device_key_is_required(client: TestClient) -> None:
    assert (await client.get("/api/devices/sends")).status == 400


async def test_a_large_session_is_left_to_the_command(
    client: TestClient, sends: Sends, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(targets_module, "TARGETS_LIMIT", 3)
    targets_module._CACHE.clear()
    body = await (await client.get(f"/api/exchanges/{sends.after_delete}/targets")).json()
    assert body["computed"] is False
    page = await (await client.get(f"/exchanges/{sends.after_delete}")).text()
    assert "Not computed on a page view: the session is large" in page
    assert (await (await client.get("/api/devices/sends?installation_id=phone-1")).json()) == {
        "computed": False,
        "sends": [],
    }


async def test_devices_registered_in_an_earlier_session_are_reached(
    aiohttp_client, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = recorder.register("Apple", APPLE, ["sports"])
    db = tmp_path / "two.db"
    recorder.save(db, session="monday")
    tuesday = Recorder(recorder.hubs, name=recorder.name)
    send = tuesday.debug_send("apple", "sports")
    tuesday.save(db, session="tuesday")
    client = await aiohttp_client(make_app(db))
    body = await (await client.get(f"/api/exchanges/{send.id}/targets")).json()
    assert body["scope"] == "all sessions" and body["agrees_with_hub"] is True
    assert [r["id"] for r in body["reached"]] == [rid]
    monkeypatch.setattr(targets_module, "TARGETS_LIMIT", 1)  # 2 exchanges: one session at a time
    body = await (await client.get(f"/api/exchanges/{send.id}/targets")).json()
    assert body["scope"] == "this session only: the database is large"
    assert body["reached"] == [] and body["agrees_with_hub"] is False
    page = await (await client.get(f"/exchanges/{send.id}")).text()
    assert "The hub's debug answer differs: it lists " + rid in page
