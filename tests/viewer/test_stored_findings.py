"""The viewer reads stored findings: `rule:`/`severity:` are SQL over the findings table
for exchanges judged under the current rule set, and judged on read for the others."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from tests.viewer.conftest import T0, execute, on_backend
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


NewStore = Callable[[str], Path | str]


@pytest.fixture
async def stored(aiohttp_client, triage_store: Path | str) -> TestClient:
    """The triage exchanges with their stored findings, on SQLite and on PostgreSQL."""
    return await aiohttp_client(make_app(triage_store))


@pytest.fixture
async def unjudged(aiohttp_client, triage_db: Path, tmp_path: Path, new_store: NewStore
                   ) -> TestClient:  # fmt: skip
    """The same exchanges, judged under an older rule set: every row is judged on read."""
    path = tmp_path / "unjudged.db"
    path.write_bytes(triage_db.read_bytes())
    where = on_backend(path, new_store)
    execute(where, "update findings_judged set ruleset = 'older'", "delete from findings")
    return await aiohttp_client(make_app(where))


@pytest.mark.parametrize("expression", EXPRESSIONS)
async def test_stored_and_judged_on_read_agree(
    stored: TestClient, unjudged: TestClient, expression: str
) -> None:
    read = await rows(stored, expression)
    on_read = await rows(unjudged, expression)
    assert read, expression
    assert [r["id"] for r in read] == [r["id"] for r in on_read]
    assert [r["rules"] for r in read] == [r["rules"] for r in on_read]


async def test_filters_and_badges_read_what_is_stored(
    aiohttp_client, triage_store: Path | str
) -> None:
    execute(triage_store, "update findings set rule = 'custom.stored'"
            " where rule = 'registration.fcm-root'")  # fmt: skip
    client = await aiohttp_client(make_app(triage_store))
    [row] = await rows(client, "rule:custom.stored")
    assert {"rule": "custom.stored", "severity": "error"} in row["rules"]
    assert await rows(client, "rule:registration.fcm-root") == []


async def test_no_scan_budget_when_every_exchange_is_judged(
    aiohttp_client, tmp_path: Path, new_store: NewStore
) -> None:
    path = tmp_path / "many.db"
    quiet = [
        sample.exchange("GET", "registrations", 200, session="many", at=T0 + i)
        for i in range(SCAN_BUDGET + 100)
    ]
    old = sample.troubles("many", T0 - 10)  # the FCM refusal, older than every quiet call
    sample.record(path, old + quiet)
    where = on_backend(path, new_store)
    client = await aiohttp_client(make_app(where))
    resp = await client.get(f"/api/exchanges?limit=50&f={quote('rule:registration.fcm-root')}")
    page = await resp.json()
    assert [i["id"] for i in page["items"]] == [old[0].id]
    assert not page["partial"] and page["scanned"] == 1
    execute(where, "delete from findings_judged")
    client = await aiohttp_client(make_app(where))
    resp = await client.get(f"/api/exchanges?limit=50&f={quote('rule:registration.fcm-root')}")
    page = await resp.json()  # judged on read: the budget stops before the old call
    assert page["items"] == [] and page["partial"]
