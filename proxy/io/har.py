"""HAR 1.2 out: one entry per exchange, hubscope's own facts under `_hubscope`.

Follows the HAR 1.2 spec (W3C Web Performance draft, as browsers, mitmproxy, Charles and
Fiddler write it): response `content.text` is the decoded body, base64 with
`encoding` when it is not text. Where HAR cannot carry the exact bytes (a gzip body, a
binary request body, a URL with characters a URI may not hold) `_hubscope` keeps them,
so `hubscope import` gets every byte back.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import parse_qsl, quote, urlsplit

from proxy import __version__
from proxy import inflate as bounded
from proxy.exchange import Headers, Message
from proxy.io.facts import FORMAT_VERSION, Item, decoded_json, finding_json

HTTP_VERSION = "HTTP/1.1"
"""hubscope does not record the protocol version; Notification Hubs speaks HTTP/1.1."""

_URI_SAFE = "/:?#@!$&'()*+,;=-._~%"
"""RFC 3986 reserved and unreserved characters, less `[` `]` (only for IPv6 hosts)."""


def creator() -> dict[str, str]:
    return {"name": "hubscope", "version": __version__}


def iso(ts: float) -> str:
    """`2026-11-23T10:00:00.123456Z`: the instant, to the microsecond, in UTC."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _headers(headers: Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _mime(message: Message) -> str:
    return message.header("Content-Type") or ""


def valid_uri(url: str) -> str:
    """The URL with characters an RFC 3986 URI may not hold percent-encoded."""
    parts = urlsplit(url)
    rest = url[len(f"{parts.scheme}://{parts.netloc}") :] if parts.netloc else url
    head = url[: len(url) - len(rest)]
    return head + quote(rest, safe=_URI_SAFE)


def inflate(message: Message) -> bytes | None:
    """The decoded body of a gzip or deflate response, None when it is not encoded."""
    encoding = message.header("Content-Encoding")
    if not message.body or not bounded.codings(encoding) or not bounded.is_supported(encoding):
        return None
    inflated = bounded.inflate(message.body, encoding)  # a bomb stops at bounded.LIMIT
    return inflated.body if inflated.complete else None


def _text_or_base64(body: bytes) -> dict[str, str]:
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def request(item: Item) -> tuple[dict[str, Any], dict[str, Any]]:
    """The HAR `request` and the `_hubscope` facts it needs to be exact."""
    ex, row = item.exchange, item.row
    extra: dict[str, Any] = {}
    url = valid_uri(ex.url)
    if url != ex.url:
        extra["url"] = ex.url
    out: dict[str, Any] = {
        "method": ex.method,
        "url": url,
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": _headers(ex.request.headers),
        "queryString": [
            {"name": k, "value": v}
            for k, v in parse_qsl(urlsplit(ex.url).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": row.get("request_body_size") or len(ex.request.body),
    }
    body = ex.request.body
    if body or ex.method in ("POST", "PUT", "PATCH"):
        post = {"mimeType": _mime(ex.request), "text": ""}
        try:
            post["text"] = body.decode("utf-8")
        except UnicodeDecodeError:
            post["text"] = base64.b64encode(body).decode("ascii")
            post["_encoding"] = "base64"
            extra["request_body_base64"] = post["text"]
        out["postData"] = post
    return out, extra


def response(item: Item) -> tuple[dict[str, Any], dict[str, Any]]:
    """The HAR `response` (status 0 when the upstream failed) and exactness facts."""
    ex, row = item.exchange, item.row
    extra: dict[str, Any] = {}
    if ex.response is None or ex.status is None:
        return {
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": _headers(ex.response.headers) if ex.response else [],
            "content": {"size": 0, "mimeType": ""},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_error": ex.error or "",
        }, extra
    message = ex.response
    wire = message.body
    decoded = inflate(message)
    content: dict[str, Any] = {"size": len(wire), "mimeType": _mime(message)}
    if decoded is not None:
        content["size"] = len(decoded)
        content["compression"] = len(decoded) - len(wire)
        extra["response_body_base64"] = base64.b64encode(wire).decode("ascii")
    if wire:
        content.update(_text_or_base64(decoded if decoded is not None else wire))
    full = row.get("response_body_size")
    if item.response_truncated and full is not None:
        content["comment"] = f"cut by hubscope at {len(wire)} of {full} bytes"
    return {
        "status": ex.status,
        "statusText": ex.reason or "",
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": _headers(message.headers),
        "content": content,
        "redirectURL": message.header("Location") or "",
        "headersSize": -1,
        "bodySize": full if full is not None else len(wire),
    }, extra


def entry(item: Item) -> dict[str, Any]:
    """One HAR entry: request, response, timings, and `_hubscope` facts."""
    ex, row = item.exchange, item.row
    har_request, request_extra = request(item)
    har_response, response_extra = response(item)
    waited = max(float(ex.duration_ms or 0.0), 0.0)
    facts: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "id": ex.id,
        "session": ex.session,
        "started_at": ex.started_at,
        "client": ex.client,
        "operation": str(item.decoded.operation.name),
        "hub": item.decoded.operation.hub,
        "resource_id": item.decoded.operation.resource_id,
        "sas_verdict": ex.sas_verdict,
        "error": ex.error,
        "proxy_status": ex.proxy_status,
        "request_truncated": item.request_truncated,
        "response_truncated": item.response_truncated,
        "request_body_size": row.get("request_body_size"),
        "response_body_size": row.get("response_body_size"),
        **request_extra,
        **response_extra,
        "decoded": decoded_json(item.decoded),
        "findings": [finding_json(f) for f in item.findings],
    }
    return {
        "startedDateTime": iso(ex.started_at),
        "time": waited,
        "request": har_request,
        "response": har_response,
        "cache": {},
        "timings": {
            "blocked": -1,
            "dns": -1,
            "connect": -1,
            "ssl": -1,
            "send": 0,
            "wait": waited,
            "receive": 0,
        },  # fmt: skip
        "_hubscope": facts,
    }


def write(items: Iterable[Item], out: IO[str], *, comment: str = "") -> int:
    """Stream a HAR document, one entry at a time; returns how many entries."""
    head = {"version": "1.2", "creator": creator(), "pages": []}
    if comment:
        head["comment"] = comment
    text = json.dumps({"log": head}, ensure_ascii=False)
    out.write(text[:-2] + ', "entries": [\n')
    count = 0
    for item in items:
        if count:
            out.write(",\n")
        out.write(json.dumps(entry(item), ensure_ascii=False))
        count += 1
    out.write("\n]}}\n")
    return count
