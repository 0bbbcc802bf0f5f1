"""SAS checks on every request, and the claim each operation needs."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from proxy.localhub.settings import HubSettings, Right
from proxy.model import Op
from proxy.sas import parse_token, verify

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


_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def _is_loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    return name in ("localhost", "::1") or name.startswith("127.")


def _sentence(reason: str) -> str:
    head, sep, tail = reason.partition(": ")
    if sep:
        reason = f"{head}: {tail[:1].upper()}{tail[1:]}"
    return reason if reason.endswith(".") else reason + "."


def authenticate(
    authorization: str | None,
    settings: HubSettings,
    *,
    host: str,
    hub: str,
    op: Op,
    now: float | None = None,
) -> str | None:
    """None when the token is valid for this hub, else the 401 detail (rights: `missing_right`)."""
    if not authorization or not authorization.strip():
        return "MissingToken: The request has no Authorization header."
    token = parse_token(authorization)
    if token is None:
        return "MalformedToken: The Authorization header is not a SharedAccessSignature token."
    reason = verify(token, settings.keys, host=host, hub=hub, now=now)
    if reason is not None and reason.startswith("InvalidAudience") and _is_loopback(host):
        # Behind `hubscope proxy` the client may have signed for another loopback name.
        if any(verify(token, settings.keys, host=h, hub=hub, now=now) is None for h in _LOOPBACK):
            reason = None
    if reason is not None:
        return _sentence(reason)
    return None


def missing_right(authorization: str, settings: HubSettings, op: Op) -> Right | None:
    """The claim an authenticated token's rule lacks for `op`, or None when it holds it."""
    token = parse_token(authorization)
    rule = settings.rule(unquote(token.skn or "")) if token is not None else None
    right = required_right(op)
    return right if rule is None or right not in rule.rights else None
