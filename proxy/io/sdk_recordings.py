"""Import Azure SDK test-proxy recordings (`{"Entries": […]}` JSON) as hubscope sessions.

Bodies and headers are kept as recorded. The test proxy stores a body as JSON when
it was JSON, as text when it was text and as base64 otherwise; the recordings'
`Authorization: Sanitized` values stay as they are, and redaction still runs.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from proxy import store
from proxy.exchange import Exchange, Headers, Message, new_id
from proxy.store import rows
from proxy.store.location import Location

BATCH = 500
BODY_CAP = 1 << 20

_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


class RecordingError(ValueError):
    """The file is not a test-proxy recording."""


@dataclass(frozen=True, slots=True)
class Imported:
    """One imported file: where it went and how many exchanges it held."""

    path: Path
    session: str
    exchanges: int


def _headers(value: object) -> Headers:
    if not isinstance(value, dict):
        return ()
    pairs: list[tuple[str, str]] = []
    for name, raw in value.items():
        for item in raw if isinstance(raw, list) else [raw]:
            pairs.append((str(name), "" if item is None else str(item)))
    return tuple(pairs)


def _header(headers: Headers, name: str) -> str:
    return next((v for k, v in headers if k.lower() == name.lower()), "")


def _is_text_type(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return (
        media.startswith("text/")
        or media.endswith(("xml", "json"))
        or "charset" in (content_type.lower())
    )


def body_bytes(value: object, content_type: str) -> bytes:
    """The body the recording describes: JSON re-serialized compactly, base64 decoded."""
    if value is None:
        return b""
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, str) for v in value)
        and not (content_type.lower().split(";")[0].strip().endswith("json"))
    ):
        value = "\n".join(value)
    if not isinstance(value, str):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if value and len(value) % 4 == 0 and _BASE64.match(value):
        try:
            raw = base64.b64decode(value, validate=True)
        except binascii.Error:
            raw = None
        if raw is not None:
            try:
                raw.decode("utf-8")
                return raw
            except UnicodeDecodeError:
                if not _is_text_type(content_type):
                    return raw
    return value.encode("utf-8")


def _when(headers: Headers, previous: float) -> float:
    """The response's Date, kept strictly after the previous exchange to preserve order."""
    try:
        stamp = parsedate_to_datetime(_header(headers, "Date")).timestamp()
    except (TypeError, ValueError, IndexError):
        stamp = previous + 0.001 if previous else time.time()
    return max(stamp, previous + 0.001)


def exchanges(entries: list[Any], session: str, *, start: float) -> list[Exchange]:
    """One exchange per recorded entry, in file order."""
    out: list[Exchange] = []
    moment = start
    for entry in entries:
        if not isinstance(entry, dict) or "RequestUri" not in entry:
            raise RecordingError("an entry has no RequestUri")
        request = _headers(entry.get("RequestHeaders"))
        response = _headers(entry.get("ResponseHeaders"))
        moment = _when(response, moment)
        status = entry.get("StatusCode")
        out.append(
            Exchange(
                id=new_id(),
                session=session,
                started_at=moment,
                duration_ms=0.0,
                method=str(entry.get("RequestMethod", "GET")).upper(),
                url=str(entry["RequestUri"]),
                request=Message(
                    headers=request,
                    body=body_bytes(entry.get("RequestBody"), _header(request, "Content-Type")),
                ),
                status=int(status) if isinstance(status, int) else None,
                response=Message(
                    headers=response,
                    body=body_bytes(entry.get("ResponseBody"), _header(response, "Content-Type")),
                ),
            )
        )
    return out


def read_entries(path: Path) -> list[Any]:
    """The `Entries` of a recording file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise RecordingError(f"{path}: cannot read as JSON: {error}") from None
    entries = data.get("Entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise RecordingError(f"{path}: not a test-proxy recording (no Entries list)")
    return entries


def default_name(path: Path) -> str:
    return f"import-{path.parent.name}-{path.stem.removeprefix('recording_')}"


def free_name(db: Database, base: str) -> str:
    """`base`, or `base-2`, `base-3`… when a session of that name exists."""
    taken = {
        r["name"]
        for r in db.query(
            "select name from sessions where name = ? or name like ?", [base, f"{base}-%"]
        )
    }
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def import_file(
    db_path: Location,
    path: Path,
    *,
    session: str | None = None,
    init: bool = False,
    entries: list[Any] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Imported:
    """Write one recording into `db_path` as a session of kind `import`.

    `entries` are the file's, when already read; `on_progress(n)` follows each batch
    written; `init` lets hubscope add its tables to an SQLite file holding others.
    """
    entries = read_entries(path) if entries is None else entries
    db = store.connect(db_path, init=init)
    try:
        name = session or free_name(db, default_name(path))
        items = exchanges(entries, name, start=0.0)
        upstream = None
        if items:
            parts = urlsplit(items[0].url)
            upstream = f"{parts.scheme}://{parts.netloc}"
        store.ensure_session(
            db, name, kind="import", upstream=upstream, note=f"imported from {path.name}"
        )
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            store.write_rows(db, rows.build(batch, body_cap=BODY_CAP, keys={}))
            if on_progress is not None:
                on_progress(len(batch))
    finally:
        db.conn.close()
    return Imported(path=path, session=name, exchanges=len(items))
