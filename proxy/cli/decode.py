"""`hubscope decode`: decode a saved body, or re-decode a whole database after decoder fixes."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from proxy import store
from proxy.decode import decode_body
from proxy.operations import classify
from proxy.store.redecode import redecode


@click.command("decode")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--content-type", help="The body's Content-Type, as a hint (the body is sniffed).")
@click.option("--method", default="POST", show_default=True, help="With --url: the call it was.")
@click.option("--url", default="/hub/registrations", show_default=True, help="The call's path.")
@click.option("--response", is_flag=True, help="The body is a response (default: a request).")
@click.option(
    "--db",
    "db_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Re-decode every exchange stored in this database instead.",
)
@click.option("--session", help="With --db: only this session.")
def decode_command(
    file: Path | None,
    content_type: str | None,
    method: str,
    url: str,
    response: bool,
    db_path: Path | None,
    session: str | None,
) -> None:
    """Decode FILE (an Atom, JSON or error body) and print the records as JSON."""
    if db_path is not None:
        count = redecode(store.connect(db_path), session)
        click.echo(f"re-decoded {count} exchanges in {db_path}")
        return
    if file is None:
        raise click.UsageError("give a FILE to decode, or --db PATH to re-decode a database")
    decoded = decode_body(
        file.read_bytes(),
        content_type,
        operation=classify(method, url),
        direction="response" if response else "request",
    )
    click.echo(json.dumps(asdict(decoded), indent=2, ensure_ascii=False, default=str))
    if decoded.decode_error:
        raise SystemExit(1)
