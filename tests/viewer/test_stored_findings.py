"""The viewer reads stored findings: `rule:`/`severity:` are SQL over the findings table
for exchanges judged under the current rule set, and judged on read for the others."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from tests.viewer.conftest import T0
from tests.viewer.test_filtersql import rows
from viewer import sample
from viewer.app import make_app
from viewer.queries import SCAN_BUDGET

EXPRESSIONS = [
    "rule:registration.fcm-root",
    "rule:common.api-version",
    "severity:error",
    "severity:warning and not severity:error",
    "severity:error and not rule:common.*",
    "(rule:registration.fcm-root or status:5xx) and session:demo",
    "not severity:warning and session:demo-2 and method:get",
    "not (rule:common.* or status:2xx)",
    "status:4xx and not rule:registration.*",
]


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


@pytest.fixture
async def unjudged(aiohttp_client, triage_db: Path, tmp_path: Path) -> TestClient:
    """The same exchanges, judged under an older rule set: every row is judged on read."""
    path = tmp_path / "unjudged.db"
    path.write_bytes(triage_db.read_bytes())
    _sql(path, "update findings_judged set ruleset = 'older'", "delete from findings")
    return await aiohttp_client(make_app(path))


@pytest.mark.parametrize("expression", EXPRESSIONS)
async def test_stored_and_judged_on_read_agree(
    triage: TestClient, unjudged: TestClient, expression: str
) -> None:
    stored = await rows(triage, expression)
    on_read = await rows(unjudged, expression)
    assert stored, expression
    assert [r["id"] for r in stored] == [r["id"] for r in on_read]
    assert [r["rules"] for r in stored] == [r["rules"] for r in on_read]


async def test_filters_and_badges_read_what_is_stored(aiohttp_client, triage_db: Path) -> None:
    _sql(triage_db, "update findings set rule = 'custom.stored'"
         " where rule = 'registration.fcm-root'")
    client = await aiohttp_client(make_app(triage_db))
    [row] = await rows(client, "rule:custom.stored")
    assert {"rule": "custom.stored", "severity": "error"} in row["rules"]
    assert await rows(client, "rule:registration.fcm-root") == []


async def test_no_scan_budget_when_every_exchange_is_judged(aiohttp_client, tmp_path: Path) -> None:
    path = tmp_path / "many.db"
    quiet = [
        sample.exchange("GET", "registrations", 200, session="many", at=T0 + i)
        for i in range(SCAN_BUDGET + 100)
    ]
    old = sample.troubles("many", T0 - 10)  # the FCM refusal, older than every quiet call
    sample.record(path, old + quiet)
    client = await aiohttp_client(make_app(path))
    resp = await client.get(f"/api/exchanges?limit=50&f={quote('rule:registration.fcm-root')}")
    page = await resp.json()
    assert [i["id"] for i in page["items"]] == [old[0].id]
    assert not page["partial"] and page["scanned"] == 1
    _sql(path, "delete from findings_judged")
    client = await aiohttp_client(make_app(path))
    resp = await client.get(f"/api/exchanges?limit=50&f={quote('rule:registration.fcm-root')}")
    page = await resp.json()  # judged on read: the budget stops before the old call
    assert page["items"] == [] and page["partial"]
