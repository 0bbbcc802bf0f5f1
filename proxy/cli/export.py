"""`hubscope export`: a session or a filtered selection as HAR 1.2 or JSON Lines."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click

from proxy.cli.database import STORE_HELP, Refused, catch_up, db_option
from proxy.io.export import FORMATS, Format
from proxy.io.mask import parse_kinds
from proxy.store import NotAHubscopeDatabase, location
from proxy.store.location import Location


def _format(fmt: str | None, output: Path | None) -> Format:
    wanted = fmt or ("jsonl" if output and output.suffix in (".jsonl", ".ndjson") else "har")
    return next(f for f in FORMATS if f == wanted)


@click.command("export")
@db_option(STORE_HELP)
@click.option("--session", help="Only this session.")
@click.option(
    "--filter",
    "expression",
    metavar="EXPR",
    help="The viewer's list filters: 'status=4xx&platform=apns' or 'status:4xx and platform:apns'.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="har (HAR 1.2) or jsonl (JSON Lines) [default: from -o's suffix, else har].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here [default: standard output].",
)
@click.option(
    "--mask",
    metavar="handles,tags,ids",
    help="Replace these with stable pseudonyms (any of handles, tags, ids; or all).",
)
def export_command(
    db: Location,
    session: str | None,
    expression: str | None,
    fmt: str | None,
    output: Path | None,
    mask: str | None,
) -> None:
    """Export recorded exchanges as HAR 1.2 or JSON Lines, with decoded records and findings.

    HAR opens in browsers' DevTools, mitmproxy, Charles and Fiddler; JSON Lines suits jq,
    pandas or another database. `hubscope import` reads both back.
    """
    from viewer.export import export_to, parse_expression
    from viewer.filters import FilterError

    try:
        filters = parse_expression(expression, session=session)
    except FilterError as error:
        raise click.BadParameter(str(error), param_hint="--filter") from None
    try:
        kinds = parse_kinds(mask) if mask else frozenset()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--mask") from None
    chosen = _format(fmt, output)
    catch_up(db)
    try:
        conn = location.open_db(db, readonly=True)
    except NotAHubscopeDatabase as error:
        raise Refused(str(error)) from None
    try:
        if session and not list(conn.query("select 1 from sessions where name = ?", [session])):
            raise click.BadParameter(f"no session named {session!r}", param_hint="--session")
        if output is None:
            count = export_to(conn, filters, sys.stdout, chosen, kinds)
        else:
            count = _to_file(output, lambda out: export_to(conn, filters, out, chosen, kinds))
    finally:
        conn.conn.close()
    where = "standard output" if output is None else str(output)
    masked = f", masked ({', '.join(sorted(kinds))})" if kinds else ""
    label = "HAR 1.2" if chosen == "har" else "JSON Lines"
    click.echo(f"{count} exchanges → {where} ({label}{masked})", err=True)


def _to_file(output: Path, write: Callable[[IO[str]], int]) -> int:
    """Write beside the target, then rename: a failed export leaves no half file."""
    folder = output.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            count = write(out)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as `open()` would have made it
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
