"""The `--tls` options of `hubscope proxy` and `hubscope hub`, and the HTTPS site they add."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from aiohttp import web

from proxy import serve
from proxy.tls import certs, trust
from proxy.tls.authority import TlsError, ensure_server, server_context
from proxy.tls.site import TlsSite

__all__ = ["TlsListen", "add_site", "echo_banner", "endpoint_host", "prepare", "tls_options"]

DEFAULT_TLS_LISTEN = "127.0.0.1:8443"

F = TypeVar("F", bound=Callable[..., Any])


def tls_options(command: F) -> F:
    """Add --tls, --tls-listen and --tls-host to a click command."""
    command = click.option(
        "--tls-host",
        "tls_hosts",
        multiple=True,
        metavar="NAME",
        help="Another host name or IP the certificate must cover (repeatable; implies --tls).",
    )(command)
    command = click.option(
        "--tls-listen",
        metavar="HOST:PORT",
        help=f"Where HTTPS listens [default: {DEFAULT_TLS_LISTEN}] (implies --tls).",
    )(command)
    command = click.option(
        "--tls",
        is_flag=True,
        help="Also serve HTTPS with a certificate from hubscope's local CA (see `hubscope ca`).",
    )(command)
    return command


@dataclass(frozen=True, slots=True)
class TlsListen:
    """Where HTTPS listens and with which context; built before the event loop starts."""

    listen: serve.Listen
    hosts: tuple[str, ...]
    ca_path: Path


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def prepare(tls: bool, tls_listen: str | None, tls_hosts: tuple[str, ...]) -> TlsListen | None:
    """The HTTPS listener the options ask for (None without them); click errors when invalid."""
    if not (tls or tls_listen or tls_hosts):
        return None
    try:
        host, port = serve.parse_listen(tls_listen or DEFAULT_TLS_LISTEN, default_port=8443)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--tls-listen") from None
    extra = list(tls_hosts)
    if not _is_wildcard(host):
        extra.append(host)
    try:
        certs.normalise_hosts(extra)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--tls-host") from None
    try:
        files = ensure_server(extra)
        context = server_context(extra)
    except (TlsError, OSError) as error:
        raise click.ClickException(f"cannot set up TLS: {error}") from None
    return TlsListen(serve.Listen(host, port, context), files.hosts, files.ca_path)


async def add_site(runner: web.BaseRunner, tls: TlsListen) -> int:
    """Serve the runner's app over HTTPS too (one app, two sites); the port bound."""
    where = tls.listen
    assert where.ssl_context is not None
    site = TlsSite(runner, where.host, where.port, where.ssl_context, ca_path=tls.ca_path)
    try:
        await site.start()
    except OSError as error:
        raise click.ClickException(
            f"cannot listen for HTTPS on {where.host}:{where.port}: {error}"
        ) from None
    return site.port or where.port


async def start(
    app: serve.App, listen: serve.Listen, tls: TlsListen | None
) -> tuple[serve.Running, int | None]:
    """Start `app` on `listen`, plus HTTPS when asked; the running app and the HTTPS port."""
    running = await serve.start(app, listen)
    try:
        tls_port = await add_site(running.runner, tls) if tls else None
    except BaseException:
        await serve.stop([running])
        raise
    return running, tls_port


def endpoint_host(host: str) -> str:
    """The host an Endpoint should name for a listen address (bracketed IPv6, no wildcard)."""
    if _is_wildcard(host):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def echo_banner(tls: TlsListen, port: int) -> None:
    """The HTTPS address, the connection string to use, and how to trust the CA."""
    host = tls.listen.host
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"  HTTPS on       https://{shown}:{port}/ (certificate for {', '.join(tls.hosts)})")
    click.echo(f"  connect with   {trust.connection_string(endpoint_host(host), port)}")
    click.echo(f"  trust the CA   {tls.ca_path}")
    for line in trust.hints(tls.ca_path):
        click.echo(f"    {line}")
