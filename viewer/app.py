"""The viewer's aiohttp application: settings, shared state, templates and lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from proxy import serve
from proxy.store import location
from viewer import security
from viewer.analysis import Badges, SessionFindings
from viewer.db import Reader, prepare
from viewer.live import Live
from viewer.routes import api_errors, setup_routes
from viewer.search import Indexer
from viewer.state import (
    ViewerSettings,
    badges_key,
    live_key,
    reader_key,
    session_findings_key,
    settings_key,
    summaries_key,
)
from viewer.templating import FILTERS, GLOBALS

HERE = Path(__file__).resolve().parent
INDEX_EVERY_SECONDS = 1.0
INDEX_BUDGET_SECONDS = 2.0
log = logging.getLogger(__name__)


def make_app(settings: ViewerSettings | str | Path, *, token: str | None = None) -> web.Application:
    """The viewer app over one database file (`make_app(path, token=…)` also works)."""
    if not isinstance(settings, ViewerSettings):
        settings = ViewerSettings(db=location.parse(settings), token=token)
    app = web.Application(middlewares=[api_errors, security.guard(settings.token)])
    app[settings_key] = settings
    app[badges_key] = Badges()
    app[session_findings_key] = SessionFindings()
    app[summaries_key] = {}
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    app.on_response_prepare.append(security.add_headers)
    app.cleanup_ctx.append(_resources)
    app.on_shutdown.append(_close_streams)
    setup_routes(app, HERE / "static")
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    path = app[settings_key].db
    await asyncio.to_thread(prepare, path)
    env = aiohttp_jinja2.get_env(app)
    for name in env.list_templates():
        env.get_template(name)  # compile now, not on a user's first page view
    reader = Reader(path)
    live = Live(reader, app[badges_key])
    app[reader_key] = reader
    app[live_key] = live
    indexer = Indexer(path)
    tasks = [asyncio.create_task(live.poll())]
    if app[settings_key].index:
        tasks.append(asyncio.create_task(_index(indexer)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(indexer.close)
        await asyncio.to_thread(reader.close)


async def _index(indexer: Indexer) -> None:
    """Keep the search index caught up with the file (search is right either way, only faster)."""
    while not indexer.disabled:
        try:
            await asyncio.to_thread(indexer.catch_up, INDEX_BUDGET_SECONDS)
        except Exception:
            log.exception("indexing for search failed; search reads rows instead")
            return
        await asyncio.sleep(INDEX_EVERY_SECONDS)


async def _close_streams(app: web.Application) -> None:
    await app[live_key].close()


async def start_viewer(
    db: str | Path, *, token: str | None = None, host: str = "127.0.0.1", port: int = 0
) -> serve.Running:
    """Start a viewer in this event loop (tests, the demo); stop it with `serve.stop([...])`."""
    app = make_app(ViewerSettings(db=location.parse(db), token=token))
    return await serve.start(app, serve.Listen(host, port))
