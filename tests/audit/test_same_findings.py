"""The audit's fast path (stored findings as rows, contexts from stored columns, JSON
printed from cached fragments) reports exactly what judging every exchange from its
stored bytes reports: on real corpus traffic and on every rule's examples."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from proxy import sas, store
from proxy.cli import cli
from proxy.decode import decode_exchange
from proxy.exchange import Exchange, Message
from proxy.rules import Ctx, check_ctx, check_session_ctx
from proxy.store import rows
from tests.corpus import iter_local_capture, iter_recording_entries, local_captures, recordings
from tests.rules.factories import NOW
from tests.rules.test_examples import EXAMPLES
from tests.rules.test_session import SESSION_EXAMPLES
from tests.servers import HUBSCOPE, REPO


def _corpus() -> list[Exchange]:
    """Real traffic: each recording and capture one session, in the order it was sent."""
    out: list[Exchange] = []
    for path in recordings():
        for index, rec in enumerate(iter_recording_entries(path)):
            token = sas.make_token(f"https://{urlsplit(rec.url).netloc}/", "k", "key", now=0)
            headers = tuple(
                (k, token if k.lower() == "authorization" else v) for k, v in rec.request.headers
            )
            out.append(Exchange(
                id=f"r{len(out):05d}", session=f"rec-{path.parent.name}-{path.stem}",
                started_at=60.0 + index, duration_ms=1.0, method=rec.method, url=rec.url,
                request=Message(headers=headers, body=rec.request.body), status=rec.status,
                response=rec.response, client="10.0.0.1:5000",
            ))  # fmt: skip
    for path in local_captures():
        for index, rec in enumerate(iter_local_capture(path)):
            url = f"http://{rec.request.header('Host')}{rec.url}"
            out.append(Exchange(
                id=f"c{len(out):05d}", session=f"cap-{path.parent.name}",
                started_at=NOW + index, duration_ms=1.0, method=rec.method, url=url,
                request=rec.request,
            ))  # fmt: skip
    return out


def _examples() -> list[Exchange]:
    """Every rule's examples: each session rule's sequences a session of their own, and
    all of them together in one more, so the session rules meet each other's traffic."""
    out: list[Exchange] = []
    sequences = [seq for pair in SESSION_EXAMPLES.values() for seq in pair]
    sequences += [[item] for pair in EXAMPLES.values() for item in pair]
    for number, sequence in enumerate(sequences):
        for index, (ex, _) in enumerate(sequence):
            started = NOW + number * 100 + index
            out.append(replace(ex, id=f"e{len(out):05d}", session=f"ex-{number:03d}",
                               started_at=started))  # fmt: skip
            out.append(replace(ex, id=f"m{len(out):05d}", session="all", started_at=started))
    return out


@pytest.fixture(scope="module")
def traffic_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The traffic recorded as the recorder records it: redacted, decoded, judged."""
    path = tmp_path_factory.mktemp("same") / "traffic.db"
    db = store.connect(path)
    exchanges = _corpus() + _examples()
    for session in sorted({ex.session for ex in exchanges}):
        store.ensure_session(db, session, kind="proxy")
    store.write_rows(db, rows.build(exchanges, body_cap=1 << 20, keys={}))
    assert db["findings_judged"].count == len(exchanges) > 300
    db.conn.close()
    return path


def _from_scratch(path: Path) -> list[dict[str, Any]]:
    """Every stored exchange decoded from its bytes and judged by every rule, session by
    session in time order: what the audit must report, in no particular order."""
    db = store.connect(path, readonly=True)
    stored = list(db.query("select * from exchanges"))
    db.conn.close()
    found = []
    for session in sorted({row["session"] for row in stored}):
        ctxs = []
        for row in sorted(
            (r for r in stored if r["session"] == session), key=lambda r: (r["started_at"], r["id"])
        ):
            ex = store.exchange_from_row(row)
            decoded = decode_exchange(ex.method, ex.url, ex.request, ex.status, ex.response)
            ctxs.append(Ctx(ex, decoded, truncated=bool(row["request_truncated"])))
        found += [f for ctx in ctxs for f in check_ctx(ctx)] + check_session_ctx(ctxs)
    return [f.as_json() for f in found]


def _audit_json(path: Path) -> str:
    result = CliRunner().invoke(
        cli, ["audit", "--db", str(path), "--format", "json", "--fail-on", "never", "--read-only"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _key(finding: dict[str, Any]) -> str:
    return json.dumps(finding, sort_keys=True)


def test_the_stored_path_reports_what_judging_from_scratch_finds(traffic_db: Path) -> None:
    reported = json.loads(_audit_json(traffic_db))
    expected = _from_scratch(traffic_db)
    assert reported["exchanges"] > 300
    assert sorted(map(_key, reported["findings"])) == sorted(map(_key, expected))
    rules = {f["rule"] for f in expected}
    assert {rule for rule in SESSION_EXAMPLES} <= rules  # every session rule was exercised
    assert len(rules) > 40


def test_the_stored_path_prints_what_judging_again_prints_byte_for_byte(
    traffic_db: Path, tmp_path: Path
) -> None:
    """The same file with its judged marks gone: every exchange decoded and judged by the
    audit itself, every finding printed from its object."""
    cold = tmp_path / "cold.db"
    with sqlite3.connect(traffic_db) as source, sqlite3.connect(cold) as copy:
        source.backup(copy)
        copy.execute("delete from findings_judged")
    assert _audit_json(traffic_db) == _audit_json(cold)
    for fmt in ("text", "markdown"):
        args = ["audit", "--format", fmt, "--fail-on", "never", "--read-only", "--db"]
        warm = CliRunner().invoke(cli, [*args, str(traffic_db)]).output
        assert warm == CliRunner().invoke(cli, [*args, str(cold)]).output
        assert "session.duplicate-registration" in warm


def test_the_command_prints_the_same_through_its_reader_process(
    traffic_db: Path, tmp_path: Path
) -> None:
    """`hubscope audit` as a user runs it: stdout a pipe, one reader forked per session
    (dozens here), none of which may print what the judge had buffered."""
    cold = tmp_path / "cold.db"
    with sqlite3.connect(traffic_db) as source, sqlite3.connect(cold) as copy:
        source.backup(copy)
        copy.execute("delete from findings_judged")
    args = ["audit", "--format", "json", "--fail-on", "never", "--read-only", "--db"]
    done = subprocess.run(
        [*HUBSCOPE, *args, str(traffic_db)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == _audit_json(cold)
