"""Registration operations: create, upsert, update, read, delete, ids, lists."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from urllib.parse import quote

from aiohttp import web

from proxy.localhub.atom import ATOM_ENTRY, READ_TYPE, render_entry, render_feed
from proxy.localhub.context import Ctx
from proxy.localhub.decoding import decode_description
from proxy.localhub.limits import LimitExceeded, check_tags, check_template_name
from proxy.localhub.listing import (
    BadQuery,
    all_registrations,
    channel_filter,
    find_registration,
    page,
)
from proxy.localhub.media import body_type_problem
from proxy.localhub.state import Registration, expiration_after
from proxy.localhub.validate import Rejected, check, fields_of
from proxy.model import Op

__all__ = ["HANDLERS"]


def new_registration_id() -> str:
    """`{19 digits}-{19 digits}-{1 digit}`, shaped like the service's ids."""
    first = secrets.randbelow(9 * 10**18) + 10**18
    second = secrets.randbelow(9 * 10**18) + 10**18
    return f"{first}-{second}-{secrets.randbelow(3) + 1}"


def _etag_matches(if_match: str | None, etag: int) -> bool:
    """`*`, `"3"` and `W/"3"` forms; absent If-Match matches anything."""
    if if_match is None or not if_match.strip():
        return True
    for candidate in if_match.split(","):
        value = candidate.strip()
        if value == "*":
            return True
        value = value[2:] if value.startswith("W/") else value
        if value.strip('"') == str(etag):
            return True
    return False


PRECONDITION_FAILED = "Precondition Failed: the ETag in If-Match is not the registration's ETag"


async def _write(ctx: Ctx, registration_id: str, previous: Registration | None) -> web.Response:
    """Parse, validate and store the body's description under `registration_id`."""
    content_type = ctx.request.headers.get("Content-Type")
    if (problem := body_type_problem(ctx.op.name, content_type)) is not None:
        return ctx.error(400, problem)
    decoded = decode_description(await ctx.request.read(), content_type, ctx.op)
    if decoded.device is None:
        return ctx.error(400, decoded.error or "Failed to parse RegistrationDescription")
    verdict = check(decoded.device, decoded.text)
    if isinstance(verdict, Rejected):
        return ctx.error(400, verdict.message)
    device = decoded.device
    template = device.templates[0] if device.templates else None
    try:
        check_tags(device.tags if "Tags" in verdict.kept else (), "Tags")
        if template is not None and template.name and "TemplateName" in verdict.kept:
            check_template_name(template.name)
    except LimitExceeded as exc:
        return ctx.error(400, str(exc))
    keep_headers = verdict.contract.header_list in verdict.kept
    reg = Registration(
        registration_id=registration_id,
        kind=verdict.contract.kind,
        etag=previous.etag + 1 if previous else 1,
        tags=tuple(dict.fromkeys(device.tags)) if "Tags" in verdict.kept else (),
        push_variables=device.push_variables if "PushVariables" in verdict.kept else None,
        fields=fields_of(device, verdict),
        headers=template.headers if template and keep_headers else (),
        expiration=expiration_after(ctx.now, ctx.settings.registration_ttl),
        created=previous.created if previous else ctx.now,
        updated=ctx.now,
        seq=previous.seq if previous else ctx.store.next_seq(),
    )
    ctx.store.put_registration(ctx.hub, reg)
    body_out = render_entry(
        reg, base=ctx.base, hub=ctx.hub, api_version=ctx.api_version, read=False
    )
    # The Kestrel-era service sends no ETag header: the version is in the body only.
    return web.Response(status=200, body=body_out, headers={"Content-Type": ATOM_ENTRY})


async def create(ctx: Ctx) -> web.Response:
    return await _write(ctx, new_registration_id(), None)


def _installation_owned(ctx: Ctx, registration_id: str) -> web.Response | None:
    """A 409 for writes to a registration an installation materialises (change the installation)."""
    reg = find_registration(ctx.store, ctx.hub, registration_id)
    if reg is None or reg.installation_id is None:
        return None
    return ctx.error(
        409,
        f"SubCode=40900. Conflict. Registration {registration_id} belongs to installation "
        f"'{reg.installation_id}'; update the installation instead",
    )


async def create_or_update(ctx: Ctx) -> web.Response:
    registration_id = ctx.op.resource_id or ""
    previous = ctx.store.registration(ctx.hub, registration_id)
    if previous is None and (conflict := _installation_owned(ctx, registration_id)):
        return conflict
    return await _write(ctx, registration_id, previous)


async def update(ctx: Ctx) -> web.Response:
    registration_id = ctx.op.resource_id or ""
    previous = ctx.store.registration(ctx.hub, registration_id)
    if previous is None:
        return _installation_owned(ctx, registration_id) or ctx.error(404, "")
    if not _etag_matches(ctx.request.headers.get("If-Match"), previous.etag):
        return ctx.error(412, PRECONDITION_FAILED)
    return await _write(ctx, registration_id, previous)


async def create_id(ctx: Ctx) -> web.Response:
    location = f"{ctx.base}/{ctx.hub}/registrationids/{new_registration_id()}"
    response = ctx.empty(201, content_type=ATOM_ENTRY)
    response.headers["Location"] = location
    return response


async def read(ctx: Ctx) -> web.Response:
    reg = find_registration(ctx.store, ctx.hub, ctx.op.resource_id or "")
    if reg is None:
        return ctx.error(404, "")
    body = render_entry(reg, base=ctx.base, hub=ctx.hub, api_version=ctx.api_version, read=True)
    return web.Response(body=body, headers={"Content-Type": READ_TYPE})


def _drop_from_installation(ctx: Ctx, reg: Registration) -> None:
    """Deleting a materialised registration removes its template, or the whole installation."""
    inst = ctx.store.installation(ctx.hub, reg.installation_id or "")
    if inst is None:
        return
    name = reg.field("TemplateName")
    if name is None or "Template" not in reg.kind:
        ctx.store.delete_installation(ctx.hub, inst.installation_id)
        return
    doc = json.loads(inst.document)
    doc.get("templates", {}).pop(name, None)
    if not doc.get("templates"):
        doc.pop("templates", None)
    ctx.store.put_installation(
        ctx.hub,
        replace(inst, document=json.dumps(doc), version=inst.version + 1, updated=ctx.now),
    )


async def delete(ctx: Ctx) -> web.Response:
    reg = find_registration(ctx.store, ctx.hub, ctx.op.resource_id or "")
    if reg is None:
        return ctx.error(404, "")
    if not _etag_matches(ctx.request.headers.get("If-Match"), reg.etag):
        return ctx.error(412, PRECONDITION_FAILED)
    if reg.installation_id is not None:
        _drop_from_installation(ctx, reg)
    else:
        ctx.store.delete_registration(ctx.hub, reg.registration_id)
    return ctx.empty(200)


async def list_registrations(ctx: Ctx) -> web.Response:
    items = all_registrations(ctx.store, ctx.hub)
    try:
        if ctx.op.name is Op.LIST_REGISTRATIONS_BY_TAG:
            tag = (ctx.op.resource_id or "").lower()
            items = [i for i in items if tag in (t.lower() for t in i[1].tags)]
        elif ctx.op.name is Op.LIST_REGISTRATIONS_BY_CHANNEL:
            matches = channel_filter(ctx.op.filter or "")
            items = [i for i in items if matches(i[1])]
        top = min(ctx.op.top or ctx.settings.page_size, ctx.settings.page_size)
        regs, token = page(items, top, ctx.op.continuation_token)
    except BadQuery as exc:
        return ctx.error(400, str(exc))
    next_href = None
    if token is not None:
        query = f"api-version={ctx.api_version}&%24top={top}"
        if ctx.op.filter:
            query += f"&%24filter={quote(ctx.op.filter, safe='')}"
        next_href = (
            f"{ctx.base}{ctx.request.path}?{query}&continuationtoken={quote(token, safe='')}"
        )
    body = render_feed(
        regs, base=ctx.base, hub=ctx.hub, api_version=ctx.api_version, next_href=next_href
    )
    response = web.Response(body=body, headers={"Content-Type": READ_TYPE})
    if token is not None:
        response.headers["X-MS-ContinuationToken"] = token
    return response


HANDLERS = {
    Op.CREATE_REGISTRATION: create,
    Op.CREATE_OR_UPDATE_REGISTRATION: create_or_update,
    Op.UPDATE_REGISTRATION: update,
    Op.CREATE_REGISTRATION_ID: create_id,
    Op.READ_REGISTRATION: read,
    Op.DELETE_REGISTRATION: delete,
    Op.LIST_REGISTRATIONS: list_registrations,
    Op.LIST_REGISTRATIONS_BY_TAG: list_registrations,
    Op.LIST_REGISTRATIONS_BY_CHANNEL: list_registrations,
}
