"""Installation operations: PUT, GET, PATCH, DELETE (JSON bodies, XML-labelled answers)."""

from __future__ import annotations

import json
from dataclasses import replace

from aiohttp import web

from proxy.localhub.atom import ERROR_TYPE
from proxy.localhub.context import Ctx
from proxy.localhub.decoding import decode_json
from proxy.localhub.installations import InvalidInstallation, normalise
from proxy.localhub.media import body_type_problem
from proxy.localhub.patch import apply_patch
from proxy.localhub.state import Installation, expiration_after
from proxy.model import Op

__all__ = ["HANDLERS"]

NOT_FOUND = "Installation not found"
XML_UTF8 = ERROR_TYPE
"""The service labels installation answers `application/xml; charset=utf-8`, JSON or not."""


async def _json(ctx: Ctx) -> object:
    problem = body_type_problem(ctx.op.name, ctx.request.headers.get("Content-Type"))
    if problem is not None:
        raise InvalidInstallation(problem)
    body = await ctx.request.read()
    try:
        return decode_json(body, ctx.request.headers.get("Content-Type"))
    except ValueError as exc:
        raise InvalidInstallation(str(exc)) from None


def _as_written(ctx: Ctx, doc: dict[str, object]) -> tuple[str, str]:
    """The document as stored, with the fields only the hub sets, and its expiration: the
    hub's `RegistrationTtl` from this write on, and `pushChannelExpired` as its PNS reported
    the channel (the client's values of both are ignored, seed table and §7.1)."""
    expiration = expiration_after(ctx.now, ctx.settings.registration_ttl)
    doc["expirationTime"] = expiration + "Z"
    doc["pushChannelExpired"] = ctx.settings.channel_expired(doc["pushChannel"])
    return json.dumps(doc, separators=(",", ":")), expiration


async def put(ctx: Ctx) -> web.Response:
    installation_id = ctx.op.resource_id or ""
    try:
        doc = normalise(await _json(ctx), installation_id)
    except InvalidInstallation as exc:
        return ctx.error(400, str(exc))
    old = ctx.store.installation(ctx.hub, installation_id)
    document, expiration = _as_written(ctx, doc)
    ctx.store.put_installation(
        ctx.hub,
        Installation(
            installation_id=installation_id,
            document=document,
            expiration=expiration,
            version=old.version + 1 if old else 1,
            created=ctx.now,
            updated=ctx.now,
            seq=old.seq if old else ctx.store.next_seq(),
        ),
    )
    return ctx.empty(200, content_type=XML_UTF8)


async def get(ctx: Ctx) -> web.Response:
    inst = ctx.store.installation(ctx.hub, ctx.op.resource_id or "")
    if inst is None:
        return ctx.error(404, NOT_FOUND)
    return web.Response(body=inst.document.encode(), headers={"Content-Type": XML_UTF8})


async def patch(ctx: Ctx) -> web.Response:
    installation_id = ctx.op.resource_id or ""
    inst = ctx.store.installation(ctx.hub, installation_id)
    try:
        body = await _json(ctx)
        if inst is None:
            return ctx.error(404, NOT_FOUND)
        doc = normalise(apply_patch(json.loads(inst.document), body), installation_id)
    except InvalidInstallation as exc:
        return ctx.error(400, str(exc))
    document, expiration = _as_written(ctx, doc)
    ctx.store.put_installation(
        ctx.hub,
        replace(
            inst,
            document=document,
            expiration=expiration,
            version=inst.version + 1,
            updated=ctx.now,
        ),
    )
    return ctx.empty(200, content_type=XML_UTF8)


async def delete(ctx: Ctx) -> web.Response:
    ctx.store.delete_installation(ctx.hub, ctx.op.resource_id or "")
    return ctx.empty(204, content_type=XML_UTF8)


HANDLERS = {
    Op.CREATE_OR_OVERWRITE_INSTALLATION: put,
    Op.READ_INSTALLATION: get,
    Op.PATCH_INSTALLATION: patch,
    Op.DELETE_INSTALLATION: delete,
}
