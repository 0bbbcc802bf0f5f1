"""Safe-to-share exports: device handles, tags and ids replaced by stable pseudonyms.

The values to hide are learned from what the decoders found (records, the path's
resource id, `Location`, tag expressions, JSON Patch values) over the whole export
first, so one value gets one pseudonym everywhere: in the URL, every header, and the
bodies. Bodies are rewritten token by token inside JSON strings, XML text, CDATA and
attribute values only, so markup and JSON syntax are never touched and stay well-formed.
Pseudonyms keep a value's shape where clients or the hub check it (64 hex digits stay
hex, `NNN-NNN-N` registration ids stay digits, channel URIs stay https URLs).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import quote, unquote, unquote_plus, urlsplit, urlunsplit

from proxy.exchange import Exchange, Headers, Message
from proxy.model import Decoded, Device, Op

Kind = Literal["handles", "tags", "ids"]
KINDS: tuple[Kind, ...] = ("handles", "tags", "ids")
LONG = 8
"""Values this long are also replaced where they hide inside longer text."""

_TOKEN = re.compile(r"%[0-9A-Fa-f]{2}|[\w@#.:\-$]+")
_HEX = re.compile(r"^[0-9A-Fa-f]{16,}$")
_REG_ID = re.compile(r"^\d+(?:-\d+)*$")
_SYSTEM_TAG = re.compile(r"^\$(InstallationId|UserId):(.+)$", re.IGNORECASE)
_CHANNEL = re.compile(r"ChannelUri\s+eq\s+'((?:[^']|'')*)'", re.IGNORECASE)
_TAG_WORDS = re.compile(r"[\w@#.:\-$]+")
_JSON_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"(\s*:)?')
_XML_PART = re.compile(
    r"<!\[CDATA\[(?P<cdata>.*?)\]\]>|<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>]*>|<(?P<tag>[^>]*)>"
    r"|(?P<text>[^<]+)",
    re.DOTALL,
)
_ATTR = re.compile(r"""(=\s*)("[^"]*"|'[^']*')""")
_REG_OPS = frozenset(
    {
        Op.CREATE_OR_UPDATE_REGISTRATION,
        Op.UPDATE_REGISTRATION,
        Op.READ_REGISTRATION,
        Op.DELETE_REGISTRATION,
    }
)
_INSTALLATION_OPS = frozenset(
    {
        Op.CREATE_OR_OVERWRITE_INSTALLATION,
        Op.READ_INSTALLATION,
        Op.PATCH_INSTALLATION,
        Op.DELETE_INSTALLATION,
    }
)


def parse_kinds(text: str) -> frozenset[Kind]:
    """`handles,tags,ids` (any subset, `all` for every kind) → the kinds to mask."""
    words = {w.strip().lower() for w in text.split(",") if w.strip()}
    if "all" in words:
        return frozenset(KINDS)
    unknown = words - set(KINDS)
    if unknown or not words:
        raise ValueError(f"--mask takes {', '.join(KINDS)} or all, not {text!r}")
    return frozenset(k for k in KINDS if k in words)


@dataclass(slots=True)
class Masker:
    """Learns values to hide, then rewrites exchanges with one pseudonym per value."""

    kinds: frozenset[Kind]
    salt: bytes = field(default_factory=lambda: os.urandom(16))
    names: dict[str, str] = field(default_factory=dict)
    """Original value (hex handles lower-cased) → pseudonym."""

    counts: dict[str, int] = field(default_factory=dict)
    _cache: tuple[int, re.Pattern[str] | None, dict[str, str]] | None = None

    # learning

    def learn(self, exchange: Exchange, decoded: Decoded) -> None:
        """Remember every handle, tag and id this exchange carries."""
        bodies = [decoded.request, *([decoded.response] if decoded.response else [])]
        for body in bodies:
            for device in body.devices:
                self._learn_device(device)
            for op in body.patch:
                self._learn_patch(op.path, op.value)
        operation = decoded.operation
        if operation.resource_id:
            if operation.name in _INSTALLATION_OPS:
                self._add("ids", operation.resource_id, "installation")
            elif operation.name in _REG_OPS:
                self._add("ids", operation.resource_id, "registration")
            elif operation.name is Op.LIST_REGISTRATIONS_BY_TAG:
                self._add_tag(operation.resource_id)
        if operation.filter:
            for found in _CHANNEL.findall(operation.filter):
                self._add("handles", found.replace("''", "'"), "handle")
        if exchange.response is not None and operation.name is Op.CREATE_REGISTRATION_ID:
            location = exchange.response.header("Location") or ""
            segments = [s for s in urlsplit(location).path.split("/") if s]
            if segments:
                self._add("ids", unquote(segments[-1]), "registration")
        handle = exchange.request.header("ServiceBusNotification-DeviceHandle")
        if handle:
            self._add("handles", handle, "handle")
        expression = exchange.request.header("ServiceBusNotification-Tags")
        if expression:
            for word in _TAG_WORDS.findall(expression):
                self._add_tag(word)

    def _learn_device(self, device: Device) -> None:
        if device.handle:
            self._add("handles", device.handle, "handle")
        for name, value in device.extra:
            if name.lower() in ("baiduchannelid", "baiduuserid") and value:
                self._add("handles", value, "handle")
        if device.registration_id:
            self._add("ids", device.registration_id, "registration")
        if device.installation_id:
            self._add("ids", device.installation_id, "installation")
        if device.user_id:
            self._add("ids", device.user_id, "user")
        for tag in device.tags:
            self._add_tag(tag)
        for template in device.templates:
            for tag in template.tags:
                self._add_tag(tag)

    def _learn_patch(self, path: str, value: str | None) -> None:
        parts = [unquote(p.replace("~1", "/").replace("~0", "~")) for p in path.split("/")]
        head = parts[1].lower() if len(parts) > 1 else ""
        if head == "tags":
            if len(parts) > 2:
                self._add_tag(parts[2])
            for tag in _json_strings(value):
                self._add_tag(tag)
        elif head == "pushchannel":
            for handle in _json_strings(value):
                self._add("handles", handle, "handle")
        elif head == "userid":
            for user in _json_strings(value):
                self._add("ids", user, "user")

    def _add_tag(self, tag: str) -> None:
        system = _SYSTEM_TAG.match(tag)
        if system:
            label = "installation" if system.group(1).lower() == "installationid" else "user"
            self._add("ids", system.group(2), label)
        else:
            self._add("tags", tag, "tag")

    def _add(self, kind: Kind, value: str, label: str) -> None:
        value = value.strip()
        if kind not in self.kinds or not value:
            return
        key = value.lower() if _HEX.match(value) else value
        if key not in self.names:
            self.names[key] = self._pseudonym(value, label)

    def _pseudonym(self, value: str, label: str) -> str:
        number = self.counts[label] = self.counts.get(label, 0) + 1
        digest = hmac.new(self.salt, value.encode(), hashlib.sha512).hexdigest()
        if _HEX.match(value):
            return (digest * (len(value) // len(digest) + 1))[: len(value)]
        if label == "registration" and _REG_ID.match(value):
            digits = iter(str(int(digest, 16)))
            return "".join(next(digits) if c.isdigit() else c for c in value)
        if label == "handle" and value.lower().startswith(("https://", "http://")):
            return f"https://masked.invalid/handle-{number}"
        return f"{label}-{number}"

    # rewriting

    def _lookup(self, token: str) -> str | None:
        found = self.names.get(token)
        if found is not None:
            return found
        if _HEX.match(token):
            found = self.names.get(token.lower())
            if found is not None:
                return found.upper() if token.isupper() else found
        system = _SYSTEM_TAG.match(token)
        if system and (inner := self._lookup(system.group(2))) is not None:
            return f"${system.group(1)}:{inner}"
        if len(token) >= 4:  # a client that lower-cased a URL (a SAS audience) lower-cased ids too
            original = self._index()[1].get(token.lower())
            return self.names[original] if original is not None else None
        return None

    def _index(self) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        """A pattern of the long values (longest first) and a lower-case index, built once."""
        if self._cache is None or self._cache[0] != len(self.names):
            long = sorted((k for k in self.names if len(k) >= LONG), key=len, reverse=True)
            pattern = re.compile("|".join(map(re.escape, long)), re.I) if long else None
            lower = {k.lower(): k for k in self.names}
            self._cache = (len(self.names), pattern, lower)
        return self._cache[1], self._cache[2]

    def text(self, value: str) -> str:
        """A string with every learned value in it replaced."""
        if not self.names or not value:
            return value
        if (whole := self._lookup(value)) is not None:
            return whole
        pattern = self._index()[0]
        if pattern is not None:
            value = pattern.sub(self._long_value, value)
        return _TOKEN.sub(self._token, value)

    def _long_value(self, match: re.Match[str]) -> str:
        return self._lookup(match.group(0)) or match.group(0)

    def _token(self, match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("%"):
            return token
        found = self._lookup(token)
        if found is None and token.rstrip(".:") != token:
            inner = self._lookup(token.rstrip(".:"))
            if inner is not None:
                return inner + token[len(token.rstrip(".:")) :]
        return token if found is None else found

    def url(self, url: str) -> str:
        """Path segments and query values masked, each decoded first and re-encoded."""
        parts = urlsplit(url)
        path = "/".join(self._encoded(s, plus=False) for s in parts.path.split("/"))
        query = "&".join(self._query_part(p) for p in parts.query.split("&")) if parts.query else ""
        return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))

    def _query_part(self, part: str) -> str:
        name, sep, value = part.partition("=")
        return f"{name}{sep}{self._encoded(value, plus=True)}"

    def _encoded(self, raw: str, *, plus: bool) -> str:
        plain = unquote_plus(raw) if plus else unquote(raw)
        masked = self.text(plain)
        if masked == plain:
            return raw
        return quote(masked, safe="$:@'")

    def headers(self, pairs: Headers) -> Headers:
        out = []
        for name, value in pairs:
            if name.lower() in ("authorization", "servicebusauthorization"):
                out.append((name, self._token_value(value)))
            elif name.lower() in ("location", "content-location"):
                out.append((name, self.url(value)))
            else:
                out.append((name, self.text(value)))
        return tuple(out)

    def _token_value(self, value: str) -> str:
        """A SAS token's `sr` audience may hold a path with ids: masked like a URL."""
        return self.text(re.sub(r"(\bsr=)([^&\s]*)", self._audience, value))

    def _audience(self, match: re.Match[str]) -> str:
        sr = match.group(2)
        plain = unquote(sr)
        masked = self.url(plain)
        if masked == plain:
            return match.group(0)
        encoded = quote(masked, safe="")
        if re.search(r"%[0-9a-f]{2}", sr) and not re.search(r"%[0-9A-F]{2}", sr):
            encoded = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)
        return match.group(1) + encoded

    def body(self, data: bytes) -> bytes:
        """JSON strings, XML text and attributes masked; markup untouched."""
        if not self.names or not data:
            return data
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("latin-1"), "latin-1"
        head = text.lstrip("\ufeff \t\r\n")[:1]
        if head in ("{", "["):
            masked = _JSON_STRING.sub(self._json_string, text)
        elif head == "<":
            masked = _XML_PART.sub(self._xml_part, text)
        else:
            masked = self.text(text)
        return masked.encode(encoding, errors="replace") if masked != text else data

    def _json_string(self, match: re.Match[str]) -> str:
        literal = match.group(0)
        if match.group(1):  # an object key
            return literal
        try:
            value = json.loads(literal)
        except ValueError:
            return literal
        masked = self.text(value)
        if masked == value:
            return literal
        return json.dumps(masked, ensure_ascii=False)

    def _xml_part(self, match: re.Match[str]) -> str:
        whole = match.group(0)
        if match.group("cdata") is not None:
            inner = match.group("cdata")
            masked = self.body(inner.encode()).decode()
            return whole if masked == inner else f"<![CDATA[{masked}]]>"
        if match.group("text") is not None:
            return _xml_text(whole, self.text, quote_marks=False)
        if match.group("tag") is not None:
            return _ATTR.sub(self._attribute, whole)
        return whole

    def _attribute(self, match: re.Match[str]) -> str:
        quoted = match.group(2)
        inner = _xml_text(quoted[1:-1], self.text, quote_marks=True)
        return f"{match.group(1)}{quoted[0]}{inner}{quoted[0]}"

    def message(self, message: Message) -> Message:
        return Message(headers=self.headers(message.headers), body=self.body(message.body))

    def exchange(self, ex: Exchange) -> Exchange:
        """The exchange with every learned value replaced in URL, headers and bodies."""
        return replace(
            ex,
            url=self.url(ex.url),
            request=self.message(ex.request),
            response=self.message(ex.response) if ex.response is not None else None,
            error=self.text(ex.error) if ex.error else ex.error,
        )

    def leftovers(self, texts: Iterable[str]) -> set[str]:
        """Learned values of at least LONG characters still present (should be none)."""
        long = [k for k in self.names if len(k) >= LONG]
        return {v for t in texts for v in long if v.lower() in t.lower()}


def _xml_text(raw: str, mask: Any, *, quote_marks: bool) -> str:
    plain = html.unescape(raw)
    masked = mask(plain)
    if masked == plain:
        return raw
    return html.escape(masked, quote=quote_marks)


def _json_strings(value: str | None) -> list[str]:
    """The strings of a JSON Patch value (kept as JSON text, strings unquoted)."""
    if value is None:
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return [value]
    if isinstance(parsed, str):
        return [parsed]
    if isinstance(parsed, list):
        return [v for v in parsed if isinstance(v, str)]
    return []
