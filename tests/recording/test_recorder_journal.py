"""Import, replay and resend record through a journal like the proxy does: what they
submitted survives a `kill -9`, and no secret reaches the journal on the way.

A real process records exchanges holding every secret shape through `Recorder` (what
`hubscope import`, `replay` and `resend` use) while another process holds the SQLite
write lock: the recorder waits with every exchange in `<db>.capture/` (no secret in
it); it is killed with SIGKILL; the next `hubscope export` stores and shows them all.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from proxy.exchange import Exchange, Message, new_id
from proxy.recording import journal, records
from proxy.recording.recorder import Recorder
from tests import leaky
from tests.recording.test_journal_secrets import journal_leaks
from tests.recording.test_recorder import exchange
from tests.servers import REPO

CHILD = """
import sys
from proxy.exchange import Exchange, Message, new_id
from proxy.recording.recorder import Recorder
from tests import leaky

answers = [
    ((("Content-Type", "application/json"),), leaky.installation_answer()),
    ((("Content-Type", "application/json"), ("Content-Encoding", "gzip")), leaky.gzip_answer()),
    ((("Content-Type", "application/atom+xml;type=entry;charset=utf-8"),), leaky.hub_description()),
]
recorder = Recorder(sys.argv[1], session="recorded", keys={})
recorder.start(kind="import")
print("started", flush=True)
sys.stdin.readline()
for n, request in enumerate(leaky.requests("https://ns.servicebus.windows.net")):
    headers, body = answers[n % len(answers)]
    recorder.submit(Exchange(
        id=new_id(), session="recorded", started_at=1000.0 + n, duration_ms=1.0,
        method=request["method"], url=request["url"],
        request=Message(headers=tuple(request["headers"].items()), body=request.get("data", b"")),
        status=200, response=Message(headers=headers, body=body),
    ))
print("submitted", flush=True)
recorder.close()
"""
SUBMITTED = len(leaky.requests("https://ns"))


def journaled(directory: Path) -> list[records.Captured]:
    found = []
    for run in journal.runs(directory):
        for segment in run.segments:
            chunk = journal.read_frames(directory / segment, 0, max_bytes=1 << 30, max_frames=10**6)
            found += [records.decode(f.body) for f in chunk.frames if f.kind == journal.EXCHANGE]
    return found


def test_a_killed_recorder_loses_nothing_and_journals_no_secret(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)], cwd=REPO, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    lock = None
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "started"
        lock = sqlite3.connect(db, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # from here the recorder can store nothing
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "submitted"
        time.sleep(0.3)
        assert child.poll() is None, "close() waits for the lock, it does not fail"
        directory = journal.journal_dir(db)
        captured = journaled(directory)
        assert len(captured) == SUBMITTED
        assert all(item.redacted for item in captured)
        assert journal_leaks(directory) == {}
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
        if lock is not None:
            lock.execute("ROLLBACK")
            lock.close()
    assert sqlite3.connect(db).execute("select count(*) from exchanges").fetchone()[0] == 0
    export = subprocess.run(
        [sys.executable, "-m", "proxy", "export", "--db", str(db), "--format", "jsonl"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    assert len(export.stdout.splitlines()) == SUBMITTED
    assert f"stored {SUBMITTED} answered exchanges" in export.stderr
    assert not journal.journal_dir(db).exists()
    assert leaky.leaks_in_database(db) == {}


def test_the_recorder_redacts_before_journaling(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "r.db", session="s")
    recorder.start()
    lock = sqlite3.connect(tmp_path / "r.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        recorder.submit(exchange(1))
        (item,) = journaled(recorder.journal.directory)
        headers = dict(item.exchange.request.headers)
        assert headers["Authorization"] == "SharedAccessSignature sig=[redacted]&se=1"
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    recorder.close()
    assert recorder.written == 1
    assert not recorder.journal.directory.exists()


def test_an_exchange_that_cannot_be_redacted_is_recorded_bare_with_the_reason(
    tmp_path: Path,
) -> None:
    """A header value that is not text (a caller's bug) makes redaction fail: the answered
    exchange is still recorded, without anything that might hold a secret."""
    token = leaky.CLIENT_TOKEN.encode()  # bytes, where a str belongs
    odd = Exchange(
        id=new_id(), session="s", started_at=1.7e9, duration_ms=3.0, method="PUT",
        url=f"http://ns/myhub/registrations/r1?api-version=2015-01&sig={leaky.S['query_sig']}",
        request=Message(headers=(("Authorization", token),), body=token),  # type: ignore[arg-type]
        status=200, response=Message(headers=(), body=b"<entry/>"),
    )  # fmt: skip
    db = tmp_path / "r.db"
    recorder = Recorder(db, session="s")
    recorder.start()
    recorder.submit(odd)
    (item,) = journaled(recorder.journal.directory)
    assert journal_leaks(recorder.journal.directory) == {}
    recorder.close()
    assert item.exchange.url == "http://ns/myhub/registrations/r1"
    assert item.exchange.request.headers == () and item.exchange.request.body == b""
    assert item.exchange.status == 200
    row = sqlite3.connect(db).execute("select id, status, error from exchanges").fetchone()
    assert row[:2] == (odd.id, 200)
    assert "could not cut or redact this exchange (TypeError)" in row[2]
    assert leaky.leaks_in_database(db) == {}
