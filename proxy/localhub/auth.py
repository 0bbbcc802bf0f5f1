"""SAS checks on every request, and the claim each operation needs."""

from __future__ import annotations

from urllib.parse import unquote

from proxy.localhub.settings import HubSettings, Right
from proxy.model import Op
from proxy.sas import MISSING_TOKEN, NOT_SAS, parse_token, verify

__all__ = ["authenticate", "required_right"]

_MANAGE = frozenset({Op.LIST_REGISTRATIONS, Op.LIST_REGISTRATIONS_BY_TAG})
_SEND = frozenset(
    {
        Op.SEND,
        Op.SEND_DIRECT,
        Op.SEND_BATCH,
        Op.SCHEDULE_SEND,
        Op.CANCEL_SCHEDULED_SEND,
        Op.READ_NOTIFICATION,
    }
)


def required_right(op: Op) -> Right:
    """Manage for list-all/by-tag, Send for sends, Listen for everything else ([DOC] §2.4)."""
    if op in _MANAGE:
        return Right.MANAGE
    if op in _SEND:
        return Right.SEND
    return Right.LISTEN


def authenticate(
    authorization: str | None,
    settings: HubSettings,
    *,
    host: str,
    hub: str,
    op: Op,
    path: str | None = None,
    now: float | None = None,
) -> str | None:
    """None when the token is valid and its rule holds the right, else the 401 detail.

    As strict as the service: the token's `sr` must name `host`, the host the hub is
    called as (its `Host` header), exactly; no other name of this machine counts.
    """
    if not authorization or not authorization.strip():
        return MISSING_TOKEN
    token = parse_token(authorization)
    if token is None:
        return NOT_SAS
    reason = verify(token, settings.keys, host=host, hub=hub, path=path, now=now)
    if reason is not None:
        return reason
    rule = settings.rule(unquote(token.skn or ""))
    right = required_right(op)
    if rule is None or right not in rule.rights:
        return f"{right.value} claim is required for this operation."
    return None
