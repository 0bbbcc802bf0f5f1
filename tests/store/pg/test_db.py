"""The adapter runs the SQL the SQLite readers write, with their parameters, on PostgreSQL."""

from __future__ import annotations

import pytest

from proxy.store import pg
from proxy.store.pg.db import translate


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        ("select * from [exchanges] where id = ?", 'select * from "exchanges" where id = %s'),
        (
            "where session = :session and x::text = ':no'",
            "where session = %(session)s and x::text = ':no'",
        ),
        ("where url like '%?%' and a = ?", "where url like '%%?%%' and a = %s"),
        ('select "a?b" from t where x % 2 = ?', 'select "a?b" from t where x %% 2 = %s'),
    ],
)
def test_translate(sqlite: str, postgres: str) -> None:
    assert translate(sqlite) == postgres


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


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("*,team,*", ",user:1,team,", True),
        ("*,team,*", ",user:1,teams,", False),
        ("user:?", "user:7", True),
        ("a[*]b", "a*b", True),
        ("a[*]b", "axb", False),
        ("a.b(c)", "a.b(c)", True),
        ("a.b", "axb", False),
        ("[^x]y", "zy", True),
    ],
)
def test_glob_is_matched_as_on_sqlite(
    postgres_url: str, pattern: str, text: str, matches: bool
) -> None:
    db = pg.connect(postgres_url)
    try:
        positional = db.execute("select ? glob ?", [text, pattern]).fetchone()
        named = db.execute("select :t glob :p", {"t": text, "p": pattern}).fetchone()
    finally:
        db.close()
    assert positional == named == (matches,)


def test_the_catalogue_answers_under_sqlite_s_name(postgres_url: str) -> None:
    db = pg.connect(postgres_url)
    try:
        names = [r["name"] for r in db.query("select name from sqlite_master where type = 'table'")]
    finally:
        db.close()
    assert "exchanges" in names and "exchanges_fts_progress" not in names
