"""What the device index, the tag index and the problems view show (HTML and JSON alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from viewer import devices, problems
from viewer.filters import FilterError, Filters, parse, parse_cursor, parse_limit
from viewer.state import badges_key, reader_key

TAG_PAGE = 100


def _parse(request: web.Request) -> tuple[Filters, tuple[float, str] | None, int]:
    try:
        return (parse(request.query), parse_cursor(request.query.get("cursor")),
                parse_limit(request.query.get("limit")))  # fmt: skip
    except FilterError as error:
        raise web.HTTPBadRequest(text=f"{error}\n") from None


@dataclass(frozen=True, slots=True)
class DevicesView:
    filters: Filters
    by: str
    page: devices.DevicePage
    cursor: str | None

    def json(self) -> dict[str, Any]:
        return {"filter": self.filters.text, "by": self.by, "devices": self.page.devices,
                "next_cursor": self.page.next_cursor, "scanned": self.page.scanned}  # fmt: skip


async def load_devices(request: web.Request) -> DevicesView:
    filters, cursor, limit = _parse(request)
    by = request.query.get("by", "handle")
    if by not in devices.BY:
        raise web.HTTPBadRequest(text=f"by: expected one of {', '.join(devices.BY)}\n")
    page = await request.app[reader_key].run(
        devices.device_index, filters, by, cursor, limit, request.app[badges_key]
    )
    return DevicesView(filters, by, page, request.query.get("cursor"))


@dataclass(frozen=True, slots=True)
class TagsView:
    prefix: str
    tags: list[dict[str, Any]]
    after: str | None
    next_after: str | None

    def json(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "tags": self.tags, "next_after": self.next_after}


async def load_tags(request: web.Request) -> TagsView:
    prefix = request.query.get("prefix", "").strip()
    after = request.query.get("after") or None
    tags, next_after = await request.app[reader_key].run(
        devices.tag_index, prefix, after, TAG_PAGE
    )
    return TagsView(prefix, tags, after, next_after)


async def load_problems(request: web.Request) -> problems.Problems:
    filters, _, _ = _parse(request)
    return await request.app[reader_key].run(
        problems.problems, filters, request.app[badges_key]
    )
