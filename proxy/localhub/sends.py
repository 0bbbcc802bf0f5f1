"""Sends and scheduled sends: validated like the service, answered 201, delivered nowhere."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from aiohttp import web

from proxy.contract import contract_for
from proxy.localhub.atom import CONNECT_NS, ERROR_TYPE, XSI_NS
from proxy.localhub.context import Ctx
from proxy.localhub.listing import all_registrations
from proxy.localhub.send_checks import SendRefused, check_send
from proxy.localhub.state import Registration
from proxy.model import Op
from proxy.tagexpr import InvalidTagExpression, parse_tag_expression

__all__ = ["HANDLERS"]

_PREFIX_OF_FORMAT = {
    "apple": "Apple",
    "gcm": "Gcm",
    "fcmv1": "FcmV1",
    "windows": "Windows",
    "windowsphone": "Mpns",
    "adm": "Adm",
    "baidu": "Baidu",
    "browser": "Browser",
    "xiaomi": "Xiaomi",
}
_FORMAT_OF_PREFIX = {prefix: fmt for fmt, prefix in _PREFIX_OF_FORMAT.items()}
TEST_SEND_LIMIT = 10
"""A debug send reaches at most 10 registrations (§9.7)."""

OUTCOME = (
    "The Notification was successfully sent to the Push Notification System "
    "(hubscope hub: nothing was delivered)"
)


def notification_id(now: float) -> str:
    """`{32 hex}-{yyyyMMddHHmmss}-{n}-{n}`, like the ids in recorded `Location` headers."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H%M%S")
    return f"{secrets.token_hex(16)}-{stamp}-{secrets.randbelow(10**6)}-{secrets.randbelow(20)}"


async def send(ctx: Ctx) -> web.Response:
    headers = ctx.request.headers
    try:
        fmt = check_send(ctx.op.name, headers, await ctx.request.read(), ctx.now)
    except SendRefused as refused:
        return ctx.error(refused.status, refused.message)
    tags = headers.get("ServiceBusNotification-Tags")
    try:
        matcher = parse_tag_expression(tags) if tags and tags.strip() else None
    except InvalidTagExpression as exc:
        return ctx.error(400, str(exc))
    if ctx.op.name is Op.SEND and ctx.request.query.get("test", "false").lower() != "false":
        targets = [
            reg
            for _, reg in all_registrations(ctx.store, ctx.hub)
            if not reg.channel_expired
            and _format_matches(fmt, reg.kind)
            and (matcher is None or matcher(reg.tags))
        ]
        return _test_outcome(ctx, targets[:TEST_SEND_LIMIT])
    folder = "schedulednotifications" if ctx.op.name is Op.SCHEDULE_SEND else "messages"
    response = ctx.empty(201, content_type=ERROR_TYPE)
    response.headers["Location"] = (
        f"{ctx.base}/{ctx.hub}/{folder}/{notification_id(ctx.now)}?api-version={ctx.api_version}"
    )
    return response


def _format_matches(fmt: str, kind: str) -> bool:
    if fmt == "template":
        return "Template" in kind
    prefix = _PREFIX_OF_FORMAT.get(fmt)
    return prefix is not None and kind == f"{prefix}RegistrationDescription"


def _pns_handle(reg: Registration) -> str:
    """The PNS handle a result names (Baidu: `userId-channelId`)."""
    if reg.field("BaiduUserId") is not None:
        return f"{reg.field('BaiduUserId')}-{reg.field('BaiduChannelId') or ''}"
    contract = contract_for(reg.kind)
    return (reg.field(contract.handle_fields[0]) if contract else None) or ""


def _test_outcome(ctx: Ctx, targets: list[Registration]) -> web.Response:
    """The `NotificationOutcome` body a debug send (`?test`) answers with."""
    results = []
    for reg in targets:
        prefix = reg.kind.removesuffix("RegistrationDescription").removesuffix("Template")
        handle = _pns_handle(reg)
        platform = _FORMAT_OF_PREFIX.get(prefix, prefix.lower())
        results.append(
            "<RegistrationResult>"
            f"<ApplicationPlatform>{platform}</ApplicationPlatform>"
            f"<PnsHandle>{escape(handle)}</PnsHandle>"
            f"<RegistrationId>{escape(reg.registration_id)}</RegistrationId>"
            f"<Outcome>{OUTCOME}</Outcome></RegistrationResult>"
        )
    body = (
        f'<NotificationOutcome xmlns="{CONNECT_NS}" xmlns:i="{XSI_NS}">'
        f"<Success>{len(targets)}</Success><Failure>0</Failure>"
        f"<Results>{''.join(results)}</Results></NotificationOutcome>"
    )
    return web.Response(status=201, body=body.encode(), headers={"Content-Type": ERROR_TYPE})


async def cancel(ctx: Ctx) -> web.Response:
    return ctx.empty(200)


HANDLERS = {
    Op.SEND: send,
    Op.SEND_DIRECT: send,
    Op.SEND_BATCH: send,
    Op.SCHEDULE_SEND: send,
    Op.CANCEL_SCHEDULED_SEND: cancel,
}
