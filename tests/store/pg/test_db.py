"""The adapter answers the readers' and writers' sqlite-utils calls on PostgreSQL."""

from __future__ import annotations

import pytest

from proxy.store import pg


def test_queries_as_on_sqlite(postgres_url: str) -> None:
    db = pg.connect(postgres_url)
    try:
        db.execute(
            "insert into sessions (name, started_at, kind) values (?, ?, ?)", ["s1", 1.0, "proxy"]
        )
        db.execute(
            "insert into sessions (name, started_at, kind) values (:n, :t, 'replay')",
            {"n": "s2", "t": 2.0},
        )
        assert [r["name"] for r in db.query("select name from sessions order by started_at")] == [
            "s1",
            "s2",
        ]
        assert db["sessions"].count_where("kind = ?", ["replay"]) == 1
        assert db.table("sessions").count == 2
        assert {"exchanges", "sessions", "devices"} <= set(db.table_names())
        with pytest.raises(ValueError, match="returns rows"):
            db.query("update sessions set note = 'x'")
    finally:
        db.close()


def test_the_catalogue_answers_under_sqlite_s_name(postgres_url: str) -> None:
    db = pg.connect(postgres_url)
    try:
        names = [r["name"] for r in db.query("select name from sqlite_master where type = 'table'")]
    finally:
        db.close()
    assert "exchanges" in names and "exchanges_fts_progress" not in names


def test_the_writers_calls_as_on_sqlite(postgres_url: str) -> None:
    from proxy import store

    db = pg.connect(postgres_url)
    try:
        store.ensure_session(db, "s", kind="proxy")  # type: ignore[arg-type]
        store.ensure_session(db, "s", kind="replay")  # type: ignore[arg-type]
        row = {"id": "e1", "session": "s", "started_at": 1.0, "status": 200}
        store.write_rows(db, store.Rows([row], [], []))  # type: ignore[arg-type]
        store.write_rows(db, store.Rows([{**row, "status": 201}], [], []))  # type: ignore[arg-type]
        db.table("exchanges").update("e1", {"operation": "x"})
        with db.conn:
            db.table("replay_links").insert_all([{"replay_exchange_id": "e1", "verdict": "same"}])
        assert [(r["kind"]) for r in db.query("select kind from sessions")] == ["proxy"]
        assert list(db.query("select status, operation from exchanges")) == [
            {"status": 201, "operation": "x"}  # INSERT OR REPLACE replaced it
        ]
        assert db["replay_links"].count == 1
    finally:
        db.close()
