"""The timeline reports changes of meaning, not of spelling, one session at a time."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient

from viewer import sample, spelling
from viewer.diff import changes


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("9999-12-31T23:59:59.9999999", "9999-12-31T23:59:59.9999999Z"),
        ("2026-11-23T10:00:00Z", "2026-11-23T10:00:00.0000000+00:00"),
        ("2026-11-23 10:00", "2026-11-23T10:00:00Z"),
    ],
)
def test_instants_in_other_spellings_are_equal(a: str, b: str) -> None:
    assert spelling.instant(a) == spelling.instant(b)


def test_different_instants_stay_different() -> None:
    assert spelling.instant("2026-11-23T10:00:00Z") != spelling.instant("2026-11-23T10:00:01Z")


def device(**changed: object) -> dict:
    template = {"name": "hello", "body": '{"aps": {"alert": "$(m)"}}', "headers": {},
                "expiry": None, "tags": [], "priority": None}  # fmt: skip
    base = {"platform": "apns", "handle": "ABCDEF01", "tags": "a,b", "user_id": None,
            "expiration": "9999-12-31T23:59:59.9999999", "push_variables": None,
            "templates": json.dumps([template])}  # fmt: skip
    return base | changed


def test_answers_in_the_services_spelling_are_not_changes() -> None:
    answered = [{"name": "hello", "body": '{ "aps":{"alert":"$(m)"} }',
                 "headers": {}, "tags": None}]  # fmt: skip
    same = device(expiration="9999-12-31T23:59:59.9999999Z", handle="abcdef01",
                  tags="b,a", templates=json.dumps(answered))  # fmt: skip
    assert changes(device(), same) == []


def test_real_changes_are_still_reported() -> None:
    moved = device(expiration="2027-01-01T00:00:00Z", handle="ABCDEF02",
                   templates=json.dumps([{"name": "hello", "body": '{"aps": {"alert": "hi"}}'}]))
    kinds = [c.kind for c in changes(device(), moved)]
    assert kinds == ["handle", "template", "expiry"]


def test_xml_template_bodies_compare_without_layout() -> None:
    assert spelling.body("<toast>\n  <visual><text>$(m)</text></visual>\n</toast>") == (
        spelling.body("<toast><visual><text>$(m)</text></visual></toast>"))  # fmt: skip
    assert spelling.body("<toast><text>a</text></toast>") != spelling.body("<toast/>")


async def test_timeline_shows_one_session_or_all_side_by_side(triage: TestClient) -> None:
    url = f"/api/devices/timeline?registration_id={sample.REG_ID}"
    latest = await (await triage.get(url)).json()
    assert [s["session"] for s in latest["sessions"]] == ["demo", "demo-2", "demo-replay"]
    assert latest["shown"] == ["demo-replay"]
    assert {e["exchange"]["session"] for e in latest["entries"]} == {"demo-replay"}
    one = await (await triage.get(url + "&session=demo")).json()
    kinds = [[c["kind"] for c in e["changes"]] for e in one["entries"]]
    assert kinds == [["new"], [], ["handle", "tags"], ["deleted"], []]  # the 503 GET: nothing
    both = await (await triage.get(url + "&session=demo&session=demo-2")).json()
    assert [c["session"] for c in both["columns"]] == ["demo", "demo-2"]
    second = [[c["kind"] for c in e["changes"]] for e in both["columns"][1]["entries"]]
    assert second[0] == ["new"]  # a new run starts from nothing, not from the last run's state
    html = await (await triage.get(f"/devices?registration_id={sample.REG_ID}&session=*")).text()
    assert html.count('class="column"') == 3 and 'class="step"' in html
