"""Sends and scheduled sends: validated like the service, answered 201, delivered nowhere."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from aiohttp import web

from proxy.model import Op

from .atom import ERROR_TYPE
from .context import Ctx

__all__ = ["HANDLERS"]

MAX_PAYLOAD = 64 * 1024
_FORMATS = frozenset(
    {
        "apple",
        "gcm",
        "fcmv1",
        "windows",
        "windowsphone",
        "adm",
        "baidu",
        "browser",
        "xiaomi",
        "nokiax",
        "template",
    }
)


def notification_id(now: float) -> str:
    """`{32 hex}-{yyyyMMddHHmmss}-{n}-{n}`, like the ids in recorded `Location` headers."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H%M%S")
    return f"{secrets.token_hex(16)}-{stamp}-{secrets.randbelow(10**6)}-{secrets.randbelow(20)}"


async def send(ctx: Ctx) -> web.Response:
    body = await ctx.request.read()
    headers = ctx.request.headers
    if len(body) > MAX_PAYLOAD:
        return ctx.error(413, "The notification payload is larger than 64 KB")
    if ctx.op.name is not Op.SEND_BATCH:
        fmt = headers.get("ServiceBusNotification-Format", "").strip().lower()
        if fmt not in _FORMATS:
            return ctx.error(
                400, "The header 'ServiceBusNotification-Format' is missing or not supported"
            )
        if fmt == "windows" and "X-WNS-Type" not in headers:
            return ctx.error(400, "The mandatory HTTP header 'X-WNS-Type' is missing.")
        if ctx.op.name is Op.SEND_DIRECT and "ServiceBusNotification-DeviceHandle" not in headers:
            return ctx.error(400, "The header 'ServiceBusNotification-DeviceHandle' is missing")
        if ctx.op.name is Op.SCHEDULE_SEND and "ServiceBusNotification-ScheduleTime" not in headers:
            return ctx.error(400, "The header 'ServiceBusNotification-ScheduleTime' is missing")
    folder = "schedulednotifications" if ctx.op.name is Op.SCHEDULE_SEND else "messages"
    response = ctx.empty(201, content_type=ERROR_TYPE)
    response.headers["Location"] = (
        f"{ctx.base}/{ctx.hub}/{folder}/{notification_id(ctx.now)}?api-version={ctx.api_version}"
    )
    return response


async def cancel(ctx: Ctx) -> web.Response:
    return ctx.empty(200)


HANDLERS = {
    Op.SEND: send,
    Op.SEND_DIRECT: send,
    Op.SEND_BATCH: send,
    Op.SCHEDULE_SEND: send,
    Op.CANCEL_SCHEDULED_SEND: cancel,
}
