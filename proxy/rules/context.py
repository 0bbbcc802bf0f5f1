"""What every rule reads about one exchange, computed once: operation, headers, bodies."""

from __future__ import annotations

import json
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlsplit

from proxy import sas
from proxy.exchange import Exchange
from proxy.model import Decoded, Device, Op

REGISTRATION_WRITES = frozenset(
    {Op.CREATE_REGISTRATION, Op.CREATE_OR_UPDATE_REGISTRATION, Op.UPDATE_REGISTRATION}
)
REGISTRATION_OPS = REGISTRATION_WRITES | {
    Op.CREATE_REGISTRATION_ID,
    Op.READ_REGISTRATION,
    Op.DELETE_REGISTRATION,
    Op.LIST_REGISTRATIONS,
    Op.LIST_REGISTRATIONS_BY_TAG,
    Op.LIST_REGISTRATIONS_BY_CHANNEL,
}
BODY_OPS = REGISTRATION_WRITES | {Op.CREATE_OR_OVERWRITE_INSTALLATION, Op.PATCH_INSTALLATION}
"""Operations the service refuses without a body."""
INSTALLATION_OPS = frozenset(
    {
        Op.CREATE_OR_OVERWRITE_INSTALLATION,
        Op.READ_INSTALLATION,
        Op.PATCH_INSTALLATION,
        Op.DELETE_INSTALLATION,
    }
)


parse_token = lru_cache(maxsize=1024)(sas.parse_token)
"""Tokens repeat across a session (SDKs cache them for 5–60 minutes); SasToken is frozen."""


def media_type(value: str | None) -> str | None:
    """The media type of a Content-Type value, lower-cased, without parameters."""
    if value is None:
        return None
    return value.split(";", 1)[0].strip().lower() or None


class Ctx:
    """One exchange and its decoding, with the lookups rules share."""

    def __init__(self, exchange: Exchange, decoded: Decoded, *, truncated: bool = False) -> None:
        self.exchange = exchange
        self.decoded = decoded
        self.id = exchange.id
        self.op = decoded.operation.name
        self.method = exchange.method.upper()
        self.status = exchange.status
        unrecorded = (
            self.op in BODY_OPS and not exchange.request.body and self.succeeded
        )  # a body the service needed and accepted, which the recording did not keep
        self.truncated = truncated or unrecorded
        """Whether the stored request body is not what was sent (rules would judge a
        fragment): cut at the body cap, or absent where the service's 2xx shows there was one."""
        parts = urlsplit(exchange.url)
        self.url_host = parts.netloc
        self.path = parts.path
        self._headers = {k.lower(): v for k, v in reversed(exchange.request.headers)}

    def header(self, name: str) -> str | None:
        """A request header's first value, case-insensitively."""
        return self._headers.get(name.lower())

    def response_header(self, name: str) -> str | None:
        """A response header's first value, or None (also when there is no response)."""
        return self._response_headers.get(name.lower())

    @cached_property
    def _response_headers(self) -> dict[str, str]:
        response = self.exchange.response
        headers = response.headers if response is not None else ()
        return {k.lower(): v for k, v in reversed(headers)}

    @property
    def host(self) -> str:
        """The host the client called: its Host header, else the URL's."""
        return self.header("Host") or self.url_host

    @property
    def request_devices(self) -> tuple[Device, ...]:
        return self.decoded.request.devices

    @property
    def response_devices(self) -> tuple[Device, ...]:
        response = self.decoded.response
        return response.devices if response is not None else ()

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @cached_property
    def token(self) -> sas.SasToken | None:
        """The request's SharedAccessSignature token, or None."""
        value = self.header("Authorization")
        return parse_token(value) if value else None

    @cached_property
    def request_json(self) -> Any:
        """The request body as JSON, or None when it is not JSON."""
        body = self.exchange.request.body
        if not body or body.lstrip()[:1] not in (b"{", b"["):
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None
