"""The `Content-Type` each body-carrying operation must declare (parameters are not judged)."""

from __future__ import annotations

from collections.abc import Collection

from proxy.model import Op

__all__ = ["body_type_problem", "media_type", "send_type_problem"]

JSON = "application/json"
XML = "application/xml"
ATOM = "application/atom+xml"
OCTETS = "application/octet-stream"
FORM = "application/x-www-form-urlencoded"

_BODY_TYPES: dict[Op, tuple[str, ...]] = {
    Op.CREATE_REGISTRATION: (ATOM, XML),
    Op.CREATE_OR_UPDATE_REGISTRATION: (ATOM, XML),
    Op.UPDATE_REGISTRATION: (ATOM, XML),
    Op.CREATE_OR_OVERWRITE_INSTALLATION: (JSON,),
    Op.PATCH_INSTALLATION: (JSON, "application/json-patch+json"),
}
"""Registrations: Atom (every SDK) or plain XML (the legacy iOS client); installations: JSON
(spec/real-clients.md §1b, §2; spec/nh-rest-api.md §3.1, §6.1, §6.3)."""

_SEND_TYPES: dict[str, tuple[str, ...]] = {
    "apple": (JSON,),
    "gcm": (JSON,),
    "fcmv1": (JSON,),
    "adm": (JSON,),
    "browser": (JSON,),
    "xiaomi": (JSON,),
    "nokiax": (JSON,),
    "template": (JSON,),
    "baidu": (JSON, FORM),
    "windows": (XML, JSON),
    "windowsphone": (XML,),
}
"""`ServiceBusNotification-Format` → media types the send body may have (§9.3)."""


def media_type(content_type: str | None) -> str | None:
    """`application/json` from `Application/JSON; charset=utf-8`; None when absent or blank."""
    if content_type is None:
        return None
    value = content_type.partition(";")[0].strip().lower()
    return value or None


def _problem(content_type: str | None, allowed: Collection[str]) -> str | None:
    found = media_type(content_type)
    if found in allowed:
        return None
    expected = " or ".join(sorted(allowed))
    if found is None:
        return f"The request has no Content-Type; expected {expected}"
    return f"The Content-Type '{content_type}' is not supported here; expected {expected}"


def body_type_problem(op: Op, content_type: str | None) -> str | None:
    """Why a registration or installation write's Content-Type is refused, or None."""
    allowed = _BODY_TYPES.get(op)
    return None if allowed is None else _problem(content_type, allowed)


def send_type_problem(fmt: str, content_type: str | None, *, wns_raw: bool) -> str | None:
    """Why a send's Content-Type does not fit its format, or None (`wns/raw` is octets)."""
    allowed = (OCTETS,) if wns_raw else _SEND_TYPES.get(fmt, (JSON,))
    return _problem(content_type, allowed)
