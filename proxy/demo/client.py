"""A tiny signed Notification Hubs REST client, enough to drive realistic traffic."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
from yarl import URL

from proxy import sas

ATOM_ENTRY = "application/atom+xml;type=entry;charset=utf-8"
CONNECT_NS = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


def atom_entry(kind: str, fields: list[tuple[str, str]], *, xml_decl: bool = True) -> bytes:
    """An Atom entry around one `{kind}RegistrationDescription` with `fields` in the given order."""
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in fields)
    decl = '<?xml version="1.0" encoding="utf-8"?>' if xml_decl else ""
    return (
        f'{decl}<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
        f'<{kind} xmlns:i="{XSI_NS}" xmlns="{CONNECT_NS}">{inner}</{kind}>'
        "</content></entry>"
    ).encode()


def cdata(text: str) -> str:
    return f"<![CDATA[{text}]]>"


def headers_xml(item: str, pairs: list[tuple[str, str]]) -> str:
    """The items of a header collection: `<WnsHeader><Header>…</Header><Value>…</Value>…`."""
    return "".join(
        f"<{item}><Header>{name}</Header><Value>{value}</Value></{item}>" for name, value in pairs
    )


@dataclass
class Answer:
    """Status, headers and body of one call."""

    status: int
    headers: dict[str, str]
    body: bytes


class HubClient:
    """Signs each call like the .NET SDK (lower-cased `http://host/hub/…/` audience)."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, hub: str, key_name: str, key: str
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.hub = hub
        self.key_name = key_name
        self.key = key
        self.api_version = "2020-06"

    def token(self, *, expired: bool = False) -> str:
        audience = f"{self.base_url}/{self.hub}"
        now = time.time() - (7200 if expired else 0)
        return sas.make_token(audience, self.key_name, self.key, ttl=1200, now=now)

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        query: str = "",
        expired_token: bool = False,
    ) -> Answer:
        """`METHOD /{hub}/{path}?api-version=…{query}` with a fresh SAS token."""
        url = f"{self.base_url}/{quote(self.hub)}/{path}?api-version={self.api_version}{query}"
        sent = {"Authorization": self.token(expired=expired_token), "x-ms-version": "2020-06"}
        if content_type:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        async with self.session.request(
            method, URL(url, encoded=True), data=body, headers=sent
        ) as resp:
            return Answer(resp.status, dict(resp.headers), await resp.read())
