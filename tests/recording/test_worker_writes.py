"""Workers storing a backlog's rows themselves: only into the file the writer has open, and
whatever they cannot store goes back to the writer, which loses nothing."""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from pathlib import Path

import pytest

from proxy import store
from proxy.recording import records
from proxy.recording.follow import Follower
from proxy.recording.prepare import Pending, PreparePool
from proxy.recording.sqlite_target import SqliteTarget
from proxy.recording.target import Written
from proxy.recording.worker_writes import SharedFile, Stored, store_share
from proxy.store import Rows
from proxy.store.builder import RowBuilder
from proxy.store.rows import Captured
from tests.recording.test_prepare import BACKLOG, _corpus_payloads, _journal, _tables


def _batch(count: int) -> list[Captured]:
    return [records.decode(payload) for payload in _corpus_payloads(count)]


def _opened(path: Path) -> SharedFile:
    """A hubscope file as a target opens it, shared as the target shares it."""
    target = SqliteTarget(path)
    target.positions()  # opens (creates, migrates) the file
    shared = target.shared_file()
    assert shared is not None
    target.close()
    return shared


def _count(path: Path) -> int:
    return int(sqlite3.connect(path).execute("select count(*) from exchanges").fetchone()[0])


def test_a_worker_stores_into_the_file_and_says_from_which_rowid(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    shared = _opened(path)
    batch = _batch(3)
    builder = RowBuilder(judge=False)
    first = store_share(shared, batch, builder(batch), builder)
    assert first == [Stored(after=0)] * 3, "stored unjudged, after an empty table"
    more = _batch(5)[3:]
    assert store_share(shared, more, builder(more), builder) == [Stored(after=3)] * 2
    judged = RowBuilder()
    assert store_share(shared, batch, judged(batch), judged) == [Stored(after=None)] * 3
    assert _count(path) == 5, "stored again, each exchange replaced itself"


def test_a_worker_writes_into_no_file_but_the_one_the_writer_has_open(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    shared = _opened(path)
    batch = _batch(4)
    builder = RowBuilder()
    built = builder(batch)
    device, inode = shared.identity
    another = SharedFile(shared.path, (device, inode + 1))  # the writer opened another file
    assert store_share(another, batch, built, builder) == built, "the rows go back"
    gone = SharedFile(str(tmp_path / "gone.db"), shared.identity)
    assert store_share(gone, batch, built, builder) == built
    assert not (tmp_path / "gone.db").exists(), "a worker never creates the file"
    assert _count(path) == 0
    assert store_share(shared, batch, built, builder) == [Stored(after=None)] * 4
    assert _count(path) == 4


class _Watched(PreparePool):
    """The real pool, keeping what it was given to build (and maybe store)."""

    def __init__(self) -> None:
        super().__init__(workers=2)
        self.given: queue.Queue[Pending] = queue.Queue()

    def submit(
        self, builder: RowBuilder, batch: records.Lazy, shared: SharedFile | None = None
    ) -> Pending:
        pending = super().submit(builder, batch, shared)
        self.given.put(pending)
        return pending


def test_a_worker_leaves_a_locked_file_to_the_writer_which_waits_for_it(tmp_path: Path) -> None:
    payloads = _corpus_payloads(BACKLOG)
    _journal(tmp_path / "j", payloads)
    path = tmp_path / "d.db"
    _opened(path)
    holder = sqlite3.connect(path, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # a VACUUM, an open sqlite3 shell: longer than BUSY_MS
    pool = _Watched()
    handed: list[Rows | Stored] = []

    def release() -> None:  # once the worker has tried the locked file and answered
        handed.extend(pool.given.get(timeout=60).result())
        holder.commit()

    releasing = threading.Thread(target=release)
    releasing.start()
    at_last = threading.Timer(30.0, holder.commit)  # a worker that waited: red, not a hang
    at_last.start()
    try:
        assert Follower(tmp_path / "j", SqliteTarget(path), pool=pool).catch_up() == BACKLOG
    finally:
        releasing.join()
        at_last.cancel()
        pool.close()
    assert len(handed) == BACKLOG and all(isinstance(one, Rows) for one in handed), (
        "the worker gave the rows back instead of waiting"
    )
    assert len(_tables(path)["exchanges"]) == BACKLOG, "the writer waited out the lock"


def test_an_exchange_whose_rows_do_not_go_in_is_stored_reduced_by_the_worker(
    tmp_path: Path,
) -> None:
    path = tmp_path / "d.db"
    shared = _opened(path)
    batch = _batch(5)
    builder = RowBuilder()
    built = builder(batch)
    bad = next(index for index, one in enumerate(built) if one.devices)
    built[bad].devices[0]["position"] = 2**80  # no SQLite integer holds it
    assert store_share(shared, batch, built, builder) == [Stored(after=None)] * 5
    conn = sqlite3.connect(path)
    assert conn.execute("select count(*) from exchanges").fetchone()[0] == 5
    (notes,) = conn.execute(
        "select decode_notes from exchanges where id = ?", [batch[bad].exchange.id]
    ).fetchone()
    assert "OverflowError" in notes


class _MovedAfterTheWorkers(SqliteTarget):
    """The file is deleted, or replaced by another, once: just after the workers stored a
    batch into it."""

    def __init__(self, path: Path, replacement: Path | None) -> None:
        super().__init__(path)
        self.replacement = replacement
        self.moved = False

    def write(
        self, batch: list[Captured], prepared: list[Rows | Stored], progress: dict[str, int]
    ) -> Written:
        if any(isinstance(one, Stored) for one in prepared) and not self.moved:
            self.moved = True
            if self.replacement is None:
                self.path.unlink()
            else:
                os.replace(self.replacement, self.path)
        return super().write(batch, prepared, progress)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_batch_the_workers_stored_into_a_file_then_moved_is_stored_again(
    tmp_path: Path, how: str
) -> None:
    _journal(tmp_path / "j", _corpus_payloads(BACKLOG))
    path = tmp_path / "d.db"
    replacement = None
    if how == "replaced":
        replacement = tmp_path / "other.db"
        store.connect(replacement).conn.close()  # an empty hubscope database
    target = _MovedAfterTheWorkers(path, replacement)
    pool = PreparePool(workers=2)
    try:
        assert Follower(tmp_path / "j", target, pool=pool).catch_up() == BACKLOG
    finally:
        pool.close()
    assert target.moved and pool.remote_stored == BACKLOG
    tables = _tables(path)
    assert len(tables["exchanges"]) == BACKLOG, "built and written again into the new file"
    assert len(tables["findings_judged"]) == BACKLOG
