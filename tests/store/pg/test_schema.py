"""The PostgreSQL schema: the twin of every SQLite migration, applied once, under a lock."""

from __future__ import annotations

import threading

import psycopg
import pytest

from proxy.store import pg, schema
from proxy.store.pg.schema import MIGRATIONS, applied, migrate


def test_every_sqlite_migration_has_its_twin_in_order() -> None:
    sqlite = [m.name for m in schema.migrations._migrations]
    assert [name for name, _ in MIGRATIONS if not name.startswith("pg_")] == sqlite, (
        "a migration in proxy/store/schema.py needs its twin in proxy/store/pg/schema.py "
        "MIGRATIONS: the same name, in the same place, doing the same in PostgreSQL's words"
    )


def test_migrating_twice_applies_each_once(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        assert migrate(conn) == [name for name, _ in MIGRATIONS]
        assert migrate(conn) == []
        assert applied(conn) == [name for name, _ in MIGRATIONS]
        columns = {
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns where table_name = 'exchanges'"
            )
        }
    assert {"id", "session", "request_body", "decode_notes", "instance", "operation"} <= columns


def test_proxies_starting_at_once_migrate_once(postgres_url: str) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                results.append(migrate(conn))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    every = sorted(name for done in results for name in done)
    assert every == sorted(name for name, _ in MIGRATIONS)  # each applied by exactly one


def test_a_reader_refuses_a_database_without_hubscope_tables(postgres_url: str) -> None:
    with pytest.raises(schema.NotAHubscopeDatabase, match="not a hubscope database") as caught:
        pg.connect(postgres_url, readonly=True)
    assert pg.url.password(postgres_url) or "-" not in str(caught.value)


def test_a_reader_cannot_write(postgres_url: str) -> None:
    pg.connect(postgres_url).close()
    db = pg.connect(postgres_url, readonly=True)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            db.execute("insert into sessions (name) values ('x')")
    finally:
        db.close()


def test_close_quietly_closes_a_connection_the_server_dropped(postgres_url: str) -> None:
    pg.close_quietly(None)
    conn = psycopg.connect(postgres_url, autocommit=True)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("select pg_terminate_backend(%s)", [conn.info.backend_pid])
    with pytest.raises(psycopg.OperationalError):
        conn.execute("select 1")
    pg.close_quietly(conn)
    pg.close_quietly(conn)  # twice: nothing to do
    healthy = psycopg.connect(postgres_url)
    pg.close_quietly(healthy)
    assert healthy.closed


def test_connections_never_jit_compile(postgres_url: str) -> None:
    """JIT spent ~0.5 s compiling a 40 ms filter query on 1,000,000 exchanges."""
    for readonly in (False, True):
        conn = pg.schema.open_connection(postgres_url, readonly=readonly)
        try:
            assert conn.execute("show jit").fetchone() == ("off",)
        finally:
            conn.close()


def test_the_planner_knows_how_common_a_tag_is(postgres_url: str) -> None:
    """`pg_tags_statistics`: the viewer's tag test is estimated from the data, not guessed
    from the pattern's length (a 100-fold underestimate made a 6 s plan)."""
    db = pg.connect(postgres_url)
    conn = db.conn.raw
    try:
        conn.cursor().executemany(
            "insert into devices (id, tags) values (%s, %s)",
            [(f"d{n}", f"user:{n},lang:{('en', 'fr', 'de')[n % 3]}") for n in range(3000)],
        )
        conn.execute("analyze devices")
        plan = conn.execute(
            "explain (format json) select 1 from devices d "
            "where ',' || d.tags || ',' ~ '^.*,lang:fr,.*$'"
        ).fetchone()
        assert plan is not None
        estimated = plan[0][0]["Plan"]["Plan Rows"]
        assert 500 < estimated < 2000  # 1,000 match
    finally:
        db.close()
