"""HAR in: entries written by browsers' DevTools, Playwright, mitmproxy, Charles, Proxyman,
Fiddler or hubscope itself, back into exchanges.

HAR keeps the decoded response body; when the headers say it was gzip or deflate on the
wire it is compressed again, as mitmproxy's own HAR import does (other encodings keep the
decoded body). A hubscope HAR carries the exact wire bytes under `_hubscope`, and those
win. Headers may come as `{"name", "value"}` objects or `[name, value]` pairs; HTTP/2
pseudo-headers (`:authority`) are left out.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from proxy.exchange import Exchange, Headers, Message, new_id

TICK = 1e-6
"""Entries with the same start keep their file order, one microsecond apart."""


class HarError(ValueError):
    """The file is not a HAR, or an entry cannot be read."""


def is_har(data: object) -> bool:
    log = data.get("log") if isinstance(data, dict) else None
    return isinstance(log, dict) and isinstance(log.get("entries"), list)


def creator_of(data: dict[str, Any]) -> str:
    """`mitmproxy 11.0.2`, `Playwright 1.49`, … as the file names its writer."""
    creator = data["log"].get("creator") or {}
    name = str(creator.get("name") or "unknown")
    version = str(creator.get("version") or "").strip()
    return f"{name} {version}".strip()


def _headers(value: object) -> Headers:
    pairs: list[tuple[str, str]] = []
    for header in value if isinstance(value, list) else []:
        if isinstance(header, dict):
            name, text = header.get("name"), header.get("value")
        elif isinstance(header, list | tuple) and len(header) == 2:
            name, text = header
        else:
            raise HarError(f"a header is neither {{name, value}} nor a pair: {header!r}")
        if name is None or str(name).startswith(":"):
            continue
        pairs.append((str(name), "" if text is None else str(text)))
    return tuple(pairs)


def _b64(text: object) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError) as error:
        raise HarError(f"a base64 body does not decode: {error}") from None


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def _encode_text(text: str, content_type: str) -> bytes:
    try:
        return text.encode(_charset(content_type))
    except (LookupError, UnicodeEncodeError):
        return text.encode("utf-8", errors="surrogateescape")


def _header(headers: Headers, name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def request_body(request: dict[str, Any], facts: dict[str, Any]) -> bytes:
    if facts.get("request_body_base64") is not None:
        return _b64(facts["request_body_base64"])
    post = request.get("postData")
    if not isinstance(post, dict):
        return b""
    text = post.get("text")
    if text is None:
        params = [(p.get("name", ""), p.get("value", "")) for p in post.get("params") or []]
        return urlencode(params).encode() if params else b""
    if post.get("_encoding") == "base64" or post.get("encoding") == "base64":
        return _b64(text)
    return _encode_text(str(text), str(post.get("mimeType") or ""))


def _compress_again(body: bytes, encoding: str) -> bytes:
    """The body as the wire had it, when the headers say it was compressed."""
    if not body:
        return body
    if encoding in ("gzip", "x-gzip") and not body.startswith(b"\x1f\x8b"):
        return gzip.compress(body, mtime=0)
    if encoding == "deflate":
        try:
            zlib.decompressobj().decompress(body, 1)  # a look, never more than one byte out
        except zlib.error:
            return zlib.compress(body)
    return body


def response_body(response: dict[str, Any], headers: Headers, facts: dict[str, Any]) -> bytes:
    if facts.get("response_body_base64") is not None:
        return _b64(facts["response_body_base64"])
    content = response.get("content")
    if not isinstance(content, dict):
        return b""
    if "_file" in content and "text" not in content:
        raise HarError("a body is in a separate file (_file): record the HAR with content embedded")
    text = content.get("text")
    if text is None:
        return b""
    if content.get("encoding") == "base64":
        body = _b64(text)
    else:
        body = _encode_text(str(text), str(content.get("mimeType") or ""))
    encoding = _header(headers, "content-encoding").strip().lower()
    return _compress_again(body, encoding)


def started(entry: dict[str, Any], facts: dict[str, Any]) -> float:
    if isinstance(facts.get("started_at"), int | float):
        return float(facts["started_at"])
    text = str(entry.get("startedDateTime") or "")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise HarError(f"startedDateTime is not an ISO 8601 time: {text!r}") from None


def exchange(entry: dict[str, Any], session: str, previous: float) -> Exchange:
    """One HAR entry as an exchange under a new id in `session`."""
    facts = entry.get("_hubscope") if isinstance(entry.get("_hubscope"), dict) else {}
    assert isinstance(facts, dict)
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, dict) or "url" not in request or "method" not in request:
        raise HarError("an entry has no request with method and url")
    request_headers = _headers(request.get("headers"))
    status: int | None = None
    reason: str | None = None
    reply: Message | None = None
    error = facts.get("error")
    if isinstance(response, dict):
        status = int(response.get("status") or 0) or None
        reason = str(response.get("statusText") or "") or None
        headers = _headers(response.get("headers"))
        if status is not None:
            reply = Message(headers=headers, body=response_body(response, headers, facts))
        error = error or response.get("_error") or None
    if status is None and not error:
        error = "no response recorded in the HAR"
    return Exchange(
        id=new_id(),
        session=session,
        started_at=max(started(entry, facts), previous + TICK),
        duration_ms=max(float(entry.get("time") or 0.0), 0.0),
        method=str(request["method"]).upper(),
        url=str(facts.get("url") or request["url"]),
        request=Message(headers=request_headers, body=request_body(request, facts)),
        status=status,
        reason=reason,
        response=reply,
        error=str(error) if error else None,
        client=facts.get("client"),
        proxy_status=facts.get("proxy_status"),
        sas_verdict=facts.get("sas_verdict"),
    )


def read(data: dict[str, Any], session: str) -> list[Exchange]:
    """Every entry of a HAR document, in file order."""
    if not is_har(data):
        raise HarError("not a HAR file (no log.entries)")
    out: list[Exchange] = []
    previous = 0.0
    for number, entry in enumerate(data["log"]["entries"], start=1):
        if not isinstance(entry, dict):
            raise HarError(f"entry {number} is not an object")
        try:
            item = exchange(entry, session, previous)
        except HarError as error:
            raise HarError(f"entry {number}: {error}") from None
        out.append(item)
        previous = item.started_at
    return out
