"""Exports of the list's current filter or of a session, as HAR or JSON Lines downloads.

`GET /export?format=har|jsonl[&mask=handles,tags,ids]&<the list's filters>` answers an
attachment. `hubscope export` selects its rows here too, so `--filter` means what the
list's filters mean.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping
from typing import IO, Any
from urllib.parse import parse_qsl

from aiohttp import web
from sqlite_utils import Database

from proxy.io import export as exporting
from proxy.io.mask import Kind, parse_kinds
from viewer.analysis import Badges
from viewer.filters import ONE_KEY, FilterError, Filters, parse, parse_cursor
from viewer.queries import list_page
from viewer.state import reader_key

PAGE = 500
CHUNK = 1 << 16
EXTENSIONS = {"har": "har", "jsonl": "jsonl"}


def parse_expression(expression: str | None, **fixed: str | None) -> Filters:
    """Filters from `status=4xx&platform=apns` (the list's URL query) or `status:4xx
    platform:apns` (the filter language); `fixed` adds more."""
    text = (expression or "").strip()
    query: dict[str, str] = {}
    if "=" in text and ":" not in text.split("=", 1)[0]:
        query.update(parse_qsl(text, keep_blank_values=False))
        unknown = set(query) - set(ONE_KEY) - {"f", "q"}
        if unknown:
            names = ", ".join((*ONE_KEY, "f", "q"))
            raise FilterError(f"filter: unknown name {sorted(unknown)[0]!r} (one of {names})")
    elif text:
        query["f"] = text
    fixed_terms = [f"{k}:{v}" for k, v in fixed.items() if v]
    query["f"] = " and ".join(p for p in (query.get("f", ""), *fixed_terms) if p)
    return parse(query)


def matching_rows(db: Database, filters: Filters) -> Iterator[dict[str, Any]]:
    """Every row the filters match, oldest first, read a page at a time."""
    badges = Badges(size=PAGE * 4)
    position: tuple[float, str] | None = None
    while True:
        page = list_page(db, filters, position, PAGE, badges, newest_first=False)
        for item in page.items:
            yield {k: v for k, v in item.row.items() if k != "rowid" and not _check(k)}
        if page.next_cursor is None:
            return
        position = parse_cursor(page.next_cursor)


def _check(column: str) -> bool:
    """The per-term columns a findings filter selects (`c0`, `c1`, …, `_match`) and the
    stored findings' columns (`_findings`, `_judged`)."""
    return column[:1] == "_" or (column[:1] == "c" and column[1:].isdigit())


def export_to(
    db: Database, filters: Filters, out: IO[str], fmt: exporting.Format, mask: frozenset[Kind]
) -> int:
    """Write the matching exchanges to `out`; returns how many."""
    active = filters.text or "everything"
    comment = f"exported by hubscope ({active})"
    if mask:
        comment += f", masked: {','.join(sorted(mask))}"
    rows = lambda: matching_rows(db, filters)  # noqa: E731  (called twice when masking)
    return exporting.export(rows, out, fmt, mask=mask, comment=comment)


def download_name(filters: Filters, fmt: str, mask: frozenset[Kind]) -> str:
    sessions = [v for k, v in filters.active() if k == "session"]
    label = sessions[0] if sessions else ("filtered" if filters.text else "all")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)
    suffix = "-masked" if mask else ""
    return f"hubscope-{safe}{suffix}-{time.strftime('%Y%m%d-%H%M%S')}.{EXTENSIONS[fmt]}"


def _options(query: Mapping[str, str]) -> tuple[exporting.Format, frozenset[Kind], Filters]:
    fmt = next((f for f in exporting.FORMATS if f == query.get("format", "har")), None)
    if fmt is None:
        raise web.HTTPBadRequest(text="format: har or jsonl\n")
    try:
        mask = parse_kinds(query["mask"]) if query.get("mask") else frozenset()
        filters = parse(query)
    except (FilterError, ValueError) as error:
        raise web.HTTPBadRequest(text=f"{error}\n") from None
    return fmt, mask, filters


async def download(request: web.Request) -> web.StreamResponse:
    """The export as an attachment, written to a temporary file off the event loop."""
    fmt, mask, filters = _options(request.query)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        await request.app[reader_key].run(export_to, filters, spool, fmt, mask)
        spool.seek(0)
        name = download_name(filters, fmt, mask)
        response = web.StreamResponse(
            headers={
                "Content-Type": f"{exporting.MEDIA_TYPES[fmt]}; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        while chunk := spool.read(CHUNK):
            await response.write(chunk.encode("utf-8"))
        await response.write_eof()
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/export", download, name="export")
    app.router.add_get("/api/export", download)
