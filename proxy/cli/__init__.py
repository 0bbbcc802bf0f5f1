"""The `hubscope` command: one subcommand per module, errors turned into click errors here.

The top of the house: may import every package, the viewer included; nothing imports it.
"""

from __future__ import annotations

import click

from proxy import __version__
from proxy.cli.audit import audit_command
from proxy.cli.ca import ca_command
from proxy.cli.curl import curl_command
from proxy.cli.decode import decode_command
from proxy.cli.demo import demo_command
from proxy.cli.export import export_command
from proxy.cli.hub import hub_command
from proxy.cli.import_ import import_command
from proxy.cli.proxy import proxy_command
from proxy.cli.replay import replay_command
from proxy.cli.resend import resend_command
from proxy.cli.view import view_command


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
cli.add_command(export_command)
cli.add_command(curl_command)
cli.add_command(resend_command)
