"""Traffic judged by its era: 2013 preview recordings, and test-proxy files without tokens."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from proxy import store
from proxy.cli import cli
from proxy.rules import check
from tests.conftest import CORPUS
from tests.rules.factories import TOKEN_EL, reg

PREVIEW_RECORDING = Path(__file__).parent / "data" / "preview-era.json"
TEST_PROXY_RECORDINGS = sorted((CORPUS / "Azure+azure-sdk-assets").rglob("*.json"))
ERA_BLIND = {  # what the 2013 traffic used to be blamed for
    "common.api-version",
    "common.version-known",
    "common.x-ms-version",
    "common.authorization",
    "common.route",
    "common.route-unknown",
}


def audit(tmp_path: Path, *recordings: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Import recordings as a user would and audit them; (findings, exchange id → operation)."""
    db = tmp_path / "hubscope.db"
    runner = CliRunner()
    imported = runner.invoke(cli, ["import", *map(str, recordings), "--db", str(db)])
    assert imported.exit_code == 0, imported.output
    result = runner.invoke(cli, ["audit", "--db", str(db), "--format", "json", "--fail-on",
                                 "never"])  # fmt: skip
    assert result.exit_code == 0, result.output
    conn = store.connect(db, readonly=True)
    ops = {r["id"]: r["operation"] for r in conn.query("select id, operation from exchanges")}
    conn.conn.close()
    return json.loads(result.stdout)["findings"], ops


def test_preview_traffic_is_judged_by_what_the_service_answered(tmp_path: Path) -> None:
    findings, ops = audit(tmp_path, PREVIEW_RECORDING)
    assert len(ops) == 14
    assert "unknown" not in ops.values()
    assert Counter(ops.values()) == {"send": 6, "create_registration": 4,
                                     "delete_registration": 2, "list_registrations": 1,
                                     "list_registrations_by_tag": 1}  # fmt: skip
    by_rule = Counter(f["rule"] for f in findings)
    assert not ERA_BLIND & set(by_rule), [f for f in findings if f["rule"] in ERA_BLIND]
    assert not [f for f in findings if f["severity"] == "error"]
    # the February 2013 send without api-version, accepted with 201
    [accepted] = [f for f in findings if f["rule"] == "common.api-version-accepted"]
    assert accepted["actual"] == (
        "no api-version in a call of the 2013 preview, and the service answered 201: it took "
        "the call as sent"
    )
    # nock kept no request headers: every call was authenticated, as its answer shows
    unjudged = [f for f in findings if f["rule"] == "common.authorization-unjudged"]
    assert len(unjudged) == 14 and all("the call was authenticated" in f["actual"]
                                       for f in unjudged)  # fmt: skip
    # the `&api-version` client bug: three sends, flagged, judged as sends
    joined = [f for f in findings if f["rule"] == "common.query-separator"]
    assert [f["severity"] for f in joined] == ["warning"] * 3
    assert {f["expected"] for f in joined} == {"…/Messages?api-version=2013-07"}
    assert "the service answered 201" in joined[0]["actual"]


@pytest.mark.skipif(not TEST_PROXY_RECORDINGS, reason="real-traffic corpus not present")
def test_sanitized_tokens_of_test_proxy_recordings_are_not_errors(tmp_path: Path) -> None:
    findings, ops = audit(tmp_path, *TEST_PROXY_RECORDINGS)
    assert not [f for f in findings if f["rule"] == "common.authorization"]
    unjudged = [f for f in findings if f["rule"] == "common.authorization-unjudged"]
    assert len(unjudged) == len(ops) > 20
    assert {f["severity"] for f in unjudged} == {"note"}
    assert {f["actual"] for f in unjudged} == {
        "Authorization: Sanitized (the recording removed the token; not judged)"
    }


def test_modern_calls_are_still_held_to_the_documented_api() -> None:
    sanitized = check(*reg(TOKEN_EL, headers={"Authorization": "Sanitized"}, status=401))
    assert [f.rule for f in sanitized if f.rule.startswith(("common.auth", "sas."))] == [
        "common.authorization-unjudged"
    ]
    refused = check(*reg(TOKEN_EL, headers={"Authorization": "Bearer x"}, status=401))
    assert "common.authorization" in {f.rule for f in refused}
    today = check(*reg(TOKEN_EL, query=None, status=200, headers={"x-ms-version": None}))
    assert {"common.api-version", "common.x-ms-version"} <= {f.rule for f in today}
    old = check(*reg(TOKEN_EL, query="api-version=2013-04", headers={"x-ms-version": None}))
    assert not {"common.version-known", "common.x-ms-version"} & {f.rule for f in old}
