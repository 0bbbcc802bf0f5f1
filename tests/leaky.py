"""Traffic holding a secret in every shape hubscope must redact, and scanners that look for
any of them anywhere: raw bytes, inside gzip, in every cell of a database.

Each secret is a distinct string that appears nowhere else, so finding it means it leaked.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import json
import random
import sqlite3
import string
import zlib
from pathlib import Path
from typing import Any

from aiohttp import web

_random = random.Random(20_17)


def _secret(label: str) -> str:
    return label + "".join(_random.choice(string.ascii_letters + string.digits) for _ in range(24))


SECRETS = {
    name: _secret(name[:3].upper())
    for name in (
        "client_sig", "query_sig", "bearer", "request_json_sig", "request_gzip_key",
        "request_xml_sig", "location_sig", "content_location_sig", "response_json_sig",
        "response_gzip_key", "primary_key", "secondary_key", "apns_token", "apns_certificate",
        "certificate_key", "google_api_key", "fcm_private_key", "wns_secret", "baidu_secret",
        "adm_secret", "vapid_private", "timeout_sig", "malformed_sig", "response_bearer",
    )
}  # fmt: skip
"""Name → the secret value (letters and digits only: no encoding can disguise it)."""

S = SECRETS
HUB = "myhub"
CLIENT_TOKEN = (
    "SharedAccessSignature sr=http%3A%2F%2Fns%2Fmyhub"
    f"&sig={S['client_sig']}%3D&se=4102444800&skn=DefaultFullSharedAccessSignature"
)


def encoded_token(sig: str) -> str:
    """A SAS token percent-encoded into a query value, as a redirect or Location carries it."""
    return f"SharedAccessSignature%20sr%3Dhttps%253A%252F%252Fns%26sig%3D{sig}%253D%26se%3D1"


def hub_description() -> bytes:
    """A NotificationHubDescription with its rules' keys and every kind of push credential."""
    credentials = {
        "ApnsCredential": {"Endpoint": "api.push.apple.com", "Token": S["apns_token"],
                           "KeyId": "KEYID00001", "AppId": "TEAM000001", "AppName": "app"},
        "GcmCredential": {"GoogleApiKey": S["google_api_key"]},
        "FcmV1Credential": {"PrivateKey": S["fcm_private_key"], "ProjectId": "p",
                            "ClientEmail": "sa@p.iam.gserviceaccount.com"},
        "WnsCredential": {"PackageSid": "ms-app://s-1", "SecretKey": S["wns_secret"]},
        "MpnsCredential": {"MpnsCertificate": S["apns_certificate"],
                           "CertificateKey": S["certificate_key"]},
        "BaiduCredential": {"BaiduApiKey": "api", "BaiduSecretKey": S["baidu_secret"]},
        "AdmCredential": {"ClientId": "amzn1", "ClientSecret": S["adm_secret"]},
        "BrowserCredential": {"Subject": "mailto:a@b.c", "VapidPublicKey": "BPUB",
                              "VapidPrivateKey": S["vapid_private"]},
    }  # fmt: skip
    blocks = "".join(
        f"<{kind}><Properties>"
        + "".join(
            f"<Property><Name>{n}</Name><Value>{v}</Value></Property>" for n, v in props.items()
        )
        + f"</Properties></{kind}>"
        for kind, props in credentials.items()
    )
    return (
        '<entry xmlns="http://www.w3.org/2005/Atom"><title type="text">myhub</title>'
        '<content type="application/xml"><NotificationHubDescription xmlns="http://schemas.'
        'microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/'
        f'XMLSchema-instance">{blocks}<AuthorizationRules><AuthorizationRule i:type="SharedAccess'
        'AuthorizationRule"><ClaimType>SharedAccessKey</ClaimType><ClaimValue>None</ClaimValue>'
        "<KeyName>DefaultFullSharedAccessSignature</KeyName>"
        f"<PrimaryKey>{S['primary_key']}=</PrimaryKey>"
        f"<SecondaryKey>{S['secondary_key']}=</SecondaryKey></AuthorizationRule>"
        "</AuthorizationRules></NotificationHubDescription></content></entry>"
    ).encode()


def installation_answer() -> bytes:
    return (
        '{"installationId":"i1","platform":"apns","pushChannel":"ab12",'
        f'"debug":"sr=x\\u0026sig\\u003d{S["response_json_sig"]}\\u0026se=1"}}'
    ).encode()


def gzip_answer() -> bytes:
    cs = f"Endpoint=sb://ns/;SharedAccessKeyName=Full;SharedAccessKey={S['response_gzip_key']}="
    return gzip.compress(json.dumps({"connectionString": cs}).encode())


def leaky_hub(delay: float = 30.0) -> web.Application:
    """A hub whose answers carry every response-side shape; `/slow` outlasts any timeout:
    it answers after `delay` seconds, or when the hub stops (which then need not wait)."""
    stopping = asyncio.Event()

    async def stop_waiting(app: web.Application) -> None:
        stopping.set()

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        path = request.path.lower()
        if path.endswith("/slow"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
        if path.endswith("/registrationids"):
            return web.Response(
                status=201,
                headers={
                    "Location": f"https://ns/{HUB}/registrationids/1-2?t="
                    + encoded_token(S["location_sig"]),
                    "Content-Location": f"https://ns/{HUB}/registrations/1-2?t="
                    + encoded_token(S["content_location_sig"]),
                    "X-Debug": f"Bearer {S['response_bearer']}",
                },
            )
        if "/installations/" in path:
            return web.Response(body=installation_answer(), content_type="application/json")
        if path.endswith("/gzip"):
            return web.Response(
                body=gzip_answer(),
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
        if path.rstrip("/") == f"/{HUB}":
            return web.Response(
                body=hub_description(), content_type="application/atom+xml", charset="utf-8"
            )
        return web.Response(status=200)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    app.on_shutdown.append(stop_waiting)
    return app


def xml_request_body() -> bytes:
    return f"<entry><t>sr=x&amp;sig&#61;{S['request_xml_sig']}&amp;se=1</t></entry>".encode()


def requests(base: str) -> list[dict[str, Any]]:
    """Every request-side shape, as keyword arguments for `aiohttp.ClientSession.request`.

    A gzip *request* body is in `recording` only: aiohttp's server inflates request bodies
    before the proxy sees them (a forward-path matter), so it cannot go through the proxy.
    """
    auth = {"Authorization": CLIENT_TOKEN}
    return [
        {"method": "GET", "url": f"{base}/{HUB}?api-version=2020-06", "headers": auth},
        {
            "method": "POST",
            "url": f"{base}/{HUB}/registrationIDs?api-version=2020-06&sig={S['query_sig']}",
            "headers": {"Authorization": f"Bearer {S['bearer']}"},
        },
        {
            "method": "PUT",
            "url": f"{base}/{HUB}/installations/i1?api-version=2020-06",
            "headers": {**auth, "Content-Type": "application/json"},
            "data": (
                '{"installationId":"i1","platform":"apns","pushChannel":"ab12",'
                f'"tags":["t"],"note":"sig\\u003d{S["request_json_sig"]}"}}'
            ).encode(),
        },
        {"method": "GET", "url": f"{base}/{HUB}/gzip?api-version=2020-06", "headers": auth},
        {
            "method": "POST",
            "url": f"{base}/{HUB}/registrations?api-version=2020-06",
            "headers": {**auth, "Content-Type": "application/atom+xml;type=entry"},
            "data": xml_request_body(),
        },
    ]


def leaks(data: bytes) -> list[str]:
    """The names of the secrets in `data`, looking inside every gzip stream it holds too."""
    seen = [data]
    at = data.find(b"\x1f\x8b")
    while at != -1:
        seen.append(_inflated(data[at:]))
        at = data.find(b"\x1f\x8b", at + 2)
    lowered = [chunk.lower() for chunk in seen]  # the full-text index keeps words lowercased
    return sorted(
        name
        for name, value in SECRETS.items()
        if any(value.lower().encode() in chunk for chunk in lowered)
    )


def _inflated(data: bytes) -> bytes:
    """What a gzip stream starting at `data` holds (its first MiB), or nothing."""
    try:
        return zlib.decompressobj(31).decompress(data, 1 << 20)
    except zlib.error:
        return b""


def leaks_in_database(db: Path) -> dict[str, list[str]]:
    """Secrets found in the files of `db` (main, WAL, SHM) and in any cell of any table."""
    found: dict[str, list[str]] = {}
    for path in db.parent.glob(db.name + "*"):
        if names := leaks(path.read_bytes()):
            found[path.name] = names
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for row in conn.execute(f'select * from "{table}"'):
                for cell in row:
                    raw = cell if isinstance(cell, bytes) else str(cell).encode()
                    if names := leaks(raw):
                        found.setdefault(f"table {table}", []).extend(names)
    finally:
        conn.close()
    return found


def gzip_request_body() -> bytes:
    return gzip.compress(f"<x>SharedAccessKey={S['request_gzip_key']};</x>".encode())


def recording() -> dict[str, Any]:
    """An Azure SDK test-proxy recording (`hubscope import`) holding every shape again."""
    base = "https://ns.servicebus.windows.net"
    entries = []
    for request in requests(base):
        data = request.get("data", b"")
        entries.append(
            {
                "RequestUri": request["url"],
                "RequestMethod": request["method"],
                "RequestHeaders": request["headers"],
                "RequestBody": data.decode() if data else None,
                "StatusCode": 200,
                "ResponseHeaders": {"Content-Type": "application/json",
                                    "Location": f"{base}/r?t=" + encoded_token(S["location_sig"])},
                "ResponseBody": installation_answer().decode(),
            }
        )  # fmt: skip
    entries.append(
        {
            "RequestUri": f"{base}/{HUB}/gzip?api-version=2020-06",
            "RequestMethod": "POST",
            "RequestHeaders": {"Content-Encoding": "gzip", "Authorization": CLIENT_TOKEN},
            "RequestBody": base64.b64encode(gzip_request_body()).decode(),
            "StatusCode": 200,
            "ResponseHeaders": {"Content-Encoding": "gzip"},
            "ResponseBody": base64.b64encode(gzip_answer()).decode(),
        }
    )
    entries.append(
        {
            "RequestUri": f"{base}/{HUB}?api-version=2020-06",
            "RequestMethod": "GET",
            "RequestHeaders": {"Authorization": CLIENT_TOKEN},
            "RequestBody": None,
            "StatusCode": 200,
            "ResponseHeaders": {"Content-Type": "application/atom+xml;type=entry;charset=utf-8"},
            "ResponseBody": hub_description().decode(),
        }
    )
    return {"Entries": entries, "Variables": {}}
