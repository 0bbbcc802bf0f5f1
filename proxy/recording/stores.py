"""Which target a `--db` is followed into, where its journal lives, and who is recording.

A file gets `SqliteTarget` and its journal beside it; a `postgresql://` URL gets
`PgTarget` and a journal in the per-user folder (`$HUBSCOPE_HOME`, else
`$XDG_STATE_HOME/hubscope`, else `~/.local/state/hubscope`), one per database, shared
by the proxies of this machine that record into it. Either way each exchange row
names the proxy instance that stored it.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from proxy.recording import journal
from proxy.recording.pg_target import PgTarget
from proxy.recording.sqlite_target import SqliteTarget
from proxy.recording.target import Target
from proxy.store import location
from proxy.store.location import Location


def instance_name(listen: str | None = None, *, pid: int | None = None) -> str:
    """`host/pid/listen address`: which proxy recorded an exchange."""
    name = f"{socket.gethostname()}/{os.getpid() if pid is None else pid}"
    return f"{name}/{listen}" if listen else name


def journal_dir_for(where: Location) -> Path:
    if not location.is_postgres(where):
        return journal.journal_dir(Path(where))
    parts = urlsplit(str(where))
    slug = f"{parts.username or ''}@{parts.hostname or 'local'}-{parts.port or 5432}-{parts.path}"
    folder = os.environ.get("HUBSCOPE_HOME") or ""
    base = (
        Path(folder)
        if folder
        else Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "hubscope"
    )
    return base / "journals" / re.sub(r"[^A-Za-z0-9@._-]+", "_", slug).strip("_")


def open_target(
    where: str | Path, *, keys: dict[str, str] | None = None, instance: str | None = None
) -> Target:
    """The target for a `--db` value (not opened yet: the first write opens it)."""
    parsed = location.parse(where)
    if isinstance(parsed, str):
        return PgTarget(parsed, keys=keys, instance=instance)
    return SqliteTarget(parsed, keys=keys, instance=instance)


def close(target: Target) -> None:
    closing = getattr(target, "close", None)
    if closing is not None:
        closing()
