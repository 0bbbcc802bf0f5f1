"""`hubscope hub`: a local stand-in Notification Hub that answers like the real service.

Registrations, installations and sends over the NH REST API, checked with SAS
like the service does, stored in memory, or in an SQLite file or a PostgreSQL database
(`HubSettings.db_path`).
Nothing is ever pushed to a device.

Never more lenient than the service (docs/stand-in-hub.md has the evidence per rule);
choices where the service leaves room (the spec sections in brackets):

* Only the hubs `HubSettings.hubs` names exist (default `myhub`); others get 404
  `No service is hosted at the specified address.` (checked after the token) unless
  `allow_unknown_hubs` forgives them [§1.5].
* A rule lacking the claim gets 403 with no body from api-version 2020-06 on, 401
  `{Right} claim is required for this operation.` before it [§1.6]. Listen covers single
  registrations, registration ids, `$filter` lists and installations; Manage covers
  list-all and by-tag; Send covers sends and scheduled sends [§2.4].
* Answers follow the Kestrel-era service [real-clients §3]: `p1:etag`/`p2:etag`,
  write ids under `/registrations/`, read ids under `/resources/`, GET and feeds as
  `application/xml`, no `ETag` or `Content-Location` header.
* `$top` defaults to and is capped at `HubSettings.page_size` (100).
* Installations show up as registrations with stable ids; deleting the native one
  deletes the installation, deleting a template one removes that template [§7.6];
  PUT over one of them is 409 (change the installation instead).
* `?test` sends answer a `NotificationOutcome` listing at most 10 registrations the
  tag expression and format would reach [§9.7]; nothing is delivered.

May import the decoders, the vocabulary and `proxy.store` (its PostgreSQL connection, for a
`postgresql://` `--db`); it shares nothing with the proxy at run time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from proxy.localhub.context import SETTINGS_KEY, STORE_KEY
from proxy.localhub.routes import dispatch, nh_headers
from proxy.localhub.settings import FULL_RULE, LISTEN_RULE, HubSettings, Right, Rule
from proxy.localhub.state import Store

__all__ = [
    "FULL_RULE",
    "LISTEN_RULE",
    "SETTINGS_KEY",
    "STORE_KEY",
    "HubSettings",
    "RunningHub",
    "Right",
    "Rule",
    "make_app",
    "start_hub",
]


async def _store(app: web.Application) -> AsyncIterator[None]:
    """Open the store (and its database) for the app's lifetime."""
    store = Store(app[SETTINGS_KEY].db_path)
    app[STORE_KEY] = store
    yield
    store.close()


def make_app(settings: HubSettings) -> web.Application:
    """The hub as an aiohttp application; one catch-all route, state under typed keys."""
    app = web.Application(middlewares=[nh_headers], client_max_size=4 * 1024 * 1024)
    app[SETTINGS_KEY] = settings
    app.cleanup_ctx.append(_store)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


@dataclass(frozen=True, slots=True)
class RunningHub:
    """A hub serving on 127.0.0.1; `await hub.stop()` when done."""

    runner: web.AppRunner
    port: int
    settings: HubSettings

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def connection_string(self, rule: str = FULL_RULE, *, scheme: str = "http") -> str:
        """`http://` by default so clients that keep the scheme (JS, PyPI) stay on plain HTTP."""
        return self.settings.connection_string(self.host, rule=rule, scheme=scheme)

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_hub(settings: HubSettings | None = None, *, port: int = 0) -> RunningHub:
    """Start the hub on 127.0.0.1 (port 0: the OS picks one) inside the running loop."""
    settings = settings or HubSettings()
    runner = web.AppRunner(make_app(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return RunningHub(runner=runner, port=site.port, settings=settings)
