"""Tell Notification Hubs data-plane operations apart from method, path and query."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus, urlsplit

from proxy.model import Op, Operation

__all__ = ["classify"]


@dataclass(frozen=True, slots=True)
class _Query:
    api_version: str | None = None
    top: int | None = None
    continuation_token: str | None = None
    filter: str | None = None
    direct: bool = False


def _parse_query(query: str) -> _Query:
    """Read the parameters hubscope cares about; the continuation token stays verbatim."""
    api_version: str | None = None
    top: int | None = None
    token: str | None = None
    filter_: str | None = None
    direct = False
    for part in query.split("&"):
        if not part:
            continue
        raw_key, _, raw_value = part.partition("=")
        key = unquote_plus(raw_key).strip().lower()
        if key == "api-version" and api_version is None:
            api_version = unquote_plus(raw_value)
        elif key == "$top" and top is None:
            value = unquote_plus(raw_value).strip()
            top = int(value) if value.isascii() and value.isdigit() else None
        elif key == "continuationtoken" and token is None:
            token = raw_value
        elif key == "$filter" and filter_ is None:
            filter_ = unquote_plus(raw_value)
        elif key == "direct":
            direct = raw_value.lower() not in ("false", "0")
    return _Query(api_version, top, token, filter_, direct)


def _route(method: str, parts: list[str], if_match: str | None, query: _Query) -> Op:
    """Map the path segments after the hub onto an operation."""
    names = [p.lower() for p in parts]
    n = len(names)
    head = names[0] if names else ""
    if head == "registrations" and n == 1:
        if method == "POST":
            return Op.CREATE_REGISTRATION
        if method == "GET":
            return Op.LIST_REGISTRATIONS_BY_CHANNEL if query.filter else Op.LIST_REGISTRATIONS
    elif head == "registrations" and n == 2:
        if method == "PUT":
            has_if_match = if_match is not None and if_match.strip() != ""
            return Op.UPDATE_REGISTRATION if has_if_match else Op.CREATE_OR_UPDATE_REGISTRATION
        if method == "GET":
            return Op.READ_REGISTRATION
        if method == "DELETE":
            return Op.DELETE_REGISTRATION
    elif head == "registrationids" and n == 1 and method == "POST":
        return Op.CREATE_REGISTRATION_ID
    elif head == "tags" and n == 3 and names[2] == "registrations" and method == "GET":
        return Op.LIST_REGISTRATIONS_BY_TAG
    elif head == "installations" and n == 2:
        return _INSTALLATION_OPS.get(method, Op.UNKNOWN)
    elif head == "messages":
        if n == 1 and method == "POST":
            return Op.SEND_DIRECT if query.direct else Op.SEND
        if n == 2 and names[1] == "$batch" and method == "POST":
            return Op.SEND_BATCH
        if n == 2 and names[1] != "$batch" and method == "GET":
            return Op.READ_NOTIFICATION
    elif head == "schedulednotifications":
        if n == 1 and method == "POST":
            return Op.SCHEDULE_SEND
        if n == 2 and method == "DELETE":
            return Op.CANCEL_SCHEDULED_SEND
    return Op.UNKNOWN


_INSTALLATION_OPS = {
    "PUT": Op.CREATE_OR_OVERWRITE_INSTALLATION,
    "GET": Op.READ_INSTALLATION,
    "PATCH": Op.PATCH_INSTALLATION,
    "DELETE": Op.DELETE_INSTALLATION,
}

_ID_OPS = frozenset(
    {
        Op.CREATE_OR_UPDATE_REGISTRATION,
        Op.UPDATE_REGISTRATION,
        Op.READ_REGISTRATION,
        Op.DELETE_REGISTRATION,
        Op.LIST_REGISTRATIONS_BY_TAG,
        Op.CREATE_OR_OVERWRITE_INSTALLATION,
        Op.READ_INSTALLATION,
        Op.PATCH_INSTALLATION,
        Op.DELETE_INSTALLATION,
        Op.READ_NOTIFICATION,
        Op.CANCEL_SCHEDULED_SEND,
    }
)
"""Operations whose third path segment (after hub and resource) is an id or a tag."""


def _query_joined_with_ampersand(path: str) -> tuple[str, str]:
    """`/hub/Messages&api-version=2013-07` → (`/hub/Messages`, `api-version=2013-07`).

    A client bug (azure-sdk-for-node, 2016) put `&` where `?` belongs. Recorded traffic
    reads it as the query it was meant to be, so the call is classified and the rules can
    flag the separator; the stand-in hub does not (nobody knows the service accepts it).
    """
    head, slash, last = path.rpartition("/")
    resource, amp, query = last.partition("&")
    if amp and resource and "=" in query:
        return f"{head}{slash}{resource}", query
    return path, ""


def classify(
    method: str, url: str, *, if_match: str | None = None, joined_query: bool = False
) -> Operation:
    """Classify one request; anything hubscope does not know is `Op.UNKNOWN`.

    `url` is a full URL or path+query, percent-encoded as sent. `if_match` is the
    request's If-Match header: a PUT on a registration with it is an update,
    without it a create-or-update. `joined_query` reads `…/Messages&api-version=…`
    (no `?`) as path and query, for judging recorded traffic.
    """
    url = url.strip()
    if url.startswith("/"):
        # A bare path: urlsplit would read "//hub/..." as a host.
        path, _, query_string = url.partition("#")[0].partition("?")
    else:
        split = urlsplit(url)
        path, query_string = split.path, split.query
    if not query_string and joined_query:
        path, query_string = _query_joined_with_ampersand(path)
    query = _parse_query(query_string)
    parts = [unquote(p) for p in path.split("/") if p]
    hub = parts[0] if parts else None
    name = _route(method.strip().upper(), parts[1:], if_match, query) if hub else Op.UNKNOWN
    return Operation(
        name=name,
        hub=hub,
        resource_id=parts[2] if name in _ID_OPS else None,
        api_version=query.api_version,
        top=query.top,
        continuation_token=query.continuation_token,
        filter=query.filter,
    )
