"""Shared Access Signature tokens and connection strings: parse, sign, verify.

Keys live in memory only; nothing here logs or stores them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
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
        return unquote(self.sr) if self.sr is not None else None

    @property
    def expiry(self) -> int | None:
        try:
            return int(unquote(self.se)) if self.se is not None else None
        except ValueError:
            return None


def parse_token(value: str) -> SasToken | None:
    """Parse an Authorization value; None when it is not a SharedAccessSignature."""
    text = value.strip()
    if not text.startswith(SCHEME):
        return None
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


def audience_matches(audience: str, host: str, hub: str | None = None) -> bool:
    """Whether a token's audience covers a call to `host` (and `hub`).

    Accepts every shape real clients sign: the namespace root, the hub URL, or any
    deeper URL, with http or https, any case, with or without port and query.
    """
    parts = urlsplit(audience.strip().lower())
    if parts.hostname is None:
        return False
    if parts.hostname != (urlsplit(f"//{host.lower()}").hostname or host.lower()):
        return False
    path = [seg for seg in parts.path.split("/") if seg]
    if not path or hub is None:
        return True
    return path[0] == hub.lower()


def verify(
    token: SasToken,
    keys: dict[str, str],
    *,
    host: str,
    hub: str | None = None,
    now: float | None = None,
) -> str | None:
    """None when the token is good for this call, else why not (no secret in the text)."""
    if token.sr is None or token.sig is None or token.se is None or token.skn is None:
        missing = [n for n in ("sr", "sig", "se", "skn") if getattr(token, n) is None]
        return f"MalformedToken: the token is missing {', '.join(missing)}"
    expiry = token.expiry
    if expiry is None:
        return "MalformedToken: se is not an integer"
    if expiry < (time.time() if now is None else now):
        return f"ExpiredToken: the token expired at {expiry} (Unix time)"
    key = keys.get(unquote(token.skn))
    if key is None:
        return f"InvalidSignature: no key named {unquote(token.skn)!r} on this hub"
    audience = token.audience or ""
    if not audience_matches(audience, host, hub):
        return f"InvalidAudience: the token is for {audience!r}, not {host}"
    if not check_signature(token, key):
        return "InvalidSignature: the token has an invalid signature"
    return None
