"""`hubscope push`: ship a local capture into the team's store, idempotently."""

from __future__ import annotations

from pathlib import Path

import click

from proxy.cli import progress
from proxy.cli.database import STORE_HELP, Store, db_option, guarded, require_session
from proxy.store import location, push
from proxy.store.location import Location


@click.command("push")
@db_option("The store to copy from (usually the local file a proxy recorded into).")
@click.option(
    "--to",
    "destination",
    required=True,
    type=Store(),
    metavar="URL|PATH",
    help=f"The store to copy into, created or migrated as needed. {STORE_HELP}",
)
@click.option("--session", metavar="S", help="Copy only this session (default: all).")
@guarded("db", readonly=True)
def push_command(db: Location, destination: Location, session: str | None) -> None:
    """Copy sessions (exchanges, decoded devices, tags, replay links) into another store.

    Running it again adds nothing: rows already there are kept as they are.
    """
    if location.describe(db) == location.describe(destination):
        raise click.BadParameter("--to names the same store as --db", param_hint="--to")
    source = location.open_db(db, readonly=True)
    try:
        require_session(source, session, db)
        target = location.open_db(destination)
        try:
            name = db.name if isinstance(db, Path) else location.describe(db)
            with progress.bar(f"pushing {name}", push.count(source, session)) as advance:
                result = push.push(source, target, session, on_progress=advance)
        finally:
            target.conn.close()
    finally:
        source.conn.close()
    click.echo(
        f"{result.exchanges_added} of {result.exchanges} exchanges and "
        f"{result.sessions_added} of {result.sessions} sessions added to "
        f"{location.describe(destination)} (the rest were there already)"
    )
