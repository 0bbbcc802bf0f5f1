"""Where `hubscope hub --db` keeps its state: an SQLite file or a PostgreSQL database.

Two tables, `registrations` and `installations`, one JSON document per (hub, id), written
through on every change and read back whole at start. The statements are the same on
both backends (the upsert is `ON CONFLICT … DO UPDATE`, which SQLite and PostgreSQL both
speak); on PostgreSQL they go through `proxy.store.pg`'s adapter, which turns `?` into
psycopg's parameters and takes the password out of every error. A PostgreSQL connection
lost between two writes (a server restart) is opened again once before a write fails.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from proxy.store import pg
from proxy.store.location import Location

__all__ = ["TABLES", "StateDb"]

TABLES = ("registrations", "installations")

_CREATE = "create table if not exists {table} (hub text, id text, data text, primary key (hub, id))"
_SELECT = "select hub, data from {table}"
_UPSERT = (
    "insert into {table} (hub, id, data) values (?, ?, ?) "
    "on conflict (hub, id) do update set data = excluded.data"
)
_DELETE = "delete from {table} where hub = ? and id = ?"


class StateDb:
    """One connection to the hub's state tables, created if missing."""

    def __init__(self, where: Location) -> None:
        self.where = where
        self._sqlite: sqlite3.Connection | None = None
        self._pg: pg.PgDatabase | None = None
        self._open()
        for table in TABLES:
            self._execute(_CREATE.format(table=table), ())

    def rows(self, table: str) -> Iterator[tuple[str, str]]:
        """(hub, JSON document) of every row of `table`."""
        for hub, data in self._execute(_SELECT.format(table=table), ()).fetchall():
            yield str(hub), str(data)

    def put(self, table: str, hub: str, key: str, data: str) -> None:
        self._execute(_UPSERT.format(table=table), (hub, key, data))

    def delete(self, table: str, hub: str, key: str) -> None:
        self._execute(_DELETE.format(table=table), (hub, key))

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            self._pg.close()
        self._sqlite = self._pg = None

    def _open(self) -> None:
        if isinstance(self.where, str):
            conn = pg.schema.open_connection(self.where)
            self._pg = pg.PgDatabase(conn, self.where)
        else:
            self._sqlite = sqlite3.connect(
                str(Path(self.where)), isolation_level=None, check_same_thread=False
            )

    def _execute(self, sql: str, params: tuple[str, ...]) -> Any:
        if self._sqlite is not None:
            return self._sqlite.execute(sql, params)
        assert self._pg is not None
        try:
            return self._pg.execute(sql, params)
        except psycopg.OperationalError:
            if not self._pg.conn.raw.closed:
                raise
        pg.close_quietly(self._pg.conn.raw)
        self._open()  # the server went away and may be back: one more try on a new connection
        assert self._pg is not None
        return self._pg.execute(sql, params)
