"""SAS checks on every request, and the claim each operation needs."""

from __future__ import annotations

from urllib.parse import unquote

from proxy.localhub.settings import HubSettings, Right
from proxy.model import Op
from proxy.sas import MISSING_TOKEN, NOT_SAS, parse_token, verify

__all__ = ["authenticate", "missing_right", "required_right"]

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
    path: str | None = None,
    now: float | None = None,
) -> str | None:
    """None when the token is valid for this hub, else the 401 detail (rights: `missing_right`).

    As strict as the service: the token's `sr` must name `host`, the host the hub is
    called as (its `Host` header), exactly; no other name of this machine counts.
    """
    if not authorization or not authorization.strip():
        return MISSING_TOKEN
    token = parse_token(authorization)
    if token is None:
        return NOT_SAS
    return verify(token, settings.keys, host=host, hub=hub, path=path, now=now)


def missing_right(authorization: str, settings: HubSettings, op: Op) -> Right | None:
    """The claim an authenticated token's rule lacks for `op`, or None when it holds it."""
    token = parse_token(authorization)
    rule = settings.rule(unquote(token.skn or "")) if token is not None else None
    right = required_right(op)
    return right if rule is None or right not in rule.rights else None
