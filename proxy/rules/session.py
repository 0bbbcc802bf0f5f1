"""Session rules: expectations over a sequence of exchanges (ids, duplicates, versions).

Each rule is a small state fed one exchange at a time, in time order: what it remembers
is keyed by handle or registration id in a `BoundedMap`, never the session itself. A rule
that acts on a few operations says which (`ops`), and is fed only those.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from proxy.model import Op
from proxy.rules.bounded import BoundedMap
from proxy.rules.context import REGISTRATION_WRITES, Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import session_rule

SPEC = "spec/nh-rest-api.md"


Found = Sequence[tuple[str, Breach]]
"""What feeding one exchange finds: usually nothing, so a rule answers `()` (no generator)."""

_UPSERT = Op.CREATE_OR_UPDATE_REGISTRATION
_UPSERTS = (Op.CREATE_OR_UPDATE_REGISTRATION, Op.UPDATE_REGISTRATION)


def _failed(ctx: Ctx) -> bool:
    return ctx.status is not None and ctx.status >= 400


def _id_from_location(ctx: Ctx) -> str | None:
    location = ctx.response_header("Location") or ctx.response_header("Content-Location")
    if not location:
        return None
    parts = [p for p in urlsplit(location).path.split("/") if p]
    return unquote(parts[-1]) if parts else None


@session_rule(
    "session.registration-id-unused",
    severity="warning",
    spec="You can use the generated registration ID to create a registration using the "
    "[Create or Update Registration](create-update-registration.md) method.",
    source="seeds/create-registration-id.md",
    expected="a later PUT registrations/{id} with the id the service handed out",
)
class IdUnused:
    ops: ClassVar[frozenset[Op]] = frozenset({Op.CREATE_REGISTRATION_ID, *_UPSERTS})

    def __init__(self) -> None:
        self.pending: BoundedMap[str, str] = BoundedMap()
        """Id handed out → the exchange that created it, until a PUT uses it."""

    def feed(self, ctx: Ctx) -> Found:
        if ctx.op is Op.CREATE_REGISTRATION_ID and not _failed(ctx):
            new_id = _id_from_location(ctx)
            if new_id:
                self.pending[new_id] = ctx.id
        elif ctx.op in _UPSERTS:
            self.pending.pop(ctx.decoded.operation.resource_id or "", None)
        return ()

    def end(self) -> Iterator[tuple[str, Breach]]:
        for new_id, exchange_id in self.pending.items():
            yield (
                exchange_id,
                Breach(actual=f"id {new_id} never used by a PUT", pointer="header:Location"),
            )


@session_rule(
    "session.duplicate-registration",
    severity="warning",
    spec="Purpose: client stores the ID, then upserts with PUT (3.3); avoids duplicates.",
    source=f"{SPEC} §3.2",
    expected="one registration per push handle and template (create an id once, then PUT)",
)
class Duplicates:
    ops: ClassVar[frozenset[Op]] = frozenset({Op.CREATE_REGISTRATION})

    def __init__(self) -> None:
        self.seen: BoundedMap[tuple[str, str, str], str] = BoundedMap()
        """(handle, description type, template name) → the exchange that first created it."""

    def feed(self, ctx: Ctx) -> Found:
        if ctx.op not in self.ops or _failed(ctx):
            return ()
        found = []
        for device in ctx.request_devices:
            if not device.handle:
                continue
            name = device.templates[0].name or "" if device.templates else ""
            key = (device.handle.lower(), device.source_type, name)
            first = self.seen.setdefault(key, ctx.id)
            if first != ctx.id:
                found.append((
                    ctx.id,
                    Breach(
                        actual=f"handle {device.handle[:24]}… registered again (first in {first})",
                        pointer=device.source_type,
                    ),
                ))  # fmt: skip
        return found

    def end(self) -> Iterator[tuple[str, Breach]]:
        return iter(())


Client = tuple[str, str]


@session_rule(
    "session.lost-update",
    severity="warning",
    spec="`If-Match` value: the ETag from create/read/update, or `*` to overwrite "
    "unconditionally. … If-Match absent ⇒ the call is an upsert (3.3).",
    source=f"{SPEC} §3.4",
    expected="If-Match with the ETag read, when another client changed the registration since",
)
class LostUpdate:
    def __init__(self) -> None:
        self.latest: BoundedMap[str, tuple[int, Client]] = BoundedMap()
        """Registration id → newest version seen and the client whose call produced it."""
        self.seen: BoundedMap[tuple[str, Client], int] = BoundedMap()
        """(registration id, client) → the version that client last saw."""

    def feed(self, ctx: Ctx) -> Found:
        found: Found = ()
        me = None
        rid = ctx.decoded.operation.resource_id if ctx.op is _UPSERT else None
        if rid:
            me = client_of(ctx)
        if rid and me is not None:
            mine, newest = self.seen.get((rid, me)), self.latest.get(rid)
            if mine is not None and newest is not None and newest[0] > mine and newest[1] != me:
                found = [(
                    ctx.id,
                    Breach(
                        actual=f"PUT without If-Match based on ETag {mine}; another client "
                        f"had already written ETag {newest[0]}",
                        pointer="header:If-Match",
                    ),
                )]  # fmt: skip
        if _failed(ctx) or not ctx.response_devices:
            return found
        me = me or client_of(ctx)
        if me is None:
            return found
        for device in ctx.response_devices:
            version = _int(device.etag)
            if device.registration_id and version is not None:
                self.seen[(device.registration_id, me)] = version
                if version > self.latest.get(device.registration_id, (-1, None))[0]:
                    self.latest[device.registration_id] = (version, me)
        return found

    def end(self) -> Iterator[tuple[str, Breach]]:
        return iter(())


def client_of(ctx: Ctx) -> Client | None:
    """Who sent a request: the peer's host and User-Agent (None when neither is known)."""
    peer = (ctx.exchange.client or "").rpartition(":")[0] or (ctx.exchange.client or "")
    agent = ctx.header("User-Agent") or ""
    return (peer, agent) if peer or agent else None


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip().removeprefix("W/").strip('"')) if value else None
    except ValueError:
        return None


@session_rule(
    "session.mixed-api-versions",
    severity="warning",
    spec="Session rules over a sequence of exchanges: … mixed api-versions in one session",
    source="hubscope issue 4 (session rules)",
    expected="one api-version for the whole session",
)
class MixedVersions:
    def __init__(self) -> None:
        self.first: str | None = None
        self.reported: set[str] = set()
        """api-version values are few (a handful exist), so this set stays small."""

    def feed(self, ctx: Ctx) -> Found:
        version = ctx.decoded.operation.api_version
        if not version or version == self.first:
            return ()
        if self.first is None:
            self.first = version
        elif version not in self.reported:
            self.reported.add(version)
            breach = Breach(actual=f"{version} after {self.first}", pointer="query:api-version")
            return [(ctx.id, breach)]
        return ()

    def end(self) -> Iterator[tuple[str, Breach]]:
        return iter(())


@session_rule(
    "session.registration-and-installation",
    severity="warning",
    spec="An installation is stored as registrations visible in `GET /registrations`",
    source=f"{SPEC} §7.6",
    expected="a push handle managed either by registrations or by an installation, not both",
)
class Both:
    ops: ClassVar[frozenset[Op]] = REGISTRATION_WRITES | {Op.CREATE_OR_OVERWRITE_INSTALLATION}

    def __init__(self) -> None:
        self.registered: BoundedMap[str, None] = BoundedMap()
        self.installed: BoundedMap[str, None] = BoundedMap()
        self.reported: BoundedMap[str, None] = BoundedMap()

    def feed(self, ctx: Ctx) -> Found:
        if _failed(ctx):
            return ()
        mine, other = (
            (self.registered, self.installed) if ctx.op in REGISTRATION_WRITES
            else (self.installed, self.registered)
            if ctx.op is Op.CREATE_OR_OVERWRITE_INSTALLATION
            else (None, None)
        )  # fmt: skip
        if mine is None or other is None:
            return ()
        found = []
        for device in ctx.request_devices:
            handle = (device.handle or "").lower()
            if not handle:
                continue
            mine[handle] = None
            if handle in other and handle not in self.reported:
                self.reported[handle] = None
                found.append((
                    ctx.id,
                    Breach(
                        actual=f"handle {device.handle[:24]}… has registrations and an installation"
                        if device.handle
                        else "",
                        pointer=device.source_type,
                    ),
                ))  # fmt: skip
        return found

    def end(self) -> Iterator[tuple[str, Breach]]:
        return iter(())
