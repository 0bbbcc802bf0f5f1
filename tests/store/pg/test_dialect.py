"""SQLite's SQL, as hubscope writes it, turned into PostgreSQL's with the same meaning."""

from __future__ import annotations

import pytest

from proxy.store import pg
from proxy.store.pg.dialect import translate


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
        ("BEGIN IMMEDIATE", "begin"),
        ("pragma database_list", "select 0, 'main', current_database()"),
        (
            "INSERT OR REPLACE INTO [devices] ([id], [tags]) VALUES (?, ?)",
            'insert into "devices" ("id", "tags") VALUES (%s, %s) '
            'on conflict (id) do update set "tags" = excluded."tags"',
        ),
        (
            "insert or ignore into [sessions] ([name]) values (?)",
            'insert into "sessions" ("name") values (%s) on conflict (name) do nothing',
        ),
        (
            "instr(lower(a || char(10)), :q) > 0",
            "(lower(a || chr(10))) like ('%%' || hubscope_like(%(q)s) || '%%')",
        ),
        ("instr(a, ?) = 3", "strpos(a,  %s) = 3"),
        ("cast(coalesce(body, '') as text)", "hubscope_text(coalesce(body, ''))"),
        ("cast((t - ?) / ? as integer)", "cast(trunc((t - %s) / %s) as integer)"),
        ("min(a, f(b, c)), max(x), max(count(*))", "least(a,  f(b, c)), max(x), max(count(*))"),
        (
            "select count(*) from (select 1 from x limit 5)",
            "select count(*) from (select 1 from x limit 5) as _sub16",
        ),
        ("from (select 1) as capped", "from (select 1) as capped"),
        ("not coalesce((exists (select 1)), 0)", "not coalesce((exists (select 1)), '0')"),
        ("coalesce((1 + 2), 5), coalesce(x, 0)", "coalesce((1 + 2), 5), coalesce(x, '0')"),
        ("coalesce(a, b, 1), coalesce(f(x, 0), 10)", "coalesce(a, b, '1'), coalesce(f(x, 0), 10)"),
        (
            "group_concat(distinct d.platform), group_concat(x || 'a', char(10))",
            "string_agg(distinct (d.platform)::text, ','), string_agg((x || 'a')::text,  chr(10))",
        ),
    ],
)
def test_translate(sqlite: str, postgres: str) -> None:
    assert translate(sqlite) == postgres


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select min(cast(2.7 as integer), 9), max(1, 3)", (2, 3)),
        (
            "select cast(cast('\\xe282ac' as bytea) as text), "
            "cast(cast('\\x00ff' as bytea) as text)",
            ("\u20ac", "\\000\\377"),
        ),
        ("select count(*), sum(v = 1) from (select 1 as v union all select 2)", (2, 1)),
        # a 0/1 default takes the type of what it stands in for: a test's, or a number's
        (
            "select coalesce((null = 1), 0), not coalesce((null = 1), 0), "
            "coalesce((1 = 1), 0), coalesce((null = 1), 1), coalesce(sum(v), 0), "
            "coalesce(null + 2.5, 1) from (select 1 as v where false)",
            (False, True, True, True, 0, 1),
        ),
        (
            "select length(group_concat(distinct v)), group_concat(v, '+') "
            "from (select 'a' as v union all select 'a')",
            (1, "a+a"),
        ),
    ],
)
def test_meanings_on_the_server(postgres_url: str, sql: str, expected: tuple[object, ...]) -> None:
    db = pg.connect(postgres_url)
    try:
        assert db.execute(sql).fetchone() == expected
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


@pytest.mark.parametrize(
    ("needle", "found"), [("50%_off", ["a"]), ("50%", ["a", "b"]), ("x\\y", ["c"]), ("_", ["a"])]
)
def test_substring_search_as_instr_means_it(
    postgres_url: str, needle: str, found: list[str]
) -> None:
    db = pg.connect(postgres_url)
    try:
        for id, url in [("a", "/50%_off"), ("b", "/50%-off"), ("c", "/x\\y")]:
            db.execute("insert into exchanges (id, url) values (?, ?)", [id, url])
        rows = db.query("select id from exchanges where instr(url, ?) > 0 order by id", [needle])
        assert [r["id"] for r in rows] == found
    finally:
        db.close()


def test_the_viewer_s_search_is_answered_by_the_trigram_index(postgres_url: str) -> None:
    from viewer.search import Term

    db = pg.connect(postgres_url)
    try:
        probe, params = Term("registrationid").verify_sql("q")
        db.execute("set enable_seqscan = off")
        plan = [
            r[0] for r in db.execute(f"explain select id from exchanges e where {probe}", params)
        ]
    finally:
        db.close()
    assert any("idx_exchanges_search" in line for line in plan), plan
