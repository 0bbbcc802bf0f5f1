"""`hubscope decode`: decode a saved body, or re-decode a whole database after decoder fixes."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from proxy import store
from proxy.cli import progress
from proxy.cli.database import Store, guarded, require_session
from proxy.decode import decode_body
from proxy.model import DecodedBody
from proxy.operations import classify
from proxy.store import location
from proxy.store.location import Location
from proxy.store.redecode import redecode


def failure(decoded: DecodedBody) -> str | None:
    """Why a body did not decode into anything, or None when it did."""
    if decoded.decode_error:
        return decoded.decode_error
    if decoded.format == "empty":
        return "the body is empty"
    if decoded.format == "other":
        why = "; ".join(decoded.notes) or "no XML or JSON"
        return f"not an Atom, JSON or error body ({why})"
    if decoded.format == "json" and not (decoded.devices or decoded.patch):
        return "JSON, but neither an installation nor a JSON Patch"
    return None


def read_body(file: str) -> bytes:
    """The bytes of FILE, or of stdin for `-`."""
    if file == "-":
        return sys.stdin.buffer.read()
    path = Path(file)
    if not path.is_file():
        raise click.BadParameter(f"{file}: no such file", param_hint="FILE")
    return path.read_bytes()


def redecode_database(db_path: Location, session: str | None) -> int:
    db = store.connect(db_path)
    try:
        require_session(db, session, db_path)
        where, args = ("where session = ?", [session]) if session else ("", [])
        total = db.execute(f"select count(*) from exchanges {where}", args).fetchone()[0]
        with progress.bar(f"re-decoding {location.label(db_path)}", total) as advance:
            return redecode(db, session, on_batch=advance)
    finally:
        db.conn.close()


@click.command("decode")
@click.argument("file", required=False, metavar="FILE|-")
@click.option("--content-type", help="The body's Content-Type, as a hint (the body is sniffed).")
@click.option("--method", default="POST", show_default=True, help="With --url: the call it was.")
@click.option("--url", default="/hub/registrations", show_default=True, help="The call's path.")
@click.option("--response", is_flag=True, help="The body is a response (default: a request).")
@click.option(
    "--db",
    "db_path",
    type=Store(exists=True),
    help="Re-decode every exchange stored in this database instead.",
)
@click.option("--session", help="With --db: only this session.")
@guarded("db_path", readonly=True)
def decode_command(
    file: str | None,
    content_type: str | None,
    method: str,
    url: str,
    response: bool,
    db_path: Location | None,
    session: str | None,
) -> None:
    """Decode FILE (an Atom, JSON or error body; - reads stdin) and print the records as JSON.

    Exit status 1, with the reason, when the body does not decode. With --db, decode
    every stored exchange again in place (after a decoder fix).
    """
    if db_path is not None:
        count = redecode_database(db_path, session)
        click.echo(f"re-decoded {count} exchanges in {location.describe(db_path)}")
        return
    if file is None:
        raise click.UsageError("give a FILE to decode (- for stdin), or --db PATH")
    decoded = decode_body(
        read_body(file),
        content_type,
        operation=classify(method, url),
        direction="response" if response else "request",
    )
    click.echo(json.dumps(asdict(decoded), indent=2, ensure_ascii=False, default=str))
    why = failure(decoded)
    if why is not None:
        click.echo(f"hubscope decode: {'stdin' if file == '-' else file} does not decode: {why}",
                   err=True)  # fmt: skip
        raise SystemExit(1)
