"""An exchange's context rebuilt from its stored columns and device rows, without its bodies.

What the session rules read (operation, status, ids, headers, devices and their ETags)
is already in the row the recorder decoded: rebuilding it costs a few lookups, not a
parse. Only for exchanges judged under the current rule set, whose decode is current too.
Everything beyond the few fields every rule reads is built when a rule first asks for it:
most exchanges interest a session rule for one or two facts.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields
from functools import lru_cache
from typing import Any, Generic, TypeVar, cast

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


T = TypeVar("T")


class _Frozen(Generic[T]):
    """Makes a frozen, slotted dataclass from the fields it names (every other one its
    default) without the class's `__init__`, whose checked `object.__setattr__` per field
    costs twice as much, for every device and exchange of every page; `tests/audit/
    test_slim.py` holds what it makes equal to what the constructor makes."""

    def __init__(self, cls: type[T], given: tuple[str, ...]) -> None:
        self._cls = cls
        self._names = given
        try:
            _new(cls)
            self._native = False
        except TypeError:  # compiled (`proxy/compiled.py`): its constructor is the fast way
            self._native = True
        self._given = tuple(getattr(cls, name).__set__ for name in given)
        rest = []
        for f in fields(cast(Any, cls)):
            if f.name in given:
                continue
            if f.default is MISSING:  # a default_factory's value must not be shared
                raise TypeError(f"{cls.__name__}.{f.name} has no default to share")
            rest.append((getattr(cls, f.name).__set__, f.default))
        self._rest = tuple(rest)

    def __call__(self, *values: Any) -> T:
        if self._native:
            return self._cls(**dict(zip(self._names, values, strict=True)))
        made: T = _new(self._cls)
        for put, value in zip(self._given, values, strict=True):
            put(made, value)
        for put, value in self._rest:
            put(made, value)
        return made


_new = object.__new__
_DEVICE = _Frozen(Device, ("kind", "source_type", "platform", "handle", "registration_id",
                           "installation_id", "templates", "etag"))  # fmt: skip
_EXCHANGE = _Frozen(Exchange, ("id", "session", "started_at", "duration_ms", "method", "url",
                               "request", "status", "response", "client"))  # fmt: skip


def _device(values: tuple[Any, ...]) -> Device:
    _, _, kind, source_type, platform, handle, registration_id, installation_id, etag, name = values
    return _DEVICE(
        kind, source_type or "", _PLATFORMS.get(platform, Platform.UNKNOWN), handle,
        registration_id, installation_id,
        (Template(name=name, body=None),) if name is not None else (), etag,
    )  # fmt: skip


class SlimCtx(Ctx):
    """A stored exchange's context for the session rules, from its `pages` row and device
    rows. `decoded` holds only the operation (one object for the many exchanges that share
    it); headers are looked up in the stored JSON, devices built from their rows and
    `exchange` (no bodies, no headers) made, each only when a rule first asks for it (a
    session rule reads one or two facts of most)."""

    _request: tuple[Device, ...] | None = None
    _response: tuple[Device, ...] | None = None
    _parsed: dict[int, dict[str, str]] | None = None
    """Header lists parsed whole (by row column), where the stored text could not tell."""
    url_host = path = ""

    def __init__(self, row: tuple[Any, ...], devices: list[tuple[Any, ...]]) -> None:
        # no super(): nothing to parse; `method` and `exchange` come from __getattr__
        self._row = row
        self._device_rows = devices
        self.id = row[ID]
        self.op = op = OPS.get(row[OPERATION], Op.UNKNOWN)
        self.status = status = row[STATUS]
        self.truncated = bool(row[REQUEST_TRUNCATED])
        self.decoded = _decoded(  # a session rule reads its api-version for every exchange
            op, row[HUB], row[RESOURCE_ID], row[API_VERSION],
            status is not None or bool(row[RESPONSE_HEADERS]),
        )  # fmt: skip

    def __getattr__(self, name: str) -> Any:
        """`method` and `exchange`, made on first use and kept."""
        row = self._row
        if name == "method":
            value: Any = (row[METHOD] or "").upper()
        elif name == "exchange":
            value = _EXCHANGE(
                self.id, row[SESSION], row[STARTED_AT], 0.0, row[METHOD], row[URL], _NO_MESSAGE,
                self.status, _NO_MESSAGE if self._has_response else None, row[CLIENT],
            )  # fmt: skip
        else:
            raise AttributeError(name)
        setattr(self, name, value)
        return value

    @property
    def _has_response(self) -> bool:
        return self.status is not None or bool(self._row[RESPONSE_HEADERS])

    def header(self, name: str) -> str | None:
        return self._stored_header(REQUEST_HEADERS, name)

    def response_header(self, name: str) -> str | None:
        return self._stored_header(RESPONSE_HEADERS, name)

    def _stored_header(self, column: int, name: str) -> str | None:
        """A header's first value: read from the stored text where that is certain, else
        from the list parsed once."""
        wanted = name.lower()
        parsed = self._parsed.get(column) if self._parsed is not None else None
        if parsed is None:
            found = _first_value(self._row[column], wanted)
            if found is not _UNSURE:
                return found
            parsed = _header_map(self._row[column])
            self._parsed = {**(self._parsed or {}), column: parsed}
        return parsed.get(wanted)

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


_value = json.JSONDecoder().raw_decode
_UNSURE = "\0unsure"
"""What `_first_value` answers when only parsing the whole list can tell."""


def _first_value(text: str | None, name: str) -> str | None:
    """Header `name`'s (lower-cased) first value in `[[name, value], …]` as the store
    writes it (`proxy.store.rows.headers_json`), found without parsing the list: a `["`
    can only open a pair (inside a JSON string a quote is escaped), so the first
    `["name", "` of the lower-cased text starts the first pair so named. Text that is not
    ASCII (lower-casing may move offsets), holds escapes (a name may be spelled with
    them) or has another layout: `_UNSURE`, and the caller parses it."""
    if not text:
        return None
    if not text.isascii() or "\\u" in text:
        return _UNSURE
    low = text.lower()
    start = low.find(f'["{name}", "')
    if start >= 0:
        return str(_value(text, start + len(name) + 5)[0])
    return None if f'"{name}"' not in low else _UNSURE
