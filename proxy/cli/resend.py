"""`hubscope resend`: send one recorded call again, optionally edited, and compare."""

from __future__ import annotations

import asyncio
import json

import click
from rich.columns import Columns
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from proxy.cli.curl import load
from proxy.cli.database import db_option
from proxy.cli.replay import signer_and_target
from proxy.exchange import Exchange
from proxy.replay.resend import EditError, Resent, apply_edit, edit_text, resend, signed
from proxy.store.location import Location

BODY_LINES = 40
EDIT_HELP = (
    "Edit the request line, headers and body, save and quit to send; the token is signed "
    "again for the final URL. Save an empty file to send nothing."
)


def _side(title: str, exchange: Exchange) -> Panel:
    response = exchange.response
    lines = [f"{exchange.status or 'failed'} {exchange.reason or ''}".rstrip()]
    if exchange.error:
        lines.append(exchange.error)
    if response is not None:
        lines += [f"{k}: {v}" for k, v in response.headers]
        body = response.body.decode("utf-8", errors="replace").splitlines()
        lines += ["", *body[:BODY_LINES]] + (["…"] if len(body) > BODY_LINES else [])
    return Panel(Text("\n".join(lines)), title=title, expand=True)


def show(done: Resent, console: Console) -> None:
    """Both answers side by side, then the differences by meaning."""
    console.print(f"{done.sent.method} {done.sent.url}")
    console.print(
        Columns(
            [_side("original", done.original.exchange), _side("resend", done.exchange)],
            equal=True,
            expand=True,
        )
    )
    table = Table("field", "original", "resend", title=f"verdict: {done.comparison.verdict}")
    for d in done.comparison.differences:
        table.add_row(d.field, d.original or "", d.replay or "")
    console.print(table)
    for note in done.comparison.notes:
        console.print(f"note: {note}")
    console.print(f"recorded as {done.exchange.id} in session {done.session}")


@click.command("resend")
@click.argument("exchange_id")
@db_option()
@click.option("--target", metavar="URL", help="The hub to send to [default: the endpoint of CS].")
@click.option(
    "--connection-string",
    "connection_string",
    metavar="CS",
    required=True,
    envvar="HUBSCOPE_CONNECTION_STRING",
    help="Key for a fresh SAS token (held in memory only, never stored).",
)
@click.option("--edit", is_flag=True, help="Edit the request in $EDITOR before sending.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the answer.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def resend_command(
    exchange_id: str,
    db: Location,
    target: str | None,
    connection_string: str,
    edit: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Send EXCHANGE_ID's request again, re-signed, and compare the answer with the original.

    The answer is recorded as a new exchange in session `resend-of-SESSION`, linked to the
    original (the viewer shows the pair). Exit code 0 when an answer came back, 1 when the
    call failed, 2 on usage errors.
    """
    signer, url = signer_and_target(connection_string, target)
    item = load(db, exchange_id)
    if item.request_truncated:
        raise click.ClickException(
            "the recorded request body was cut at the body cap: cannot resend"
        )
    sent = signed(item, url, signer)
    if edit:
        try:
            text = edit_text(sent)
        except UnicodeDecodeError:
            raise click.ClickException("the request body is not UTF-8 text: cannot edit") from None
        click.echo(EDIT_HELP, err=True)
        edited = click.edit(text, extension=".http", require_save=True)
        if edited is not None:
            try:
                sent = apply_edit(edited, item, signer)
            except EditError as error:
                raise click.ClickException(str(error)) from None
    done = asyncio.run(resend(db, item, sent, signer, timeout=timeout))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "original_exchange_id": item.exchange.id,
                    "exchange_id": done.exchange.id,
                    "session": done.session,
                    "status": done.exchange.status,
                    "error": done.exchange.error,
                    "verdict": done.comparison.verdict,
                    "diff": [[d.field, d.original, d.replay] for d in done.comparison.differences],
                    "notes": list(done.comparison.notes),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        show(done, Console())
    click.get_current_context().exit(0 if done.exchange.status is not None else 1)
