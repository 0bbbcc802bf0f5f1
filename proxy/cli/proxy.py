"""`hubscope proxy`: the recording reverse proxy."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path

import click

from proxy import sas, serve
from proxy.capture.app import make_app
from proxy.capture.settings import ProxySettings
from proxy.cli.database import guarded
from proxy.recording.recorder import RecorderFailed
from proxy.tls import listener
from proxy.tls.listener import tls_options

log = logging.getLogger("hubscope")


def default_session() -> str:
    """One session per run, named by its start time."""
    return time.strftime("proxy-%Y%m%d-%H%M%S")


def upstream_from(
    upstream: str | None, connection_string: str | None
) -> tuple[str, dict[str, str]]:
    """The upstream URL and any SAS keys, from --upstream or --connection-string."""
    keys: dict[str, str] = {}
    if connection_string:
        try:
            cs = sas.parse_connection_string(connection_string)
        except sas.ConnectionStringError as error:
            raise click.BadParameter(str(error), param_hint="--connection-string") from None
        if cs.key_name and cs.key:
            keys[cs.key_name] = cs.key
        else:
            click.echo(NO_KEY_WARNING, err=True)
        upstream = upstream or cs.base_url
    if not upstream:
        raise click.UsageError("give --upstream URL or --connection-string CS")
    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter("must start with https:// or http://", param_hint="--upstream")
    return upstream.rstrip("/"), keys


NO_KEY_WARNING = (
    "warning: the connection string has no SharedAccessKeyName and SharedAccessKey: "
    "request signatures will not be checked (sas_verdict stays empty)"
)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


@click.command("proxy")
@click.option(
    "--upstream", metavar="URL", help="The hub to forward to, https://NS.servicebus.windows.net."
)
@click.option(
    "--connection-string",
    metavar="CS",
    envvar="HUBSCOPE_CONNECTION_STRING",
    help="Derive the upstream from a connection string; its key (memory only) checks signatures.",
)
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT")
@click.option(
    "--db",
    default="hubscope.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--session", help="Session name [default: proxy-YYYYMMDD-HHMMSS, one per run].")
@click.option("--no-record", is_flag=True, help="Forward only; record nothing (for benchmarks).")
@click.option(
    "--body-cap",
    default=1 << 20,
    show_default=True,
    help="Bytes of each body kept in the database.",
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    help="Seconds to wait for the upstream (then 504).",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Extra CA to trust for the upstream.",
)
@tls_options
@click.option("-v", "--verbose", is_flag=True)
@guarded(init=True, unless="no_record")
def proxy_command(
    upstream: str | None,
    connection_string: str | None,
    listen: str,
    db: Path,
    session: str | None,
    no_record: bool,
    body_cap: int,
    timeout: float,
    ca_file: Path | None,
    tls: bool,
    tls_listen: str | None,
    tls_hosts: tuple[str, ...],
    verbose: bool,
) -> None:
    """Forward every call to the hub unchanged and record each exchange in SQLite."""
    setup_logging(verbose)
    target, keys = upstream_from(upstream, connection_string)
    host, port = serve.parse_listen(listen, default_port=8080)
    settings = ProxySettings(
        upstream=target,
        db=None if no_record else db,
        session=session or default_session(),
        body_cap=body_cap,
        timeout=timeout,
        ca_file=ca_file,
        keys=keys,
    )
    https = listener.prepare(tls, tls_listen, tls_hosts)

    async def main(stop: asyncio.Event, fatal: asyncio.Event) -> list[serve.Running]:
        loop = asyncio.get_running_loop()

        def on_fatal(_message: str) -> None:
            loop.call_soon_threadsafe(fatal.set)

        app = make_app(settings, on_fatal=on_fatal)
        running, tls_port = await listener.start(app, serve.Listen(host, port), https)
        print_banner(settings, host, running.port)
        if https is not None and tls_port is not None:
            listener.echo_banner(https, tls_port)
        return [running]

    try:
        code = serve.run(main)
    except RecorderFailed as error:
        raise click.ClickException(f"recording failed: {error}") from None
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None
    if code:
        raise click.ClickException("stopped: the recorder could not write (see the log above)")


def print_banner(settings: ProxySettings, host: str, port: int) -> None:
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"hubscope proxy listening on http://{shown}:{port}/")
    click.echo(f"  forwarding to  {settings.upstream}")
    if settings.db is None:
        click.echo("  recording      off")
    else:
        click.echo(f"  recording to   {settings.db} (session {settings.session})")
    click.echo(
        "  point your app at it: Endpoint=http://"
        f"{shown}:{port}/;SharedAccessKeyName=…;SharedAccessKey=… (same key and hub name)"
    )
    click.echo("  Ctrl-C stops after in-flight requests are answered and recorded.", err=False)
