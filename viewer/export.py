"""Exports of the list's current filter or of a session, as HAR or JSON Lines downloads.

`GET /export?format=har|jsonl[&mask=handles,tags,ids]&<the list's filters>` answers an
attachment. `hubscope export` selects its rows here too, so `--filter` means what the
list's filters mean.
"""

from __future__ import annotations

import shlex
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import IO, Any
from urllib.parse import parse_qsl

from aiohttp import web
from sqlite_utils import Database

from proxy.io import export as exporting
from proxy.io.mask import Kind, parse_kinds
from viewer.analysis import Badges
from viewer.filters import FilterError, Filters, parse
from viewer.queries import driver
from viewer.state import reader_key

PAGE = 500
CHUNK = 1 << 16
EXTENSIONS = {"har": "har", "jsonl": "jsonl"}


def parse_expression(expression: str | None, **fixed: str | None) -> Filters:
    """Filters from `status=4xx&platform=apns` (the list's URL query) or `status:4xx
    platform:apns` (`name:value` words, `and` between them allowed); `fixed` adds more."""
    values: dict[str, str] = {}
    text = (expression or "").strip()
    if "=" in text and ":" not in text.split("=", 1)[0]:
        values.update(parse_qsl(text, keep_blank_values=False))
    elif text:
        try:
            words = shlex.split(text)
        except ValueError as error:
            raise FilterError(f"filter: {error}") from None
        for word in words:
            if word.lower() == "and":
                continue
            name, sep, value = word.partition(":")
            if not sep or not value:
                raise FilterError(f"filter: expected name:value, not {word!r}")
            values[name.strip()] = value
    known = {f.name for f in fields(Filters)}
    unknown = set(values) - known
    if unknown:
        names = ", ".join(sorted(known))
        raise FilterError(f"filter: unknown name {sorted(unknown)[0]!r} (one of {names})")
    values.update({k: v for k, v in fixed.items() if v})
    return parse(values)


def matching_rows(db: Database, filters: Filters) -> Iterator[dict[str, Any]]:
    """Every row the filters match, oldest first, read a page at a time."""
    where, params = filters.sql(driver(db, filters))
    badges = Badges(size=PAGE * 4) if filters.findings else None
    position: tuple[float, str] | None = None
    while True:
        conds = list(where)
        if position is not None:
            conds.append("(e.started_at, e.id) > (:after_started, :after_id)")
            params.update(after_started=position[0], after_id=position[1])
        clause = f"where {' and '.join(conds)}" if conds else ""
        page = list(
            db.query(
                f"select e.* from exchanges e {clause} order by e.started_at, e.id limit {PAGE}",
                params,
            )
        )
        for row in page:
            if badges is None or filters.findings is None or badges.of(row).has(filters.findings):
                yield row
        if len(page) < PAGE:
            return
        position = (page[-1]["started_at"], page[-1]["id"])


def export_to(
    db: Database, filters: Filters, out: IO[str], fmt: exporting.Format, mask: frozenset[Kind]
) -> int:
    """Write the matching exchanges to `out`; returns how many."""
    active = ", ".join(f"{k}={v}" for k, v in filters.active()) or "everything"
    comment = f"exported by hubscope ({active})"
    if mask:
        comment += f", masked: {','.join(sorted(mask))}"
    rows = lambda: matching_rows(db, filters)  # noqa: E731  (called twice when masking)
    return exporting.export(rows, out, fmt, mask=mask, comment=comment)


def download_name(filters: Filters, fmt: str, mask: frozenset[Kind]) -> str:
    label = filters.session or ("filtered" if filters.active() else "all")
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
