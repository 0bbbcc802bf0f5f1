"""`hubscope audit`: the spec report for CI and staging, with exit codes to gate on."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from proxy import audit
from proxy.audit import FailOn, Format, render
from proxy.cli import progress
from proxy.cli.database import STORE_HELP, Store, guarded, require_session
from proxy.store import location
from proxy.store.location import Location


@click.command("audit")
@click.option(
    "--db",
    "db_path",
    type=Store(exists=True),
    default=Path("hubscope.db"),
    show_default=True,
    help=f"The database `hubscope proxy` recorded into. {STORE_HELP}",
)
@click.option("--session", metavar="S", help="Audit only this session (default: all).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Report format; json prints {exchanges, findings}.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    default="error",
    show_default=True,
    help="Exit 1 when findings at or above this severity exist.",
)
@guarded("db_path", readonly=True)
def audit_command(db_path: Location, session: str | None, fmt: str, fail_on: str) -> None:
    """Check recorded exchanges against the Notification Hubs spec and report findings.

    Exit status: 0 when nothing reaches --fail-on, 1 when something does, 2 on usage errors.
    """
    db = location.open_db(db_path, readonly=True)
    name = db_path.name if isinstance(db_path, Path) else location.describe(db_path)
    try:
        require_session(db, session, db_path)
        with progress.bar(f"auditing {name}", audit.count(db, session)) as advance:
            result = audit.run(db, session, on_progress=advance)
    finally:
        db.conn.close()
    click.echo(render(result, cast(Format, fmt)))
    if result.fails(cast(FailOn, fail_on)):
        raise SystemExit(1)
