"""`hubscope import`: HAR, hubscope JSON Lines and Azure SDK test-proxy recordings as sessions."""

from __future__ import annotations

from pathlib import Path

import click

from proxy.cli import progress
from proxy.cli.database import db_option, guarded
from proxy.io.imports import ImportFailed, import_file, sniff
from proxy.store import location
from proxy.store.location import Location


@click.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@db_option(exists=False)
@click.option("--session", help="Put every file into this session [default: one per file].")
@guarded(init=True)
def import_command(files: tuple[Path, ...], db: Location, session: str | None) -> None:
    """Import FILEs (HAR, hubscope JSON Lines, test-proxy recordings) as sessions of kind import.

    Every file's format is told before anything is imported: a file hubscope cannot read
    stops the import with nothing imported.
    """
    try:
        for path in files:
            sniff(path)
    except ImportFailed as error:
        raise click.ClickException(str(error)) from None
    done = []
    try:
        with progress.bar(f"importing into {location.label(db)}", len(files)) as advance:
            for path in files:
                done.append(import_file(db, path, session=session))
                advance(1)
    except ImportFailed as error:
        raise click.ClickException(str(error)) from None
    finally:
        for item in done:
            click.echo(f"{item.path}: {item.exchanges} exchanges → session {item.session}")
