"""The viewer's settings and the typed keys of its shared state (imported by every handler)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from proxy.store.location import describe
from viewer.analysis import Badges, SessionFindings
from viewer.db import Reader
from viewer.live import Live


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewerSettings:
    """What the viewer needs: the database and, when it is reachable beyond loopback, a token."""

    db: Path | str
    """A file, or a `postgresql://` URL (never shown with its password)."""
    token: str | None = None
    index: bool = True
    """Keep the search index filled (False: never write to the file for it)."""

    def __repr__(self) -> str:  # the token must never reach logs
        token = "set" if self.token else None
        db = describe(self.db)
        return f"ViewerSettings(db={db!r}, token={token}, index={self.index})"


reader_key = web.AppKey("reader", Reader)
live_key = web.AppKey("live", Live)
badges_key = web.AppKey("badges", Badges)
settings_key = web.AppKey("settings", ViewerSettings)
session_findings_key = web.AppKey("session_findings", SessionFindings)
summaries_key = web.AppKey("summaries", dict[tuple[str, Any], Any])
"""(session, its newest exchange) → the session page's summary."""
