"""Problems grouped by rule and error code, also under a filter that needs findings."""

from __future__ import annotations

from pathlib import Path

from proxy import store
from viewer import problems
from viewer.analysis import Badges
from viewer.filters import parse


def test_findings_filters_count_what_they_judge(triage_db: Path, monkeypatch) -> None:
    db = store.connect(triage_db, readonly=True)
    try:
        found = problems.problems(db, parse({"f": "severity:error"}), Badges())
        assert [(g["status"], g["code"], g["count"]) for g in found.by_status] == [
            ("400", "400", 1)]  # fmt: skip
        assert {(g["rule"], g["count"]) for g in found.by_rule if g["severity"] == "error"} == {
            ("common.api-version", 3), ("registration.fcm-root", 1)}  # fmt: skip
        assert found.complete and found.judged == 26
        assert "rule%3Aregistration.fcm-root" in found.link("rule:registration.fcm-root")
        assert found.link("status:503").startswith("f=severity%3Aerror+and+status%3A503")
        monkeypatch.setattr(problems, "BUDGET", 10)
        monkeypatch.setattr(problems, "BATCH", 5)
        partial = problems.problems(db, parse({}), Badges())
        assert not partial.complete and partial.judged == 10
    finally:
        db.conn.close()
