"""Writing on PostgreSQL: idempotent batches with their journal positions, bad rows alone."""

from __future__ import annotations

import psycopg

from proxy.store import Rows, pg
from proxy.store.pg import write


def _exchange(id: str, **extra: object) -> dict[str, object]:
    return {"id": id, "session": "s", "started_at": 1.0, "method": "GET", "url": "/x",
            "request_body": b"\x00\xff", **extra}  # fmt: skip


def test_a_batch_written_twice_is_stored_once(postgres_url: str) -> None:
    db = pg.connect(postgres_url)
    conn = db.conn.raw
    batch = [
        Rows([_exchange("a")], [{"id": "d1", "exchange_id": "a", "tags": "[]"}],
             [{"device_id": "d1", "exchange_id": "a", "tag": "t"}]),
        Rows([_exchange("b")], [], []),
    ]  # fmt: skip
    for _ in range(2):
        result = write.write_batch(conn, batch, progress={"run.000000.seg": 42})
        assert result.stored == 2 and result.rejected == []
    assert conn.execute("select count(*) from exchanges").fetchone() == (2,)
    assert conn.execute("select count(*) from device_tags").fetchone() == (1,)
    assert conn.execute("select request_body from exchanges where id = 'a'").fetchone() == (
        b"\x00\xff",
    )
    assert write.journal_positions(conn) == {"run.000000.seg": 42}
    write.forget_segments(conn, ["run.000000.seg"])
    assert write.journal_positions(conn) == {}
    db.close()


def test_text_with_nul_is_stored_with_a_replacement_character(postgres_url: str) -> None:
    db = pg.connect(postgres_url)
    write.write_batch(db.conn.raw, [Rows([_exchange("n", url="/a\x00b")], [], [])])
    assert db.conn.raw.execute("select url from exchanges").fetchone() == ("/a\ufffdb",)
    db.close()


def test_a_row_the_server_refuses_is_stored_reduced_and_the_rest_whole(postgres_url: str) -> None:
    db = pg.connect(postgres_url)
    bad = Rows([_exchange("bad", status=2**70)], [], [])
    good = Rows([_exchange("good")], [], [])
    result = write.write_batch(
        db.conn.raw, [bad, good], fallback=lambda index, why: Rows([_exchange("bad")], [], [])
    )
    assert result.stored == 2 and [r[0] for r in result.reduced] == ["bad"]
    assert db.conn.raw.execute("select id, status from exchanges order by id").fetchall() == [
        ("bad", None), ("good", None)
    ]  # fmt: skip
    db.close()


def test_errors_are_classified_for_the_follower() -> None:
    assert write.classify(psycopg.OperationalError("server closed the connection")) == "busy"
    assert write.classify(psycopg.errors.DiskFull("no space")) == "full"
    assert write.classify(psycopg.errors.InsufficientPrivilege("no")) == "fatal"
    assert write.classify(psycopg.errors.NumericValueOutOfRange("big")) == "row"
