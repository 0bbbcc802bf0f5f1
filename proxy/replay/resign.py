"""Fresh SAS tokens for the target, in the `sr` shape the original client signed.

Clients disagree on the audience: the JS SDK signs the namespace root with upper-case
hex, .NET signs `http://host/hub/path/` lower-cased, Java the full URL with its query,
lower-case hex throughout. The shape is read from each recorded token against its
recorded URL and re-created for the rewritten target URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from proxy import sas

PLACEHOLDER_SIG = "{signature}"
PLACEHOLDER_SE = "{expiry}"
_HEX = re.compile(r"%[0-9A-Fa-f]{2}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SrShape:
    """How a client built its token audience."""

    scheme: str | None = None
    """A scheme forced by the client (.NET: `http`); None follows the target URL."""

    port: bool = True
    depth: int | None = 0
    """Path segments kept: 0 the namespace root, 1 the hub, None the whole path."""

    query: bool = False
    slash: bool = True
    """A trailing slash after the kept path."""

    lower: bool = True
    encoded: bool = True
    upper_hex: bool = True


JS_SHAPE = SrShape()
"""The `@azure/notification-hubs` shape, used when the recorded token is unreadable."""


def _lowered(audience: str, url: str) -> bool:
    """Whether the client lower-cased; when the URL has no capitals assume it did."""
    return audience == audience.lower() or url == url.lower()


def shape_of(authorization: str | None, url: str) -> SrShape:
    """The shape of a recorded `Authorization` value for a request to `url`."""
    token = sas.parse_token(authorization) if authorization else None
    if token is None or not token.sr or token.audience is None:
        return JS_SHAPE
    audience, recorded = urlsplit(token.audience), urlsplit(url)
    if not audience.netloc:
        return JS_SHAPE
    segments = [s for s in audience.path.split("/") if s]
    url_segments = [s for s in recorded.path.split("/") if s]
    depth: int | None = len(segments)
    if segments and len(segments) >= len(url_segments):
        depth = None
    hexes = _HEX.findall(token.sr)
    return SrShape(
        scheme=audience.scheme if audience.scheme != recorded.scheme else None,
        port=audience.port is not None,
        depth=depth,
        query=bool(audience.query),
        slash=audience.path.endswith("/"),
        lower=_lowered(token.audience, url),
        encoded=bool(hexes),
        upper_hex=not hexes
        or any(h != h.lower() for h in hexes)
        or all(h[1:].isdigit() for h in hexes),
    )


def sr_for(shape: SrShape, url: str) -> str:
    """The encoded `sr` the client would have sent for `url`."""
    parts = urlsplit(url)
    netloc = parts.netloc if shape.port else (parts.hostname or parts.netloc)
    segments = [s for s in parts.path.split("/") if s]
    kept = segments if shape.depth is None else segments[: shape.depth]
    path = "".join(f"/{s}" for s in kept) + ("/" if shape.slash else "")
    audience = f"{shape.scheme or parts.scheme}://{netloc}{path}"
    if shape.query and parts.query:
        audience += f"?{parts.query}"
    if shape.lower:
        audience = audience.lower()
    if not shape.encoded:
        return audience
    sr = quote(audience, safe="")
    if not shape.upper_hex:
        sr = _HEX.sub(lambda m: m.group(0).lower(), sr)
    return sr


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs with the key from the command line; the key lives in this object only."""

    key_name: str
    _key: str
    ttl: int = 3600

    def __repr__(self) -> str:
        return f"Signer(key_name={self.key_name!r})"

    def keys(self) -> dict[str, str]:
        """The rule name → key mapping the recorder uses to store a signature verdict."""
        return {self.key_name: self._key}

    def token(self, shape: SrShape, url: str) -> str:
        """A token valid for `ttl` seconds from now."""
        return sas.token_for_sr(sr_for(shape, url), self.key_name, self._key, ttl=self.ttl)

    def placeholder(self, shape: SrShape, url: str) -> str:
        """What `--dry-run` shows: the real `sr`, no signature, no expiry."""
        sr = sr_for(shape, url)
        skn = quote(self.key_name, safe="")
        return f"{sas.SCHEME} sr={sr}&sig={PLACEHOLDER_SIG}&se={PLACEHOLDER_SE}&skn={skn}"
