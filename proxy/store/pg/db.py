"""A DB-API-shaped adapter: the SQL the SQLite code writes, run on PostgreSQL.

The store's readers (audit, export, the CLI) call `db.query(sql, params)`,
`db.execute(sql, params).fetchone()`, `db["table"].count_where(...)` and `db.conn.close()`
on a sqlite-utils `Database`. `PgDatabase` answers the same calls: `translate` turns
SQLite's `?` and `:name` parameters into psycopg's `%s` and `%(name)s`, `[name]` into
`"name"`, and doubles a literal `%`; string literals pass untouched. Only the portable
subset of SQL is expected here; SQLite-only functions belong behind the store's own
functions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from proxy.store.pg.url import scrub

_TOKEN = re.compile(
    r"""('(?:[^']|'')*')"""  # a string literal: copied as it is (but % doubled)
    r"""|("(?:[^"]|"")*")"""  # a quoted name
    r"|(::)"  # a PostgreSQL cast
    r"|\b(glob)\s+(?=[?:])"  # SQLite's GLOB: a regular expression match on PostgreSQL
    r"|(\?)"  # a positional parameter
    r"|:([A-Za-z_][A-Za-z0-9_]*)"  # a named parameter
    r"|\[([A-Za-z_][A-Za-z0-9_ ]*)\]"  # an SQLite-quoted name
    r"|\b(sqlite_master)\b"  # the catalogue: PostgreSQL's tables under SQLite's name
    r"|(%)"
)
_CATALOGUE = (
    "(select table_name as name, 'table' as type from information_schema.tables "
    "where table_schema = current_schema()) as sqlite_master"
)

Params = Sequence[Any] | Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Translated:
    sql: str
    globs: frozenset[int | str] = frozenset()
    """Parameters (positions or names) that are GLOB patterns, to be sent as regexes."""


def translate(sql: str) -> str:
    """SQLite-style SQL with parameters as psycopg's (always passed parameters)."""
    return translated(sql).sql


@functools.lru_cache(maxsize=512)
def translated(sql: str) -> Translated:
    globs: set[int | str] = set()
    position = 0
    after_glob = False

    def swap(match: re.Match[str]) -> str:
        nonlocal position, after_glob
        literal, quoted, cast, glob, positional, named, bracketed, catalogue, percent = (
            match.groups()
        )
        if literal is not None:
            return literal.replace("%", "%%")
        if quoted is not None or cast is not None:
            return match.group(0)
        if glob is not None:
            after_glob = True
            return "~ "
        if positional is not None or named is not None:
            key: int | str = position if positional is not None else named
            if after_glob:
                globs.add(key)
                after_glob = False
            if positional is not None:
                position += 1
                return "%s"
            return f"%({named})s"
        if bracketed is not None:
            return '"' + bracketed.replace('"', '""') + '"'
        if catalogue is not None:
            return _CATALOGUE
        assert percent is not None
        return "%%"

    return Translated(_TOKEN.sub(swap, sql), frozenset(globs))


def glob_regex(pattern: str) -> str:
    """A GLOB pattern (`*`, `?`, `[...]`, case-sensitive, whole string) as a regular expression."""
    out, i = ["^"], 0
    while i < len(pattern):
        char = pattern[i]
        end = pattern.find("]", i + 2) if char == "[" else -1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif end != -1:
            inner = pattern[i + 1 : end]
            negated = inner.startswith("^")
            body = inner[1:] if negated else inner
            out.append("[" + ("^" if negated else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out) + "$"


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
    def __init__(self, db: PgDatabase, name: str) -> None:
        self.db = db
        self.name = name

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
