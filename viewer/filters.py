"""List filters: parsed from a URL query, turned into SQL, and back into a shareable query."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

SEVERITIES = ("error", "warning", "note")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "failed")
MAX_LIMIT = 500


_BY_ID = (
    "e.id in (select d.exchange_id from devices d where d.{0} = :{0}"
    " union all select x.id from exchanges x where x.resource_id = :{0})"
)
_HAS_ID = (
    "(e.resource_id = :{0} or exists (select 1 from devices d"
    " where d.exchange_id = e.id and d.{0} = :{0}))"
)
DRIVE = {
    "tag": "e.id in (select t.exchange_id from device_tags t where t.tag = :tag)",
    "handle": "e.id in (select d.exchange_id from devices d where d.handle = :handle)",
    "registration_id": _BY_ID.format("registration_id"),
    "installation_id": _BY_ID.format("installation_id"),
    "q": "e.rowid in (select rowid from exchanges_fts where exchanges_fts match :q)",
}
"""Filters as a list of matching exchanges, for when the filter matches few rows."""

PROBE = {
    "tag": "exists (select 1 from devices d join device_tags t on t.device_id = d.id"
    " where d.exchange_id = e.id and t.tag = :tag)",
    "handle": "exists (select 1 from devices d where d.exchange_id = e.id and d.handle = :handle)",
    "registration_id": _HAS_ID.format("registration_id"),
    "installation_id": _HAS_ID.format("installation_id"),
    # The unary + keeps SQLite scanning by time and testing membership of the match list.
    "q": "+e.rowid in (select rowid from exchanges_fts where exchanges_fts match :q)",
    "platform": "exists (select 1 from devices d where d.exchange_id = e.id"
    " and d.platform = :platform)",
}
"""The same filters as a per-row test, for when the filter matches many rows."""

SELECTIVE = tuple(DRIVE)

COUNT = {
    "tag": "select 1 from device_tags where tag = :tag",
    "handle": "select 1 from devices where handle = :handle",
    "registration_id": "select 1 from devices where registration_id = :registration_id",
    "installation_id": "select 1 from devices where installation_id = :installation_id",
    "q": "select 1 from exchanges_fts where exchanges_fts match :q",
}
"""How many rows each selective filter matches (counted up to a cap)."""


class FilterError(ValueError):
    """A filter value that cannot be understood; the message names the parameter."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """Every list filter; all of them combine (AND)."""

    session: str | None = None
    operation: str | None = None
    method: str | None = None
    status: str | None = None
    """A class (`2xx`, `4xx`, `failed`) or an exact code (`404`)."""

    platform: str | None = None
    tag: str | None = None
    registration_id: str | None = None
    installation_id: str | None = None
    handle: str | None = None
    findings: str | None = None
    """Only exchanges with at least one finding of this severity (or worse)."""

    q: str | None = None
    """Full-text search over request and response bodies."""

    since: str | None = None
    until: str | None = None

    def query(self, **extra: str | None) -> str:
        """This filter set as a URL query string (empty values left out)."""
        pairs = [(f.name, getattr(self, f.name)) for f in fields(self)] + list(extra.items())
        return urlencode([(k, v) for k, v in pairs if v not in (None, "")])

    def without(self, name: str) -> Filters:
        return replace(self, **{name: None})

    def active(self) -> list[tuple[str, str]]:
        """(name, value) of every filter in use, for the chips above the list."""
        return [(f.name, v) for f in fields(self) if (v := getattr(self, f.name)) is not None]

    def params(self) -> dict[str, Any]:
        """SQL parameters of every filter in use (names as in `sql`)."""
        params: dict[str, Any] = {
            name: value for name, value in self.active() if name not in ("status", "findings")
        }
        if self.q is not None:
            params["q"] = fts_query(self.q)
        for name in ("since", "until"):
            if name in params:
                params[name] = parse_time(params[name], name)
        return params

    def sql(self, driver: str | None = None) -> tuple[list[str], dict[str, Any]]:
        """WHERE conditions on `exchanges e` and their parameters (severity is not SQL).

        `driver` names the one selective filter SQLite should start from (its matches are
        few, so they are listed and sorted); every other filter probes row by row while
        the time index is scanned newest first.
        """
        params = self.params()
        where = [f"e.{name} = :{name}" for name in ("session", "operation", "method")
                 if name in params]  # fmt: skip
        if self.status is not None:
            where.append(_status_sql(self.status, params))
        for name in SELECTIVE + ("platform",):
            if name in params:
                where.append((DRIVE if name == driver else PROBE)[name])
        for name, op in (("since", ">="), ("until", "<")):
            if name in params:
                where.append(f"e.started_at {op} :{name}")
        return where, params


def _status_sql(value: str, params: dict[str, Any]) -> str:
    if value == "failed":
        return "e.status is null"
    if value in STATUS_CLASSES:
        params["status_lo"] = int(value[0]) * 100
        return "e.status >= :status_lo and e.status < :status_lo + 100"
    if value.isdigit():
        params["status"] = int(value)
        return "e.status = :status"
    raise FilterError(f"status: expected one of {', '.join(STATUS_CLASSES)} or a code")


def fts_query(text: str) -> str:
    """User text as an FTS5 query: every word must appear, each taken literally."""
    words = [w for w in re.split(r"\s+", text.strip()) if w]
    return " ".join('"' + w.replace('"', '""') + '"' for w in words) or '""'


def parse_time(value: str, name: str) -> float:
    """Unix seconds, or an ISO 8601 date/time (UTC unless it says otherwise)."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"{name}: expected Unix seconds or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse(query: Mapping[str, str]) -> Filters:
    """Filters from a URL query; blank values mean 'no filter'."""
    values: dict[str, str] = {}
    for f in fields(Filters):
        raw = query.get(f.name, "").strip()
        if raw:
            values[f.name] = raw
    found = Filters(**values)
    if found.findings is not None and found.findings not in SEVERITIES:
        raise FilterError(f"findings: expected one of {', '.join(SEVERITIES)}")
    if found.status is not None:
        _status_sql(found.status, {})
    for name in ("since", "until"):
        if (value := values.get(name)) is not None:
            parse_time(value, name)
    return found


def parse_limit(value: str | None, default: int = 50) -> int:
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) <= MAX_LIMIT:
        raise FilterError(f"limit: expected 1 to {MAX_LIMIT}")
    return int(value)


def parse_cursor(value: str | None) -> tuple[float, str] | None:
    """A keyset cursor `STARTED_AT~ID` (the last row of the previous page)."""
    if not value:
        return None
    started, sep, ident = value.partition("~")
    try:
        if sep and ident:
            return float(started), ident
    except ValueError:
        pass
    raise FilterError("cursor: not a cursor from a previous page")


def make_cursor(started_at: float, ident: str) -> str:
    return f"{started_at!r}~{ident}"
