"""Notification Hubs `<Error><Code/><Detail/></Error>` bodies."""

from __future__ import annotations

import re

from lxml import etree

from proxy.decode.xml import local_name
from proxy.model import NhError

__all__ = ["is_error", "parse_error", "split_detail"]

_TRACKING = re.compile(r"TrackingId\s*:\s*([^,\s]+)", re.IGNORECASE)


def is_error(root: etree._Element) -> bool:
    """Whether a parsed document is an NH error body."""
    return local_name(root) == "Error"


def split_detail(detail: str) -> tuple[str, str | None]:
    """Split `…TrackingId:{id},TimeStamp:…` into the message before it and the id."""
    match = _TRACKING.search(detail)
    if match is None:
        return detail.strip(), None
    message = detail[: match.start()].strip()
    # The service puts a "." between message and TrackingId; drop it when it shows.
    if message == "." or message.endswith(".."):
        message = message[:-1]
    return message, match.group(1)


def parse_error(root: etree._Element) -> NhError:
    """The code, detail and tracking id of an `<Error>` element."""
    code: str | None = None
    raw_detail: str | None = None
    for child in root:
        name = local_name(child)
        if name == "Code" and code is None:
            code = (child.text or "").strip()
        elif name == "Detail" and raw_detail is None:
            raw_detail = child.text or ""
    if raw_detail is None:
        return NhError(code=code, detail=None)
    detail, tracking_id = split_detail(raw_detail)
    return NhError(code=code, detail=detail, tracking_id=tracking_id)
