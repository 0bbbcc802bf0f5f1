"""Secrets out, by meaning, before anything is stored, logged or shown: one redactor for
headers, URLs, bodies (in every charset and Content-Encoding they declare) and log lines.

The shapes: SAS `sig` and `SharedAccessKey=` values, plain or percent-encoded (`shapes`);
`Authorization`-like headers and bearer tokens (`shapes`); values of fields that are
secrets by name — `PrimaryKey`, `SecondaryKey`, push credentials (`fields`); the same
written with JSON or XML escapes (`escapes`); inside gzip/deflate bodies (`bodies`).

Part of the vocabulary floor: imports only `proxy.exchange` and `proxy.inflate`.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from functools import lru_cache, partial

from proxy import inflate
from proxy.exchange import Exchange, Headers, Message
from proxy.redact import bodies, escapes, fields, logs, shapes, triggers
from proxy.redact.bodies import NOT_STORED
from proxy.redact.shapes import MARKER

__all__ = [
    "MARKER", "NOT_STORED", "body", "exchange", "header", "headers", "install_logging", "message",
    "text",
]  # fmt: skip

_EXCHANGE_FIELDS = tuple(field.name for field in dataclass_fields(Exchange))
_DEPTH = 3
"""How many escape layers deep (JSON in JSON in XML…) a secret is still looked for."""


def might_hold_secret(value: str) -> bool:
    """False when `text(value)` is certainly `value`: a cheap look for the shapes' words."""
    return triggers.in_text(value) > 0


def text(value: str, *, _depth: int = 0) -> str:
    """A header value, URL, log line or text with every secret replaced by the marker."""
    if not might_hold_secret(value):
        return value
    value = fields.scrub(value)
    if _depth < _DEPTH:
        deeper = partial(text, _depth=_depth + 1)
        value = escapes.json_strings(value, deeper)
        value = escapes.xml_references(value, deeper)
    return shapes.scrub(value)


def body(
    data: bytes, *, content_type: str | None = None, content_encoding: str | None = None
) -> bytes:
    """A body with its secrets replaced (see `bodies`); the same object when it had none.

    An ASCII body in no Content-Encoding and no wide charset reads the same as text, so
    when its bytes hold none of the shapes' words it is returned without decoding it.
    """
    if (
        isinstance(data, bytes)
        and data.isascii()
        and not inflate.codings(content_encoding)
        and bodies.charset(data, content_type)[0] == "utf-8"
        and not triggers.in_bytes(data)
    ):
        return data
    return bodies.body(data, text, content_type=content_type, content_encoding=content_encoding)


_credential = lru_cache(maxsize=1024)(shapes.credential)
"""Clients reuse one SAS token for many requests (the SDKs cache it for its lifetime), so
its redacted form is remembered rather than searched for again (~20 µs) each time."""


def header(name: str, value: str) -> str:
    if name.lower() in shapes.CREDENTIAL_HEADERS:
        return _credential(value)
    return text(value)


def headers(pairs: Headers) -> Headers:
    """The pairs with secrets replaced; the same tuple when no value changed."""
    credential = shapes.CREDENTIAL_HEADERS
    others = "\n".join([value for name, value in pairs if name.lower() not in credential])
    if might_hold_secret(others):
        out = tuple([(name, header(name, value)) for name, value in pairs])
    else:  # only credential headers can change: one look at all the other values
        out = tuple(
            [
                (name, _credential(value) if name.lower() in credential else value)
                for name, value in pairs
            ]
        )
    return pairs if out == pairs else out


def message(msg: Message) -> Message:
    """The message with secrets replaced; the same object when it had none."""
    new_headers = headers(msg.headers)
    encodings = [value for name, value in msg.headers if name.lower() == "content-encoding"]
    new_body = body(
        msg.body,
        content_type=msg.header("Content-Type"),
        content_encoding=", ".join(encodings) or None,
    )
    if new_headers is msg.headers and new_body is msg.body:
        return msg
    return Message(
        headers=new_headers, body=new_body, full_size=msg.full_size, full_sha256=msg.full_sha256
    )


def exchange(ex: Exchange) -> Exchange:
    """The exchange as it may be stored: no signature, key or credential, anywhere; the
    same object when it had none."""
    quick = _only_credentials(ex)
    return quick if quick is not None else _every_field(ex)


def _every_field(ex: Exchange) -> Exchange:
    changed = {
        "method": text(ex.method),
        "url": text(ex.url),
        "request": message(ex.request),
        "response": message(ex.response) if ex.response is not None else None,
        "error": text(ex.error) if ex.error else ex.error,
        "reason": text(ex.reason) if ex.reason else ex.reason,
    }
    if all(value is getattr(ex, name) for name, value in changed.items()):
        return ex
    current = {name: getattr(ex, name) for name in _EXCHANGE_FIELDS}
    return Exchange(**(current | changed))  # `dataclasses.replace` costs twice as much


def install_logging() -> None:
    """Redact every log line this process writes from now on (idempotent)."""
    logs.install(text)


def _only_credentials(ex: Exchange) -> Exchange | None:
    """The redacted exchange when nothing but credential headers can hold a secret, else
    None: one look at everything else (the common case; the long way takes ~7 looks).
    Everything looked at must be ASCII (no case folding to think about) and each body plain
    UTF-8 text, as `body` reads it; a word the join makes across two parts only sends the
    exchange the long way."""
    parts = [ex.method, ex.url, ex.error or "", ex.reason or ""]
    plain: list[bytes] = []
    credentials: list[bool] = []
    for msg in (ex.request, ex.response):
        if msg is None:
            continue
        found = False
        for name, value in msg.headers:
            lowered = name.lower()
            if lowered in shapes.CREDENTIAL_HEADERS:
                found = True
                continue
            if lowered == "content-encoding" and inflate.codings(value):
                return None
            parts.append(value)
        credentials.append(found)
        data = msg.body
        if data and (
            not isinstance(data, bytes)
            or bodies.charset(data, msg.header("Content-Type"))[0] != "utf-8"
        ):
            return None
        plain.append(data)
    text_parts = "\n".join(parts)
    if not text_parts.isascii():
        return None
    blob = b"\n".join([text_parts.encode(), *plain])
    if not blob.isascii() or triggers.in_bytes(blob):
        return None
    request = _credentials_replaced(ex.request) if credentials[0] else ex.request
    response = ex.response
    if response is not None and credentials[1]:
        response = _credentials_replaced(response)
    if request is ex.request and response is ex.response:
        return ex
    current = {name: getattr(ex, name) for name in _EXCHANGE_FIELDS}
    return Exchange(**(current | {"request": request, "response": response}))


def _credentials_replaced(msg: Message) -> Message:
    credential = shapes.CREDENTIAL_HEADERS
    pairs = tuple(
        [(name, _credential(v) if name.lower() in credential else v) for name, v in msg.headers]
    )
    if pairs == msg.headers:
        return msg
    return Message(
        headers=pairs, body=msg.body, full_size=msg.full_size, full_sha256=msg.full_sha256
    )
