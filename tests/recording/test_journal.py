"""The journal: frames survive as written, segments roll, torn tails and live runs told apart."""

from __future__ import annotations

import os
from pathlib import Path

from proxy.recording import journal


def _read_all(path: Path) -> journal.Chunk:
    return journal.read_frames(path, 0, max_bytes=1 << 30, max_frames=1 << 20)


def test_frames_roll_over_segments_and_end(tmp_path: Path) -> None:
    writer = journal.JournalWriter(tmp_path / "j", segment_bytes=64 << 10)
    writer.open(b"session")
    bodies = [bytes([i]) * 10_000 for i in range(20)]
    for body in bodies:
        writer.reserve(20_000)
        writer.append(journal.EXCHANGE, body)
    writer.close()
    (run,) = journal.runs(tmp_path / "j")
    assert len(run.segments) > 2, "a segment rolls past segment_bytes"
    kinds, seen = [], []
    for name in run.segments:
        chunk = _read_all(tmp_path / "j" / name)
        assert chunk.stop == "tail", "the preallocated rest reads as not yet written"
        kinds += [f.kind for f in chunk.frames]
        seen += [f.body for f in chunk.frames if f.kind == journal.EXCHANGE]
    assert seen == bodies
    assert kinds[0] == journal.SESSION and kinds[-1] == journal.END
    assert kinds.count(journal.NEXT) == len(run.segments) - 1
    assert writer.appended == 20


def test_a_torn_frame_stops_reading_where_it_starts(tmp_path: Path) -> None:
    writer = journal.JournalWriter(tmp_path / "j")
    writer.open(b"s")
    writer.append(journal.EXCHANGE, b"first")
    writer.append(journal.EXCHANGE, b"second")
    writer.close()
    (run,) = journal.runs(tmp_path / "j")
    path = tmp_path / "j" / run.segments[0]
    frames = _read_all(path).frames
    data = bytearray(path.read_bytes())
    data[frames[2].end - 1] ^= 0xFF  # the last byte of "second"
    path.write_bytes(bytes(data))
    chunk = _read_all(path)
    assert [f.body for f in chunk.frames] == [b"s", b"first"]
    assert chunk.stop == "torn" and chunk.end == frames[1].end
    resumed = journal.read_frames(path, frames[0].end, max_bytes=1 << 20, max_frames=10)
    assert [f.body for f in resumed.frames] == [b"first"], "reading resumes at a position"


def test_a_live_run_cannot_be_taken_an_ended_one_can(tmp_path: Path) -> None:
    writer = journal.JournalWriter(tmp_path / "j")
    writer.open(b"s")
    (run,) = journal.runs(tmp_path / "j")
    assert journal.hold(run, exclusive=True) is None, "the proxy holds its run"
    follower_lock = journal.hold(run, exclusive=False)
    assert follower_lock is not None, "its own writer shares the lock"
    writer.close()
    assert journal.hold(run, exclusive=True) is None, "the writer still holds it"
    journal.remove_run(journal.run_named(tmp_path / "j", run.name), follower_lock)
    assert not (tmp_path / "j").exists(), "a stored run leaves nothing behind"


def test_journal_lives_beside_the_database_named_after_it(tmp_path: Path) -> None:
    assert journal.journal_dir(tmp_path / "hubscope.db") == tmp_path / "hubscope.db.capture"


def test_abandoned_runs_are_the_ones_nobody_holds_but_the_skipped(tmp_path: Path) -> None:
    names = []
    for _ in range(3):
        writer = journal.JournalWriter(tmp_path)
        writer.open(b"session")
        names.append(writer.run)
        writer.close()
    live = journal.hold(journal.run_named(tmp_path, names[0]), exclusive=False)
    assert live is not None
    try:
        taken = list(journal.abandoned(tmp_path, skip=names[1]))
        assert [run.name for run, _ in taken] == [names[2]]
        for run, fd in taken:
            assert journal.hold(run, exclusive=False) is None, "held exclusively for the caller"
            journal.remove_run(run, fd)
        # Runs opened in the same second by one process sort by their random suffix.
        assert sorted(run.name for run in journal.runs(tmp_path)) == sorted(names[:2])
    finally:
        os.close(live)
