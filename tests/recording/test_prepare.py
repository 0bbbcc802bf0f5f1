"""A backlog's rows built in worker processes: the same rows; a dead worker loses nothing."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import pytest

from proxy import store
from proxy.exchange import Exchange, Message
from proxy.recording import follow, journal, prepare, records
from proxy.recording.follow import Follower
from proxy.recording.prepare import PreparePool
from proxy.recording.sqlite_target import SqliteTarget
from proxy.recording.target import Written
from proxy.recording.worker_writes import Stored
from proxy.store import Rows, rows
from proxy.store.rows import Captured
from tests.corpus import iter_local_capture, iter_recording_entries, local_captures, recordings

BACKLOG = prepare.POOL_MIN_BATCH + prepare.SLICE + 7
"""One batch the follower hands to the workers, in more than one slice."""


def _corpus_payloads(count: int) -> list[bytes]:
    """`count` journal records of real traffic (the corpus, over and over, with new ids)."""
    entries = [e for path in recordings() for e in iter_recording_entries(path)]
    entries += [e for path in local_captures() for e in iter_local_capture(path)]
    out = []
    for i, entry in enumerate(islice(cycle(entries), count)):
        ex = Exchange(
            id=f"x{i:05d}", session="s", started_at=1.7e9 + i, duration_ms=1.0,
            method=entry.method, url=entry.url, request=entry.request,
            status=entry.status, response=entry.response or Message(headers=(), body=b""),
        )  # fmt: skip
        out.append(records.encode(rows.capture(ex, 1 << 20)))
    return out


def _journal(directory: Path, payloads: list[bytes]) -> journal.Run:
    writer = journal.JournalWriter(directory)
    writer.open(records.encode_session(records.SessionStart("s", "proxy", None, None)))
    for payload in payloads:
        writer.append(journal.EXCHANGE, payload)
    writer.close()
    return journal.run_named(directory, writer.run)


def _tables(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    out = {}
    for table in ("exchanges", "devices", "device_tags", "findings", "findings_judged"):
        out[table] = sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)
    return out


class _RowsBack(SqliteTarget):
    """A target whose workers send the rows back, as a server's do (`PgTarget`)."""

    def shared_file(self) -> None:
        return None


@pytest.mark.parametrize(
    ("target", "stored_by_workers"),
    [(SqliteTarget, BACKLOG), (_RowsBack, 0)],
    ids=["the workers store them", "the rows come back"],
)
def test_a_backlog_is_built_in_the_workers_into_the_same_rows(
    tmp_path: Path, target: type[SqliteTarget], stored_by_workers: int
) -> None:
    payloads = _corpus_payloads(BACKLOG)
    _journal(tmp_path / "here", payloads)
    _journal(tmp_path / "there", payloads)
    Follower(tmp_path / "here", SqliteTarget(tmp_path / "here.db")).catch_up()
    pool = PreparePool(workers=2)
    try:
        stored = Follower(tmp_path / "there", target(tmp_path / "there.db"), pool=pool)
        assert stored.catch_up() == BACKLOG
        assert pool.remote_batches == 1, "the backlog went to the workers"
        assert pool.remote_stored == stored_by_workers
    finally:
        pool.close()
    here, there = _tables(tmp_path / "here.db"), _tables(tmp_path / "there.db")
    assert len(here["exchanges"]) == BACKLOG and here["devices"] and here["findings"]
    assert there == here
    there_at = store.journal_positions(store.connect(tmp_path / "there.db"))
    here_at = store.journal_positions(store.connect(tmp_path / "here.db"))
    assert list(there_at.values()) == list(here_at.values()), "the end of the run, once"


class _Watched(SqliteTarget):
    """The real target, noting for each batch written whether its findings came with it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.judged_batches: list[bool] = []

    def write(self, batch: Sequence[Captured], prepared: Any, progress: dict[str, int]) -> Written:
        self.judged_batches.append(all(_judged_rows(one) for one in prepared))
        return super().write(batch, prepared, progress)


def _judged_rows(one: Rows | Stored) -> bool:
    """Whether an exchange's findings were built with its rows (by the writer or a worker)."""
    return one.after is None if isinstance(one, Stored) else "findings_judged" in one.more


def test_a_finished_run_is_judged_as_it_is_stored(tmp_path: Path) -> None:
    _journal(tmp_path / "j", _corpus_payloads(BACKLOG))
    target = _Watched(tmp_path / "d.db")
    assert Follower(tmp_path / "j", target).catch_up() == BACKLOG
    assert target.judged_batches == [True], "nothing to catch up with: no reason to wait"
    assert _judged(tmp_path / "d.db") == BACKLOG


def test_a_live_writer_behind_stores_first_and_judges_in_the_quiet(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    writer = journal.JournalWriter(tmp_path / "j")
    writer.open(records.encode_session(records.SessionStart("s", "proxy", None, None)))
    for payload in _corpus_payloads(BACKLOG):
        writer.append(journal.EXCHANGE, payload)
    run = journal.run_named(tmp_path / "j", writer.run)
    lock = journal.hold(run, exclusive=False)
    target = _Watched(db)
    worker = threading.Thread(target=Follower(tmp_path / "j", target).follow, args=(run,),
                              kwargs={"lock_fd": lock, "live": lambda: True})  # fmt: skip
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while _judged(db) < BACKLOG and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _judged(db) == BACKLOG, "judged while the run is still live"
        assert worker.is_alive()
    finally:
        writer.close()
        worker.join(30)
    assert target.judged_batches[0] is False, "the backlog was stored before it was judged"
    assert _tables(db)["findings"]


def test_what_a_backlog_left_unjudged_is_judged_in_the_workers_as_at_ingest(
    tmp_path: Path,
) -> None:
    payloads = _corpus_payloads(BACKLOG)
    _journal(tmp_path / "ingest", payloads)
    Follower(tmp_path / "ingest", SqliteTarget(tmp_path / "ingest.db")).catch_up()
    run = _journal(tmp_path / "j", payloads)  # read live: a backlog, stored unjudged
    target = _Watched(tmp_path / "later.db")
    pool = PreparePool(workers=2)
    try:
        follower = Follower(tmp_path / "j", target, pool=pool)
        follower.follow(run, lock_fd=journal.hold(run, exclusive=False), live=lambda: True)
        assert pool.remote_stored == BACKLOG, "the workers stored the backlog unjudged"
        assert pool.remote_judged == BACKLOG, "the workers judged the backlog"
    finally:
        pool.close()
    assert target.judged_batches[0] is False
    at_ingest, later = _tables(tmp_path / "ingest.db"), _tables(tmp_path / "later.db")
    assert at_ingest["findings"], "the corpus breaks rules"
    assert later["findings"] == at_ingest["findings"]
    assert later["findings_judged"] == at_ingest["findings_judged"]


@pytest.mark.parametrize("seconds", [follow.JUDGE_AT_END, 0.0])
def test_a_run_ending_behind_judges_its_backlog_for_a_few_seconds_at_most(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    seconds: float,
) -> None:
    monkeypatch.setattr(follow, "JUDGE_AT_END", seconds)
    run = _journal(tmp_path / "j", _corpus_payloads(BACKLOG))  # its end frame already there
    target = _Watched(tmp_path / "d.db")
    lock = journal.hold(run, exclusive=False)
    with caplog.at_level(logging.INFO, logger="proxy.recording.follow"):
        Follower(tmp_path / "j", target).follow(run, lock_fd=lock, live=lambda: True)
    assert target.judged_batches[0] is False, "read while the proxy was live: stored first"
    if seconds:
        assert _judged(tmp_path / "d.db") == BACKLOG
    else:
        assert _judged(tmp_path / "d.db") == 0, "a stopping proxy does not wait for judging"
        assert "not yet judged" in caplog.text


def _judged(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        counted = sqlite3.connect(db).execute("select count(*) from findings_judged")
        return int(counted.fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_dead_workers_cost_nothing_and_a_new_pool_takes_the_next_backlog(tmp_path: Path) -> None:
    payloads = _corpus_payloads(2 * BACKLOG)
    pool = PreparePool(workers=1)
    try:
        executor = pool.executor()
        executor.submit(int).result()  # the worker is up
        for process in list(executor._processes.values()):
            assert process.pid is not None
            os.kill(process.pid, signal.SIGKILL)
            process.join(10)
        _journal(tmp_path / "j", payloads[:BACKLOG])
        first = Follower(tmp_path / "j", SqliteTarget(tmp_path / "d.db"), pool=pool)
        assert first.catch_up() == BACKLOG, "built in the writer instead"
        _journal(tmp_path / "k", payloads[BACKLOG:])
        second = Follower(tmp_path / "k", SqliteTarget(tmp_path / "d.db"), pool=pool)
        assert second.catch_up() == BACKLOG
        fresh = pool.executor()
        assert fresh is not executor, "a new pool took the second backlog"
        assert fresh.submit(int).result() == 0, "and its workers answer"
    finally:
        pool.close()
    tables = _tables(tmp_path / "d.db")
    assert len(tables["exchanges"]) == 2 * BACKLOG
    assert len(tables["findings_judged"]) == 2 * BACKLOG


def test_workers_leave_what_they_started_with_out_of_garbage_collection() -> None:
    pool = PreparePool(workers=1)
    try:
        executor = pool.executor()
        threshold = executor.submit(gc.get_threshold).result()
        frozen = executor.submit(gc.get_freeze_count).result()
    finally:
        pool.close()
    assert threshold[0] == 50_000, "the youngest generation is collected rarely"
    assert frozen > 10_000, "modules and decoders are frozen out of collections"


WRITER = """
import sys, time
from proxy.recording.prepare import PreparePool
if __name__ == "__main__":
    pool = PreparePool(workers=2)
    executor = pool.executor()
    for f in [executor.submit(time.sleep, 0.2) for _ in range(4)]:
        f.result()
    print(*[p.pid for p in executor._processes.values()], flush=True)
    time.sleep(60)
"""


def test_workers_never_outlive_a_killed_writer(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen(
        [sys.executable, str(script)], cwd=root, stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    try:
        assert writer.stdout is not None
        workers = [int(pid) for pid in writer.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    finally:
        writer.kill()
        writer.wait()
        if writer.stdout is not None:
            writer.stdout.close()  # orphaned workers would hold the pipe open
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "a worker outlived its writer"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_one_worker_per_core_up_to_four_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(prepare.WORKERS_ENV, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert prepare.default_workers() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert prepare.default_workers() == prepare.MAX_DEFAULT_WORKERS == 4
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert prepare.default_workers() == 0, "one core: rows are built in the writer"
    monkeypatch.setenv(prepare.WORKERS_ENV, "3")
    assert prepare.default_workers() == 3
