"""Exchanges built through the real decoder for rule tests: Atom, installations, SAS headers."""

from __future__ import annotations

import json

from proxy import sas
from proxy.decode import decode_exchange
from proxy.exchange import Exchange, Message
from proxy.model import Decoded

NOW = 1_795_000_000.0
HOST = "ns.servicebus.windows.net"
NS = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"
TOKEN = sas.make_token(f"https://{HOST}/", "DefaultFullSharedAccessSignature", "k", now=NOW)
Item = tuple[Exchange, Decoded]
_ids = iter(range(1_000_000))


def make(
    method: str = "POST",
    path: str = "registrations",
    body: str | bytes = b"",
    *,
    query: str | None = "api-version=2020-06",
    headers: dict[str, str | None] | None = None,
    status: int | None = None,
    response_headers: dict[str, str] | None = None,
    response_body: str = "",
    verdict: str | None = None,
    started_at: float = NOW,
    client: str | None = None,
) -> Item:
    """An exchange on hub `myhub` with SDK-like defaults, decoded by the real decoder."""
    url = f"https://{HOST}/myhub/{path}" + (f"?{query}" if query is not None else "")
    content_type = "application/atom+xml;type=entry;charset=utf-8"
    if path.startswith("installations"):
        content_type = "application/json"
    base: dict[str, str | None] = {
        "Authorization": TOKEN,
        "x-ms-version": "2020-06",
        "Content-Type": content_type if body else None,
    }
    base.update(headers or {})
    pairs = tuple((k, v) for k, v in base.items() if v is not None)
    request = Message(headers=pairs, body=body.encode() if isinstance(body, str) else body)
    response = None
    if status is not None:
        response = Message(
            headers=tuple((response_headers or {}).items()), body=response_body.encode()
        )
    exchange = Exchange(
        id=f"x{next(_ids)}",
        session="s",
        started_at=started_at,
        duration_ms=1.0,
        method=method,
        url=url,
        request=request,
        status=status,
        response=response,
        sas_verdict=verdict,
        client=client,
    )
    decoded = decode_exchange(method, url, request, status, response)
    return exchange, decoded


def entry(root: str, *children: str) -> str:
    """An Atom entry holding one description with the given child elements."""
    return (
        '<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
        f'<{root} xmlns="{NS}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        f"{''.join(children)}</{root}></content></entry>"
    )


def el(name: str, value: str) -> str:
    return f"<{name}>{value}</{name}>"


def headers_xml(kind: str, **pairs: str) -> str:
    items = "".join(
        f"<{kind}Header><Header>{k.replace('_', '-')}</Header><Value>{v}</Value></{kind}Header>"
        for k, v in pairs.items()
    )
    return f"<{kind}Headers>{items}</{kind}Headers>"


TOKEN_EL = el("DeviceToken", "00fc13adff785122")
APPLE = entry("AppleRegistrationDescription", el("Tags", "a,b"), TOKEN_EL)
BODY = el("BodyTemplate", '<![CDATA[{"aps":{"alert":"$(m)"}}]]>')
XML_BODY = el("BodyTemplate", "<![CDATA[<toast/>]]>")
WNS = el("ChannelUri", "https://db3.notify.windows.com/?token=1")
MPNS = el("ChannelUri", "http://s.notify.live.net/u/1/db3/XYZ")


def reg(*children: str, root: str = "AppleRegistrationDescription", **kw: object) -> Item:
    return make("POST", "registrations", entry(root, *children), **kw)  # type: ignore[arg-type]


def inst(body: object, *, path: str = "installations/i1", **kw: object) -> Item:
    text = body if isinstance(body, str) else json.dumps(body)
    return make("PUT", path, text, **kw)  # type: ignore[arg-type]


def installation(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"installationId": "i1", "platform": "apns", "pushChannel": "00fc"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def tpl(platform: str, **template: object) -> Item:
    return inst(installation(platform=platform, templates={"t": template}))


def patch(ops: object) -> Item:
    return make("PATCH", "installations/i1", json.dumps(ops))


def sas_header(**fields: str) -> dict[str, str | None]:
    text = "&".join(f"{k}={v}" for k, v in fields.items())
    return {"Authorization": f"SharedAccessSignature {text}"}
