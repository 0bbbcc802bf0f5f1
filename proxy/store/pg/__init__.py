"""The store on PostgreSQL: the same tables as on SQLite, for many proxies and a team.

`--db postgresql://user@host:port/dbname` selects it. The schema is migrated from an
explicit list that mirrors `proxy/store/schema.py` migration for migration; readers get
a DB-API-shaped adapter (`PgDatabase`) that answers the SQL the SQLite code already
writes (`?` and `:name` parameters, `[quoted]` names), so commands read both backends
through one code path; the writer (`write.py`) inserts idempotently, so N proxies and
repeated pushes store every exchange exactly once. The password (from the URL,
`PGPASSWORD` or `~/.pgpass`, as libpq reads them) is never printed: `display()` and
`scrub()` take it out of what is shown.

Uses psycopg 3. May import the vocabulary and `proxy.store`'s own modules; nothing above.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from proxy.store.pg.url import display, is_url, scrub

if TYPE_CHECKING:
    from proxy.store.pg import bulk, write
    from proxy.store.pg.db import PgConnection, PgDatabase
    from proxy.store.pg.dialect import translate
    from proxy.store.pg.listen import Listener
    from proxy.store.pg.schema import MIGRATIONS, applied, close_quietly, connect, migrate

_LAZY = {
    "bulk": "proxy.store.pg.bulk",
    "write": "proxy.store.pg.write",
    "PgConnection": "proxy.store.pg.db",
    "PgDatabase": "proxy.store.pg.db",
    "translate": "proxy.store.pg.dialect",
    "Listener": "proxy.store.pg.listen",
    "MIGRATIONS": "proxy.store.pg.schema",
    "applied": "proxy.store.pg.schema",
    "close_quietly": "proxy.store.pg.schema",
    "connect": "proxy.store.pg.schema",
    "migrate": "proxy.store.pg.schema",
    "schema": "proxy.store.pg.schema",
}
"""What needs psycopg, imported when first used: every command asks `is_url` of its
`--db`, and a SQLite user should not wait for psycopg's import (a third of start-up)."""


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(where)
    value = module if where.endswith(f".{name}") else getattr(module, name)
    globals()[name] = value
    return value


__all__ = [
    "MIGRATIONS",
    "Listener",
    "PgConnection",
    "PgDatabase",
    "applied",
    "bulk",
    "close_quietly",
    "connect",
    "display",
    "is_url",
    "migrate",
    "scrub",
    "translate",
    "write",
]
