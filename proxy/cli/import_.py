"""`hubscope import`: Azure SDK test-proxy recordings into the database as sessions."""

from __future__ import annotations

from pathlib import Path

import click

from proxy.cli import progress
from proxy.cli.database import guarded
from proxy.io.sdk_recordings import RecordingError, import_file, read_entries


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
@guarded(init=True)
def import_command(files: tuple[Path, ...], db: Path, session: str | None) -> None:
    """Import test-proxy recording FILEs (JSON with Entries) as sessions of kind import.

    Every file is read before anything is written: one that is not a recording stops
    the import with nothing imported.
    """
    try:
        read = [(path, read_entries(path)) for path in files]
    except RecordingError as error:
        raise click.ClickException(str(error)) from None
    total = sum(len(entries) for _, entries in read)
    done = []
    with progress.bar(f"importing into {db.name}", total) as advance:
        for path, entries in read:
            try:
                done.append(
                    import_file(db, path, session=session, entries=entries, on_progress=advance)
                )
            except RecordingError as error:
                raise click.ClickException(str(error)) from None
    for item in done:
        click.echo(f"{item.path}: {item.exchanges} exchanges → session {item.session}")
