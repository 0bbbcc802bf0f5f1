"""`hubscope import`: HAR, hubscope JSON Lines and Azure SDK test-proxy recordings as sessions."""

from __future__ import annotations

from pathlib import Path

import click

from proxy.io.imports import ImportFailed, import_file


@click.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--db",
    default="hubscope.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--session", help="Put every file into this session [default: one per file].")
def import_command(files: tuple[Path, ...], db: Path, session: str | None) -> None:
    """Import FILEs (HAR, hubscope JSON Lines, test-proxy recordings) as sessions of kind import."""
    for path in files:
        try:
            done = import_file(db, path, session=session)
        except ImportFailed as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"{done.path}: {done.exchanges} exchanges → session {done.session}")
