"""One request as the hub handles it, and the responses it can give."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from aiohttp import web

from proxy.localhub.atom import ERROR_TYPE, error_body
from proxy.localhub.settings import HubSettings
from proxy.localhub.state import Store
from proxy.model import Operation

__all__ = ["SETTINGS_KEY", "STORE_KEY", "Ctx", "new_tracking_id"]

SETTINGS_KEY = web.AppKey("localhub_settings", HubSettings)
STORE_KEY = web.AppKey("localhub_store", Store)

DEFAULT_API_VERSION = "2020-06"


def new_tracking_id() -> str:
    return str(uuid.uuid4())


@dataclass(slots=True, kw_only=True)
class Ctx:
    """What every handler needs: the request, its operation, the hub's state."""

    request: web.Request
    op: Operation
    hub: str
    settings: HubSettings
    store: Store
    tracking_id: str = field(default_factory=new_tracking_id)
    now: float = field(default_factory=time.time)

    @property
    def base(self) -> str:
        """`https://{host}`: the service always names itself with https, even here over http."""
        return f"https://{self.request.host}"

    @property
    def api_version(self) -> str:
        return self.op.api_version or DEFAULT_API_VERSION

    def error(self, status: int, message: str) -> web.Response:
        """An NH `<Error>` response (`message` without the trailing TrackingId part)."""
        return web.Response(
            status=status,
            body=error_body(status, message, self.tracking_id, self.now),
            headers={"Content-Type": ERROR_TYPE},
        )

    def empty(self, status: int, *, content_type: str | None = None) -> web.Response:
        """An answer with no body (`Content-Length: 0`), optionally labelled like the service."""
        headers = {"Content-Type": content_type} if content_type else {}
        return web.Response(status=status, body=b"", headers=headers)
