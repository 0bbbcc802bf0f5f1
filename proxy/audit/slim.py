"""An exchange's context rebuilt from its stored columns and device rows, without its bodies.

What the session rules read (operation, status, ids, headers, devices and their ETags)
is already in the row the recorder decoded: rebuilding it costs a few lookups, not a
parse. Only for exchanges judged under the current rule set, whose decode is current too.
Everything beyond the few fields every rule reads is built when a rule first asks for it:
most exchanges interest a session rule for one or two facts.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from proxy.audit.pages import (
    API_VERSION,
    CLIENT,
    HUB,
    ID,
    METHOD,
    OPERATION,
    REQUEST_HEADERS,
    REQUEST_TRUNCATED,
    RESOURCE_ID,
    RESPONSE_HEADERS,
    SESSION,
    STARTED_AT,
    STATUS,
    URL,
)
from proxy.exchange import Exchange, Message
from proxy.model import Decoded, DecodedBody, Device, Op, Operation, Platform, Template
from proxy.rules import Ctx

_OPS = {op.value: op for op in Op}
_PLATFORMS = {p.value: p for p in Platform}
_NO_BODY = DecodedBody(format="other")
_NO_MESSAGE = Message(headers=(), body=b"")


def _device(values: tuple[Any, ...]) -> Device:
    _, _, kind, source_type, platform, handle, registration_id, installation_id, etag, name = values
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
    """A stored exchange's context for the session rules, from its `pages` row and device
    rows. Headers are looked up in the stored JSON, devices built from their rows, and
    `exchange` (no bodies, no headers) and `decoded` (only the operation) made, each only
    when a rule first asks for it."""

    def __init__(self, row: tuple[Any, ...], devices: list[tuple[Any, ...]]) -> None:
        # no super(): nothing to parse; `exchange` and `decoded` come from __getattr__
        self._row = row
        self._device_rows = devices
        self.id = row[ID]
        self.op = _OPS.get(row[OPERATION] or "", Op.UNKNOWN)
        self.status = row[STATUS]
        self.truncated = bool(row[REQUEST_TRUNCATED])
        self.url_host = self.path = ""

    def __getattr__(self, name: str) -> Any:
        """`method`, `exchange` and `decoded`, made on first use and kept."""
        row = self._row
        if name == "method":
            value: Any = (row[METHOD] or "").upper()
        elif name == "exchange":
            value = Exchange(
                id=self.id, session=row[SESSION], started_at=row[STARTED_AT],
                duration_ms=0.0, method=row[METHOD], url=row[URL], request=_NO_MESSAGE,
                status=self.status, response=_NO_MESSAGE if self._has_response else None,
                client=row[CLIENT],
            )  # fmt: skip
        elif name == "decoded":
            operation = Operation(
                name=self.op, hub=row[HUB], resource_id=row[RESOURCE_ID],
                api_version=row[API_VERSION],
            )  # fmt: skip
            value = Decoded(
                operation=operation,
                request=_NO_BODY,
                response=_NO_BODY if self._has_response else None,
            )
        else:
            raise AttributeError(name)
        setattr(self, name, value)
        return value

    @property
    def _has_response(self) -> bool:
        return self.status is not None or bool(self._row[RESPONSE_HEADERS])

    def header(self, name: str) -> str | None:
        return self._request_headers.get(name.lower())

    @cached_property
    def _request_headers(self) -> dict[str, str]:
        return _header_map(self._row[REQUEST_HEADERS])

    @cached_property
    def _response_headers(self) -> dict[str, str]:
        return _header_map(self._row[RESPONSE_HEADERS])

    @cached_property
    def request_devices(self) -> tuple[Device, ...]:
        return tuple(_device(d) for d in self._device_rows if d[1] == "request")

    @cached_property
    def response_devices(self) -> tuple[Device, ...]:
        return tuple(_device(d) for d in self._device_rows if d[1] == "response")


def _header_map(text: str | None) -> dict[str, str]:
    """`[[name, value], …]` as lower-cased name → first value."""
    return {k.lower(): v for k, v in reversed(json.loads(text))} if text else {}
