"""Filter expressions against a recorded database: each returns exactly the rows it says."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from tests.viewer.conftest import ids
from viewer import sample
from viewer.filterlang import parse
from viewer.filtersql import DRIVE_CAP, plan


async def rows(client: TestClient, expression: str) -> list[dict]:
    resp = await client.get(f"/api/exchanges?limit=500&f={quote(expression)}")
    assert resp.status == 200, await resp.text()
    return (await resp.json())["items"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("status:4xx", 4),                      # a 404 in each of three runs, one 400
        ("status:5xx", 1),
        ("status:4xx or status:5xx", 5),
        ("not status:2xx", 5),
        ("status:400-499 and not session:demo-2", 3),
        ("status:>=500 or status:400", 2),
        ("method:delete", 3),
        ("session:demo*", 26),
        ("session:demo and (method:put or method:delete)", 4),
        ("op:create_* and not op:create_or_*", 7),  # 2 creates per run, the FCM one
        ("platform:gcm", 1),
        ("tag:vip", 3),
        ("tag:lang:* and session:demo", 3),
        (f"handle:{sample.APNS_ROTATED[:12]}", 3),
        (f"handle:{sample.APNS_ROTATED[:12]} or tag:vip", 6),
        (f"reg:{sample.REG_ID} and session:demo", 5),   # the 503 GET names it in its URL
        (f"inst:{sample.INSTALLATION_ID} and not tag:vip", 3),
        ("code:404", 3),
        ("code:400 or code:404", 4),
        (f"since:{1_795_000_100} and until:{1_795_000_103}", 3),
        ("duration:>100", 0),
        ("duration:10-20", 26),
    ],
)  # fmt: skip
async def test_sql_terms(triage: TestClient, expression: str, expected: int) -> None:
    assert len(await rows(triage, expression)) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rule:registration.fcm-root", 1),
        ("rule:common.api-version", 3),
        ("severity:error", 4),
        ("severity:error and not rule:common.*", 1),
        ("(rule:registration.fcm-root or status:5xx) and session:demo", 2),
        ("not severity:warning and session:demo-2 and method:get", 2),
        ("not severity:note and session:demo-2", 0),
        ("status:4xx and not rule:registration.*", 3),
    ],
)
async def test_findings_terms_mix_with_sql_terms(
    triage: TestClient, expression: str, expected: int
) -> None:
    found = await rows(triage, expression)
    assert len(found) == expected, [(r["operation"], r["status"], r["rules"]) for r in found]


async def test_findings_terms_agree_with_each_row(triage: TestClient) -> None:
    for row in await rows(triage, "severity:warning and not severity:error"):
        assert row["findings"]["warning"] and not row["findings"]["error"]
    for row in await rows(triage, "rule:registration.* or rule:session.*"):
        assert any(r["rule"].startswith(("registration.", "session.")) for r in row["rules"])


async def test_the_one_key_parameters_and_q_fold_into_the_expression(triage: TestClient) -> None:
    resp = await triage.get("/api/exchanges?platform=apns&status=2xx&f=not+method:get&q=beta")
    page = await resp.json()
    assert page["filter"] == "status:2xx and platform:apns and not method:GET and beta"
    assert len(page["items"]) == 3  # the PUT with the rotated handle, in each run
    assert await ids(triage, f"f={quote(page['filter'])}") == [i["id"] for i in page["items"]]


async def test_bad_expressions_answer_400_naming_the_term(triage: TestClient) -> None:
    resp = await triage.get("/api/exchanges?f=status:4xx+and+(platform:apns")
    assert resp.status == 400
    assert "'(' is not closed" in (await resp.json())["error"]


def test_a_selective_term_drives_and_the_others_probe() -> None:
    counts = {"tag": 3, "status": DRIVE_CAP}

    def count(sql: str, params: dict) -> int:
        return counts["tag"] if "device_tags" in sql else counts["status"]

    query = plan(parse("status:2xx and tag:vip and platform:apns"), count)
    assert query.where[0].startswith("+e.status between")        # probed
    assert query.where[1].startswith("e.id in (select t.exchange_id")  # drives
    assert query.where[2].startswith("exists (select 1 from devices")  # probed
    assert not query.columns and not query.needs_findings
    mixed = plan(parse("severity:error or status:5xx"), count)
    assert mixed.where == [] and mixed.needs_findings and len(mixed.columns) == 1
