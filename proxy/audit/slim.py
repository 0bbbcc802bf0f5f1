"""An exchange's context rebuilt from its stored columns and device rows, without its bodies.

What the session rules read (operation, status, ids, headers, devices and their ETags)
is already in the row the recorder decoded: rebuilding it costs a few lookups, not a
parse. Only for exchanges judged under the current rule set, whose decode is current too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from proxy import store
from proxy.exchange import Exchange, Message
from proxy.model import Decoded, DecodedBody, Device, Op, Operation, Platform, Template
from proxy.rules import Ctx

ROW_COLUMNS = (
    "id, session, started_at, method, url, client, status, request_headers, response_headers,"
    " request_truncated, operation, hub, resource_id, api_version"
)
"""What the audit reads of every exchange: no body."""

_DEVICE_COLUMNS = (
    "exchange_id, direction, kind, source_type, platform, handle, registration_id,"
    " installation_id, etag, template_name"
)
_OPS = {op.value: op for op in Op}
_PLATFORMS = {p.value: p for p in Platform}


def device_rows(db: Database, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Device rows by exchange id, request side first, in body order."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        cursor = db.conn.execute(
            f"select {_DEVICE_COLUMNS} from devices where exchange_id in"
            f" ({', '.join('?' * len(chunk))}) order by exchange_id, direction, position",
            list(chunk),
        )
        names = [d[0] for d in cursor.description]
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            out[row["exchange_id"]].append(row)
    return out


def _device(row: dict[str, Any]) -> Device:
    name = row["template_name"]
    return Device(
        kind=row["kind"],
        source_type=row["source_type"] or "",
        platform=_PLATFORMS.get(row["platform"], Platform.UNKNOWN),
        handle=row["handle"],
        registration_id=row["registration_id"],
        installation_id=row["installation_id"],
        etag=row["etag"],
        templates=(Template(name=name, body=None),) if name is not None else (),
    )


def slim_ctx(row: dict[str, Any], devices: list[dict[str, Any]]) -> Ctx:
    """The context of a stored, decoded exchange with empty bodies."""
    has_response = row["status"] is not None or bool(row["response_headers"])
    exchange = Exchange(
        id=row["id"],
        session=row["session"],
        started_at=row["started_at"],
        duration_ms=0.0,
        method=row["method"],
        url=row["url"],
        request=Message(headers=store.headers_from_text(row["request_headers"]), body=b""),
        status=row["status"],
        response=Message(headers=store.headers_from_text(row["response_headers"]), body=b"")
        if has_response
        else None,
        client=row["client"],
    )
    operation = Operation(
        name=_OPS.get(row["operation"] or "", Op.UNKNOWN),
        hub=row["hub"],
        resource_id=row["resource_id"],
        api_version=row["api_version"],
    )
    request = tuple(_device(d) for d in devices if d["direction"] == "request")
    response = tuple(_device(d) for d in devices if d["direction"] == "response")
    decoded = Decoded(
        operation=operation,
        request=DecodedBody(format="other", devices=request),
        response=DecodedBody(format="other", devices=response) if has_response else None,
    )
    return Ctx(exchange, decoded, truncated=bool(row["request_truncated"]))

