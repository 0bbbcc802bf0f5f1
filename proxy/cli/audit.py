"""`hubscope audit`: the spec report for CI and staging, with exit codes to gate on."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import cast

import click

from proxy import store
from proxy.audit import FailOn, Format, render, run


@click.command("audit")
@click.option(
    "--db",
    "db_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("hubscope.db"),
    show_default=True,
    help="The database `hubscope proxy` recorded into.",
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
def audit_command(db_path: Path, session: str | None, fmt: str, fail_on: str) -> None:
    """Check recorded exchanges against the Notification Hubs spec and report findings.

    Exit status: 0 when nothing reaches --fail-on, 1 when something does, 2 on usage errors.
    """
    try:
        db = store.connect(db_path, readonly=True)
        if not db["exchanges"].exists():
            raise click.UsageError(f"{db_path} has no exchanges table; is it a hubscope database?")
        if session is not None and not db["sessions"].count_where("name = ?", [session]):
            known = [r["name"] for r in db.query("select name from sessions order by name")]
            listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "")
            raise click.UsageError(f"no session {session!r} in {db_path}; sessions: {listed}")
        result = run(db, session)
    except sqlite3.DatabaseError as error:
        raise click.UsageError(f"cannot read {db_path}: {error}") from None
    click.echo(render(result, cast(Format, fmt)))
    if result.fails(cast(FailOn, fail_on)):
        raise SystemExit(1)
