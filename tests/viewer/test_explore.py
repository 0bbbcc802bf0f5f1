"""The device, tag and problems pages and their JSON twins."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from viewer import sample


async def test_device_index_links_to_each_timeline(triage: TestClient) -> None:
    api = await (await triage.get("/api/devices?by=installation")).json()
    assert [d["value"] for d in api["devices"]] == [sample.INSTALLATION_ID]
    html = await (await triage.get("/devices")).text()
    assert f'href="/devices?handle={sample.APNS_TOKEN}"' in html
    timeline = await triage.get(f"/devices?handle={sample.APNS_TOKEN}")
    assert timeline.status == 200 and "Device timeline" in await timeline.text()
    assert (await triage.get("/devices?by=colour")).status == 400


async def test_tag_index_and_its_links(triage: TestClient) -> None:
    api = await (await triage.get("/api/tags?prefix=lang:")).json()
    assert [t["tag"] for t in api["tags"]] == ["lang:en", "lang:fr"]
    html = await (await triage.get("/tags")).text()
    assert 'href="/devices?f=tag:user%3A42"' in html


async def test_problems_group_by_status_code_and_rule(triage: TestClient) -> None:
    found = await (await triage.get("/api/problems")).json()
    assert [(g["status"], g["code"], g["count"]) for g in found["by_status"]] == [
        ("404", "404", 3), ("400", "400", 1), ("503", None, 1)]  # fmt: skip
    rules = [(g["rule"], g["severity"], g["count"]) for g in found["by_rule"]]
    assert rules[:2] == [("common.api-version", "error", 3), ("registration.fcm-root", "error", 1)]
    assert all(s == "warning" for _, s, _ in rules[2:]) and rules[2:]
    assert found["judged"] == 26 and found["complete"]
    demo = await (await triage.get("/api/problems?session=demo")).json()
    assert sum(g["count"] for g in demo["by_status"]) == 3
    html = await (await triage.get("/problems?f=session:demo")).text()
    assert "rule%3Aregistration.fcm-root" in html


async def test_big_tags_are_counted_up_to_a_cap(triage: TestClient, monkeypatch) -> None:
    from viewer import devices

    monkeypatch.setattr(devices, "TAG_COUNT_CAP", 2)
    html = await (await triage.get("/tags")).text()
    assert ">2+</td>" in html  # user:42 is on more snapshots than the cap of 2
    api = await (await triage.get("/api/tags")).json()
    assert next(t for t in api["tags"] if t["tag"] == "user:42")["capped"]
