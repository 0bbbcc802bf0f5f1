"""`hubscope audit` over a database: report formats, the JSON shape and the exit codes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from proxy import store
from proxy.audit import Audit, groups, run
from proxy.cli import cli
from proxy.exchange import Exchange
from proxy.rules import Finding
from tests.rules.factories import TOKEN_EL, el, reg

BAIDU = "BaiduRegistrationDescription"


def row(ex: Exchange) -> dict[str, Any]:
    """An `exchanges` row with the columns of m001 (the recorder fills the same ones)."""
    request, response = ex.request, ex.response
    return {
        "id": ex.id,
        "session": ex.session,
        "started_at": ex.started_at,
        "duration_ms": ex.duration_ms,
        "method": ex.method,
        "url": ex.url,
        "host": "ns.servicebus.windows.net",
        "path": ex.url.split("?")[0],
        "query": ex.url.partition("?")[2],
        "request_headers": store.headers_to_text(request.headers),
        "request_body": request.body,
        "request_body_size": len(request.body),
        "request_body_sha256": hashlib.sha256(request.body).hexdigest(),
        "request_truncated": 0,
        "status": ex.status,
        "response_headers": store.headers_to_text(response.headers) if response else None,
        "response_body": response.body if response else None,
        "sas_verdict": ex.sas_verdict,
    }


NewStore = Callable[[str], Path | str]
"""`new_store` (tests/postgres.py): the audit's tests run on SQLite and on PostgreSQL."""


def write_db(path: Path | str, exchanges: list[Exchange], session: str = "s") -> Path | str:
    db = store.connect(path)
    store.ensure_session(db, session, kind="proxy")
    rows = [{**row(ex), "session": session} for ex in exchanges]
    store.write_rows(db, store.Rows(exchanges=rows, devices=[], device_tags=[]))
    db.conn.close()
    return path


@pytest.fixture
def clean_db(new_store: NewStore) -> Path | str:
    ok = reg(TOKEN_EL, status=201, response_headers={"ETag": 'W/"1"',
             "Content-Type": "application/atom+xml;type=entry"})[0]  # fmt: skip
    return write_db(new_store("clean"), [ok])


@pytest.fixture
def mixed_db(new_store: NewStore) -> Path | str:
    exchanges = [
        reg(TOKEN_EL, status=200)[0],  # notes: 200 not 201, no ETag
        reg(TOKEN_EL, el("Tags", "a"))[0],  # warning: optional element dropped
        reg(el("BaiduChannelId", "c"), el("BaiduUserId", "u"), root=BAIDU)[0],  # error
    ]
    return write_db(new_store("mixed"), exchanges)


def audited(path: Path | str, **options: Any) -> Audit:
    """`run` over the store at `path`, its connection closed afterwards (PostgreSQL's too)."""
    db = store.connect(path, readonly=True)
    try:
        return run(db, **options)
    finally:
        db.conn.close()


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["audit", *args])


def test_json_has_the_documented_shape(mixed_db: Path | str) -> None:
    result = invoke("--db", str(mixed_db), "--format", "json")
    data = json.loads(result.output)
    assert set(data) == {"exchanges", "findings"}
    assert data["exchanges"] == 3
    keys = {"exchange_id", "rule", "severity", "expected", "actual", "spec", "source", "url",
            "docs"}  # fmt: skip
    assert data["findings"] and all(set(f) == keys for f in data["findings"])
    for finding in data["findings"]:  # citations a user can follow
        assert finding["docs"] == f"docs/spec-rules.md#{finding['rule']}"
        if finding["source"].startswith("seeds/"):
            assert finding["url"].startswith("https://learn.microsoft.com/")
    rules = {(f["rule"], f["severity"]) for f in data["findings"]}
    assert ("registration.element-order-required", "error") in rules
    assert ("registration.element-order-optional", "warning") in rules
    assert ("response.status-docs-differ", "note") in rules


@pytest.mark.parametrize(
    ("fail_on", "code"), [("error", 1), ("warning", 1), ("never", 0)]
)  # fmt: skip
def test_exit_codes_with_an_error(mixed_db: Path | str, fail_on: str, code: int) -> None:
    assert invoke("--db", str(mixed_db), "--fail-on", fail_on).exit_code == code


def test_default_fails_on_error_only(new_store: NewStore) -> None:
    path = write_db(new_store("w"), [reg(TOKEN_EL, el("Tags", "a"))[0]])
    assert invoke("--db", str(path)).exit_code == 0
    assert invoke("--db", str(path), "--fail-on", "warning").exit_code == 1


def test_clean_database_passes(clean_db: Path | str) -> None:
    result = invoke("--db", str(clean_db), "--fail-on", "warning", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"exchanges": 1, "findings": []}


def test_missing_database_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("--db", str(tmp_path / "absent.db"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_not_a_hubscope_database_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    path.write_bytes(b"not sqlite at all, just bytes" * 10)
    assert invoke("--db", str(path)).exit_code == 2


def test_text_report_groups_by_operation_and_rule(mixed_db: Path | str) -> None:
    result = invoke("--db", str(mixed_db), "--fail-on", "never")
    assert result.exit_code == 0
    assert "3 exchanges" in result.output
    lines = result.output.splitlines()
    assert "create_registration" in lines
    assert any("error" in line and "registration.element-order-required  ×1" in line
               for line in lines)  # fmt: skip


def test_markdown_report(mixed_db: Path | str) -> None:
    result = invoke("--db", str(mixed_db), "--format", "markdown", "--fail-on", "never")
    assert result.output.startswith("# hubscope audit")
    assert (
        "| error | [`registration.element-order-required`]"
        "(docs/spec-rules.md#registration.element-order-required) | 1 |"
    ) in result.output


def test_session_filter(new_store: NewStore) -> None:
    path = write_db(new_store("two"), [reg(el("BaiduChannelId", "c"), el("BaiduUserId", "u"),
                                               root=BAIDU)[0]], session="bad")  # fmt: skip
    db = store.connect(path)
    store.ensure_session(db, "good", kind="proxy")
    ok = reg(TOKEN_EL)[0]
    store.write_rows(db, store.Rows(exchanges=[{**row(ok), "session": "good"}], devices=[],
                                    device_tags=[]))  # fmt: skip
    db.conn.close()
    assert invoke("--db", str(path), "--session", "good").exit_code == 0
    assert invoke("--db", str(path), "--session", "bad").exit_code == 1
    assert invoke("--db", str(path)).exit_code == 1


def test_session_rules_run_per_session(new_store: NewStore) -> None:
    first, second = reg(TOKEN_EL, status=200)[0], reg(TOKEN_EL, status=200)[0]
    path = write_db(new_store("dup"), [first, second])
    found: list[Finding] = []
    audited(path, on_finding=found.append)
    dupes = [f for f in found if f.rule == "session.duplicate-registration"]
    assert [f.exchange_id for f in dupes] == [second.id]


def test_groups_show_at_most_three_distinct_examples(new_store: NewStore) -> None:
    exchanges = [reg(TOKEN_EL, el("Tags", "a"))[0] for _ in range(5)]
    audit = audited(write_db(new_store("g"), exchanges))
    group = next(g for g in groups(audit) if g.rule == "registration.element-order-optional")
    assert group.count == 5 and len(group.examples) == 1


def test_truncated_bodies_are_not_judged(new_store: NewStore) -> None:
    ex = reg(el("BaiduChannelId", "c"), el("BaiduUserId", "u"), root=BAIDU)[0]
    path = new_store("t")
    db = store.connect(path)
    store.ensure_session(db, "s", kind="proxy")
    cut = {**row(ex), "request_body": ex.request.body[:50], "request_truncated": 1}
    store.write_rows(db, store.Rows(exchanges=[cut], devices=[], device_tags=[]))
    db.conn.close()
    assert invoke("--db", str(path)).exit_code == 0


def test_signature_verdict_from_the_recorder_path(new_store: NewStore) -> None:
    """Rows built as the recorder builds them: verified with the key, then redacted."""
    from proxy import sas
    from proxy.store import rows
    from tests.rules.factories import HOST, NOW

    good = sas.make_token(f"https://{HOST}/myhub", "k", "secret", now=NOW)
    bad = sas.make_token(f"https://{HOST}/myhub", "k", "not-the-key", now=NOW)
    exchanges = [reg(TOKEN_EL, headers={"Authorization": t})[0] for t in (good, bad)]
    batch = rows.build(exchanges, body_cap=1 << 20, keys={"k": "secret"})
    path = new_store("sig")
    db = store.connect(path)
    store.ensure_session(db, "s", kind="proxy")
    store.write_rows(db, batch)
    db.conn.close()
    result = invoke("--db", str(path), "--format", "json")
    assert result.exit_code == 1
    found = [f for f in json.loads(result.output)["findings"] if f["rule"] == "sas.signature"]
    assert [f["exchange_id"] for f in found] == [exchanges[1].id]
    assert bad.split("sig=")[1].split("&")[0] not in result.output


def test_unknown_session_is_a_usage_error(clean_db: Path | str) -> None:
    result = invoke("--db", str(clean_db), "--session", "nope")
    assert result.exit_code == 2
    assert "sessions: s" in result.output


def test_text_report_cites_what_a_user_can_open(mixed_db: Path | str) -> None:
    result = invoke("--db", str(mixed_db), "--fail-on", "never")
    see = [line.strip() for line in result.output.splitlines() if line.strip().startswith("see:")]
    assert see and all(line.split()[1].startswith("https://") for line in see), see
    assert all(" · docs/spec-rules.md#" in line for line in see)
    assert "seeds/" not in result.output and "spec/nh-rest-api.md" not in result.output


def test_the_report_holds_a_few_examples_per_rule_however_many_findings(
    new_store: NewStore,
) -> None:
    exchanges = [reg(TOKEN_EL, el("Tags", f"t{i}"))[0] for i in range(200)]
    path = write_db(new_store("many"), exchanges)
    seen: list[Finding] = []
    audit = audited(path, on_finding=seen.append, page=37)
    held = list(audit.examples())
    assert audit.exchanges == 200 and audit.total == len(seen) >= 200
    assert len(held) <= len(audit.buckets) * 3 < 20
    group = next(g for g in groups(audit) if g.rule == "registration.element-order-optional")
    assert group.count == 200


def test_json_streams_every_finding_not_only_the_examples(new_store: NewStore) -> None:
    exchanges = [reg(TOKEN_EL, el("Tags", f"t{i}"))[0] for i in range(10)]
    result = invoke("--db", str(write_db(new_store("j"), exchanges)), "--format", "json")
    data = json.loads(result.output)
    order = [f for f in data["findings"] if f["rule"] == "registration.element-order-optional"]
    assert data["exchanges"] == 10 and len(order) == 10


def test_the_audit_stores_what_it_judged_unless_read_only(new_store: NewStore) -> None:
    path = write_db(new_store("store"), [reg(TOKEN_EL, el("Tags", "a"))[0]])
    assert invoke("--db", str(path), "--read-only").exit_code == 0
    db = store.connect(path, readonly=True)
    assert db["findings_judged"].count == 0
    db.conn.close()
    assert invoke("--db", str(path)).exit_code == 0
    db = store.connect(path, readonly=True)
    assert db["findings_judged"].count == 1
    assert [r["rule"] for r in db.query("select rule from findings")] == [
        "registration.element-order-optional"
    ]
    db.conn.close()
