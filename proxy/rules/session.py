"""Session rules: expectations over a sequence of exchanges (ids, duplicates, versions)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import unquote, urlsplit

from proxy.model import Op
from proxy.rules.context import REGISTRATION_WRITES, Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import session_rule

SPEC = "spec/nh-rest-api.md"


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
def _id_unused(ctxs: Sequence[Ctx]) -> Iterator[tuple[str, Breach]]:
    pending: dict[str, Ctx] = {}
    for ctx in ctxs:
        if ctx.op is Op.CREATE_REGISTRATION_ID and not _failed(ctx):
            new_id = _id_from_location(ctx)
            if new_id:
                pending[new_id] = ctx
        elif ctx.op in (Op.CREATE_OR_UPDATE_REGISTRATION, Op.UPDATE_REGISTRATION):
            pending.pop(ctx.decoded.operation.resource_id or "", None)
    for new_id, ctx in pending.items():
        yield ctx.id, Breach(actual=f"id {new_id} never used by a PUT", pointer="header:Location")


@session_rule(
    "session.duplicate-registration",
    severity="warning",
    spec="Purpose: client stores the ID, then upserts with PUT (3.3); avoids duplicates.",
    source=f"{SPEC} §3.2",
    expected="one registration per push handle and template (create an id once, then PUT)",
)
def _duplicates(ctxs: Sequence[Ctx]) -> Iterator[tuple[str, Breach]]:
    seen: dict[tuple[str, str, str], str] = {}
    for ctx in ctxs:
        if ctx.op is not Op.CREATE_REGISTRATION or _failed(ctx):
            continue
        for device in ctx.request_devices:
            if not device.handle:
                continue
            name = device.templates[0].name or "" if device.templates else ""
            key = (device.handle.lower(), device.source_type, name)
            first = seen.setdefault(key, ctx.id)
            if first != ctx.id:
                yield (
                    ctx.id,
                    Breach(
                        actual=f"handle {device.handle[:24]}… registered again (first in {first})",
                        pointer=device.source_type,
                    ),
                )


@session_rule(
    "session.lost-update",
    severity="warning",
    spec="`If-Match` value: the ETag from create/read/update, or `*` to overwrite "
    "unconditionally. … If-Match absent ⇒ the call is an upsert (3.3).",
    source=f"{SPEC} §3.4",
    expected="If-Match with the ETag read, when another client changed the registration since",
)
def _lost_update(ctxs: Sequence[Ctx]) -> Iterator[tuple[str, Breach]]:
    latest: dict[str, tuple[int, Client]] = {}
    """Registration id → newest version seen and the client whose call produced it."""
    seen: dict[tuple[str, Client], int] = {}
    """(registration id, client) → the version that client last saw."""
    for ctx in ctxs:
        rid, me = ctx.decoded.operation.resource_id, client_of(ctx)
        if ctx.op is Op.CREATE_OR_UPDATE_REGISTRATION and rid and me is not None:
            mine, newest = seen.get((rid, me)), latest.get(rid)
            if mine is not None and newest is not None and newest[0] > mine and newest[1] != me:
                yield (
                    ctx.id,
                    Breach(
                        actual=f"PUT without If-Match based on ETag {mine}; another client "
                        f"had already written ETag {newest[0]}",
                        pointer="header:If-Match",
                    ),
                )
        if _failed(ctx) or me is None:
            continue
        for device in ctx.response_devices:
            version = _int(device.etag)
            if device.registration_id and version is not None:
                seen[(device.registration_id, me)] = version
                if version > latest.get(device.registration_id, (-1, None))[0]:
                    latest[device.registration_id] = (version, me)


Client = tuple[str, str]


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
def _mixed_versions(ctxs: Sequence[Ctx]) -> Iterator[tuple[str, Breach]]:
    first: str | None = None
    reported: set[str] = set()
    for ctx in ctxs:
        version = ctx.decoded.operation.api_version
        if not version:
            continue
        if first is None:
            first = version
        elif version != first and version not in reported:
            reported.add(version)
            yield ctx.id, Breach(actual=f"{version} after {first}", pointer="query:api-version")


@session_rule(
    "session.registration-and-installation",
    severity="warning",
    spec="An installation is stored as registrations visible in `GET /registrations`",
    source=f"{SPEC} §7.6",
    expected="a push handle managed either by registrations or by an installation, not both",
)
def _both(ctxs: Sequence[Ctx]) -> Iterator[tuple[str, Breach]]:
    registered: set[str] = set()
    installed: set[str] = set()
    reported: set[str] = set()
    for ctx in ctxs:
        if _failed(ctx):
            continue
        mine, other = (
            (registered, installed) if ctx.op in REGISTRATION_WRITES
            else (installed, registered) if ctx.op is Op.CREATE_OR_OVERWRITE_INSTALLATION
            else (None, None)
        )  # fmt: skip
        if mine is None or other is None:
            continue
        for device in ctx.request_devices:
            handle = (device.handle or "").lower()
            if not handle:
                continue
            mine.add(handle)
            if handle in other and handle not in reported:
                reported.add(handle)
                yield (
                    ctx.id,
                    Breach(
                        actual=f"handle {device.handle[:24]}… has registrations and an installation"
                        if device.handle
                        else "",
                        pointer=device.source_type,
                    ),
                )
