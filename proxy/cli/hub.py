"""`hubscope hub`: run the local stand-in Notification Hub."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from proxy import serve, store
from proxy.cli.database import INIT_HELP, Refused, Store, refuse
from proxy.localhub import FULL_RULE, LISTEN_RULE, HubSettings, make_app
from proxy.localhub.persist import TABLES
from proxy.localhub.settings import parse_duration
from proxy.sas import ConnectionStringError
from proxy.store import location, pg
from proxy.store.location import Location
from proxy.tls import listener

__all__ = ["hub_command"]

STATE_TABLES = frozenset(TABLES)
"""The tables `proxy.localhub.state.Store` keeps in a `--db` file or database."""


def check_state_file(db: Location, init: bool) -> None:
    """Refuse a store that is not the hub's own state (a recording, another app's database)."""
    try:
        tables = _tables(db)
    except (store.NotAHubscopeDatabase, pg.schema.NotReachable) as error:
        raise refuse(error) from None
    if not tables or set(tables) <= STATE_TABLES or init:
        return
    kind = "database" if location.is_postgres(db) else "file"
    if store.is_hubscope(tables) or pg.schema.LEDGER in tables:
        what = f"it is a hubscope recording database; give the hub a {kind} of its own"
    else:
        what = f"it holds {', '.join(tables[:5])}" + (", …" if len(tables) > 5 else "")
    raise Refused(
        f"{location.describe(db)} is not a hub state {kind} ({what}); pass --init to add "
        "the hub's tables to it, or choose another --db"
    )


def _tables(db: Location) -> list[str]:
    """The tables already in `db` (none for a file that does not exist yet)."""
    if isinstance(db, Path):
        return store.sqlite_tables(db) or []
    conn = pg.schema.open_connection(db, readonly=True)
    try:
        return pg.PgDatabase(conn, db).table_names()
    finally:
        conn.close()


@click.command("hub")
@click.option("--listen", default="127.0.0.1:8082", show_default=True, metavar="HOST:PORT")
@click.option(
    "--connection-string",
    metavar="CS",
    envvar="HUBSCOPE_HUB_CONNECTION_STRING",
    help="Accept this rule name and key (Full rights unless it is the Listen rule); "
    "otherwise keys are generated at each start.",
)
@click.option(
    "--db",
    type=Store(),
    help="Keep registrations and installations across restarts in this SQLite file, or in "
    "a PostgreSQL database (postgresql://user@host:port/dbname).",
)
@click.option("--init", is_flag=True, help=INIT_HELP.replace("hubscope's", "the hub's"))
@click.option(
    "--hub",
    "hubs",
    multiple=True,
    metavar="NAME",
    help="Hub names this namespace has (repeatable; default myhub); others get 404 "
    "'No service is hosted at the specified address.' like the service.",
)
@click.option(
    "--allow-unknown-hubs",
    is_flag=True,
    help="Forgive unknown hub names: serve any name (the real service answers 404).",
)
@click.option(
    "--registration-ttl",
    metavar="DURATION",
    help="The hub's registration time to live (ISO 8601: P90D, PT30S): each registration and "
    "installation expires this long after it is written, and is then gone. Default: never.",
)
@click.option(
    "--expired-handle",
    "expired_handles",
    multiple=True,
    metavar="HANDLE",
    help="A PNS handle to treat as reported expired by the PNS (repeatable): an installation "
    "with it reads pushChannelExpired: true and is sent nothing until it gets a new pushChannel.",
)
@listener.tls_options
@click.option("-v", "--verbose", is_flag=True)
def hub_command(
    listen: str,
    connection_string: str | None,
    db: Location | None,
    hubs: tuple[str, ...],
    allow_unknown_hubs: bool,
    registration_ttl: str | None,
    expired_handles: tuple[str, ...],
    tls: bool,
    tls_listen: str | None,
    tls_hosts: tuple[str, ...],
    verbose: bool,
    init: bool,
) -> None:
    """Answer the Notification Hubs REST API locally, like the real service; push nothing."""
    if db is not None:
        check_state_file(db, init)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        host, port = serve.parse_listen(listen, default_port=8082)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--listen") from None
    try:
        parse_duration(registration_ttl or "P1D")
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--registration-ttl") from None
    try:
        settings = HubSettings.build(
            connection_string=connection_string,
            hubs=hubs,
            db_path=str(db) if db else None,
            allow_unknown_hubs=allow_unknown_hubs,
            registration_ttl=registration_ttl,
            expired_handles=expired_handles,
        )
    except (ConnectionStringError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="--connection-string") from None
    https = listener.prepare(tls, tls_listen, tls_hosts)

    async def main(stop: asyncio.Event, fatal: asyncio.Event) -> list[serve.Running]:
        running, tls_port = await listener.start(
            make_app(settings), serve.Listen(host, port), https
        )
        print_banner(settings, host, running.port)
        if https is not None and tls_port is not None:
            listener.echo_banner(https, tls_port)
            click.echo(f"  HTTPS connection string: {_tls_cs(settings, https, tls_port)}")
        return [running]

    try:
        serve.run(main)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None


def print_banner(settings: HubSettings, host: str, port: int) -> None:
    """The connection strings an app should use, and what they can do."""
    shown = f"[{host}]" if ":" in host else host
    address = f"{shown}:{port}"
    click.echo(f"hubscope hub listening on http://{address}/ (plain HTTP; nothing is pushed)")
    hubs = ", ".join(sorted(settings.hubs))
    if settings.allow_unknown_hubs:
        hubs += " (and any other name: --allow-unknown-hubs)"
    click.echo(f"  hubs           {hubs}")
    stored = location.describe(location.parse(settings.db_path)) if settings.db_path else None
    click.echo(f"  storage        {stored or 'memory (lost on exit)'}")
    if settings.registration_ttl is not None:
        ttl = settings.registration_ttl
        shown = (f"{ttl.days}D" if ttl.days else "") + (
            f"T{ttl.seconds + ttl.microseconds / 1e6:g}S" if ttl.seconds or ttl.microseconds else ""
        )
        click.echo(f"  registrations  expire P{shown} after each write")
    if settings.expired_handles:
        click.echo(f"  expired by PNS {len(settings.expired_handles)} handle(s) (--expired-handle)")
    click.echo("  connection string (Listen, Manage, Send):")
    click.echo(f"    {_shown(settings, address, _full(settings))}")
    click.echo("  Listen-only connection string (devices):")
    click.echo(f"    {_shown(settings, address, LISTEN_RULE)}")
    click.echo(
        "  SDKs that keep the scheme (JS, azure-notification-hub-unofficial) need "
        "Endpoint=http://… instead of sb://, which they turn into https://."
    )


def _shown(settings: HubSettings, address: str, rule: str) -> str:
    """A connection string to print; a key the user passed in is not echoed back."""
    text = settings.connection_string(address, rule=rule)
    if rule == settings.given_rule:
        key = settings.keys[rule]
        text = text.replace(
            f"SharedAccessKey={key}", "SharedAccessKey=<key from --connection-string>"
        )
    return text


def _full(settings: HubSettings) -> str:
    """The first rule with every right (a given connection string's rule, or the default)."""
    full = next((r for r in settings.rules if len(r.rights) == 3), None)
    return full.name if full else FULL_RULE


def _tls_cs(settings: HubSettings, https: listener.TlsListen, port: int) -> str:
    """The full-rights connection string for the HTTPS port (sb://, as every SDK expects)."""
    host = listener.endpoint_host(https.listen.host)
    return _shown(settings, f"{host}:{port}", _full(settings))
