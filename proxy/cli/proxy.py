"""`hubscope proxy`: the recording proxy, reverse (the app's endpoint) or forward (HTTPS_PROXY)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import click
from click.decorators import FC
from yarl import URL

from proxy import sas, serve
from proxy.capture import connect
from proxy.capture.app import make_app
from proxy.capture.resign import FIXES
from proxy.capture.routes import INTERCEPTED, parse_map_remote
from proxy.capture.settings import ProxySettings
from proxy.cli.database import STORE_HELP, Store, db_option, guarded
from proxy.cli.workers import run_workers, worker_index
from proxy.recording.recorder import RecorderFailed
from proxy.recording.stores import instance_name
from proxy.store import location
from proxy.store.location import Location
from proxy.tls import listener, trust
from proxy.tls.authority import TlsError
from proxy.tls.hosts import HostCertificates
from proxy.tls.listener import tls_options

log = logging.getLogger("hubscope")


def default_session() -> str:
    """One session per run, named by its start time."""
    return time.strftime("proxy-%Y%m%d-%H%M%S")


NO_KEY_WARNING = (
    "warning: the connection string has no SharedAccessKeyName and SharedAccessKey: "
    "request signatures will not be checked (sas_verdict stays empty)"
)


def keys_from(connection_strings: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The SAS keys by rule, and the base URL of each connection string's endpoint."""
    keys: dict[str, str] = {}
    endpoints: list[str] = []
    for text in connection_strings:
        try:
            cs = sas.parse_connection_string(text)
        except sas.ConnectionStringError as error:
            raise click.BadParameter(str(error), param_hint="--connection-string") from None
        if cs.key_name and cs.key:
            keys[cs.key_name] = cs.key
        else:
            click.echo(NO_KEY_WARNING, err=True)
        if cs.base_url.lower() not in endpoints:
            endpoints.append(cs.base_url.lower())
    return keys, endpoints


def upstream_from(
    upstream: str | None, connection_strings: Sequence[str] = ()
) -> tuple[str, dict[str, str]]:
    """The upstream URL and the SAS keys by rule, from --upstream and --connection-string."""
    keys, endpoints = keys_from(connection_strings)
    if not upstream and len(endpoints) > 1:
        raise click.UsageError(
            "the connection strings name different endpoints; say which hub with --upstream URL"
        )
    upstream = upstream or next(iter(endpoints), None)
    if not upstream:
        raise click.UsageError("give --upstream URL or --connection-string CS (or --forward)")
    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter("must start with https:// or http://", param_hint="--upstream")
    return upstream.rstrip("/"), keys


def forward_options(
    upstream: str | None, map_remote: Sequence[str], *, tls_given: bool
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Check the options of --forward; the session's upstream text and the map-remote pairs."""
    if upstream:
        raise click.UsageError(
            "--forward sends each request to the host the app named; "
            "to send one host elsewhere use --map-remote HOST=URL, not --upstream"
        )
    if tls_given:
        raise click.UsageError(
            "--forward intercepts TLS per CONNECT; the --tls options are for reverse mode"
        )
    try:
        pairs = tuple(parse_map_remote(value) for value in map_remote)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--map-remote") from None
    return "forward proxy" + "".join(f"; {host} → {url}" for host, url in pairs), pairs


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def limit_option(
    name: str, default: float, help: str, type: click.ParamType[float] | None = None
) -> Callable[[FC], FC]:
    """A number option whose default `--help` shows; its type is the default's unless given."""
    return click.option(name, default=default, show_default=True, type=type, help=help)


@click.command("proxy")
@click.option(
    "--upstream", metavar="URL", help="The hub to forward to, https://NS.servicebus.windows.net."
)
@click.option(
    "--connection-string",
    "connection_strings",
    metavar="CS",
    multiple=True,
    envvar="HUBSCOPE_CONNECTION_STRING",
    help="The hub's connection string (repeatable, one per rule): the upstream, and keys "
    "(memory only) that check signatures and re-sign tokens the app signed for the proxy.",
)
@click.option(
    "--forward",
    is_flag=True,
    help="Be a forward proxy (HTTPS_PROXY=http://LISTEN): the app keeps its real endpoint.",
)
@click.option(
    "--intercept",
    metavar="HOST",
    multiple=True,
    help="With --forward: also intercept and record HOST (*.example.com for subdomains).",
)
@click.option(
    "--map-remote",
    metavar="HOST=URL",
    multiple=True,
    help="With --forward: send traffic for HOST to URL instead, keeping the app's Host.",
)
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT")
@db_option(STORE_HELP, exists=False)
@click.option(
    "--also-db",
    type=Store(),
    help="Also record into this store (e.g. the team's postgresql://), from the same journal: "
    "--db keeps every exchange while it is away.",
)
@click.option("--session", help="Session name [default: proxy-YYYYMMDD-HHMMSS, one per run].")
@click.option("--no-record", is_flag=True, help="Forward only; record nothing (for benchmarks).")
@limit_option("--body-cap", 1 << 20, "Bytes of each body kept in the database.")
@limit_option(
    "--max-body",
    64 << 20,
    "Largest request body forwarded; larger ones get 413 and are recorded as refused.",
)
@limit_option(
    "--max-in-flight",
    128 << 20,
    "Request-body bytes held in memory at once; more large uploads wait their turn.",
)
@limit_option("--timeout", 60.0, "Seconds to wait for the upstream (then 504).")
@limit_option(
    "--max-upstream",
    100,
    "Upstream connections open at once; more requests wait --upstream-wait, then 503.",
    type=click.IntRange(min=1),
)
@limit_option(
    "--upstream-wait",
    5.0,
    "Seconds a request waits for a free upstream connection (then 503, recorded).",
)
@limit_option(
    "--header-timeout",
    30.0,
    "Seconds a client has to send a request header (then 408, recorded).",
)
@limit_option("--body-timeout", 30.0, "Seconds a request body may pause (then 408, recorded).")
@click.option(
    "--max-clients",
    type=click.IntRange(min=1),
    help="Client connections open at once [default: what the open-file limit leaves room for].",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Extra CA to trust for the upstream.",
)
@limit_option(
    "--workers",
    1,
    "Proxy processes sharing the port (SO_REUSEPORT), each with its own recorder.",
    type=click.IntRange(min=1),
)
@tls_options
@click.option("-v", "--verbose", is_flag=True)
@guarded(init=True, unless="no_record")
def proxy_command(
    upstream: str | None,
    connection_strings: tuple[str, ...],
    forward: bool,
    intercept: tuple[str, ...],
    map_remote: tuple[str, ...],
    listen: str,
    db: Location,
    also_db: Location | None,
    session: str | None,
    no_record: bool,
    body_cap: int,
    max_body: int,
    max_in_flight: int,
    timeout: float,
    max_upstream: int,
    upstream_wait: float,
    header_timeout: float,
    body_timeout: float,
    max_clients: int | None,
    ca_file: Path | None,
    workers: int,
    tls: bool,
    tls_listen: str | None,
    tls_hosts: tuple[str, ...],
    verbose: bool,
) -> None:
    """Forward every call to the hub unchanged and record each exchange in SQLite.

    Reverse mode (--upstream or --connection-string): the app's Endpoint points at the
    proxy. Forward mode (--forward): the app keeps its endpoint and runs with
    HTTPS_PROXY pointing at the proxy and hubscope's CA trusted.
    """
    setup_logging(verbose)
    if also_db is not None and str(also_db) == str(db):
        raise click.UsageError("--also-db names the --db store again: give a second store")
    pairs: tuple[tuple[str, str], ...] = ()
    if forward:  # keys only check signatures here: tokens pass untouched
        target, pairs = forward_options(
            upstream, map_remote, tls_given=bool(tls or tls_listen or tls_hosts)
        )
        keys, _ = keys_from(connection_strings)
    elif intercept or map_remote:
        raise click.UsageError("--intercept and --map-remote need --forward")
    else:
        target, keys = upstream_from(upstream, connection_strings)
    host, port = serve.parse_listen(listen, default_port=8080)
    settings = ProxySettings(
        upstream=target,
        db=None if no_record else db,
        also_db=None if no_record else also_db,
        session=session or default_session(),
        body_cap=body_cap,
        max_body=max_body,
        max_in_flight=max_in_flight,
        timeout=timeout,
        max_upstream=max_upstream,
        upstream_wait=upstream_wait,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        max_clients=max_clients,
        ca_file=ca_file,
        keys=keys,
        forward=forward,
        intercept=intercept,
        map_remote=pairs,
        instance=instance_name(f"{host}:{port}"),
    )
    if workers > 1:
        _run_workers(workers, port, settings.session, tls=bool(tls or tls_listen or tls_hosts))
        return
    index = worker_index()
    banner = index in (None, 0)
    where = serve.Listen(host, port, reuse_port=index is not None)
    https = None if forward else listener.prepare(tls, tls_listen, tls_hosts)
    certificates = _certificates() if forward else None

    async def main(stop: asyncio.Event, fatal: asyncio.Event) -> list[serve.Running]:
        loop = asyncio.get_running_loop()

        def on_fatal(_message: str) -> None:
            loop.call_soon_threadsafe(fatal.set)

        app = make_app(settings, on_fatal=on_fatal)
        if certificates is not None:
            running = await connect.start(app, where, certificates=certificates)
            if banner:
                print_forward_banner(settings, host, running.port, certificates)
            return [running]
        running, tls_port = await listener.start(app, where, https)
        if banner:
            print_banner(settings, host, running.port)
        if banner and https is not None and tls_port is not None:
            listener.echo_banner(https, tls_port)
        return [running]

    try:
        # uvloop for plain HTTP; TLS handshakes (--tls, --forward) stay on asyncio's loop,
        # whose start_tls the handshake diagnostics (proxy/tls/site.py) are built on.
        code = serve.run(main, fast_loop=certificates is None and https is None)
    except RecorderFailed as error:
        raise click.ClickException(f"recording failed: {error}") from None
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error}") from None
    if code:
        raise click.ClickException("stopped: the recorder could not write (see the log above)")


def _run_workers(count: int, port: int, session: str, *, tls: bool) -> None:
    if port == 0:
        raise click.UsageError("--workers needs a fixed port in --listen (not 0)")
    if tls:
        raise click.UsageError("--workers does not serve --tls yet: use one process for HTTPS")
    code = run_workers(count, sys.argv[1:], session)
    if code:
        raise click.ClickException(f"a worker stopped with exit code {code}")


def _certificates() -> HostCertificates:
    try:
        return HostCertificates()
    except (TlsError, OSError) as error:
        raise click.ClickException(f"cannot set up hubscope's CA: {error}") from None


def _recording(settings: ProxySettings) -> str:
    if settings.db is None:
        return "  recording      off"
    where = location.describe(settings.db)
    if settings.also_db is not None:
        where += f" and {location.describe(settings.also_db)}"
    return f"  recording to   {where} (session {settings.session}, as {settings.instance})"


def print_banner(settings: ProxySettings, host: str, port: int) -> None:
    shown = f"[{host}]" if ":" in host else host
    hub = URL(settings.upstream).host
    click.echo(f"hubscope proxy listening on http://{shown}:{port}/")
    click.echo(f"  forwarding to  {settings.upstream}")
    click.echo(_recording(settings))
    click.echo(
        "  point your app at it: Endpoint=http://"
        f"{shown}:{port}/;SharedAccessKeyName=…;SharedAccessKey=… (same key and hub name)"
    )
    if settings.keys:
        rules = ", ".join(sorted(settings.keys))
        click.echo(
            f"  re-signing     tokens the app signs for this proxy with {rules} "
            f"are re-signed for {hub} (same rule, same expiry)"
        )
    else:
        click.echo(
            f"  tokens         {hub} accepts only tokens signed for {hub}: an app pointed at this "
            "proxy signs for the proxy and is refused (401 InvalidAudience)."
        )
        click.echo(f"                 To fix it, {FIXES}.")
    click.echo("  Ctrl-C stops after in-flight requests are answered and recorded.")


def print_forward_banner(
    settings: ProxySettings, host: str, port: int, certificates: HostCertificates
) -> None:
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"hubscope forward proxy listening on http://{shown}:{port}/")
    click.echo(f"  intercepting   {', '.join([*INTERCEPTED, *settings.intercept])}")
    for name, url in settings.map_remote:
        click.echo(f"  mapping        {name} → {url} (the app's Host is kept)")
    click.echo("  other hosts    tunnelled blind, not recorded")
    click.echo(_recording(settings))
    click.echo(
        f"  point your app at it: HTTPS_PROXY=http://{shown}:{port} (its connection string "
        "stays as it is) and trust the CA"
    )
    click.echo(f"  trust the CA   {certificates.ca_path}")
    for line in trust.hints(certificates.ca_path):
        click.echo(f"    {line}")
    click.echo("  Ctrl-C stops after in-flight requests are answered and recorded.")
