"""Following the journal into a store: locks waited out, bad records set aside, positions kept."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from proxy.exchange import Exchange, Message
from proxy.recording import follow, journal, records
from proxy.recording.follow import Follower
from proxy.recording.sqlite_target import SqliteTarget
from proxy.recording.target import Written
from proxy.store import rows


def _payload(i: int) -> bytes:
    ex = Exchange(
        id=f"e{i}", session="s", started_at=float(i), duration_ms=1.0, method="GET",
        url=f"http://h/hub/registrations/{i}", request=Message(headers=(), body=b""),
        status=404, response=Message(headers=(), body=b"<Error/>"),
    )  # fmt: skip
    return records.encode(rows.capture(ex, 1 << 20))


def _journal(directory: Path, payloads: list[bytes], *, end: bool = True) -> journal.Run:
    writer = journal.JournalWriter(directory)
    writer.open(records.encode_session(records.SessionStart("s", "proxy", None, None)))
    for payload in payloads:
        writer.append(journal.EXCHANGE, payload)
    if end:
        writer.close()
    return journal.run_named(directory, writer.run)


def _count(db: Path) -> int:
    return int(sqlite3.connect(db).execute("select count(*) from exchanges").fetchone()[0])


def test_a_held_lock_is_waited_out_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "LAG_LOG_EVERY", 0.3)
    db = tmp_path / "l.db"
    target = SqliteTarget(db)
    target.positions()  # creates the file
    _journal(tmp_path / "j", [_payload(i) for i in range(3)])
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    follower = Follower(tmp_path / "j", target)
    worker = threading.Thread(target=follower.catch_up)
    with caplog.at_level(logging.WARNING):
        worker.start()
        time.sleep(2.5)
        assert worker.is_alive() and _count(db) == 0, "still waiting, nothing lost"
        holder.execute("ROLLBACK")
        worker.join(30)
    assert not worker.is_alive() and _count(db) == 3 and follower.stored == 3
    waits = [r.getMessage() for r in caplog.records if "is busy" in r.getMessage()]
    assert waits and "MB of the journal not yet stored" in waits[-1]
    assert not (tmp_path / "j").exists(), "a stored run is deleted"


def test_a_record_no_store_takes_is_set_aside_alone(tmp_path: Path) -> None:
    _journal(tmp_path / "j", [_payload(1), b"not marshal at all", _payload(2)])
    follower = Follower(tmp_path / "j", SqliteTarget(tmp_path / "r.db"))
    assert follower.catch_up() == 2 and follower.rejected == 1
    rejected = journal.read_frames(
        tmp_path / "j" / follow.REJECTED, 0, max_bytes=1 << 20, max_frames=10
    )
    assert rejected.stop == "torn"  # a rejected file is frames without the segment header
    data = (tmp_path / "j" / follow.REJECTED).read_bytes()
    assert b"not marshal at all" in data


def test_positions_are_kept_in_the_store_and_nothing_is_written_twice(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    run = _journal(tmp_path / "j", [_payload(i) for i in range(5)], end=False)
    first = Follower(tmp_path / "j", SqliteTarget(db))
    lock = journal.hold(run, exclusive=False)
    assert lock is not None
    first.follow(run, lock_fd=lock, live=lambda: False)
    assert first.stored == 5
    positions = dict(sqlite3.connect(db).execute("select segment, position from journal_progress"))
    assert positions and all(p > 0 for p in positions.values())
    again = Follower(tmp_path / "j", SqliteTarget(db))
    assert again.catch_up() == 0 and _count(db) == 5


def test_a_live_run_is_followed_across_segments_as_they_roll(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    writer = journal.JournalWriter(tmp_path / "j", segment_bytes=4096)
    writer.open(records.encode_session(records.SessionStart("s", "proxy", None, None)))
    run = journal.run_named(tmp_path / "j", writer.run)
    lock = journal.hold(run, exclusive=False)
    assert lock is not None
    follower = Follower(tmp_path / "j", SqliteTarget(db))
    worker = threading.Thread(target=follower.follow, args=(run,), kwargs={
        "lock_fd": lock, "live": lambda: True})  # fmt: skip
    worker.start()
    for i in range(40):
        writer.reserve(2048)
        writer.append(journal.EXCHANGE, _payload(i))
        time.sleep(0.005)
    writer.close()
    worker.join(30)
    assert not worker.is_alive(), "the end frame ends a live run"
    assert follower.stored == 40 and _count(db) == 40
    assert not (tmp_path / "j").exists()


def test_a_writer_behind_the_traffic_says_how_far_every_few_seconds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "BATCH_FRAMES", 10)
    monkeypatch.setattr(follow, "LAG_LOG_EVERY", 0.2)
    target = SqliteTarget(tmp_path / "b.db")
    slow = target.write

    def write(*args: object) -> Written:
        time.sleep(0.05)  # ~2 s for the 40 batches: behind all along
        return slow(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(target, "write", write)
    _journal(tmp_path / "j", [_payload(i) for i in range(400)])
    with caplog.at_level(logging.INFO):
        assert Follower(tmp_path / "j", target).catch_up() == 400
    said = [r.getMessage() for r in caplog.records if "behind the traffic" in r.getMessage()]
    assert 3 <= len(said) <= 15, said
    assert "nothing is lost" in said[0] and "MB of the journal not yet stored" in said[0]
    assert said[-1] != said[0], "each line says how long and how far behind"
