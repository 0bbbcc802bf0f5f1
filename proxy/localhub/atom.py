"""Render registrations, feeds and errors exactly as the (Kestrel-era) service writes them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from proxy.contract import COMMON, HEADER_LISTS, contract_for
from proxy.localhub.state import Registration

__all__ = [
    "ATOM_ENTRY",
    "ERROR_TYPE",
    "READ_TYPE",
    "error_body",
    "render_entry",
    "render_feed",
]

ATOM_NS = "http://www.w3.org/2005/Atom"
META_NS = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
CONNECT_NS = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

ATOM_ENTRY = "application/atom+xml; type=entry; charset=utf-8"
"""Content-Type of create/update answers."""

READ_TYPE = "application/xml"
"""Content-Type of GET entries and feeds since the Kestrel front end (2023)."""

ERROR_TYPE = "application/xml; charset=utf-8"


def atom_time(ts: float) -> str:
    """`2024-04-16T22:06:17Z`."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_timestamp(ts: float) -> str:
    """`11/7/2018 12:18:37 AM`, the .NET general format the service puts in error details."""
    dt = datetime.fromtimestamp(ts, UTC)
    hour = dt.hour % 12 or 12
    half = "AM" if dt.hour < 12 else "PM"
    return f"{dt.month}/{dt.day}/{dt.year} {hour}:{dt.minute:02}:{dt.second:02} {half}"


def error_body(status: int, message: str, tracking_id: str, now: float | None = None) -> bytes:
    """`<Error><Code>404</Code><Detail>….TrackingId:…,TimeStamp:…</Detail></Error>`."""
    stamp = error_timestamp(time.time() if now is None else now)
    detail = f"{message}.TrackingId:{tracking_id}_G0,TimeStamp:{stamp}"
    return f"<Error><Code>{status}</Code><Detail>{escape(detail)}</Detail></Error>".encode()


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_description(reg: Registration, *, read: bool) -> str:
    """The `*RegistrationDescription` element with the service's element order."""
    contract = contract_for(reg.kind)
    expiration = reg.expiration + "Z" if read else reg.expiration
    parts = [
        f'<{reg.kind} xmlns:i="{XSI_NS}" xmlns="{CONNECT_NS}">',
        f"<ETag>{reg.etag}</ETag>",
        f"<ExpirationTime>{escape(expiration)}</ExpirationTime>",
        f"<RegistrationId>{escape(reg.registration_id)}</RegistrationId>",
    ]
    if reg.tags:
        parts.append(f"<Tags>{escape(','.join(reg.tags))}</Tags>")
    if reg.push_variables is not None:
        parts.append(f"<PushVariables>{escape(reg.push_variables)}</PushVariables>")
    names = contract.names[len(COMMON) :] if contract else tuple(k for k, _ in reg.fields)
    for name in names:
        if name in HEADER_LISTS:
            if reg.headers:
                item = HEADER_LISTS[name]
                items = "".join(
                    f"<{item}><Header>{escape(h)}</Header><Value>{escape(v)}</Value></{item}>"
                    for h, v in reg.headers
                )
                parts.append(f"<{name}>{items}</{name}>")
            continue
        value = reg.field(name)
        if value is None:
            continue
        text = _cdata(value) if name == "BodyTemplate" else escape(value)
        parts.append(f"<{name}>{text}</{name}>")
    parts.append(f"</{reg.kind}>")
    return "".join(parts)


def _entry_body(reg: Registration, url: str, *, read: bool) -> str:
    href = quoteattr(url)
    return (
        f"<id>{escape(url)}</id>"
        f'<title type="text">{escape(reg.registration_id)}</title>'
        f"<published>{atom_time(reg.created)}</published>"
        f"<updated>{atom_time(reg.updated)}</updated>"
        f'<link rel="self" href={href} />'
        f'<content type="application/xml">{render_description(reg, read=read)}</content>'
    )


def entry_url(base: str, hub: str, reg: Registration, api_version: str, *, read: bool) -> str:
    """Writes answer with `/registrations/{id}`, reads with `/resources/{id}` (as recorded)."""
    folder = "resources" if read else "registrations"
    return f"{base}/{hub}/{folder}/{reg.registration_id}?api-version={api_version}"


def render_entry(reg: Registration, *, base: str, hub: str, api_version: str, read: bool) -> bytes:
    """One Atom entry, `p1:etag` attribute and all."""
    url = entry_url(base, hub, reg, api_version, read=read)
    return (
        f'<entry p1:etag="W/&quot;{reg.etag}&quot;" xmlns:p1="{META_NS}" xmlns="{ATOM_NS}">'
        f"{_entry_body(reg, url, read=read)}</entry>"
    ).encode()


def render_feed(
    regs: Iterable[Registration],
    *,
    base: str,
    hub: str,
    api_version: str,
    next_href: str | None = None,
    now: float | None = None,
) -> bytes:
    """A `Registrations` feed; entries use the `p2:etag` prefix like the service."""
    self_url = f"{base}/{hub}/resources?api-version={api_version}"
    parts = [
        f'<feed xmlns="{ATOM_NS}"><title type="text">Registrations</title>',
        f"<id>{escape(self_url)}</id>",
        f"<updated>{atom_time(time.time() if now is None else now)}</updated>",
        f'<link rel="self" href={quoteattr(self_url)} />',
    ]
    if next_href is not None:
        parts.append(f'<link rel="next" href={quoteattr(next_href)} />')
    for reg in regs:
        url = entry_url(base, hub, reg, api_version, read=True)
        parts.append(
            f'<entry p2:etag="W/&quot;{reg.etag}&quot;" xmlns:p2="{META_NS}">'
            f"{_entry_body(reg, url, read=True)}</entry>"
        )
    parts.append("</feed>")
    return "".join(parts).encode()
