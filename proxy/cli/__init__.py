"""The `hubscope` command: one subcommand per module, errors turned into click errors here.

The top of the house: may import every package, the viewer included; nothing imports it.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from proxy import __version__, redact, store
from proxy.cli.database import refuse

COMMANDS = {
    "audit": "proxy.cli.audit:audit_command",
    "ca": "proxy.cli.ca:ca_command",
    "curl": "proxy.cli.curl:curl_command",
    "decode": "proxy.cli.decode:decode_command",
    "demo": "proxy.cli.demo:demo_command",
    "export": "proxy.cli.export:export_command",
    "hub": "proxy.cli.hub:hub_command",
    "import": "proxy.cli.import_:import_command",
    "proxy": "proxy.cli.proxy:proxy_command",
    "push": "proxy.cli.push:push_command",
    "replay": "proxy.cli.replay:replay_command",
    "resend": "proxy.cli.resend:resend_command",
    "targets": "proxy.cli.targets:targets_command",
    "view": "proxy.cli.view:view_command",
}
"""Each subcommand and where it lives: imported when it runs (or help lists it), so
`hubscope audit` does not start the proxy's, the hub's or the viewer's imports."""


class Hubscope(click.Group):
    """The command group; a database refused deep inside a command still ends in one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        module, _, name = where.partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command) and command.name == cmd_name, where
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except store.NotAHubscopeDatabase as error:
            raise refuse(error) from None


@click.group(cls=Hubscope, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hubscope")
def cli() -> None:
    """Record, decode and check Azure Notification Hubs REST traffic."""
    redact.install_logging()  # before any command logs: no secret in any log line


def commands() -> dict[str, click.Command]:
    """Every subcommand, imported (for help texts, documentation checks)."""
    context = click.Context(cli)
    found = {name: cli.get_command(context, name) for name in cli.list_commands(context)}
    return {name: command for name, command in found.items() if command is not None}
