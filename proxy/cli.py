"""The `hubscope` command: one subcommand per module, errors turned into click errors here."""

from __future__ import annotations

import click

from . import __version__
from .cli_audit import audit_command
from .cli_ca import ca_command
from .cli_decode import decode_command
from .cli_demo import demo_command
from .cli_hub import hub_command
from .cli_import import import_command
from .cli_proxy import proxy_command
from .cli_replay import replay_command
from .cli_view import view_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hubscope")
def cli() -> None:
    """Record, decode and check Azure Notification Hubs REST traffic."""


cli.add_command(proxy_command)
cli.add_command(ca_command)
cli.add_command(hub_command)
cli.add_command(audit_command)
cli.add_command(demo_command)
cli.add_command(decode_command)
cli.add_command(replay_command)
cli.add_command(import_command)
cli.add_command(view_command)
