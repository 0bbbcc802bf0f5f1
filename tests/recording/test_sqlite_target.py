"""The SQLite target: one bad exchange fails alone; a deleted file is recreated, not written to."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from proxy import store
from proxy.exchange import Exchange, Message
from proxy.model import Decoded
from proxy.recording.records import SessionStart
from proxy.recording.sqlite_target import SqliteTarget
from proxy.store import rows


def _captured(i: int) -> rows.Captured:
    ex = Exchange(
        id=f"e{i}", session="s", started_at=float(i), duration_ms=1.0, method="PUT",
        url=f"http://h/hub/installations/i{i}",
        request=Message(headers=(), body=b'{"installationId":"i%d","platform":"apns"}' % i),
        status=200, response=Message(headers=(), body=b""),
    )  # fmt: skip
    return rows.capture(ex, 1 << 20)


def test_one_unstorable_exchange_is_stored_reduced_and_the_batch_goes_in(tmp_path: Path) -> None:
    target = SqliteTarget(tmp_path / "t.db")
    batch = [_captured(i) for i in range(5)]
    prepared = target.prepare(batch)
    prepared[2].devices[0]["position"] = 2**80  # no SQLite integer holds it
    written = target.write(batch, prepared, {"seg": 42})
    assert written.stored == 5 and written.rejected == []
    conn = sqlite3.connect(tmp_path / "t.db")
    assert conn.execute("select count(*) from exchanges").fetchone()[0] == 5
    devices = {r[0] for r in conn.execute("select exchange_id from devices")}
    assert devices == {"e0", "e1", "e3", "e4"}, "the bad one lost only its decoded rows"
    body, notes = conn.execute(
        "select request_body, decode_notes from exchanges where id = 'e2'"
    ).fetchone()
    assert body == batch[2].exchange.request.body and "OverflowError" in notes
    assert conn.execute("select position from journal_progress").fetchone()[0] == 42


def test_a_deleted_database_is_recreated_with_its_session(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    target = SqliteTarget(db)
    target.ensure_session(SessionStart("s", "proxy", None, None))
    assert target.check() is None
    target.close()
    target = SqliteTarget(db)
    target.ensure_session(SessionStart("s", "proxy", None, None))
    db.unlink()
    message = target.check()
    assert message is not None and "was deleted while recording" in message
    names = [r[0] for r in sqlite3.connect(db).execute("select name from sessions")]
    assert names == ["s"]


def test_add_rows_stores_rows_of_another_table_with_each_exchange(tmp_path: Path) -> None:
    """The ingest hook (per-exchange findings, say): its rows go in with each exchange,
    given the redacted exchange and its decoded record."""
    path = tmp_path / "hook.db"
    db = store.connect(path)
    db.execute("create table at_ingest (exchange_id text primary key, operation text)")
    db.conn.close()

    def add_rows(ex: Exchange, decoded: Decoded | None) -> dict[str, list[dict[str, Any]]]:
        operation = None if decoded is None else str(decoded.operation.name)
        return {"at_ingest": [{"exchange_id": ex.id, "operation": operation}]}

    target = SqliteTarget(path, add_rows=add_rows)
    batch = [_captured(i) for i in range(3)]
    written = target.write(batch, target.prepare(batch), {"seg": 1})
    target.close()
    assert written.stored == 3
    stored = dict(sqlite3.connect(path).execute("select exchange_id, operation from at_ingest"))
    expected = sqlite3.connect(path).execute("select id, operation from exchanges")
    assert stored == dict(expected) and len(stored) == 3 and all(stored.values())
