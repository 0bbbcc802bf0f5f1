"""`hubscope import`: tell a file's format and write its exchanges into a new session.

HAR (any writer), hubscope's JSON Lines, and Azure SDK test-proxy recordings. Every
exchange goes through the recorder like live traffic: redacted, decoded, stored; the
viewer and `hubscope audit` judge it from there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from proxy import store
from proxy.exchange import Exchange
from proxy.io import har_read, jsonl, sdk_recordings
from proxy.io.sdk_recordings import Imported, RecordingError, free_name
from proxy.recording.recorder import Recorder
from proxy.store.location import Location

HEAD_BYTES = 1 << 16


class ImportFailed(ValueError):
    """The file is in no format hubscope reads, or is broken."""


def sniff(path: Path) -> str:
    """`har`, `jsonl` or `recording`, from the file's content (never its name)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as error:
        raise ImportFailed(f"{path}: {error}") from None
    if jsonl.is_lines(head):
        return "jsonl"
    stripped = head.lstrip()
    if stripped.startswith("{") and '"log"' in head:
        return "har"
    if stripped.startswith("{") and '"Entries"' in head:
        return "recording"
    raise ImportFailed(f"{path}: not a test-proxy recording, HAR file or hubscope JSON Lines")


def _upstream(items: list[Exchange]) -> str | None:
    if not items:
        return None
    parts = urlsplit(items[0].url)
    return f"{parts.scheme}://{parts.netloc}"


def _record(db_path: Location, name: str, items: Iterable[Exchange], upstream: str | None) -> int:
    recorder = Recorder(db_path, session=name, upstream=upstream)
    recorder.start(kind="import")
    count = 0
    try:
        for item in items:
            recorder.submit(item)
            count += 1
    finally:
        recorder.close()
    return count


def _new_session(
    db_path: Location, wanted: str | None, base: str, note: str, upstream: str | None
) -> str:
    db = store.connect(db_path)
    try:
        name = wanted or free_name(db, base)
        store.ensure_session(db, name, kind="import", upstream=upstream, note=note)
    finally:
        db.conn.close()
    return name


def import_file(db_path: Location, path: Path, *, session: str | None = None) -> Imported:
    """Write one file into `db_path` as a session of kind `import`."""
    kind = sniff(path)
    if kind == "recording":
        try:
            return sdk_recordings.import_file(db_path, path, session=session)
        except RecordingError as error:
            raise ImportFailed(str(error)) from None
    base = f"import-{path.stem}"
    if kind == "har":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            items = har_read.read(data, "")
        except (ValueError, har_read.HarError) as error:
            raise ImportFailed(f"{path}: {error}") from None
        note = f"imported from {path.name} (HAR by {har_read.creator_of(data)})"
        upstream = _upstream(items)
        name = _new_session(db_path, session, base, note, upstream)
        count = _record(db_path, name, (_in(name, e) for e in items), upstream)
        return Imported(path=path, session=name, exchanges=count)
    return _import_lines(db_path, path, session, base)


def _import_lines(db_path: Location, path: Path, session: str | None, base: str) -> Imported:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            items = list(jsonl.read(handle, ""))
    except (OSError, ValueError) as error:
        raise ImportFailed(f"{path}: {error}") from None
    previous = 0.0
    ordered = []
    for item in items:  # file order is the session's order, even when clocks disagree
        ordered.append(item if item.started_at > previous else _at(item, previous))
        previous = ordered[-1].started_at
    upstream = _upstream(ordered)
    note = f"imported from {path.name} (hubscope JSON Lines)"
    name = _new_session(db_path, session, base, note, upstream)
    count = _record(db_path, name, (_in(name, e) for e in ordered), upstream)
    return Imported(path=path, session=name, exchanges=count)


def _at(item: Exchange, previous: float) -> Exchange:
    return replace(item, started_at=previous + har_read.TICK)


def _in(session: str, item: Exchange) -> Exchange:
    return replace(item, session=session)
