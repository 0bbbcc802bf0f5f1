"""`hubscope view`: the viewer over a recorded database."""

from __future__ import annotations

import asyncio
import secrets

import click

from proxy import serve
from proxy.cli.database import catch_up, db_option
from proxy.cli.replay import signer_and_target
from proxy.signing import Signer
from proxy.store.location import Location, describe


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to serve recorded traffic beyond loopback without a token."""
    from viewer.security import WeakToken, check_token, is_loopback

    try:
        check_token(token)
    except WeakToken as error:
        raise click.BadParameter(str(error), param_hint="--token") from None
    if token is None and not is_loopback(host):
        suggestion = secrets.token_urlsafe(24)
        raise click.UsageError(
            f"--listen {host} is reachable from other machines; add --token "
            f"(for example --token {suggestion}) or listen on 127.0.0.1"
        )


@click.command("view")
@db_option("The database the proxy records into.", exists=False)
@click.option("--listen", default="127.0.0.1:8081", show_default=True, metavar="HOST:PORT")
@click.option(
    "--token",
    envvar="HUBSCOPE_VIEW_TOKEN",
    help="Require this token on every request (needed to listen beyond loopback).",
)
@click.option(
    "--connection-string",
    "connection_string",
    metavar="CS",
    help="A hub key: signed Copy-as-curl and Edit-and-resend (loopback only; never stored).",
)
@click.option("--target", metavar="URL", help="Where curl and resend send [default: CS endpoint].")
@click.option(
    "--no-index",
    is_flag=True,
    help="Never write the search index into the file (search then reads the rows).",
)
def view_command(
    db: Location,
    listen: str,
    token: str | None,
    connection_string: str | None,
    target: str | None,
    no_index: bool,
) -> None:
    """Browse recorded exchanges, device timelines and spec findings in a browser."""
    from viewer.app import make_app
    from viewer.db import NoDatabase, prepare
    from viewer.resend import enable
    from viewer.state import ViewerSettings

    try:
        host, port = serve.parse_listen(listen, default_port=8081)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--listen") from None
    check_exposure(host, token)
    key, resending = resend_key(host, connection_string, target)
    try:
        prepare(db)
    except NoDatabase as error:
        raise click.ClickException(str(error)) from None
    catch_up(db)

    async def main(stop: asyncio.Event, fatal: asyncio.Event) -> list[serve.Running]:
        app = make_app(ViewerSettings(db=db, token=token, index=not no_index))
        if key is not None:
            enable(app, *key)
        running = await serve.start(app, serve.Listen(host, port))
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{running.port}/"
        click.echo(f"hubscope view of {describe(db)} on {url}")
        if token:
            click.echo(f"  open {url}?token=… (the token you gave); API: Authorization: Bearer …")
        click.echo(f"  {resending}")
        click.echo("  Ctrl-C stops.")
        return [running]

    try:
        serve.run(main)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None


def resend_key(
    host: str, connection_string: str | None, target: str | None
) -> tuple[tuple[Signer, str] | None, str]:
    """The signer and target for the viewer, only on loopback; and what the user gets."""
    from viewer.security import is_loopback

    if connection_string is None:
        return None, "curl and resend: no key (--connection-string gives signed commands)"
    if not is_loopback(host):
        return None, "curl and resend: off (a key is only used when listening on loopback)"
    signer, url = signer_and_target(connection_string, target)
    return (signer, url), f"curl and resend: signed for {url}"
