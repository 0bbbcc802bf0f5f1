"""`--db`: an SQLite file path or a `postgresql://` URL, opened the same way for readers.

Commands call `open_db` and get a sqlite-utils `Database` for a file, or the
DB-API-shaped `PgDatabase` (typed as one: it answers the calls the readers make) for
a URL; `check` refuses either before anything runs; `describe` is what may be printed
(a URL without its password).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from sqlite_utils import Database

from proxy.store import pg, schema

Location = Path | str
"""A `--db` value: a file (Path) or a PostgreSQL URL (str)."""


def parse(text: str | Path) -> Location:
    """A `--db` argument as a Location: URLs stay text (a Path would fold their `//`)."""
    if isinstance(text, str) and pg.is_url(text):
        return text
    return Path(text)


def is_postgres(location: Location | None) -> bool:
    return location is not None and pg.is_url(location)


def describe(location: Location) -> str:
    """The location as it may be printed (never a password)."""
    return pg.display(location) if isinstance(location, str) else str(location)


def open_db(location: Location, *, readonly: bool = False, init: bool = False) -> Database:
    """Open a hubscope store: SQLite (`schema.connect`) or PostgreSQL (migrated for writers).

    Raises NotAHubscopeDatabase when it is not one (nothing written), and for a server
    that cannot be reached, with the reason and never the password.
    """
    if isinstance(location, str) and pg.is_url(location):
        try:
            return cast(Database, pg.connect(location, readonly=readonly))
        except pg.schema.NotReachable as error:
            raise schema.NotAHubscopeDatabase(str(error)) from None
    return schema.connect(location, readonly=readonly, init=init)


def check(location: Location, *, readonly: bool = False, init: bool = False) -> None:
    """Refuse a store the command cannot use, before it runs (`schema.check` for a file)."""
    if isinstance(location, str) and pg.is_url(location):
        open_db(location, readonly=readonly).conn.close()
        return
    schema.check(location, readonly=readonly, init=init)


def label(location: Location) -> str:
    """A short name for progress bars: a file's name, or the URL without its password."""
    return location.name if isinstance(location, Path) else describe(location)
