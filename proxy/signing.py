"""Tokens in the shape a client signed them: replay re-creates them, the proxy re-targets them.

Clients disagree on the audience: the JS SDK signs the namespace root with upper-case
hex, .NET signs `http://host/hub/path/` lower-cased, Java the full URL with its query,
lower-case hex throughout. `replay` reads the shape of each recorded token against its
recorded URL and re-creates it for a rewritten target URL (`shape_of`, `sr_for`); the
reverse proxy keeps the client's `sr` byte for byte but for its host (`retarget`) and
signs it again with the same rule and expiry (`Signer.resign`). Keys live in a `Signer`
only, and nothing here logs or stores a key or a signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from proxy import sas

__all__ = [
    "JS_SHAPE",
    "PLACEHOLDER_SE",
    "PLACEHOLDER_SIG",
    "Signer",
    "SrShape",
    "retarget",
    "shape_of",
    "sr_for",
]

PLACEHOLDER_SIG = "{signature}"
PLACEHOLDER_SE = "{expiry}"
_HEX = re.compile(r"%[0-9A-Fa-f]{2}")
_AUTHORITY_END = re.compile(r"%2[Ff]|%3[Ff]|[/?#]")
_SCHEME_SEP = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*(?:%3[Aa]%2[Ff]%2[Ff]|://)")


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


def _upper_hex(encoded: str) -> bool:
    """Whether percent-escapes are upper-case (`%3A`); digit-only ones say nothing."""
    hexes = _HEX.findall(encoded)
    return not hexes or any(h != h.lower() for h in hexes) or all(h[1:].isdigit() for h in hexes)


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
    return SrShape(
        scheme=audience.scheme if audience.scheme != recorded.scheme else None,
        port=audience.port is not None,
        depth=depth,
        query=bool(audience.query),
        slash=audience.path.endswith("/"),
        lower=_lowered(token.audience, url),
        encoded=bool(_HEX.search(token.sr)),
        upper_hex=_upper_hex(token.sr),
    )


def _encode(text: str, *, upper_hex: bool) -> str:
    encoded = quote(text, safe="")
    return encoded if upper_hex else _HEX.sub(lambda m: m.group(0).lower(), encoded)


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
    return _encode(audience, upper_hex=shape.upper_hex) if shape.encoded else audience


def retarget(sr: str, host: str, port: int | None = None) -> str | None:
    """The client's `sr`, byte for byte, but naming `host` (and `port`, where it named one).

    Scheme, path, query, percent-encoding and hex case stay as the client wrote them;
    None when `sr` is not an absolute URL.
    """
    head = _SCHEME_SEP.match(sr)
    if head is None:
        return None
    rest = sr[head.end() :]
    end = _AUTHORITY_END.search(rest)
    authority, tail = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
    old = urlsplit(f"//{unquote(authority)}")
    if not old.hostname:
        return None
    name = f"[{host}]" if ":" in host else host
    if old.port is not None and port is not None:
        name = f"{name}:{port}"
    if head.group(0).endswith("//"):  # written unencoded
        return f"{head.group(0)}{name.lower()}{tail}"
    return head.group(0) + _encode(name.lower(), upper_hex=_upper_hex(sr)) + tail


@dataclass(frozen=True, slots=True)
class Signer:
    """Signs with a key from the command line; the key lives in this object only."""

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

    def verifies(self, token: sas.SasToken) -> bool:
        """Whether `token` carries this key's signature over its own `sr` and `se`."""
        return sas.check_signature(token, self._key)

    def resign(self, token: sas.SasToken, sr: str) -> str:
        """`token` over `sr` instead: same expiry, rule name and field order as sent.

        The new `sig` is escaped like the client escaped its own (hex case kept).
        """
        assert token.se is not None
        mac = _encode(sas.signature(sr, token.se, self._key), upper_hex=_upper_hex(token.sig or ""))
        fields = {"sr": sr, "sig": mac, "se": token.se, "skn": token.skn or ""}
        order = [name for name in token.order if name in fields] or list(fields)
        return f"{sas.SCHEME} " + "&".join(f"{name}={fields[name]}" for name in order)
