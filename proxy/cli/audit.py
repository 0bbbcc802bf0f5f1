"""`hubscope audit`: the spec report for CI and staging, with exit codes to gate on."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import cast

import click
from sqlite_utils import Database

from proxy import audit, store
from proxy.audit import FailOn, Format, JsonStream, render
from proxy.cli import progress
from proxy.cli.database import STORE_HELP, db_option, guarded, require_session
from proxy.store.location import Location, label


@click.command("audit")
@db_option(f"The database `hubscope proxy` recorded into. {STORE_HELP}", name="db_path")
@click.option("--session", metavar="S", help="Audit only this session (default: all).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Report format; json prints {findings, exchanges}, each finding as it is found.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    default="error",
    show_default=True,
    help="Exit 1 when findings at or above this severity exist.",
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Never write to the file (by default the findings of exchanges judged under an "
    "older rule set are stored, so the next audit reads them).",
)
@guarded("db_path", readonly=True)
def audit_command(
    db_path: Location, session: str | None, fmt: str, fail_on: str, read_only: bool
) -> None:
    """Check recorded exchanges against the Notification Hubs spec and report findings.

    Exit status: 0 when nothing reaches --fail-on, 1 when something does, 2 on usage errors.
    """
    writer = None if read_only else _writer(db_path)
    db = store.connect(db_path, readonly=True)
    stream = None
    try:
        require_session(db, session, db_path)
        if fmt == "json":
            stream = JsonStream(sys.stdout.write)
        with progress.bar(f"auditing {label(db_path)}", audit.count(db, session)) as advance:
            result = audit.run(
                db, session, on_progress=advance, save_to=writer,
                stream=stream,
                read_ahead=db_path if isinstance(db_path, Path) else None,
            )  # fmt: skip
    finally:
        db.conn.close()
        if writer is not None:
            writer.conn.close()
    if stream is not None:
        stream.end(result)
    else:
        click.echo(render(result, cast(Format, fmt)))
    if result.fails(cast(FailOn, fail_on)):
        raise SystemExit(1)


def _writer(path: Location) -> Database | None:
    """A connection that stores what the audit judged, when the store can be written.

    A PostgreSQL role that may only read gets no writer (connecting or migrating fails),
    and the audit judges on read as it does for a read-only file.
    """
    if isinstance(path, Path) and not (
        os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)
    ):
        return None
    try:
        return store.connect(path)
    except Exception:  # locked by a migration elsewhere, read-only medium: audit without
        return None
