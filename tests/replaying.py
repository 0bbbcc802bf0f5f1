"""Record a session through the proxy and replay it to a shimmed hub; the `target` fixture."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import aiohttp
import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from proxy import sas, serve, store
from proxy.cli import cli
from proxy.localhub import FULL_RULE, HubSettings, RunningHub, start_hub
from proxy.localhub.settings import generate_key
from proxy.store import location
from tests.servers import start_app, start_proxy

HUB = "myhub"
OTHER_HUB = "otherhub"
TOKEN = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"
ATOM = "application/atom+xml;type=entry;charset=utf-8"
NS = 'xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"'


def entry(description: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom">'
        f'<content type="application/xml">{description}</content></entry>'
    ).encode()


def apple(tags: str, registration_id: str | None = None) -> bytes:
    rid = f"<RegistrationId>{registration_id}</RegistrationId>" if registration_id else ""
    return entry(
        f"<AppleRegistrationDescription {NS}>{rid}<Tags>{tags}</Tags>"
        f"<DeviceToken>{TOKEN}</DeviceToken></AppleRegistrationDescription>"
    )


APPLE_TEMPLATE = entry(
    f"<AppleTemplateRegistrationDescription {NS}><Tags>a,t</Tags>"
    f"<DeviceToken>{TOKEN.upper()}</DeviceToken>"
    '<BodyTemplate><![CDATA[{"aps":{"alert":"$(m)"}}]]></BodyTemplate>'
    "<TemplateName>greeting</TemplateName></AppleTemplateRegistrationDescription>"
)
INSTALLATION = {
    "installationId": "inst-1",
    "platform": "apns",
    "pushChannel": TOKEN,
    "tags": ["a", "z"],
    "templates": {"t1": {"body": '{"aps":{"alert":"$(m)"}}', "tags": ["tt"]}},
}
PATCH = [{"op": "add", "path": "/tags", "value": "patched"}]


# The sr shapes real clients sign: JS (namespace root, upper hex), .NET (http, no port,
# path with trailing slash, lower hex), Java (full URL with query, lower-cased), the hub.
def js_sr(url: str) -> str:
    root = url.split("/", 3)
    return quote(f"{root[0]}//{root[2]}/".lower(), safe="")


def dotnet_sr(url: str) -> str:
    scheme_host, _, rest = url.partition("//")[2].partition("/")
    host = scheme_host.split(":")[0]
    return quote(f"http://{host}/{rest.split('?')[0]}/".lower(), safe="").lower()


def java_sr(url: str) -> str:
    return quote(url.lower(), safe="").lower()


def hub_sr(url: str) -> str:
    head, _, rest = url.partition("//")
    host, _, path = rest.partition("/")
    return quote(f"{head}//{host}/{path.split('/')[0]}", safe="")


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    shape: Callable[[str], str]
    body: bytes | None = None
    content_type: str | None = None
    if_match: str | None = None


def steps(ids: dict[str, str], etags: dict[str, str]) -> list[Step]:
    """The original client's calls; ids and ETags are filled in as the hub answers."""
    rid, inst = ids.get("first", "?"), f"/{HUB}/installations/inst-1?api-version=2020-06"
    reg = f"/{HUB}/registrations/{rid}?api-version=2020-06"
    return [
        Step("POST", f"/{HUB}/registrationIDs?api-version=2020-06", js_sr),
        Step("PUT", reg, dotnet_sr, apple("a,b", rid), ATOM),
        Step("GET", reg, java_sr),
        Step("PUT", reg, js_sr, apple("a,b,c", rid), ATOM, f'W/"{etags.get("first", "?")}"'),
        Step("POST", f"/{HUB}/registrations?api-version=2020-06", hub_sr, APPLE_TEMPLATE, ATOM),
        Step("GET", f"/{HUB}/tags/a/registrations?api-version=2020-06", js_sr),
        Step("PUT", inst, java_sr, json.dumps(INSTALLATION).encode(), "application/json"),
        Step("GET", inst, js_sr),
        Step("PATCH", inst, dotnet_sr, json.dumps(PATCH).encode(), "application/json-patch+json"),
        Step("GET", inst, js_sr),
        Step("GET", reg, js_sr),
        Step("DELETE", reg, js_sr, if_match=f'"{etags.get("first", "?")}"'),
        Step(
            "DELETE",
            f"/{HUB}/registrations/{ids.get('second', '?')}?api-version=2020-06",
            js_sr,
            if_match="*",
        ),
        Step("DELETE", inst, js_sr),
    ]


async def run_client(base: str, key_name: str, key: str) -> list[int]:
    """Play the original client through the proxy; returns the statuses it got."""
    ids: dict[str, str] = {}
    etags: dict[str, str] = {}
    statuses: list[int] = []
    async with aiohttp.ClientSession() as http:
        for index in range(len(steps(ids, etags))):
            step = steps(ids, etags)[index]
            url = base + step.path
            headers = {
                "Authorization": sas.token_for_sr(step.shape(url), key_name, key),
                "x-ms-version": "2020-06",
            }
            if step.content_type:
                headers["Content-Type"] = step.content_type
            if step.if_match:
                headers["If-Match"] = step.if_match
            async with http.request(step.method, url, data=step.body, headers=headers) as resp:
                text = await resp.text()
                statuses.append(resp.status)
                if index == 0:
                    ids["first"] = unquote(resp.headers["Location"].rsplit("/", 1)[1])
                if index == 4:
                    ids["second"] = re.findall(r"<RegistrationId>([^<]+)<", text)[0]
                if index in (2, 3):  # from <ETag>, as the JS SDK reads it (no ETag header)
                    etags["first"] = re.findall(r"<ETag>(\d+)</ETag>", text)[0]
    return statuses


@dataclass
class Recorded:
    db: Path | str
    session: str
    statuses: list[int]
    hub_key: str


async def record_session(
    tmp_path: Path, session: str = "orig", *, db: Path | str | None = None, **proxy: Any
) -> Recorded:
    """A session recorded through the real proxy against local hub A (into `db`, a file
    in `tmp_path` unless given: a `postgresql://` URL records there)."""
    db = tmp_path / "hubscope.db" if db is None else db
    key = generate_key()
    hub = await start_hub(
        HubSettings.build(
            connection_string=f"Endpoint=sb://x/;SharedAccessKeyName={FULL_RULE};SharedAccessKey={key}",
            hubs=(HUB, OTHER_HUB),
        )
    )
    try:
        proxy = await start_proxy(hub.url, db, session=session, **proxy)
        try:
            statuses = await run_client(f"http://127.0.0.1:{proxy.port}", FULL_RULE, key)
        finally:
            await serve.stop([proxy])
    finally:
        await hub.stop()
    return Recorded(db=db, session=session, statuses=statuses, hub_key=key)


@dataclass
class Shim:
    """A hub in front of hub B that answers differently, as configured."""

    upstream: str
    etag_offset: int = 0
    drop_tag: tuple[str, str] | None = None
    """(path fragment, tag): drop the tag from GET answers on matching paths."""
    status: tuple[str, str, int] | None = None
    """(method, path fragment, status): answer with another status."""
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    def app(self) -> web.Application:
        async def handle(request: web.Request) -> web.Response:
            if_match = request.headers.get("If-Match")
            self.seen.append((request.method, request.raw_path, if_match))
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("host", "content-length")
            }
            if if_match and self.etag_offset and if_match.strip() != "*":
                bare = if_match.removeprefix("W/").strip('"')
                headers["If-Match"] = f'"{int(bare) - self.etag_offset}"' if bare.isdigit() else "0"
            async with (
                aiohttp.ClientSession(auto_decompress=False) as http,
                http.request(
                    request.method,
                    self.upstream + request.raw_path,
                    headers=headers,
                    data=await request.read(),
                    allow_redirects=False,
                ) as resp,
            ):
                body, out = await resp.read(), dict(resp.headers)
                status = resp.status
            out.pop("Content-Length", None)
            out.pop("Transfer-Encoding", None)
            if self.etag_offset:
                body = re.sub(
                    rb"<ETag>(\d+)</ETag>",
                    lambda m: b"<ETag>%d</ETag>" % (int(m[1]) + self.etag_offset),
                    body,
                )
                if "ETag" in out:
                    out["ETag"] = f'W/"{int(out["ETag"][3:-1]) + self.etag_offset}"'
            if self.drop_tag and request.method == "GET" and self.drop_tag[0] in request.path:
                body = re.sub(rb"(<Tags>[^<]*)", lambda m: self._drop(m[1]), body)
            if self.status and request.method == self.status[0] and self.status[1] in request.path:
                status = self.status[2]
            return web.Response(status=status, body=body, headers=out)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        return app

    def _drop(self, tags: bytes) -> bytes:
        assert self.drop_tag is not None
        head, _, values = tags.partition(b">")
        kept = [t for t in values.split(b",") if t != self.drop_tag[1].encode()]
        return head + b">" + b",".join(kept)


@dataclass
class Target:
    hub: RunningHub
    key: str
    url: str
    shim: Shim

    @property
    def connection_string(self) -> str:
        return f"Endpoint=sb://ignored/;SharedAccessKeyName=replayer;SharedAccessKey={self.key}"


@pytest.fixture(name="target")
async def target_fixture() -> AsyncIterator[Callable[..., Any]]:
    """Start hub B (another key) behind a shim; every server is stopped afterwards."""
    started: list[Any] = []

    async def make(**shim_options: Any) -> Target:
        key = generate_key()
        hub = await start_hub(
            HubSettings.build(
                connection_string=f"Endpoint=sb://x/;SharedAccessKeyName=replayer;SharedAccessKey={key}",
                hubs=(HUB, OTHER_HUB),
            )
        )
        started.append(hub)
        shim = Shim(upstream=hub.url, **shim_options)
        running = await start_app(shim.app())
        started.append(running)
        return Target(hub=hub, key=key, url=f"http://127.0.0.1:{running.port}", shim=shim)

    yield make
    for item in reversed(started):
        if isinstance(item, serve.Running):
            await serve.stop([item])
        else:
            await item.stop()


async def invoke(*args: str) -> Result:
    """Run `hubscope ARGS` in a thread, so the servers on this loop keep answering."""
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), catch_exceptions=False)


async def replay_json(rec: Recorded, tgt: Target, *extra: str) -> tuple[Result, dict[str, Any]]:
    result = await invoke(
        "replay",
        "--db",
        str(rec.db),
        "--session",
        rec.session,
        "--target",
        tgt.url,
        "--connection-string",
        tgt.connection_string,
        "--hub",
        OTHER_HUB,
        "--json",
        *extra,
    )
    return result, json.loads(result.output)


def replay_rows(db: Path | str, session: str) -> list[dict[str, Any]]:
    conn = location.open_db(db, readonly=True)
    try:
        return list(store.iter_exchange_rows(conn, session))
    finally:
        conn.conn.close()
