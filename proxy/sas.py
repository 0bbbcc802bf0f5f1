"""Shared Access Signature tokens and connection strings: parse, sign, verify.

Keys live in memory only; nothing here logs or stores them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

SCHEME = "SharedAccessSignature"


class ConnectionStringError(ValueError):
    """The connection string is missing Endpoint or has a malformed part."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionString:
    """`Endpoint=sb://host/;SharedAccessKeyName=…;SharedAccessKey=…` parsed."""

    endpoint: str
    key_name: str | None = None
    key: str | None = None
    entity_path: str | None = None

    @property
    def base_url(self) -> str:
        """The https URL clients derive from the endpoint (`sb://` → `https://`)."""
        parts = urlsplit(self.endpoint)
        scheme = "https" if parts.scheme in ("sb", "") else parts.scheme
        return f"{scheme}://{parts.netloc}"

    def __repr__(self) -> str:
        return f"ConnectionString(endpoint={self.endpoint!r}, key_name={self.key_name!r})"


def parse_connection_string(text: str) -> ConnectionString:
    """Parse leniently: `;`-separated, split on the first `=`, whitespace trimmed."""
    fields: dict[str, str] = {}
    for number, part in enumerate(text.strip().split(";"), start=1):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:  # never echo the part: it may be the key
            raise ConnectionStringError(
                f"connection string part {number} has no '=' (expected Name=value;…)"
            )
        fields[name.strip().lower()] = value.strip()
    endpoint = fields.get("endpoint")
    if not endpoint:
        raise ConnectionStringError(
            "connection string has no Endpoint=…; copy it from the hub's Access Policies"
        )
    return ConnectionString(
        endpoint=endpoint,
        key_name=fields.get("sharedaccesskeyname"),
        key=fields.get("sharedaccesskey"),
        entity_path=fields.get("entitypath"),
    )


_unquoted = lru_cache(maxsize=4096)(unquote)
"""A token's fields repeat (clients cache a token for minutes); rules read them often."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SasToken:
    """The fields of a `SharedAccessSignature …` token, as sent (still percent-encoded)."""

    sr: str | None
    sig: str | None
    se: str | None
    skn: str | None
    order: tuple[str, ...] = ()
    """Field names in the order the client wrote them."""

    @property
    def audience(self) -> str | None:
        """The decoded resource URI the token covers."""
        return _unquoted(self.sr) if self.sr is not None else None

    @property
    def expiry(self) -> int | None:
        """`se` as Unix seconds; None unless it is plain ASCII digits (no sign, space, `_`)."""
        text = _unquoted(self.se) if self.se is not None else ""
        return int(text) if text.isascii() and text.isdigit() else None


def parse_token(value: str) -> SasToken | None:
    """Parse an Authorization value; None when it is not a SharedAccessSignature."""
    text = value.strip()
    if not text.startswith(SCHEME) or text[len(SCHEME) : len(SCHEME) + 1] not in (" ", "\t"):
        return None  # `SharedAccessSignaturesr=…` is not the scheme either
    fields: dict[str, str] = {}
    order: list[str] = []
    for part in text[len(SCHEME) :].strip().split("&"):
        name, _, field_value = part.partition("=")
        name = name.strip()
        if name:
            fields[name] = field_value
            order.append(name)
    return SasToken(
        sr=fields.get("sr"),
        sig=fields.get("sig"),
        se=fields.get("se"),
        skn=fields.get("skn"),
        order=tuple(order),
    )


def signature(sr: str, se: str, key: str) -> str:
    """Base64 HMAC-SHA256 of `sr + "\\n" + se`, keyed with the key's UTF-8 text (not decoded)."""
    mac = hmac.new(key.encode("utf-8"), f"{sr}\n{se}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def make_token(
    resource: str,
    key_name: str,
    key: str,
    *,
    ttl: int = 3600,
    now: float | None = None,
    lower: bool = True,
) -> str:
    """A token for `resource`, shaped like the .NET/Java SDKs (lower-cased, lower-case hex)."""
    uri = resource.lower() if lower else resource
    sr = quote(uri, safe="")
    if lower:
        sr = sr.lower()
    return token_for_sr(sr, key_name, key, ttl=ttl, now=now)


def token_for_sr(
    sr: str, key_name: str, key: str, *, ttl: int = 3600, now: float | None = None
) -> str:
    """A token over an already-encoded `sr`, fields in the order every SDK uses."""
    se = str(int((time.time() if now is None else now) + ttl))
    sig = quote(signature(sr, se, key), safe="")
    return f"{SCHEME} sr={sr}&sig={sig}&se={se}&skn={quote(key_name, safe='')}"


def check_signature(token: SasToken, key: str) -> bool:
    """True when the token's sig is the HMAC of its own `sr` and `se` under `key`."""
    if token.sr is None or token.sig is None or token.se is None:
        return False
    expected = signature(token.sr, token.se, key)
    return hmac.compare_digest(unquote(token.sig), expected)


def _hostname(host: str) -> str:
    """The name in a `Host` value, lower-cased, without port or IPv6 brackets."""
    try:
        return urlsplit(f"//{host.strip()}").hostname or host.strip().lower()
    except ValueError:  # a malformed Host names nothing a token can match
        return host.strip().lower()


def _segments(path: str) -> list[str]:
    return [unquote(segment).lower() for segment in path.split("/") if segment]


def audience_matches(
    audience: str, host: str, hub: str | None = None, *, path: str | None = None
) -> bool:
    """Whether a token's audience covers a call to `host` (and `path`, or at least `hub`).

    The service treats `sr` as a scope: its host must be the host it is called as
    (scheme and port ignored, any case) and its path a prefix of the request's path,
    segment by segment: the namespace root, the hub, or any deeper URL, with or without
    a query. A token whose path is not a prefix (another hub, another resource) has a
    wrong audience, as a Service Bus token for `/publishers//messages` sent to another
    entity does (sandrinodimattia/RedDog#4). Without `path`, only the hub is checked.
    """
    try:
        parts = urlsplit(audience.strip())
        named = parts.hostname
    except ValueError:  # "https://[::1/" and the like
        return False
    if named is None or named != _hostname(host):
        return False
    scope = _segments(parts.path)
    if path is not None:
        called = _segments(urlsplit(path).path)
        return called[: len(scope)] == scope
    return not scope or hub is None or scope[0] == hub.lower()


MISSING_TOKEN = "MissingToken: The authorization header was not found."
NOT_SAS = (
    "MalformedToken: The credentials contained in the authorization header are not in the "
    "WRAP format."
)
WRONG_AUDIENCE = "InvalidAudience: The authorization header contains a token with a wrong audience."
BAD_SIGNATURE = "InvalidSignature: The token has an invalid signature."


def verify(
    token: SasToken,
    keys: dict[str, str],
    *,
    host: str,
    hub: str | None = None,
    path: str | None = None,
    now: float | None = None,
) -> str | None:
    """None when the token is good for this call, else the service's 401 detail for it.

    The texts are the service's own where they were seen (`InvalidAudience`,
    `ExpiredToken`, `InvalidSignature`); none of them carries a secret. A rule name the
    hub does not know fails like a wrong key: the service does not say which it was.
    """
    if token.sr is None or token.sig is None or token.se is None or token.skn is None:
        missing = [n for n in ("sr", "sig", "se", "skn") if getattr(token, n) is None]
        return f"MalformedToken: The token is missing {', '.join(missing)}."
    expiry = token.expiry
    if expiry is None:
        return "MalformedToken: The token's se is not a whole number of seconds."
    if expiry < (time.time() if now is None else now):
        stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(expiry))
        return f"ExpiredToken: The token is expired. Expiration time: '{stamp}'."
    if not audience_matches(token.audience or "", host, hub, path=path):
        return WRONG_AUDIENCE
    key = keys.get(unquote(token.skn))
    if key is None or not check_signature(token, key):
        return BAD_SIGNATURE
    return None
