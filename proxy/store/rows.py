"""Turn captured exchanges into database rows: check the signature, redact, decode.

Runs in the writer. The signature is checked against configured keys *before*
redaction, so the verdict can be stored while the signature never is.

Anything a client can send becomes a row: raw bytes stay raw (bodies are BLOBs), and
derived text (ids, tags, template names, the URL, JSON columns) is made safe for the
store (lone surrogates and undecodable bytes replaced), with a note saying so.
Building the rows of one exchange never raises: a decoder bug or a value no store can
hold leaves the exchange stored with its raw bytes and the reason beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from proxy import redact, sas
from proxy.exchange import Exchange, Headers, Message
from proxy.model import Decoded, Device
from proxy.store import findings
from proxy.store.write import Rows

log = logging.getLogger(__name__)
_CUT_MARGIN = 4096
"""Bytes past the body cap that are redacted with the kept part (longer than any token)."""
_SURROGATE = re.compile(f"[{chr(0xD800)}-{chr(0xDFFF)}]")  # mypyc refuses the literal

_json = json.JSONEncoder(ensure_ascii=False, allow_nan=True).encode
_string = json.encoder.encode_basestring
"""A str as a JSON string literal, exactly as `_json` writes it (ensure_ascii=False)."""
"""One encoder for every JSON column: `json.dumps(ensure_ascii=False)` builds a new one per call."""


@dataclass(frozen=True, slots=True)
class BodyFacts:
    """What is known of a full body when only its first `body_cap` bytes travel on."""

    size: int
    sha256: str | None
    """Of the full body; None when the body was not cut (the writer hashes what it has)."""


@dataclass(frozen=True, slots=True)
class Captured:
    """An exchange whose bodies are already cut at the body cap, and the facts of the full ones."""

    exchange: Exchange
    request: BodyFacts
    response: BodyFacts | None
    redacted: bool = False
    """True when `exchange` is already redacted and its `sas_verdict` already set
    (`redacted()`): the proxy does it before the exchange is written to the journal."""


def redacted(captured: Captured, keys: dict[str, str]) -> Captured:
    """The captured exchange with its signature checked against `keys`, then redacted."""
    if captured.redacted:
        return captured
    raw = captured.exchange
    verdict = raw.sas_verdict or (sas_verdict(raw, keys) if keys else None)
    ex = redact.exchange(raw if verdict == raw.sas_verdict else replace(raw, sas_verdict=verdict))
    return Captured(ex, captured.request, captured.response, redacted=True)


def capture(ex: Exchange, body_cap: int) -> Captured:
    """Cut both bodies at `body_cap`, keeping their full size and (when cut) their SHA-256."""
    request_facts, request = _cut(ex.request, body_cap)
    response_facts, response = (None, None) if ex.response is None else _cut(ex.response, body_cap)
    if request is not ex.request or response is not ex.response:
        ex = replace(ex, request=request, response=response)
    return Captured(ex, request_facts, response_facts)


def _cut(msg: Message, body_cap: int) -> tuple[BodyFacts, Message]:
    body = msg.body
    if msg.full_size is not None and msg.full_size > len(body):  # streamed; its start is here
        content_type = msg.header("Content-Type")
        streamed_encoding = ", ".join(v for n, v in msg.headers if n.lower() == "content-encoding")
        kept = redact.body(
            body, content_type=content_type, content_encoding=streamed_encoding or None
        )
        facts = BodyFacts(msg.full_size, msg.full_sha256)
        return facts, Message(headers=msg.headers, body=kept[:body_cap])
    if len(body) <= body_cap:
        return BodyFacts(len(body), None), msg
    encodings = [v for n, v in msg.headers if n.lower() == "content-encoding"]
    encoding = ", ".join(encodings) or None
    content_type = msg.header("Content-Type")
    if encoding is not None and encoding.strip().lower() != "identity":
        # A compressed body is only redacted whole (it is inflated to be looked at).
        full = redact.body(body, content_type=content_type, content_encoding=encoding)
        kept = full[:body_cap]
    else:
        # Redact a little past the cut, so no secret straddles it, without copying the
        # whole (possibly huge) body.
        kept = redact.body(body[: body_cap + _CUT_MARGIN], content_type=content_type)
        kept = kept[:body_cap]
    # Size and hash are of the body as sent.
    facts = BodyFacts(len(body), hashlib.sha256(body).hexdigest())
    return facts, Message(headers=msg.headers, body=kept)


def build(batch: Iterable[Exchange], *, body_cap: int, keys: dict[str, str]) -> Rows:
    """Rows for a batch of raw (uncut) exchanges, all tables together."""
    out = Rows(exchanges=[], devices=[], device_tags=[])
    for raw in batch:
        one = build_one(capture(raw, body_cap), keys)
        out.exchanges.extend(one.exchanges)
        out.devices.extend(one.devices)
        out.device_tags.extend(one.device_tags)
        for table, more in one.more.items():
            out.more.setdefault(table, []).extend(more)
    return out


AddRows = Callable[[Exchange, Decoded | None], dict[str, list[dict[str, Any]]]]
"""Rows of other tables for one stored exchange (redacted) and its decoded record, by
table: the place for work done once at ingest, such as per-exchange findings. Its rows
are written in the exchange's transaction; if it raises, the exchange is stored
without its decoded rows and the reason (like a decoder failure)."""


def build_one(
    captured: Captured, keys: dict[str, str], add_rows: AddRows | None = None, *, judge: bool = True
) -> Rows:
    """The rows of one captured exchange; never raises (the failure is stored instead).
    `judge` False leaves its findings for later (`proxy/store/judge_later.py`)."""
    try:
        return _build_one(captured, keys, add_rows, judge)
    except Exception as error:  # a bug here must cost one exchange its decoding, nothing more
        log.exception("rows for exchange %s failed; stored raw", captured.exchange.id)
        return Rows(exchanges=[fallback_row(captured, error)], devices=[], device_tags=[])


def _build_one(
    captured: Captured, keys: dict[str, str], add_rows: AddRows | None, judge: bool
) -> Rows:
    ex = redacted(captured, keys).exchange
    decoded = decode(ex)
    notes: list[str] = []
    row = exchange_row(ex, captured, decoded, notes)
    out = Rows(exchanges=[row], devices=[], device_tags=[])
    if decoded is not None:
        add_device_rows(out, ex.id, decoded, notes)
    if judge:
        findings.add_rows(out, ex, decoded, truncated=bool(row.get("request_truncated")))
    if add_rows is not None:
        out.more.update(add_rows(ex, decoded))
    if notes:
        row["decode_notes"] = _json([*json.loads(row.get("decode_notes") or "[]"), *notes])
    return out


def fallback_row(captured: Captured, error: BaseException) -> dict[str, Any]:
    """The least an exchange is stored as: its identity, raw (redacted) bodies and the reason."""
    ex = captured.exchange
    try:
        ex = redact.exchange(ex)
    except Exception:  # never store an unredacted body: drop what could not be redacted
        ex = replace(ex, request=Message(headers=(), body=b""), response=None)
    notes: list[str] = []
    row = {
        "id": safe_text(ex.id, "id", notes),
        "session": safe_text(ex.session, "session", notes),
        "started_at": float(ex.started_at),
        "duration_ms": float(ex.duration_ms),
        "method": safe_text(ex.method, "method", notes),
        "url": safe_text(redact.text(ex.url), "url", notes),
        "status": ex.status,
        "error": ex.error,
        "proxy_status": ex.proxy_status,
        **_body_columns("request", ex.request, captured.request, notes),
        **_body_columns("response", ex.response, captured.response, notes),
    }
    reason = f"not decoded: {type(error).__name__}: {error}"
    row["decode_notes"] = _json([safe_text(reason, "note", []), *notes])
    return row


def safe_text(value: str, field: str, notes: list[str]) -> str:
    """`value` as text any store accepts: lone surrogates (and smuggled bytes) replaced by U+FFFD.

    Strings from the HTTP parser carry undecodable URL bytes as surrogate escapes; strings
    from JSON bodies may hold `\\ud800` escapes. Neither encodes as UTF-8, so neither can be
    stored as text; the raw bytes are kept in the body and the URL is kept %-encoded.
    """
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        notes.append(f"{field}: lone surrogates or undecodable bytes replaced by U+FFFD")
        return _SURROGATE.sub("\ufffd", value)


def safe_url(url: str, notes: list[str]) -> str:
    """The URL with bytes that were not UTF-8 (surrogate escapes) %-encoded, losslessly."""
    if url.isascii():
        return url
    try:
        url.encode("utf-8")
        return url
    except UnicodeEncodeError:
        raw = url.encode("utf-8", "surrogateescape") if _escapes_only(url) else None
        if raw is None:
            return safe_text(url, "url", notes)
        notes.append("url: bytes that are not UTF-8 stored %-encoded")
        return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in raw)


def _escapes_only(text: str) -> bool:
    return all(not 0xD800 <= ord(c) < 0xDC80 for c in text if 0xD800 <= ord(c) <= 0xDFFF)


def sas_verdict(ex: Exchange, keys: dict[str, str]) -> str | None:
    """'valid' or 'invalid: why' for the request's SAS signature, checked with `keys`."""
    header = ex.request.header("Authorization")
    token = sas.parse_token(header) if header else None
    if token is None:
        return None
    if token.skn is None or token.sig is None:
        return "invalid: the token has no skn or no sig"
    key = keys.get(unquote(token.skn))
    if key is None:
        return f"unchecked: no key named {unquote(token.skn)!r} was configured"
    if sas.check_signature(token, key):
        return "valid"
    return "invalid: the signature does not match the configured key"


def decode(ex: Exchange) -> Decoded | None:
    """The decoded exchange; None (logged) if a decoder bug escaped: recording goes on."""
    try:
        from proxy.decode import decode_exchange

        return decode_exchange(ex.method, ex.url, ex.request, ex.status, ex.response)
    except Exception:
        log.exception("decoder failed on exchange %s; stored undecoded", ex.id)
        return None


def _body_columns(
    prefix: str, msg: Message | None, facts: BodyFacts | None, notes: list[str]
) -> dict[str, Any]:
    if msg is None:
        return {f"{prefix}_headers": None, f"{prefix}_body": None}
    body = msg.body
    cut = facts is not None and facts.sha256 is not None
    size = facts.size if cut and facts is not None else len(body)
    sha = facts.sha256 if cut and facts is not None else None
    if sha is None and body:
        sha = hashlib.sha256(body).hexdigest()
    return {
        f"{prefix}_headers": safe_text(headers_json(msg.headers), f"{prefix} headers", notes),
        f"{prefix}_body": body,
        f"{prefix}_body_size": size,
        f"{prefix}_body_sha256": sha,
        f"{prefix}_truncated": int(cut),
    }


def headers_json(headers: Headers) -> str:
    """`read.headers_to_text(headers)`, the same text, built without the JSON encoder's
    per-call machinery (twice as fast; the writer does it for every message)."""
    pairs = [f"[{_string(name)}, {_string(value)}]" for name, value in headers]
    return f"[{', '.join(pairs)}]"


def exchange_row(
    ex: Exchange, captured: Captured, decoded: Decoded | None, notes: list[str]
) -> dict[str, Any]:
    """The `exchanges` row of a redacted exchange."""
    url = safe_url(ex.url, notes)
    parts = urlsplit(url)
    row: dict[str, Any] = {
        "id": safe_text(ex.id, "id", notes),
        "session": safe_text(ex.session, "session", notes),
        "started_at": ex.started_at,
        "duration_ms": round(ex.duration_ms, 3),
        "method": safe_text(ex.method, "method", notes),
        "url": url,
        "host": parts.netloc,
        "path": parts.path,
        "query": parts.query,
        "client": ex.client,
        "status": ex.status,
        "reason": None if ex.reason is None else safe_text(ex.reason, "reason", notes),
        "error": None if ex.error is None else safe_text(ex.error, "error", notes),
        "proxy_status": ex.proxy_status,
        "sas_verdict": ex.sas_verdict,
        **_body_columns("request", ex.request, captured.request, notes),
        **_body_columns("response", ex.response, captured.response, notes),
    }
    if decoded is not None:
        row.update(decoded_columns(decoded, notes))
    return row


def decoded_columns(decoded: Decoded, notes: list[str] | None = None) -> dict[str, Any]:
    """The decode columns of an `exchanges` row."""
    notes = [] if notes is None else notes
    op, req, resp = decoded.operation, decoded.request, decoded.response
    error = resp.error if resp is not None else None
    columns = {
        "operation": str(op.name),
        "hub": op.hub,
        "resource_id": op.resource_id,
        "api_version": op.api_version,
        "request_format": req.format,
        "request_decode_error": req.decode_error,
        "response_format": resp.format if resp is not None else None,
        "response_decode_error": resp.decode_error if resp is not None else None,
        "error_code": error.code if error else None,
        "error_detail": error.detail if error else None,
        "tracking_id": error.tracking_id if error else None,
        "patch": _json([[p.op, p.path, p.value] for p in req.patch]) if req.patch else None,
        "decode_notes": _json(list(decoded.notes)) if decoded.notes else None,
    }
    return _safe_columns(columns, notes)


def _safe_columns(columns: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    for name, value in columns.items():
        if type(value) is str and not value.isascii():
            columns[name] = safe_text(value, name, notes)
    return columns


def add_device_rows(
    out: Rows, exchange_id: str, decoded: Decoded, notes: list[str] | None = None
) -> None:
    """Append `devices` and `device_tags` rows for every device in either body."""
    notes = [] if notes is None else notes
    sides = [("request", decoded.request.devices)]
    if decoded.response is not None:
        sides.append(("response", decoded.response.devices))
    for direction, devices in sides:
        for position, device in enumerate(devices):
            device_id = f"{exchange_id}:{direction[:3]}:{position}"
            row = device_row(device, device_id, exchange_id, direction, position)
            out.devices.append(_safe_columns(row, notes))
            out.device_tags.extend(
                {"device_id": device_id, "exchange_id": exchange_id, "tag": tag}
                for tag in dict.fromkeys(safe_text(t, "tags", notes) for t in device.tags)
            )


def device_row(
    device: Device, device_id: str, exchange_id: str, direction: str, position: int
) -> dict[str, Any]:
    first = device.templates[0] if device.templates else None
    return {
        "id": device_id,
        "exchange_id": exchange_id,
        "direction": direction,
        "position": position,
        "kind": device.kind,
        "source_type": device.source_type,
        "platform": str(device.platform),
        "handle": device.handle,
        "registration_id": device.registration_id,
        "installation_id": device.installation_id,
        "user_id": device.user_id,
        "tags": ",".join(device.tags),
        "expiration": device.expiration,
        "etag": device.etag,
        "push_variables": device.push_variables,
        "push_channel_expired": (
            None if device.push_channel_expired is None else int(device.push_channel_expired)
        ),
        "template_name": first.name if first else None,
        "template_body": first.body if first else None,
        "templates": _json([_template_json(t) for t in device.templates])
        if device.templates
        else None,
        "extra": _json(dict(device.extra)) if device.extra else None,
        "elements": _json(list(device.elements)) if device.elements else None,
    }


def _template_json(template: Any) -> dict[str, Any]:
    return {
        "name": template.name,
        "body": template.body,
        "headers": dict(template.headers),
        "expiry": template.expiry,
        "tags": list(template.tags),
        "priority": template.priority,
    }
