"""An exchange's context rebuilt from its stored columns and device rows, without its bodies.

What the session rules read (operation, status, ids, headers, devices and their ETags)
is already in the row the recorder decoded: rebuilding it costs a few lookups, not a
parse. Only for exchanges judged under the current rule set, whose decode is current too.
Everything beyond the few fields every rule reads is built when a rule first asks for it:
most exchanges interest a session rule for one or two facts.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from proxy.audit.pages import (
    API_VERSION,
    CLIENT,
    HUB,
    ID,
    METHOD,
    OPERATION,
    OPS,
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
    when a rule first asks for it (a session rule reads one or two facts of most)."""

    def __init__(self, row: tuple[Any, ...], devices: list[tuple[Any, ...]]) -> None:
        # no super(): nothing to parse; `exchange` and `decoded` come from __getattr__
        self._row = row
        self._device_rows = devices
        self._request: tuple[Device, ...] | None = None
        self._response: tuple[Device, ...] | None = None
        self._request_map: dict[str, str] | None = None
        self._response_map: dict[str, str] | None = None
        self.id = row[ID]
        self.op = OPS.get(row[OPERATION] or "", Op.UNKNOWN)
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
            value = _decoded(
                self.op, row[HUB], row[RESOURCE_ID], row[API_VERSION], self._has_response
            )
        else:
            raise AttributeError(name)
        setattr(self, name, value)
        return value

    @property
    def _has_response(self) -> bool:
        return self.status is not None or bool(self._row[RESPONSE_HEADERS])

    def header(self, name: str) -> str | None:
        if self._request_map is None:
            self._request_map = _header_map(self._row[REQUEST_HEADERS])
        return self._request_map.get(name.lower())

    def response_header(self, name: str) -> str | None:
        if self._response_map is None:
            self._response_map = _header_map(self._row[RESPONSE_HEADERS])
        return self._response_map.get(name.lower())

    @property
    def request_devices(self) -> tuple[Device, ...]:
        if self._request is None:
            rows = self._device_rows
            self._request = tuple(_device(d) for d in rows if d[1] == "request") if rows else ()
        return self._request

    @property
    def response_devices(self) -> tuple[Device, ...]:
        if self._response is None:
            rows = self._device_rows
            self._response = tuple(_device(d) for d in rows if d[1] == "response") if rows else ()
        return self._response


@lru_cache(maxsize=4096)
def _decoded(
    op: Op, hub: str | None, resource_id: str | None, api_version: str | None, response: bool
) -> Decoded:
    """The operation as `Decoded` holds it: one object for the many calls that share it
    (a POST to a hub's registrations has no resource id); both are frozen."""
    operation = Operation(name=op, hub=hub, resource_id=resource_id, api_version=api_version)
    return Decoded(operation=operation, request=_NO_BODY, response=_NO_BODY if response else None)


def _header_map(text: str | None) -> dict[str, str]:
    """`[[name, value], …]` as lower-cased name → first value."""
    return {k.lower(): v for k, v in reversed(json.loads(text))} if text else {}
