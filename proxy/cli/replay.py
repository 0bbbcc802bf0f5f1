"""`hubscope replay`: re-send a recorded session to a hub and compare the answers."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import click
from rich.console import Console
from rich.progress import Progress

from proxy import sas, store
from proxy.cli import progress
from proxy.cli.database import Refused, db_option, guarded, require_session
from proxy.io.sdk_recordings import free_name
from proxy.model import Op
from proxy.recording.recorder import Recorder
from proxy.replay import report
from proxy.replay.load import Recorded, SessionNotFound, load_session, source_hub
from proxy.replay.remap import Remapper
from proxy.replay.run import Outcome, Prepared, Result, prepare, replay
from proxy.replay.target import Unreachable, check
from proxy.signing import Signer
from proxy.store.location import Location

OPERATIONS = [str(op) for op in Op]


def parse_delay(value: str) -> float | None:
    """`original` → None (keep the recorded gaps), `none` → 0, `N` → N milliseconds."""
    text = value.strip().lower()
    if text == "original":
        return None
    if text == "none":
        return 0.0
    try:
        delay = float(text.removesuffix("ms"))
    except ValueError:
        raise click.BadParameter("use original, none or a number of milliseconds") from None
    if delay < 0:
        raise click.BadParameter("must not be negative")
    return delay


def signer_from(connection_string: str) -> tuple[Signer, str]:
    """The signer and the endpoint's base URL; the key goes nowhere else."""
    try:
        cs = sas.parse_connection_string(connection_string)
    except sas.ConnectionStringError as error:
        raise click.BadParameter(str(error), param_hint="--connection-string") from None
    if not cs.key_name or not cs.key:
        raise click.BadParameter(
            "needs SharedAccessKeyName and SharedAccessKey", param_hint="--connection-string"
        )
    return Signer(cs.key_name, cs.key), cs.base_url


def signer_and_target(connection_string: str, target: str | None) -> tuple[Signer, str]:
    """The signer, and the hub to send to: `--target`, else the connection string's endpoint."""
    signer, endpoint = signer_from(connection_string)
    url = (target or endpoint).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with https:// or http://", param_hint="--target")
    return signer, url


def replay_session_name(db: Location, session: str) -> str:
    """`replay-of-S-YYYYMMDD-HHMMSS`, with a counter if that name is taken."""
    conn = store.connect(db)
    try:
        return free_name(conn, f"replay-of-{session}-{time.strftime('%Y%m%d-%H%M%S')}")
    finally:
        conn.conn.close()


async def _run(
    items: list[Recorded],
    *,
    db: Location,
    session: str,
    name: str,
    remapper: Remapper,
    signer: Signer,
    delay: float | None,
    timeout: float,
) -> Result:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, stop.set)
        handled = True
    except (ValueError, RuntimeError, NotImplementedError):  # not the main thread
        handled = False
    console = Console(stderr=True)
    recorder = Recorder(db, session=name, upstream=remapper.target, keys=signer.keys())
    conn = store.connect(db)
    store.ensure_session(
        conn,
        name,
        kind="replay",
        upstream=remapper.target,
        replay_of=session,
        note=f"replay of {session}",
    )
    conn.conn.close()
    recorder.start(kind="replay", replay_of=session)
    try:
        with Progress(console=console, disable=not console.is_terminal, transient=True) as bar:
            task = bar.add_task(f"replaying {session}", total=len(items))

            def advance(_outcome: Outcome) -> None:
                bar.advance(task)

            return await replay(
                items,
                db_path=db,
                session=session,
                replay_session=name,
                remapper=remapper,
                signer=signer,
                recorder=recorder,
                delay_ms=delay,
                timeout=timeout,
                stop=stop,
                on_outcome=advance,
            )
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGINT)
        recorder.close()


@click.command("replay")
@db_option()
@click.option("--session", required=True, help="The recorded session to replay.")
@click.option("--target", metavar="URL", help="The hub to send to [default: the endpoint of CS].")
@click.option(
    "--connection-string",
    "connection_string",
    metavar="CS",
    required=True,
    envvar="HUBSCOPE_CONNECTION_STRING",
    help="Key for fresh SAS tokens (held in memory only, never stored).",
)
@click.option("--hub", metavar="NAME", help="The target's hub name, if it differs.")
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(OPERATIONS),
    metavar="OPERATION",
    help="Replay only these operations (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing.")
@click.option(
    "--delay",
    default="none",
    show_default=True,
    metavar="original|none|N",
    help="Between requests: the recorded gaps, none, or N milliseconds.",
)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per request.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--name", help="Name of the replay session [default: replay-of-S-TIME].")
@guarded(readonly=True)
def replay_command(
    db: Location,
    session: str,
    target: str | None,
    connection_string: str,
    hub: str | None,
    only: tuple[str, ...],
    dry_run: bool,
    delay: str,
    timeout: float,
    as_json: bool,
    name: str | None,
) -> None:
    """Re-send SESSION's requests to a hub, re-signed, and compare the answers by meaning.

    Exit code 0 when every answer means the same, 1 when anything differs, 2 on usage errors.
    """
    delay_ms = parse_delay(delay)
    signer, target = signer_and_target(connection_string, target)
    conn = store.connect(db, readonly=True)
    try:
        require_session(conn, session, db)
        with progress.bar(f"reading {session}", None):
            items = load_session(conn, session, only=only)
    except SessionNotFound as error:
        raise Refused(str(error)) from None
    finally:
        conn.conn.close()
    if not dry_run:
        try:
            checked = asyncio.run(check(target, timeout=min(timeout, 10.0)))
        except Unreachable as error:
            raise Refused(f"{error}; nothing was sent, no session recorded") from None
        if checked.note:
            click.echo(f"note: {checked.note}", err=True)
        target = checked.url.rstrip("/")
    remapper = Remapper(target=target, source_hub=source_hub(items), target_hub=hub)
    if dry_run:
        plan: list[tuple[Recorded, Prepared | None]] = []
        for item in items:
            prepared = (
                None if item.request_truncated else prepare(remapper, signer, item, dry_run=True)
            )
            remapper.assume(item.op, (item.decoded, item.exchange.response), item.index)
            plan.append((item, prepared))
        click.echo(report.dry_run_text(plan))
        return
    result = asyncio.run(
        _run(
            items,
            db=db,
            session=session,
            name=name or replay_session_name(db, session),
            remapper=remapper,
            signer=signer,
            delay=delay_ms,
            timeout=timeout,
        )
    )
    click.echo(
        json.dumps(report.as_json(result), indent=2, ensure_ascii=False)
        if as_json
        else report.as_text(result)
    )
    click.get_current_context().exit(report.exit_code(result))
