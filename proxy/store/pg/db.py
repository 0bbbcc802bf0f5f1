"""A DB-API-shaped adapter: what the store's readers use of sqlite-utils, on PostgreSQL.

The readers (audit, export, the viewer, the CLI) call `db.query(sql, params)`,
`db.execute(sql, params).fetchone()`, `db["table"].count_where(...)`, `db.conn.execute`
and `db.conn.close()` on a sqlite-utils `Database`; the writers of replay and import call
`store.ensure_session` and `store.write_rows`, which use `table.insert(ignore=True)` and
`conn.executemany("INSERT OR REPLACE …")`. `PgDatabase` answers the same calls, the SQL
translated by `dialect.py`, errors without the password.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg

from proxy.store.pg.dialect import glob_regex, translated
from proxy.store.pg.keys import CONFLICT_KEYS
from proxy.store.pg.url import scrub

Params = Sequence[Any] | Mapping[str, Any] | None


def _params(params: Params, globs: frozenset[int | str]) -> Sequence[Any] | Mapping[str, Any]:
    if params is None:
        return ()
    if isinstance(params, Mapping):
        if not globs:
            return params
        return {k: glob_regex(v) if k in globs else v for k, v in params.items()}
    return [glob_regex(v) if i in globs else v for i, v in enumerate(params)]


class PgConnection:
    """What the store's callers use of an `sqlite3.Connection`, on a psycopg connection."""

    def __init__(self, conn: psycopg.Connection[Any], url: str) -> None:
        self.raw = conn
        self.url = url

    def execute(self, sql: str, params: Params = None) -> psycopg.Cursor[Any]:
        done = translated(sql)
        return self.raw.execute(done.sql, _params(params, done.globs))

    def executemany(self, sql: str, rows: Sequence[Any]) -> psycopg.Cursor[Any]:
        done = translated(sql)
        cursor = self.raw.cursor()
        cursor.executemany(done.sql, [_params(row, done.globs) for row in rows])
        return cursor

    def __enter__(self) -> PgConnection:
        """`with conn:` as on sqlite3: one transaction, committed, or rolled back on an error."""
        if not self.in_transaction:
            self.raw.execute("begin")
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if self.in_transaction:
            self.raw.execute("rollback" if error is not None else "commit")

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def commit(self) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        self.raw.rollback()

    def close(self) -> None:
        self.raw.close()


class _Table:
    """What the store's code uses of a sqlite-utils `Table`."""

    def __init__(self, db: PgDatabase, name: str) -> None:
        self.db = db
        self.name = name

    def insert(
        self, row: Mapping[str, Any], *, ignore: bool = False, replace: bool = False
    ) -> None:
        self.insert_all([row], ignore=ignore, replace=replace)

    def insert_all(
        self, rows: Iterable[Mapping[str, Any]], *, ignore: bool = False, replace: bool = False
    ) -> None:
        """Insert rows; `ignore` keeps rows already there, `replace` overwrites them."""
        verb = "insert or replace" if replace else "insert or ignore" if ignore else "insert"
        groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        for columns, group in groups.items():
            names = ", ".join(f"[{c}]" for c in columns)
            marks = ", ".join("?" * len(columns))
            self.db.conn.executemany(
                f"{verb} into [{self.name}] ({names}) values ({marks})",
                [[row[c] for c in columns] for row in group],
            )

    def update(self, key: Any, values: Mapping[str, Any]) -> None:
        """Set `values` on the row whose primary key is `key`."""
        if values:
            assignments = ", ".join(f"[{c}] = ?" for c in values)
            self.db.conn.execute(
                f"update [{self.name}] set {assignments} where [{CONFLICT_KEYS[self.name]}] = ?",
                [*values.values(), key],
            )

    def count_where(self, where: str | None = None, where_args: Params = None) -> int:
        sql = f'select count(*) from "{self.name}"' + (f" where {where}" if where else "")
        row = self.db.execute(sql, where_args).fetchone()
        return int(row[0]) if row else 0

    @property
    def count(self) -> int:
        return self.count_where()

    def exists(self) -> bool:
        return self.name in self.db.table_names()


class PgDatabase:
    """The read side of a sqlite-utils `Database`, on PostgreSQL (see the module's docstring)."""

    def __init__(self, conn: psycopg.Connection[Any], url: str) -> None:
        self.conn = PgConnection(conn, url)
        self.url = url

    def execute(self, sql: str, params: Params = None) -> psycopg.Cursor[Any]:
        try:
            return self.conn.execute(sql, params)
        except psycopg.Error as error:
            if self.conn.in_transaction and self.conn.raw.autocommit:
                self.conn.rollback()
            raise _scrubbed(error, self.url) from None

    def query(self, sql: str, params: Params = None) -> Iterator[dict[str, Any]]:
        cursor = self.execute(sql, params)
        if cursor.description is None:
            raise ValueError("query() can only be used with SQL that returns rows")
        keys = [column.name for column in cursor.description]
        return (dict(zip(keys, row, strict=True)) for row in cursor)

    def rollback(self) -> None:
        self.conn.rollback()

    def table(self, name: str) -> _Table:
        return _Table(self, name)

    def __getitem__(self, name: str) -> _Table:
        return _Table(self, name)

    def table_names(self) -> list[str]:
        return [
            str(row[0])
            for row in self.execute(
                "select table_name from information_schema.tables "
                "where table_schema = current_schema() order by table_name"
            )
        ]

    def close(self) -> None:
        self.conn.close()


def _scrubbed(error: psycopg.Error, url: str) -> psycopg.Error:
    """The same kind of error, its message without the URL's password."""
    text = scrub(str(error), url)
    if text == str(error):
        return error
    return type(error)(text)
