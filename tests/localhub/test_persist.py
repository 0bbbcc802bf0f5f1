"""The hub's `--db`: the same state tables and statements on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from proxy.localhub.persist import TABLES, StateDb
from proxy.store import pg
from tests.servers import free_port

NewStore = Callable[[str], Path | str]


def test_rows_are_written_through_replaced_and_deleted(new_store: NewStore) -> None:
    where = new_store("hub")
    db = StateDb(where)
    try:
        db.put("registrations", "myhub", "r1", '{"v": 1}')
        db.put("registrations", "myhub", "r1", '{"v": 2}')  # an update replaces the document
        db.put("registrations", "other", "r1", '{"v": 3}')  # the same id in another hub
        db.put("installations", "myhub", "i1", '{"id": "i1"}')
        db.put("installations", "myhub", "i2", '{"id": "i2"}')
        db.delete("installations", "myhub", "i1")
    finally:
        db.close()
    again = StateDb(where)  # a restart reads back what was written, nothing else
    try:
        assert sorted(again.rows("registrations")) == [("myhub", '{"v": 2}'), ("other", '{"v": 3}')]
        assert list(again.rows("installations")) == [("myhub", '{"id": "i2"}')]
    finally:
        again.close()


def test_a_lost_postgresql_connection_is_opened_again(postgres_url: str) -> None:
    db = StateDb(postgres_url)
    try:
        db.put("registrations", "myhub", "before", "{}")
        with psycopg.connect(postgres_url, autocommit=True) as admin:  # as a server restart does
            admin.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = current_database() and pid <> pg_backend_pid()"
            )
        db.put("registrations", "myhub", "after", "{}")
        assert sorted(key for _, key in _ids(postgres_url)) == ["after", "before"]
    finally:
        db.close()


def _ids(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return [(str(h), str(i)) for h, i in conn.execute("select hub, id from registrations")]


def test_postgresql_tables_are_the_hubs_own(postgres_url: str) -> None:
    StateDb(postgres_url).close()
    conn = pg.schema.open_connection(postgres_url)
    try:
        assert set(pg.PgDatabase(conn, postgres_url).table_names()) == set(TABLES)
    finally:
        conn.close()


def test_an_unreachable_server_is_refused_without_its_password() -> None:
    url = f"postgresql://hub:s3cret-pw@127.0.0.1:{free_port()}/state"
    with pytest.raises(pg.schema.NotReachable) as caught:
        StateDb(url)
    assert "s3cret-pw" not in str(caught.value)
