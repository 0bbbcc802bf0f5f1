"""`hubscope ca`: where the local CA certificate is, and how to trust it."""

from __future__ import annotations

import click

from proxy.tls import trust
from proxy.tls.authority import TlsError, ca_path


@click.command("ca")
@click.option("--path", "path_only", is_flag=True, help="Print only the CA certificate's path.")
def ca_command(path_only: bool) -> None:
    """Show the local CA certificate that hubscope --tls serves with (created on first use)."""
    try:
        ca = ca_path()
    except (TlsError, OSError) as error:
        raise click.ClickException(str(error)) from None
    if path_only:
        click.echo(str(ca))
    else:
        click.echo(trust.instructions(ca), nl=False)
