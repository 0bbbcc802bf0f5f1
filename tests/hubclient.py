"""A client for the stand-in hub under test: signed calls, Atom bodies, the `hub` fixture."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from multidict import CIMultiDict

from proxy.decode.registrations import decode_atom
from proxy.decode.xml import parse_xml
from proxy.localhub import FULL_RULE, HubSettings, RunningHub, start_hub
from proxy.model import Device
from proxy.sas import make_token

HUB = "myhub"
API = "api-version=2020-06"
CONNECT = 'xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"'
ATOM_ENTRY = "application/atom+xml;type=entry;charset=utf-8"
RID = re.compile(r"^\d{19}-\d{19}-\d$")
TIMEOUT = aiohttp.ClientTimeout(total=10)


def entry(kind: str, inner: str, root: str | None = None) -> str:
    """An Atom entry around one description, like the SDKs send."""
    open_tag = f"{root or kind} {CONNECT}" + (f' i:type="{kind}"' if root else "")
    return (
        '<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom">'
        f'<content type="application/xml"><{open_tag}>{inner}</{root or kind}></content></entry>'
    )


def apple(token: str = "00fc13adff785122b4ad28809a34209823412414", tags: str = "a,b") -> str:
    return entry(
        "AppleRegistrationDescription", f"<Tags>{tags}</Tags><DeviceToken>{token}</DeviceToken>"
    )


@dataclass
class Answer:
    status: int
    headers: CIMultiDict[str]
    text: str

    def devices(self) -> tuple[Device, ...]:
        root, _ = parse_xml(self.text.encode())
        return decode_atom(root)[0]


@dataclass
class HubClient:
    """Signed requests to a running hub."""

    running: RunningHub
    session: aiohttp.ClientSession

    def token(self, rule: str = FULL_RULE, *, ttl: int = 3600) -> str:
        key = self.running.settings.keys[rule]
        return make_token(f"http://{self.running.host}/{HUB}", rule, key, ttl=ttl)

    async def call(
        self,
        method: str,
        path: str,
        body: str | bytes | None = None,
        *,
        headers: dict[str, str] | None = None,
        rule: str = FULL_RULE,
        auth: str | None = None,
        hub: str = HUB,
        api: str = API,
    ) -> Answer:
        url = f"{self.running.url}/{hub}{path}"
        if api:
            url += ("&" if "?" in path else "?") + api
        sent = {
            "Authorization": auth if auth is not None else self.token(rule),
            **default_content_type(method, path, body),
            **(headers or {}),
        }
        skip = [name for name in ("Authorization", "Content-Type") if sent.get(name) == ""]
        for name in skip:
            del sent[name]
        async with self.session.request(
            method, url, data=body, headers=sent, skip_auto_headers=skip
        ) as response:
            return Answer(response.status, CIMultiDict(response.headers), await response.text())


def default_content_type(method: str, path: str, body: str | bytes | None) -> dict[str, str]:
    """What an SDK would label the body with; a test passes `Content-Type: ""` to send none."""
    if body is None or method not in ("POST", "PUT", "PATCH"):
        return {}
    head = body[:1] if isinstance(body, str) else body[:1].decode("latin-1")
    if "/installations/" in path.lower():
        return {"Content-Type": "application/json"}
    if path.lower().startswith("/registrations") and head == "<":
        return {"Content-Type": ATOM_ENTRY}
    return {}


@pytest.fixture
async def hub() -> AsyncIterator[HubClient]:
    running = await start_hub(HubSettings())
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            yield HubClient(running, session)
    finally:
        await running.stop()
