"""The viewer's JSON API: every filter, keyset paging, detail, timeline, sessions, live events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from viewer import sample
from viewer.app import make_app

T0 = 1_795_000_000.0


def extra_exchanges() -> list:
    """A second session: a WNS registration, a failed call and a 5xx."""
    wns = sample.exchange(
        "POST", "registrations", 201, session="other", at=T0 + 100,
        body=sample.apple_entry("x", "a").replace(b"Apple", b"Windows").replace(
            b"<DeviceToken>x</DeviceToken>", b"<ChannelUri>https://wns.example/1</ChannelUri>"),
        content_type=sample.ATOM,
    )  # fmt: skip
    failed = replace(
        sample.exchange("GET", "registrations", 200, session="other", at=T0 + 101),
        status=None, response=None, reason=None, error="connect: refused", proxy_status=502,
    )  # fmt: skip
    busy = sample.exchange("GET", "registrations", 503, session="other", at=T0 + 102)
    return [wns, failed, busy]


@pytest.fixture
def db_path(new_store: Callable[[str], Path | str]) -> Path | str:
    """Every test here runs on SQLite and on PostgreSQL (`new_store`, tests/postgres.py)."""
    path = new_store("hubscope")
    sample.record(path, sample.scenario("demo", T0))
    sample.record(path, extra_exchanges())
    return path


@pytest.fixture
async def client(aiohttp_client, db_path: Path | str) -> TestClient:
    return await aiohttp_client(make_app(db_path))


async def items(client: TestClient, query: str = "") -> list[dict]:
    resp = await client.get(f"/api/exchanges?{query}")
    assert resp.status == 200, await resp.text()
    return (await resp.json())["items"]


async def test_list_is_newest_first_with_every_column(client: TestClient) -> None:
    found = await items(client)
    assert len(found) == 11
    times = [i["started_at"] for i in found]
    assert times == sorted(times, reverse=True)
    first_registration = found[-1]  # the first call of the demo session
    assert first_registration["operation"] == "create_registration"
    assert first_registration["platform"] == "apns"
    assert first_registration["handle"] == sample.APNS_TOKEN
    assert set(first_registration["findings"]) == {"error", "warning", "note"}
    for key in ("session", "method", "hub", "status", "duration_ms"):
        assert key in first_registration


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("session=other", 3),
        ("session=demo", 8),
        ("operation=read_registration", 2),
        ("method=DELETE", 1),
        ("status=2xx", 8),
        ("status=4xx", 1),
        ("status=5xx", 1),
        ("status=404", 1),
        ("status=failed", 1),
        ("platform=apns", 4),
        ("platform=fcmv1", 2),
        ("platform=wns", 1),
        ("tag=vip", 1),
        ("tag=user:42", 6),
        ("tag=lang:fr", 1),
        (f"handle={sample.APNS_ROTATED}", 1),
        (f"registration_id={sample.REG_ID}", 4),
        (f"installation_id={sample.INSTALLATION_ID}", 2),
        ("findings=error", 1),
        ("q=vip", 1),
        ("q=DeviceToken user", 4),
        ("q=nothing-like-this", 0),
        (f"since={T0 + 100}", 3),
        (f"until={T0 + 3}", 3),
        ("since=2026-11-16T00:00:00Z&until=2026-11-16T08:15:00Z", 0),
        ("platform=apns&tag=lang:fr", 1),
        ("session=demo&status=2xx&platform=fcmv1&findings=error", 1),
    ],
)
async def test_each_filter(client: TestClient, query: str, expected: int) -> None:
    assert len(await items(client, query)) == expected


async def test_deleted_registration_is_found_by_its_id_without_a_body(client: TestClient) -> None:
    found = await items(client, f"registration_id={sample.REG_ID}")
    assert found[0]["operation"] == "delete_registration"


@pytest.mark.parametrize(
    "query", ["status=7xx", "findings=fatal", "since=yesterday", "limit=0", "cursor=abc~1"]
)
async def test_bad_filters_answer_400_as_json(client: TestClient, query: str) -> None:
    resp = await client.get(f"/api/exchanges?{query}")
    assert resp.status == 400
    assert "error" in await resp.json()


async def test_keyset_paging_walks_every_row_once(client: TestClient) -> None:
    everything = [i["id"] for i in await items(client)]
    seen: list[str] = []
    cursor = ""
    while True:
        resp = await client.get(f"/api/exchanges?limit=3&cursor={cursor}")
        page = await resp.json()
        seen += [i["id"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert seen == everything


async def test_paging_keeps_filters(client: TestClient) -> None:
    first = await (await client.get("/api/exchanges?session=demo&limit=4")).json()
    second = await (
        await client.get(f"/api/exchanges?session=demo&limit=4&cursor={first['next_cursor']}")
    ).json()
    assert len(first["items"]) == 4 and len(second["items"]) == 4
    assert second["next_cursor"] is None


async def test_detail_has_decoded_records_findings_and_curl(client: TestClient) -> None:
    (target,) = await items(client, "findings=error")
    resp = await client.get(f"/api/exchanges/{target['id']}")
    detail = await resp.json()
    rules = {f["rule"]: f for f in detail["findings"]}
    finding = rules["common.api-version"]
    assert finding["severity"] == "error"
    assert finding["expected"] == "an api-version query parameter"
    assert finding["actual"] == "no api-version"
    assert "api-version" in finding["spec"] and finding["source"]
    assert detail["decoded"]["operation"]["name"] == "create_or_overwrite_installation"
    assert detail["decoded"]["request"]["devices"][0]["tags"] == ["user:42", "android", "vip"]
    assert detail["devices"][0]["installation_id"] == sample.INSTALLATION_ID
    assert json.loads(detail["request"]["body"])["installationId"] == sample.INSTALLATION_ID
    assert "Authorization: <SAS token>" in detail["curl"]
    assert "REDACTED" not in detail["curl"] and "sig=" not in detail["curl"]


async def test_session_rules_name_the_later_exchange(client: TestClient) -> None:
    latest = (await items(client, "session=demo&operation=create_registration"))[0]
    detail = await (await client.get(f"/api/exchanges/{latest['id']}")).json()
    (duplicate,) = detail["session_findings"]
    assert duplicate["rule"] == "session.duplicate-registration"
    assert "registered again" in duplicate["actual"]
    html = await (await client.get(f"/exchanges/{latest['id']}")).text()
    assert "Across the session" in html and "session.duplicate-registration" in html


async def test_raw_body_is_a_download(client: TestClient) -> None:
    (target,) = await items(client, "q=vip")
    resp = await client.get(f"/api/exchanges/{target['id']}/raw/request")
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert json.loads(await resp.read())["tags"][-1] == "vip"


async def test_unknown_exchange_is_404(client: TestClient) -> None:
    assert (await client.get("/api/exchanges/nope")).status == 404
    assert (await client.get("/exchanges/nope")).status == 404


async def test_timeline_diffs_states_semantically(client: TestClient) -> None:
    resp = await client.get(f"/api/devices/timeline?registration_id={sample.REG_ID}")
    entries = (await resp.json())["entries"]
    kinds = [[c["kind"] for c in e["changes"]] for e in entries]
    assert kinds == [["new"], [], ["handle", "tags"], ["deleted"]]
    tags = entries[2]["changes"][1]
    assert tags["added"] == ["lang:fr", "beta"] and tags["removed"] == ["lang:en"]
    handle = entries[2]["changes"][0]
    assert (handle["before"], handle["after"]) == (sample.APNS_TOKEN, sample.APNS_ROTATED)


async def test_installation_timeline_shows_tags_added(client: TestClient) -> None:
    resp = await client.get(f"/api/devices/timeline?installation_id={sample.INSTALLATION_ID}")
    entries = (await resp.json())["entries"]
    assert entries[1]["changes"] == [
        {"kind": "tags", "summary": "tags +1 −0", "added": ["vip"], "removed": [],
         "before": None, "after": None}
    ]  # fmt: skip


async def test_timeline_needs_a_key(client: TestClient) -> None:
    assert (await client.get("/api/devices/timeline")).status == 400


async def test_sessions_and_summary(client: TestClient) -> None:
    listed = (await (await client.get("/api/sessions")).json())["sessions"]
    assert {s["name"]: s["exchanges"] for s in listed} == {"demo": 8, "other": 3}
    summary = await (await client.get("/api/sessions/demo")).json()
    assert summary["total"] == 8
    assert dict(summary["operation"])["read_registration"] == 2
    assert dict(summary["platform"]) == {"apns": 4, "fcmv1": 2}
    assert dict(summary["status"]) == {"200": 5, "201": 2, "404": 1}
    assert {"rule": "common.api-version", "severity": "error", "count": 1} in summary["rules"]
    assert summary["audited"] and summary["audit"][0]["spec"]
    assert (await client.get("/api/sessions/missing")).status == 404


async def test_pages_render(client: TestClient) -> None:
    (target,) = await items(client, "findings=error")
    urls = ["/", "/?platform=apns&tag=user:42", f"/exchanges/{target['id']}", "/sessions",
            f"/devices?registration_id={sample.REG_ID}", "/sessions/demo"]  # fmt: skip
    for url in urls:
        resp = await client.get(url)
        assert resp.status == 200, url
        assert resp.headers["Content-Type"].startswith("text/html")


async def test_events_stream_new_rows(client: TestClient, db_path: Path | str) -> None:
    latest = (await (await client.get("/api/exchanges")).json())["latest"]
    resp = await client.get(f"/api/events?platform=fcmv1&after={latest}")
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    assert (await resp.content.readline()).startswith(b": connected")
    apns, fcm = sample.scenario("live", T0 + 500)[0], sample.scenario("live", T0 + 501)[3]
    await asyncio.to_thread(sample.record, db_path, [apns, fcm])
    event = b""
    async with asyncio.timeout(10):
        while not event.startswith(b"data: "):
            event = await resp.content.readline()
    payload = json.loads(event[6:])
    assert payload["id"] == fcm.id and payload["platform"] == "fcmv1"
    assert payload["html"].startswith("<tr") and fcm.id in payload["html"]
    resp.close()


def test_xml_keeps_prefixes_and_marks_the_offending_element() -> None:
    from viewer.bodies import pretty

    body = (b'<entry xmlns="http://www.w3.org/2005/Atom"><content><r:Apple xmlns:r="urn:x">'
            b"<r:ETag>1</r:ETag><r:Tags>a</r:Tags></r:Apple></content></entry>")  # fmt: skip
    shown = pretty(body, "application/atom+xml", {"ETag": ["registration.read-only"]})
    assert shown.kind == "xml"
    texts = [line.text.strip() for line in shown.lines]
    assert '<r:Apple xmlns:r="urn:x">' in texts and "<r:ETag>1</r:ETag>" in texts
    hits = [line.text.strip() for line in shown.lines if line.rules]
    assert hits == ["<r:ETag>1</r:ETag>"]


def test_json_marks_everything_under_the_pointer() -> None:
    from viewer.bodies import pretty

    body = b'{"templates": {"a/b": {"body": "x", "tags": ["t"]}}, "tags": []}'
    shown = pretty(body, None, {"/templates/a~1b": ["r"]})
    hits = [line.text.strip() for line in shown.lines if line.rules]
    assert hits == ['"a/b": {', '"body": "x",', '"tags": [', '"t"', "]", "}"]


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b"", "empty"), (b"\xff\xfe\x00garbage\x80", "binary"), (b"<a><b></a>", "text"),
     (b"plain words", "text"), (b"<!DOCTYPE x [<!ENTITY e 'boom'>]><x>&e;</x>", "text")],
)  # fmt: skip
def test_bodies_that_do_not_parse_are_still_shown(body: bytes, kind: str) -> None:
    from viewer.bodies import pretty

    shown = pretty(body, None, {})
    assert shown.kind == kind
    assert all("boom" not in line.text or "ENTITY" in line.text for line in shown.lines)


async def test_detail_page_highlights_read_only_elements(client: TestClient) -> None:
    (update,) = await items(client, "operation=create_or_update_registration")
    html = await (await client.get(f"/exchanges/{update['id']}")).text()
    assert 'class="ln hit" title="registration.element-order-optional, registration.read-only"' \
        in html  # fmt: skip
    assert "&lt;ETag&gt;1&lt;/ETag&gt;" in html


async def test_events_resume_from_last_event_id(client: TestClient, db_path: Path | str) -> None:
    resp = await client.get("/api/events?after=0", headers={"Last-Event-ID": "10"})
    event = b""
    async with asyncio.timeout(10):
        while not event.startswith(b"data: "):
            event = await resp.content.readline()
    assert json.loads(event[6:])["rowid"] == 11
    resp.close()
