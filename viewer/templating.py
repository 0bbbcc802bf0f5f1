"""Jinja2 filters and globals shared by every template."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from markupsafe import Markup, escape

from proxy.model import Op, Platform
from viewer.diff import short
from viewer.filterlang import KEYS
from viewer.filters import SEVERITIES, STATUS_CLASSES


def clock(ts: float | None) -> str:
    """`HH:MM:SS.mmm` UTC."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S.%f")[:-3]


def day(ts: float | None) -> str:
    """`MM-DD` UTC."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%m-%d")


def iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def status_class(row: dict[str, Any]) -> str:
    status = row.get("status")
    if status is None:
        return "s-failed"
    return f"s-{str(status)[0]}xx"


def status_text(row: dict[str, Any]) -> str:
    status = row.get("status")
    if status is None:
        proxy_status = row.get("proxy_status")
        return f"✕ {proxy_status}" if proxy_status else "✕"
    return str(status)


def as_text(body: bytes | None, cap: int = 256 * 1024) -> str:
    """Raw bytes as text (undecodable bytes as U+FFFD), cut at `cap`."""
    if not body:
        return ""
    text = body[:cap].decode("utf-8", errors="replace")
    return text + ("\n… (cut)" if len(body) > cap else "")


def query_pairs(query: str | None) -> list[tuple[str, str]]:
    return parse_qsl(query or "", keep_blank_values=True)


def mark(text: object, searched: list[str]) -> Markup:
    """`text` escaped, with every occurrence of a searched text (ASCII case ignored) in <mark>."""
    value = "" if text is None else str(text)
    pieces = [p for term in searched for p in term.split("*") if p]
    if not pieces or not value:
        return escape(value)
    pattern = re.compile("|".join(re.escape(p) for p in sorted(pieces, key=len, reverse=True)),
                         re.IGNORECASE)  # fmt: skip
    out, at = [], 0
    for found in pattern.finditer(value):
        out.append(escape(value[at : found.start()]))
        out.append(Markup("<mark>") + escape(found.group()) + Markup("</mark>"))
        at = found.end()
    out.append(escape(value[at:]))
    return Markup("").join(out)


FILTERS: dict[str, Callable[..., Any]] = {
    "clock": clock,
    "iso": iso,
    "day": day,
    "duration": duration,
    "short": short,
    "status_class": status_class,
    "status_text": status_text,
    "as_text": as_text,
    "query_pairs": query_pairs,
    "mark": mark,
}
GLOBALS: dict[str, Any] = {
    "OPERATIONS": [op.value for op in Op],
    "PLATFORMS": [p.value for p in Platform],
    "SEVERITIES": SEVERITIES,
    "STATUS_CLASSES": STATUS_CLASSES,
    "FILTER_KEYS": KEYS,
    "FILTER_EXAMPLES": (
        ("not status:2xx", "every answer that is not a success"),
        ("status:4xx and platform:apns", "client errors of APNs devices"),
        ("severity:error or status:5xx", "spec errors and server errors"),
        ("rule:registration.* and not severity:note", "registration rules broken"),
        ("tag:user:* and op:create_*", "creates of devices tagged user:…"),
        ('"TrackingId:1a2b"', "a text anywhere: URL, headers or bodies"),
    ),
}
