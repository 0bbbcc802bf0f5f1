"""The `--db` every command opens: refused in one line (exit 2) unless it is hubscope's.

`--db` is an SQLite file or a `postgresql://user@host:port/dbname` URL (`Store` parses
either; the password, from the URL, `PGPASSWORD` or `~/.pgpass`, is never printed).
A command never writes to a file it did not create, unless `--init` asks it to add
hubscope's tables to an SQLite file that holds others.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.decorators import FC
from sqlite_utils import Database

from proxy import store
from proxy.store import location
from proxy.store.location import Location

F = TypeVar("F", bound=Callable[..., Any])

INIT_HELP = "Add hubscope's tables to an existing SQLite file that holds other tables."


STORE_HELP = "An SQLite file, or postgresql://user@host:port/dbname for a shared store."


class Store(click.ParamType[Any, Any]):
    """`--db PATH|URL`: a Path for SQLite, the URL as text for PostgreSQL."""

    name = "PATH|URL"

    def __init__(self, *, exists: bool = False) -> None:
        self.exists = exists

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Path) or not location.is_postgres(str(value)):
            path = Path(value)
            if self.exists and not path.exists():
                self.fail(f"File '{path}' does not exist.", param, ctx)
            if path.is_dir():
                self.fail(f"File '{path}' is a directory.", param, ctx)
            return path
        return str(value)


def db_option(
    help: str | None = None, *, exists: bool = True, name: str = "db"
) -> Callable[[FC], FC]:
    """`--db PATH|URL`, `hubscope.db` unless given: a store the command reads (which must
    exist) or, with `exists=False`, records into; passed on as `name`."""
    return click.option(
        "--db", name, default="hubscope.db", show_default=True, type=Store(exists=exists), help=help
    )


class Refused(click.ClickException):
    """A database or session the command cannot use: one line, exit status 2 (usage error)."""

    exit_code = 2


def refuse(error: Exception) -> Refused:
    return Refused(str(error))


def session_names(db: Database) -> list[str]:
    return [r["name"] for r in db.query("select name from sessions order by started_at, name")]


def require_session(db: Database, session: str | None, path: Location) -> None:
    """Refuse a `--session` the database does not hold, naming the ones it does."""
    if session is None or db["sessions"].count_where("name = ?", [session]):
        return
    known = session_names(db)
    listed = ", ".join(known[-10:]) if known else "none"
    more = f" (and {len(known) - 10} older)" if len(known) > 10 else ""
    where = location.describe(path)
    raise Refused(f"no session {session!r} in {where}; its sessions: {listed}{more}")


def check(path: Location, *, readonly: bool = False, init: bool = False) -> None:
    """Refuse `path` before anything runs, or (with `init`) give it hubscope's tables now.

    A PostgreSQL database is connected to now: a writer migrates it, a reader needs its tables.
    """
    try:
        if location.is_postgres(path) or (init and not readonly):
            location.open_db(path, readonly=readonly, init=init).conn.close()
        else:
            store.check(path, readonly=readonly)
    except store.NotAHubscopeDatabase as error:
        raise refuse(error) from None


def catch_up(path: Location) -> None:
    """Store what a stopped proxy left in the journal beside `path`, so a reading command
    shows everything that was answered; say so (or why not) on standard error.

    A PostgreSQL store has no journal beside it: each proxy's writer catches up its own.
    """
    if not isinstance(path, Path):
        return
    from proxy.recording import pending

    line = pending.describe(pending.catch_up(path), path)
    if line:
        click.echo(f"hubscope: {line}", err=True)


def guarded(
    param: str = "db", *, readonly: bool = False, init: bool = False, unless: str | None = None
) -> Callable[[F], F]:
    """Check the command's `param` file before it runs; `init=True` also adds `--init`.

    `unless` names a flag that means the command will not open the file (`--no-record`).
    """

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            wanted = bool(kwargs.pop("init", False))
            path = kwargs.get(param)
            if path is not None and not (unless and kwargs.get(unless)):
                check(location.parse(path), readonly=readonly, init=wanted)
                if readonly:
                    catch_up(location.parse(path))
            return command(*args, **kwargs)

        if not init:
            return run  # type: ignore[return-value]
        return click.option("--init", is_flag=True, help=INIT_HELP)(run)  # type: ignore[return-value]

    return decorate
