"""Follow server-assigned values through a replay: registration ids, ETags, list tokens, hub."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from proxy.exchange import Headers, Message
from proxy.model import Decoded, Op

_DROPPED = frozenset(
    {
        "authorization",
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_REG_ID = re.compile(rb"(<(?:[\w.-]+:)?RegistrationId\s*>)\s*([^<\s]+)\s*(</)")
AUTHORIZATION = "Authorization"


def last_segment(url: str | None) -> str | None:
    """The last path segment of a `Location`-style URL, decoded."""
    if not url:
        return None
    segments = [s for s in urlsplit(url.strip()).path.split("/") if s]
    return unquote(segments[-1]) if segments else None


def bare_etag(value: str) -> str:
    """`W/"3"`, `"3"` and `3` are all ETag 3."""
    value = value.strip()
    return (value[2:] if value.startswith("W/") else value).strip('"')


def created_id(op: Op, decoded: Decoded, response: Message | None) -> str | None:
    """The registration id a create call answered with, if it was one."""
    if response is None:
        return None
    if op is Op.CREATE_REGISTRATION_ID:
        return last_segment(response.header("Location"))
    if op is Op.CREATE_REGISTRATION:
        devices = decoded.response.devices if decoded.response else ()
        if devices and devices[0].registration_id:
            return devices[0].registration_id
        return last_segment(response.header("Content-Location"))
    return None


def etags_of(decoded: Decoded, response: Message | None) -> dict[str, str]:
    """Registration id → bare ETag, from the entries and, for one resource, the header."""
    found: dict[str, str] = {}
    devices = decoded.response.devices if decoded.response else ()
    for device in devices:
        if device.registration_id and device.etag:
            found[device.registration_id] = bare_etag(device.etag)
    header = response.header("ETag") if response is not None else None
    if header and len(devices) == 1 and devices[0].registration_id:
        found.setdefault(devices[0].registration_id, bare_etag(header))
    return found


@dataclass(slots=True)
class Remapper:
    """Rewrites each original request for the target, learning from each pair of answers."""

    target: str
    """Scheme, host and optional base path of the target, without trailing slash."""

    source_hub: str | None = None
    target_hub: str | None = None
    ids: dict[str, str] = field(default_factory=dict)
    """Original registration id → the id the target assigned."""

    etags: dict[tuple[str, str], str] = field(default_factory=dict)
    """(original registration id, original ETag) → the target's ETag."""

    tokens: dict[str, str] = field(default_factory=dict)
    """Original list continuation token → the target's token for the same page."""

    def _segment(self, position: int, raw: str) -> str:
        value = unquote(raw)
        if position == 0 and self.target_hub and self.source_hub:
            if value.lower() == self.source_hub.lower():
                return quote(self.target_hub, safe="")
        if value in self.ids:
            return quote(self.ids[value], safe="")
        return raw

    def url(self, original: str) -> str:
        """The target URL: hub renamed, known ids mapped, query verbatim."""
        parts = urlsplit(original)
        segments = [s for s in parts.path.split("/") if s]
        path = "/".join(self._segment(i, s) for i, s in enumerate(segments))
        trailing = "/" if parts.path.endswith("/") and segments else ""
        query = f"?{self._query(parts.query)}" if parts.query else ""
        return f"{self.target}/{path}{trailing}{query}"

    def _query(self, query: str) -> str:
        """The query verbatim, except continuation tokens the target re-issued."""
        if not self.tokens:
            return query
        out: list[str] = []
        for part in query.split("&"):
            name, sep, value = part.partition("=")
            mapped = (
                self.tokens.get(unquote(value)) if name.lower() == "continuationtoken" else None
            )
            out.append(f"{name}{sep}{quote(mapped, safe='')}" if mapped else part)
        return "&".join(out)

    def if_match(self, value: str, resource_id: str | None) -> str:
        """The target's ETag for the same registration state, in the client's notation."""
        bare = bare_etag(value)
        if resource_id is None or bare == "*":
            return value
        mapped = self.etags.get((resource_id, bare))
        if mapped is None:
            return value
        return value.replace(bare, mapped, 1)

    def headers(
        self, original: Headers, authorization: str | None, resource_id: str | None
    ) -> Headers:
        """Headers to send: hop-by-hop and Host dropped, token swapped in place, If-Match mapped."""
        out: list[tuple[str, str]] = []
        for name, value in original:
            lower = name.lower()
            if lower == "authorization" and authorization is not None:
                out.append((name, authorization))
            elif lower == "if-match":
                out.append((name, self.if_match(value, resource_id)))
            elif lower not in _DROPPED and not lower.startswith("proxy-"):
                out.append((name, value))
        return tuple(out)

    def body(self, data: bytes) -> bytes:
        """`<RegistrationId>` elements mapped, URLs naming the old hub renamed."""
        if self.ids and b"RegistrationId" in data:
            data = _REG_ID.sub(self._reg_id, data)
        if self.target_hub and self.source_hub and self.target_hub != self.source_hub:
            hub_url = re.compile(
                rb"(?i)(https?://[^/\s<\"']+/)"
                + re.escape(self.source_hub.encode())
                + rb"(?=[/?<\"'\s])"
            )
            data = hub_url.sub(lambda m: m.group(1) + (self.target_hub or "").encode(), data)
        return data

    def _reg_id(self, match: re.Match[bytes]) -> bytes:
        value = match.group(2).decode("utf-8", "replace")
        mapped = self.ids.get(value)
        if mapped is None:
            return match.group(0)
        return match.group(1) + mapped.encode() + match.group(3)

    def learn(
        self,
        op: Op,
        original: tuple[Decoded, Message | None],
        replay: tuple[Decoded, Message | None],
    ) -> None:
        """Record the target's ids for created registrations and its ETags for known states."""
        was, now = created_id(op, *original), created_id(op, *replay)
        if was and now:
            self.ids[was] = now
        was, now = (
            m.header("X-MS-ContinuationToken") if m else None for _, m in (original, replay)
        )
        if was and now:
            self.tokens[was] = now
        replay_etags = etags_of(*replay)
        for registration_id, etag in etags_of(*original).items():
            target_id = self.ids.get(registration_id, registration_id)
            if target_id in replay_etags:
                self.etags[(registration_id, etag)] = replay_etags[target_id]

    def assume(self, op: Op, original: tuple[Decoded, Message | None], index: int) -> None:
        """For dry runs: name created ids and ETags after the exchange that will return them."""
        was = created_id(op, *original)
        if was:
            self.ids[was] = f"id-created-by-{index}"
        for registration_id, etag in etags_of(*original).items():
            self.etags[(registration_id, etag)] = f"etag-from-{index}"
