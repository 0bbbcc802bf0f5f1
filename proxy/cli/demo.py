"""`hubscope demo`: local hub + proxy + viewer, with a scenario of realistic traffic recorded."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import aiohttp
import click
from aiohttp import web

from proxy import serve
from proxy.capture.app import make_app
from proxy.capture.settings import ProxySettings
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
        proxy_settings = ProxySettings(upstream=hub_url, db=db, session=_session_name())
        running.append(
            await serve.start(make_app(proxy_settings), serve.Listen("127.0.0.1", proxy_port))
        )
        proxy_url = f"http://127.0.0.1:{running[1].port}"
        viewer = _viewer_app(db)
        if viewer is not None:
            running.append(await serve.start(viewer, serve.Listen("127.0.0.1", viewer_port)))
        key = hub_settings.keys[FULL_RULE]
        async with aiohttp.ClientSession() as session:
            client = HubClient(session, proxy_url, DEMO_HUB, FULL_RULE, key)
            calls = await scenario.run(client)
        _print_summary(
            calls, hub_url, proxy_url, db, proxy_settings.session, running, viewer is not None
        )
        app_cs = hub_settings.connection_string(f"127.0.0.1:{running[1].port}", scheme="http")
        click.echo(f"\nYour app can use: {app_cs}")
        click.echo(f"  (hub name: {DEMO_HUB})")
        if headless:
            stop.set()
        else:
            click.echo("Ctrl-C stops everything.")
        return running

    code = serve.run(main)
    if code:
        raise click.ClickException("the recorder could not write; see the log above")


def _session_name() -> str:
    return time.strftime("demo-%Y%m%d-%H%M%S")


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
    click.echo(f"  proxy       {proxy_url}/  (forwards to the local hub, records to {db})")
    if has_viewer:
        click.echo(f"  viewer      http://127.0.0.1:{running[2].port}/   ← open this")
    click.echo(f"  audit       hubscope audit --db {db} --session {session}")
