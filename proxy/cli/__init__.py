"""The `hubscope` command: one subcommand per module, errors turned into click errors here.

The top of the house: may import every package, the viewer included; nothing imports it.
"""

from __future__ import annotations

from typing import Any

import click

from proxy import __version__, redact, store
from proxy.cli.audit import audit_command
from proxy.cli.ca import ca_command
from proxy.cli.curl import curl_command
from proxy.cli.database import refuse
from proxy.cli.decode import decode_command
from proxy.cli.demo import demo_command
from proxy.cli.export import export_command
from proxy.cli.hub import hub_command
from proxy.cli.import_ import import_command
from proxy.cli.proxy import proxy_command
from proxy.cli.push import push_command
from proxy.cli.replay import replay_command
from proxy.cli.resend import resend_command
from proxy.cli.targets import targets_command
from proxy.cli.view import view_command


class Hubscope(click.Group):
    """The command group; a database refused deep inside a command still ends in one line."""

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


cli.add_command(proxy_command)
cli.add_command(ca_command)
cli.add_command(hub_command)
cli.add_command(audit_command)
cli.add_command(demo_command)
cli.add_command(decode_command)
cli.add_command(replay_command)
cli.add_command(import_command)
cli.add_command(view_command)
cli.add_command(export_command)
cli.add_command(curl_command)
cli.add_command(resend_command)
cli.add_command(targets_command)
cli.add_command(push_command)
