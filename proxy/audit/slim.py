"""An exchange's context rebuilt from its stored columns and device rows, without its bodies.

What the session rules read (operation, status, ids, headers, devices and their ETags)
is already in the row the recorder decoded: rebuilding it costs a few lookups, not a
parse. Only for exchanges judged under the current rule set, whose decode is current too.
One query reads a page of exchanges with their judged mark, stored findings and devices
(as JSON arrays built by SQLite), so each exchange costs one row.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from proxy.exchange import Exchange, Message
from proxy.model import Decoded, DecodedBody, Device, Op, Operation, Platform, Template
from proxy.rules import Ctx

ROW_COLUMNS = (
    "e.id, e.session, e.started_at, e.method, e.url, e.client, e.status, e.request_headers,"
    " e.response_headers, e.request_truncated, e.operation, e.hub, e.resource_id,"
    " e.api_version"
)
"""What the audit reads of every exchange: no body."""

STORED_COLUMNS = (
    "(select j.ruleset from findings_judged j where j.exchange_id = e.id) as ruleset,"
    " (select json_group_array(json_array(f.rule, f.severity, f.actual, f.pointer, f.expected,"
    " f.spec, f.source)) from (select * from findings f where f.exchange_id = e.id"
    " order by f.position) f) as found,"
    " (select json_group_array(json_array(d.direction, d.kind, d.source_type, d.platform,"
    " d.handle, d.registration_id, d.installation_id, d.etag, d.template_name))"
    " from (select * from devices d where d.exchange_id = e.id"
    " order by d.direction, d.position) d) as devices"
)
"""Per exchange: the rule set it was judged under, its stored findings and its devices."""

WITHOUT_STORED = "null as ruleset, null as found, null as devices"
"""For a file older than the findings tables: every exchange is judged again."""

FINDING_FIELDS = ("rule", "severity", "actual", "pointer", "expected", "spec", "source")

_OPS = {op.value: op for op in Op}
_PLATFORMS = {p.value: p for p in Platform}
_NO_BODY = DecodedBody(format="other")


def _device(values: list[Any]) -> Device:
    _, kind, source_type, platform, handle, registration_id, installation_id, etag, name = values
    return Device(
        kind=kind,
        source_type=source_type or "",
        platform=_PLATFORMS.get(platform, Platform.UNKNOWN),
        handle=handle,
        registration_id=registration_id,
        installation_id=installation_id,
        etag=etag,
        templates=(Template(name=name, body=None),) if name is not None else (),
    )


class SlimCtx(Ctx):
    """A stored exchange's context for the session rules: headers are looked up in the
    stored JSON and devices built from their rows, each only when a rule asks. Its
    `exchange` has no bodies and no headers, and `decoded` only the operation."""

    def __init__(self, row: dict[str, Any]) -> None:  # no super(): nothing to parse yet
        self._row = row
        self.id = row["id"]
        self.op = _OPS.get(row["operation"] or "", Op.UNKNOWN)
        self.method = (row["method"] or "").upper()
        self.status = row["status"]
        self.truncated = bool(row["request_truncated"])
        self.url_host = self.path = ""
        has_response = self.status is not None or bool(row["response_headers"])
        self.exchange = Exchange(
            id=self.id, session=row["session"], started_at=row["started_at"],
            duration_ms=0.0, method=row["method"], url=row["url"],
            request=Message(headers=(), body=b""), status=self.status,
            response=Message(headers=(), body=b"") if has_response else None,
            client=row["client"],
        )  # fmt: skip
        operation = Operation(
            name=self.op, hub=row["hub"], resource_id=row["resource_id"],
            api_version=row["api_version"],
        )  # fmt: skip
        self.decoded = Decoded(
            operation=operation, request=_NO_BODY, response=_NO_BODY if has_response else None
        )

    def header(self, name: str) -> str | None:
        return self._request_headers.get(name.lower())

    @cached_property
    def _request_headers(self) -> dict[str, str]:
        return _header_map(self._row["request_headers"])

    @cached_property
    def _response_headers(self) -> dict[str, str]:
        return _header_map(self._row["response_headers"])

    @cached_property
    def _devices(self) -> list[list[Any]]:
        text = self._row["devices"]
        return json.loads(text) if text else []

    @cached_property
    def request_devices(self) -> tuple[Device, ...]:
        return tuple(_device(d) for d in self._devices if d[0] == "request")

    @cached_property
    def response_devices(self) -> tuple[Device, ...]:
        return tuple(_device(d) for d in self._devices if d[0] == "response")


def _header_map(text: str | None) -> dict[str, str]:
    """`[[name, value], …]` as lower-cased name → first value."""
    return {k.lower(): v for k, v in reversed(json.loads(text))} if text else {}


def stored_findings(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The row's stored findings as `findings` rows (for `findings.finding_from_row`)."""
    text = row["found"]
    if not text:
        return []
    return [
        {"exchange_id": row["id"], **dict(zip(FINDING_FIELDS, values, strict=True))}
        for values in json.loads(text)
    ]
