"""`hubscope curl`: a recorded request as a curl command, runnable when given the key."""

from __future__ import annotations

import time
from dataclasses import replace

import click

from proxy import store
from proxy.cli.database import db_option
from proxy.cli.replay import signer_and_target
from proxy.replay.load import Recorded
from proxy.replay.resend import ExchangeNotFound, load_exchange
from proxy.store.location import Location

NO_KEY = (
    "# The token above is a placeholder: hubscope never stores signatures. For a runnable\n"
    "# command give the hub's key: --connection-string \"Endpoint=sb://NS.servicebus.windows"
    '.net/;SharedAccessKeyName=…;SharedAccessKey=…"\n'
    "# (or HUBSCOPE_CONNECTION_STRING). Azure portal: the hub › Access Policies › copy a\n"
    "# connection string; Azure CLI: az notification-hub authorization-rule list-keys\n"
    "# --resource-group RG --namespace-name NS --notification-hub-name HUB --name RULE;\n"
    "# the local stand-in hub prints its own when `hubscope hub` starts."
)


def load(db: Location, exchange_id: str) -> Recorded:
    conn = store.connect(db, readonly=True)
    try:
        return load_exchange(conn, exchange_id)
    except ExchangeNotFound as error:
        raise click.BadParameter(str(error), param_hint="EXCHANGE_ID") from None
    finally:
        conn.conn.close()


@click.command("curl")
@click.argument("exchange_id")
@db_option()
@click.option(
    "--connection-string",
    "connection_string",
    metavar="CS",
    envvar="HUBSCOPE_CONNECTION_STRING",
    help="Key for a freshly signed token (held in memory only, never stored).",
)
@click.option("--target", metavar="URL", help="Send to this hub [default: the endpoint of CS].")
@click.option("--ttl", default=3600, show_default=True, help="Seconds the token stays valid.")
def curl_command(
    exchange_id: str, db: Location, connection_string: str | None, target: str | None, ttl: int
) -> None:
    """Print EXCHANGE_ID's request as a curl command (an id, or its first or last 6+ characters).

    With the key, the command carries a fresh token signed the way the original client
    signed (the same `sr` shape) for the target, so it runs as it is.
    """
    from viewer.curl import as_curl
    from viewer.resend import runnable

    item = load(db, exchange_id)
    if connection_string is None:
        click.echo(as_curl(item.exchange))
        click.echo(NO_KEY, err=True)
        return
    signer, url = signer_and_target(connection_string, target)
    signer = replace(signer, ttl=ttl)
    click.echo(runnable(item, url, signer))
    until = time.strftime("%H:%M:%S", time.localtime(time.time() + ttl))
    click.echo(f"# signed for {url}, valid until {until}", err=True)
