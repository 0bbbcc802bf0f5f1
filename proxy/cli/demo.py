"""`hubscope demo`: local hub + proxy + viewer, with a scenario of realistic traffic recorded."""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import time
from pathlib import Path

import aiohttp
import click
from aiohttp import web

from proxy import serve, store
from proxy.capture.app import make_app
from proxy.capture.settings import ProxySettings
from proxy.cli.database import guarded
from proxy.cli.proxy import setup_logging
from proxy.demo import scenario
from proxy.demo.client import HubClient
from proxy.localhub import FULL_RULE, HubSettings
from proxy.localhub import make_app as make_hub_app

log = logging.getLogger("hubscope.demo")
DEMO_HUB = "demohub"


def _viewer_app(db: Path) -> web.Application | None:
    """The viewer's app (imported here: `proxy` never imports `viewer` at module level)."""
    try:
        from viewer.app import make_app as make_viewer_app
    except ImportError:
        return None
    app: web.Application = make_viewer_app(db)
    return app


@click.command("demo")
@click.option(
    "--db",
    default="hubscope-demo.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--hub-port", default=8082, show_default=True)
@click.option("--proxy-port", default=8080, show_default=True)
@click.option("--viewer-port", default=8081, show_default=True)
@click.option("--headless", is_flag=True, help="Record the scenario, print the summary and exit.")
@click.option("-v", "--verbose", is_flag=True)
@guarded()
def demo_command(
    db: Path, hub_port: int, proxy_port: int, viewer_port: int, headless: bool, verbose: bool
) -> None:
    """Start a local hub, the proxy in front of it and the viewer; drive sample traffic."""
    setup_logging(verbose)
    hub_settings = HubSettings(hubs=frozenset({DEMO_HUB}))

    async def main(stop: asyncio.Event, fatal: asyncio.Event) -> list[serve.Running]:
        running = [
            await serve.start(make_hub_app(hub_settings), serve.Listen("127.0.0.1", hub_port))
        ]
        hub_url = f"http://127.0.0.1:{running[0].port}"
        # As a user runs it: the proxy holds the key, and the app calls it by another name
        # (localhost) than the one the hub is called by, so every token is re-signed.
        proxy_settings = ProxySettings(
            upstream=hub_url, db=db, session=_session_name(), keys=hub_settings.keys
        )
        _demo_session(db, proxy_settings.session, hub_url)
        running.append(
            await serve.start(make_app(proxy_settings), serve.Listen("127.0.0.1", proxy_port))
        )
        proxy_url = f"http://localhost:{running[1].port}"
        viewer = _viewer_app(db)
        if viewer is not None:
            running.append(await serve.start(viewer, serve.Listen("127.0.0.1", viewer_port)))
        key = hub_settings.keys[FULL_RULE]
        async with aiohttp.ClientSession() as session:
            client = HubClient(session, proxy_url, DEMO_HUB, FULL_RULE, key)
            calls = await scenario.run(client)
        if headless:
            _print_headless(calls, db, proxy_settings.session)
            stop.set()
            return running
        _print_summary(
            calls, hub_url, proxy_url, db, proxy_settings.session, running, viewer is not None
        )
        app_cs = hub_settings.connection_string(f"localhost:{running[1].port}", scheme="http")
        click.echo(f"\nYour app can use: {app_cs}")
        click.echo(f"  (hub name: {DEMO_HUB})")
        click.echo("Ctrl-C stops everything.")
        return running

    try:
        code = serve.run(main)
    except OSError as error:
        raise click.ClickException(_cannot_listen(error)) from None
    if code:
        raise click.ClickException("the recorder could not write; see the log above")


def _demo_session(db: Path, name: str, hub_url: str) -> None:
    """The session row, kind `demo`, before the proxy's recorder would create it as `proxy`."""
    conn = store.connect(db)
    try:
        store.ensure_session(conn, name, kind="demo", upstream=hub_url, note="hubscope demo")
    finally:
        conn.conn.close()


def _cannot_listen(error: OSError) -> str:
    """One line for a port that is taken: most often, the demo is already running."""
    where = re.search(r"\('([^']+)', (\d+)\)", str(error))
    address = f"{where[1]}:{where[2]}" if where else "its ports"
    if error.errno != errno.EADDRINUSE:
        return f"cannot listen on {address}: {error.strerror or error}"
    return (
        f"cannot listen on {address}: the address is in use — is the demo (make run) already "
        "running? Stop it with Ctrl-C, or run another on free ports: "
        "hubscope demo --hub-port 0 --proxy-port 0 --viewer-port 0"
    )


def _session_name() -> str:
    return time.strftime("demo-%Y%m%d-%H%M%S")


def _print_headless(calls: list[tuple[str, int]], db: Path, session: str) -> None:
    """What was recorded and how to look at it: the servers are gone by the time it is read."""
    click.echo(f"hubscope demo: {len(calls)} calls recorded in {db} (session {session})")
    for what, status in calls:
        click.echo(f"  {status}  {what}")
    click.echo("\nThe hub, proxy and viewer stop now (--headless). Look at the recording with:")
    click.echo(f"  hubscope view --db {db}")
    click.echo(f"  hubscope audit --db {db} --session {session}")


def _print_summary(
    calls: list[tuple[str, int]],
    hub_url: str,
    proxy_url: str,
    db: Path,
    session: str,
    running: list[serve.Running],
    has_viewer: bool,
) -> None:
    click.echo(f"hubscope demo: {len(calls)} calls recorded in {db} (session {session})")
    for what, status in calls:
        click.echo(f"  {status}  {what}")
    click.echo(f"\n  local hub   {hub_url}/")
    click.echo(
        f"  proxy       {proxy_url}/  (forwards to the local hub, re-signs the app's tokens "
        f"for it, records to {db})"
    )
    if has_viewer:
        click.echo(f"  viewer      http://127.0.0.1:{running[2].port}/   ← open this")
    click.echo(f"  audit       hubscope audit --db {db} --session {session}")
