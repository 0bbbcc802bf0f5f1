"""Problems grouped by rule and error code, also under a filter that needs findings."""

from __future__ import annotations

from pathlib import Path

from proxy import store
from proxy.rules import citations, rules
from tests.viewer.conftest import execute
from viewer import problems
from viewer.analysis import Badges
from viewer.app import make_app
from viewer.filters import parse


def test_findings_filters_count_what_they_judge(triage_store: Path | str, monkeypatch) -> None:
    db = store.connect(triage_store, readonly=True)
    try:
        found = problems.problems(db, parse({"f": "severity:error"}), Badges())
        assert [(g["status"], g["code"], g["count"]) for g in found.by_status] == [
            ("400", "400", 1)]  # fmt: skip
        assert {(g["rule"], g["count"]) for g in found.by_rule if g["severity"] == "error"} == {
            ("common.api-version", 3), ("registration.fcm-root", 1)}  # fmt: skip
        assert found.complete and found.judged == 4  # every exchange with an error
        assert "rule%3Aregistration.fcm-root" in found.link("rule:registration.fcm-root")
        assert found.link("status:503").startswith("f=severity%3Aerror+and+status%3A503")
        monkeypatch.setattr(problems, "BUDGET", 10)
        monkeypatch.setattr(problems, "BATCH", 5)
        stored = problems.problems(db, parse({}), Badges())  # counted in SQL: no budget
        assert stored.complete and stored.judged == 26
    finally:
        db.conn.close()
    execute(triage_store, "update findings_judged set ruleset = 'older'")
    db = store.connect(triage_store, readonly=True)
    try:
        partial = problems.problems(db, parse({}), Badges())  # judged on read, up to BUDGET
        assert not partial.complete and partial.judged == 10
        monkeypatch.undo()
        again = problems.problems(db, parse({"f": "severity:error"}), Badges())
        assert {(g["rule"], g["count"]) for g in again.by_rule if g["severity"] == "error"} == {
            ("common.api-version", 3), ("registration.fcm-root", 1)}  # fmt: skip
    finally:
        db.conn.close()


async def test_rules_link_to_their_page_and_their_spec(aiohttp_client, triage_store) -> None:
    triage = await aiohttp_client(make_app(triage_store))
    page = await (await triage.get("/problems")).text()
    fcm = citations.url(next(r for r in rules() if r.id == "registration.fcm-root").source)
    assert fcm and f'href="{fcm}"' in page
    assert 'href="/rules/registration.fcm-root"' in page
    data = await (await triage.get("/api/problems")).json()
    row = next(g for g in data["by_rule"] if g["rule"] == "registration.fcm-root")
    assert row["url"] == fcm and row["docs"] == "docs/spec-rules.md#registration.fcm-root"
