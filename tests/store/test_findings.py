"""Findings judged once: stored at ingest under the rule set, read back by the audit,
judged again when the rule set changes, redacted like everything stored."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlite_utils import Database

from proxy import audit, sas, store
from proxy.exchange import Exchange
from proxy.rules import Finding
from proxy.store import findings, rows
from tests.rules.factories import HOST, NOW, TOKEN_EL, el, reg
from tests.rules.test_examples import EXAMPLES
from tests.rules.test_session import SESSION_EXAMPLES


def sessions() -> dict[str, list[Exchange]]:
    """Every rule's failing and passing example, and every session rule's sequences."""
    out: dict[str, list[Exchange]] = {"examples": []}
    for passing, failing in EXAMPLES.values():
        out["examples"] += [passing[0], failing[0]]
    for rule_id, (passing, failing) in SESSION_EXAMPLES.items():
        out[f"{rule_id}-pass"] = [ex for ex, _ in passing]
        out[f"{rule_id}-fail"] = [ex for ex, _ in failing]
    return {
        name: [replace(ex, session=name, started_at=NOW + i) for i, ex in enumerate(exchanges)]
        for name, exchanges in out.items()
    }


NewStore = Callable[[str], Path | str]
"""`new_store` (tests/postgres.py): the tests taking it run on SQLite and on PostgreSQL."""


def change(where: Path | str, *statements: str) -> None:
    db = store.connect(where)
    try:
        with store.write_transaction(db):
            for statement in statements:
                db.conn.execute(statement)
    finally:
        db.conn.close()


def ingest(path: Path | str, by_session: dict[str, list[Exchange]]) -> Path | str:
    """Rows built and written as the recorder builds and writes them."""
    db = store.connect(path)
    for name, exchanges in by_session.items():
        store.ensure_session(db, name, kind="proxy")
        store.write_rows(db, rows.build(exchanges, body_cap=1 << 20, keys={"k": "secret"}))
    db.conn.close()
    return path


def collect(
    path: Path | str, *, save: bool = False
) -> tuple[audit.Audit, Counter[tuple[str, ...]]]:
    found: list[Finding] = []
    reader = store.connect(path, readonly=True)
    writer = store.connect(path) if save else None
    result = audit.run(reader, on_finding=found.append, save_to=writer)
    reader.conn.close()
    if writer is not None:
        writer.conn.close()
    return result, Counter(tuple(str(v) for v in f.as_json().values()) for f in found)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest(tmp_path_factory.mktemp("findings") / "ingested.db", sessions())


def test_ingest_stores_every_exchange_judged_under_the_current_rule_set(ingested: Path) -> None:
    db = store.connect(ingested, readonly=True)
    total = db["exchanges"].count
    marks = list(db.query("select ruleset, count(*) as n from findings_judged group by 1"))
    assert marks == [{"ruleset": findings.ruleset(), "n": total}]
    assert db["findings"].count > 0


def test_the_audit_reads_stored_findings_and_they_equal_a_fresh_judgement(
    ingested: Path, tmp_path: Path
) -> None:
    from_store, stored_found = collect(ingested)
    assert from_store.judged == 0  # nothing decoded again
    fresh = tmp_path / "fresh.db"
    fresh.write_bytes(ingested.read_bytes())
    db = Database(str(fresh))
    db.execute("delete from findings_judged")
    db.execute("delete from findings")
    db.conn.commit()
    db.conn.close()
    judged_again, fresh_found = collect(fresh)
    assert judged_again.judged == judged_again.exchanges == from_store.exchanges
    assert stored_found == fresh_found  # stored columns rebuild what the rules read
    assert sum(n for k, n in fresh_found.items() if k[1].startswith("session.")) >= len(
        SESSION_EXAMPLES
    )


def test_a_stale_rule_set_is_judged_again_and_stored(new_store: NewStore) -> None:
    path = ingest(new_store("stale"), {"s": [reg(el("BaiduChannelId", "c"),
                                                 root="BaiduRegistrationDescription")[0]]})
    change(path, "update findings_judged set ruleset = 'an-older-rule-set'",
           "update findings set actual = 'what an older rule said'")  # fmt: skip
    result, found = collect(path)  # read-only: judged again, nothing written
    assert result.judged == 1 and not any("older rule" in k[4] for k in found)
    assert collect(path)[0].judged == 1
    assert collect(path, save=True)[0].judged == 1
    again, found_again = collect(path)
    assert again.judged == 0 and found_again == found


def test_the_audit_reports_what_is_stored_for_the_current_rule_set(new_store: NewStore) -> None:
    path = ingest(new_store("current"), {"s": [reg(TOKEN_EL, el("Tags", "a"))[0]]})
    change(path, "update findings set actual = 'as stored'")
    _, found = collect(path)
    assert [k[4] for k in found] == ["as stored"]


def test_an_old_database_without_the_findings_tables_is_judged_on_read(tmp_path: Path) -> None:
    path = ingest(tmp_path / "old.db", {"s": [reg(TOKEN_EL, el("Tags", "a"))[0]]})
    db = Database(str(path))
    db.execute("drop table findings")
    db.execute("drop table findings_judged")
    db.conn.commit()
    db.conn.close()
    result, found = collect(path)
    assert result.judged == 1 and {k[1] for k in found} == {"registration.element-order-optional"}


def test_stored_findings_hold_no_signature(new_store: NewStore) -> None:
    bad = sas.make_token(f"https://{HOST}/myhub", "k", "not-the-key", now=NOW)
    signature = bad.split("sig=")[1].split("&")[0]
    ex = reg(TOKEN_EL, headers={"Authorization": bad})[0]
    db = store.connect(ingest(new_store("sig"), {"s": [ex]}), readonly=True)
    stored_rows = list(db.query("select * from findings"))
    db.conn.close()
    assert any(r["rule"] == "sas.signature" for r in stored_rows)
    assert signature not in repr(stored_rows) and unquote(signature) not in repr(stored_rows)


def test_a_judging_failure_leaves_the_exchange_stored_and_unjudged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> list[Finding]:
        raise RuntimeError("a rule bug")

    monkeypatch.setattr(findings, "judge", broken)
    built = rows.build([reg(TOKEN_EL)[0]], body_cap=1 << 20, keys={})
    assert len(built.exchanges) == 1 and built.exchanges[0]["operation"]
    assert built.more == {}


def test_a_finding_row_keeps_only_what_differs_from_its_rule() -> None:
    ex, decoded = reg(TOKEN_EL, el("Tags", "a"))
    [finding] = findings.judge(ex, decoded)
    [row] = findings.finding_rows(ex.id, [finding])
    assert row["spec"] is None and row["source"] is None
    assert findings.finding_from_row(row) == finding


def test_the_fingerprint_names_rules_and_judging_code() -> None:
    assert len(findings.ruleset()) == 16
    assert findings.ruleset() == findings.ruleset.__wrapped__()


def test_a_finding_quoting_a_lone_surrogate_is_stored_with_its_exchange(tmp_path: Path) -> None:
    from tests.rules.factories import inst, installation

    body = installation(pushChannel="ab", templates={"\ud83d": {"body": "{}", "tags": ["\udc00"]}})
    ex = inst(body)[0]
    path = ingest(tmp_path / "surrogate.db", {"s": [ex]})
    db = Database(str(path))
    assert [r["operation"] for r in db.query("select operation from exchanges")] != [None]
    assert db["findings_judged"].count == 1
    assert all("\ud83d" not in (r["actual"] or "") for r in db.query("select * from findings"))
