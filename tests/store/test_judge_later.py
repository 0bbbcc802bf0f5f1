"""Exchanges a backlog stored unjudged, judged later from their rows: the same findings."""

from __future__ import annotations

from itertools import cycle, islice
from pathlib import Path

import pytest

from proxy import store
from proxy.exchange import Exchange, Message
from proxy.store import judge_later, rows
from proxy.store.builder import RowBuilder
from tests.corpus import iter_recording_entries, recordings


def _captured(count: int) -> list[rows.Captured]:
    entries = [e for path in recordings() for e in iter_recording_entries(path)]
    return [
        rows.capture(
            Exchange(
                id=f"x{i:04d}", session="s", started_at=1.7e9 + i, duration_ms=1.0,
                method=e.method, url=e.url, request=e.request, status=e.status,
                response=e.response or Message(headers=(), body=b""),
            ),
            1 << 20,
        )
        for i, e in enumerate(islice(cycle(entries), count))
    ]  # fmt: skip


def _stored(path: Path, batch: list[rows.Captured], *, judge: bool) -> store.Database:
    db = store.connect(path)
    store.ensure_session(db, "s", kind="proxy")
    store.write_batch(db, RowBuilder(judge=judge)(batch), progress={})
    return db


def _findings(db: store.Database) -> list[tuple[object, ...]]:
    return db.conn.execute("select * from findings order by exchange_id, position").fetchall()


def test_judged_later_gives_the_findings_judged_at_ingest(tmp_path: Path) -> None:
    batch = _captured(150)
    at_ingest = _stored(tmp_path / "ingest.db", batch, judge=True)
    later = _stored(tmp_path / "later.db", batch, judge=False)
    assert _findings(later) == [], "stored unjudged"
    after, calls = 0, 0
    while (last := judge_later.judge_stored(later, after, limit=40)) is not None:
        assert last > after
        after, calls = last, calls + 1
    assert calls == 4, "150 exchanges, 40 at a time"
    assert _findings(at_ingest), "the corpus breaks some rules"
    assert _findings(later) == _findings(at_ingest)
    judged = "select exchange_id, ruleset from findings_judged order by exchange_id"
    assert later.conn.execute(judged).fetchall() == at_ingest.conn.execute(judged).fetchall()


def test_only_exchanges_stored_after_the_mark_are_judged(tmp_path: Path) -> None:
    batch = _captured(30)
    db = _stored(tmp_path / "d.db", batch[:10], judge=False)
    mark = judge_later.latest_rowid(db)
    assert mark == 10
    store.write_batch(db, RowBuilder(judge=False)(batch[10:]), progress={})
    assert judge_later.judge_stored(db, mark) == 30
    assert judge_later.judge_stored(db, 30) is None
    ids = {r[0] for r in db.conn.execute("select exchange_id from findings_judged")}
    assert ids == {c.exchange.id for c in batch[10:]}


def test_large_bodies_are_judged_fewer_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _captured(20)
    db = _stored(tmp_path / "d.db", batch, judge=False)
    sizes = [
        len(c.exchange.request.body) + len(c.exchange.response.body if c.exchange.response else b"")
        for c in batch
    ]
    assert sizes[0] > 0
    monkeypatch.setattr(judge_later, "QUIET_BYTES", sizes[0])
    assert judge_later.judge_stored(db, 0) == 1, "the first exchange fills the budget"
    monkeypatch.setattr(judge_later, "QUIET_BYTES", 1)
    with_a_body = next(i for i, size in enumerate(sizes) if i > 0 and size) + 1
    assert judge_later.judge_stored(db, 1) == with_a_body, "up to the first with a body"
    monkeypatch.setattr(judge_later, "QUIET_BYTES", 16 << 20)
    assert judge_later.judge_stored(db, with_a_body) == 20
