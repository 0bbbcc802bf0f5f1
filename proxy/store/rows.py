"""Turn captured exchanges into database rows: check the signature, redact, truncate, decode.

Runs in the recorder's thread. The signature is checked against configured keys
*before* redaction, so the verdict can be stored while the signature never is.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote, urlsplit

from proxy import redact, sas
from proxy.exchange import Exchange, Message
from proxy.model import Decoded, Device
from proxy.store import Rows, headers_to_text

log = logging.getLogger(__name__)


def build(batch: Iterable[Exchange], *, body_cap: int, keys: dict[str, str]) -> Rows:
    """Rows for a batch of raw exchanges."""
    out = Rows(exchanges=[], devices=[], device_tags=[])
    for raw in batch:
        verdict = raw.sas_verdict or (sas_verdict(raw, keys) if keys else None)
        ex = redact.exchange(replace(raw, sas_verdict=verdict))
        decoded = decode(ex)
        out.exchanges.append(exchange_row(ex, decoded, body_cap=body_cap))
        if decoded is not None:
            add_device_rows(out, ex.id, decoded)
    return out


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


def _body_columns(prefix: str, msg: Message | None, body_cap: int) -> dict[str, Any]:
    if msg is None:
        return {f"{prefix}_headers": None, f"{prefix}_body": None}
    body = msg.body
    return {
        f"{prefix}_headers": headers_to_text(msg.headers),
        f"{prefix}_body": body[:body_cap],
        f"{prefix}_body_size": len(body),
        f"{prefix}_body_sha256": hashlib.sha256(body).hexdigest() if body else None,
        f"{prefix}_truncated": int(len(body) > body_cap),
    }


def exchange_row(ex: Exchange, decoded: Decoded | None, *, body_cap: int) -> dict[str, Any]:
    """The `exchanges` row of a redacted exchange."""
    parts = urlsplit(ex.url)
    row: dict[str, Any] = {
        "id": ex.id,
        "session": ex.session,
        "started_at": ex.started_at,
        "duration_ms": round(ex.duration_ms, 3),
        "method": ex.method,
        "url": ex.url,
        "host": parts.netloc,
        "path": parts.path,
        "query": parts.query,
        "client": ex.client,
        "status": ex.status,
        "reason": ex.reason,
        "error": ex.error,
        "proxy_status": ex.proxy_status,
        "sas_verdict": ex.sas_verdict,
        **_body_columns("request", ex.request, body_cap),
        **_body_columns("response", ex.response, body_cap),
    }
    if decoded is not None:
        row.update(decoded_columns(decoded))
    return row


def decoded_columns(decoded: Decoded) -> dict[str, Any]:
    """The decode columns of an `exchanges` row."""
    op, req, resp = decoded.operation, decoded.request, decoded.response
    error = resp.error if resp is not None else None
    return {
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
        "patch": json.dumps([[p.op, p.path, p.value] for p in req.patch]) if req.patch else None,
        "decode_notes": json.dumps(list(decoded.notes)) if decoded.notes else None,
    }


def add_device_rows(out: Rows, exchange_id: str, decoded: Decoded) -> None:
    """Append `devices` and `device_tags` rows for every device in either body."""
    sides = [("request", decoded.request.devices)]
    if decoded.response is not None:
        sides.append(("response", decoded.response.devices))
    for direction, devices in sides:
        for position, device in enumerate(devices):
            device_id = f"{exchange_id}:{direction[:3]}:{position}"
            out.devices.append(device_row(device, device_id, exchange_id, direction, position))
            out.device_tags.extend(
                {"device_id": device_id, "exchange_id": exchange_id, "tag": tag}
                for tag in dict.fromkeys(device.tags)
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
        "templates": json.dumps([_template_json(t) for t in device.templates])
        if device.templates
        else None,
        "extra": json.dumps(dict(device.extra)) if device.extra else None,
        "elements": json.dumps(list(device.elements)) if device.elements else None,
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
