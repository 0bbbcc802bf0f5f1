"""`hubscope targets`: who a send would reach from the recorded device state, and why not."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import click

from proxy import store
from proxy.cli.database import db_option
from proxy.decode.sends import FORMATS
from proxy.store.location import Location, describe
from proxy.targets import (
    Hub,
    InvalidTarget,
    Recording,
    Report,
    as_json,
    load,
    matches,
    parse_target,
    render_text,
)


def parse_time(value: str) -> float:
    """Unix seconds, or ISO 8601 (`2026-05-01T10:00:00Z`; no zone means UTC)."""
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither ISO 8601 nor Unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _hub(recording: Recording, wanted: str | None) -> Hub | None:
    hubs = recording.history.hubs | {s.hub for s in recording.sends if s.hub}
    if wanted is not None:
        name = wanted.strip().lower()
        hubs = {h for h in hubs if name in (h.name, str(h))}
        if not hubs:
            raise click.UsageError(f"no traffic to a hub named {wanted!r} was recorded")
    if len(hubs) > 1:
        listed = ", ".join(sorted(str(h) for h in hubs))
        raise click.UsageError(f"the recording holds several hubs; pick one with --hub: {listed}")
    return next(iter(hubs), None)


@click.command("targets")
@db_option("The database `hubscope proxy` recorded into.", name="db_path")
@click.option("--session", metavar="S", help="Use only this session's calls (default: all).")
@click.option("--hub", metavar="NAME", help="The hub, when the recording holds several.")
@click.option(
    "--at",
    "at_text",
    metavar="TIME",
    help="The state as of this moment (ISO 8601 or Unix seconds; default: after everything).",
)
@click.option("--expr", metavar="EXPR", help="The tag expression (default: a broadcast).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS), case_sensitive=False),
    help="ServiceBusNotification-Format of the send (default: any).",
)
@click.option(
    "--explain",
    metavar="ID",
    help="A handle, installation id or registration id: why it is reached or not, step by step.",
)
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def targets_command(
    db_path: Location,
    session: str | None,
    hub: str | None,
    at_text: str | None,
    expr: str | None,
    fmt: str | None,
    explain: str | None,
    output: str,
) -> None:
    """Which registrations a send with this tag expression and format would reach.

    Exit status: 0, or 1 when the service would refuse the send (400), 2 on usage errors.
    """
    at = parse_time(at_text) if at_text is not None else None
    try:
        db = store.connect(db_path, readonly=True)
    except sqlite3.DatabaseError as error:
        raise click.UsageError(f"cannot read {describe(db_path)}: {error}") from None
    try:
        if not db["exchanges"].exists():
            raise click.UsageError(f"{db_path} has no exchanges table; is it a hubscope database?")
        if session is not None and not db["sessions"].count_where("name = ?", [session]):
            raise click.UsageError(f"no session {session!r} in {db_path}")
        recording = load(db, session, until=at)
    except sqlite3.DatabaseError as error:
        raise click.UsageError(f"cannot read {describe(db_path)}: {error}") from None
    finally:
        db.conn.close()
    chosen = _hub(recording, hub)
    try:
        target = parse_target(expr, fmt)
    except InvalidTarget as refused:
        report = Report(chosen, at, None, str(refused), [])
    else:
        verdicts = recording.reach(target, at, chosen) if chosen else []
        explained = None
        if explain is not None:
            explained = [v for v in verdicts if matches(v.snapshot, explain)]
        report = Report(chosen, at, target, None, verdicts, explain, explained)
    click.echo(as_json(report) if output == "json" else render_text(report))
    if report.refused:
        raise SystemExit(1)
