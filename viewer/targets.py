"""Who recorded sends reached: on a send's page, and on a device's page, with the reasons.

The device state comes from every session of the database (a device registered in
yesterday's proxy run still receives today's sends), read once per version (the newest
exchange) into a `proxy.targets.Recording` and kept for the next page. A database over
`TARGETS_LIMIT` exchanges is read one session at a time, and a session over it is not
computed on a page view (`hubscope targets` answers for it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlite_utils import Database

from proxy.decode.sends import SEND_OPS
from proxy.targets import InvalidTarget, RecordedSend, Recording, Verdict, entry, judge, load
from viewer import queries
from viewer.state import reader_key

__all__ = [
    "DeviceSend",
    "SendReach",
    "api_device_sends",
    "api_send_targets",
    "load_device_sends",
    "load_send",
]

TARGETS_LIMIT = 20_000
SHOWN = 200
"""Rows per list on a page; the JSON API lists everything."""

ALL_SESSIONS = "all sessions"
THIS_SESSION = "this session only: the database is large"

_CACHE: dict[tuple[str, str | None, Any], Recording] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Scoped:
    recording: Recording
    scope: str
    """`ALL_SESSIONS`, or `THIS_SESSION` when the database is over the limit."""


def _count(db: Database, session: str | None) -> int:
    where, args = ("where session = ?", [session]) if session is not None else ("", [])
    found: int = db.conn.execute(f"select count(*) from exchanges {where}", args).fetchone()[0]
    return found


def _recording(db: Database, session: str) -> Scoped | None:
    """The recording a send of `session` is judged by, cached per version; None when too big."""
    path = str(Path(db.conn.execute("pragma database_list").fetchone()[2]))
    scope: str | None = None
    if _count(db, None) <= TARGETS_LIMIT:
        key: tuple[str, str | None, Any] = (path, None, queries.max_rowid(db))
        scope = ALL_SESSIONS
    else:
        key = (path, session, queries.session_version(db, session))
    with _LOCK:
        found = _CACHE.get(key)
    if found is None:
        if scope is None and _count(db, session) > TARGETS_LIMIT:
            return None
        found = load(db, None if scope else session)
        with _LOCK:
            if len(_CACHE) > 16:
                _CACHE.clear()
            _CACHE[key] = found
    return Scoped(found, scope or THIS_SESSION)


@dataclass(frozen=True, slots=True)
class SendReach:
    """A recorded send and who it reached from the state just before it."""

    send: RecordedSend | None
    too_large: bool
    refused: str | None
    reached: list[Verdict]
    missed: list[Verdict]
    scope: str = ALL_SESSIONS
    outcome: list[str] | None = None
    """A debug send's answer: the registration ids (or handles) the hub listed."""

    agrees: bool | None = None
    """Whether the hub's debug answer names exactly what hubscope computed (None: no answer)."""

    def json(self) -> dict[str, Any]:
        return {
            "computed": not self.too_large,
            "scope": self.scope,
            "refused": self.refused,
            "reached": [entry(v) for v in self.reached],
            "missed": [entry(v) for v in self.missed],
            "hub_answer": self.outcome,
            "agrees_with_hub": self.agrees,
        }


def _outcome_check(send: RecordedSend, reached: list[Verdict]) -> tuple[list[str], bool] | None:
    if send.send.outcome is None:
        return None
    theirs = [(r.handle or "").upper() for r in send.send.outcome]
    ours = [(v.registration.handle or "").upper() for v in reached if v.registration]
    listed = [r.registration_id or r.handle or "" for r in send.send.outcome]
    capped = len(theirs) >= 10 and ours[: len(theirs)] == theirs  # a debug send lists at most 10
    return listed, theirs == ours or capped


def send_reach(db: Database, row: dict[str, Any]) -> SendReach | None:
    """For a send exchange's row: who it reached; None for any other exchange."""
    if row.get("operation") not in {op.value for op in SEND_OPS}:
        return None
    scoped = _recording(db, row["session"])
    if scoped is None:
        return SendReach(None, True, None, [], [])
    recording, scope = scoped.recording, scoped.scope
    send = next((s for s in recording.sends if s.exchange_id == row["id"]), None)
    if send is None:
        return None
    refused = send.error if send.status is not None and send.status >= 400 else None
    try:
        verdicts = recording.reach_of(send)
    except InvalidTarget as exc:
        return SendReach(send, False, refused or str(exc), [], [], scope)
    reached = [v for v in verdicts if v.reached]
    missed = [v for v in verdicts if not v.reached]
    checked = _outcome_check(send, reached)
    if checked is None:
        return SendReach(send, False, refused, reached, missed, scope)
    return SendReach(send, False, refused, reached, missed, scope, checked[0], checked[1])


@dataclass(frozen=True, slots=True)
class DeviceSend:
    """One recorded send, and whether it reached this device (and why not)."""

    send: RecordedSend
    reached: bool
    reason: str | None
    verdicts: list[Verdict]

    def json(self) -> dict[str, Any]:
        return {
            "exchange_id": self.send.exchange_id,
            "at": self.send.at,
            "status": self.send.status,
            "format": self.send.send.format,
            "tags": self.send.send.tags,
            "direct": self.send.send.direct,
            "reached": self.reached,
            "reason": self.reason,
            "registrations": [entry(v) for v in self.verdicts],
        }


def device_sends(db: Database, value: str, sessions: list[str]) -> list[DeviceSend] | None:
    """Every recorded send made once the device was known (judged with the recording of each
    of the device's sessions, or the whole database); None when too big to compute here."""
    out: list[DeviceSend] = []
    seen: set[int] = set()
    for session in sessions:
        scoped = _recording(db, session)
        if scoped is None:
            return None
        recording = scoped.recording
        if id(recording) in seen:
            continue  # the whole database, already judged
        seen.add(id(recording))
        keys = recording.history.keys_for(value)
        for send in recording.sends:
            mine = recording.history.at(send.judged_at, send.hub, keys) if send.hub else []
            if not mine:
                continue
            try:
                target = send.target()
            except InvalidTarget as exc:
                out.append(DeviceSend(send, False, f"the send was refused: {exc}", []))
                continue
            verdicts = judge(mine, target, send.judged_at)
            reached = any(v.reached for v in verdicts)
            reason = None if reached else verdicts[0].reason if verdicts else None
            if send.status is not None and send.status >= 400:
                reached, reason = False, f"the hub refused the send: {send.error or send.status}"
            out.append(DeviceSend(send, reached, reason, verdicts))
    return sorted(out, key=lambda d: d.send.at)


async def load_send(request: web.Request, row: dict[str, Any]) -> SendReach | None:
    return await request.app[reader_key].run(send_reach, row)


async def load_device_sends(request: web.Request, value: str) -> list[DeviceSend] | None:
    def run(db: Database) -> list[DeviceSend] | None:
        history = queries.timeline(db, _key(request), value)
        sessions = list(dict.fromkeys(row["session"] for row, _ in history))
        return device_sends(db, value, sessions)

    return await request.app[reader_key].run(run)


def _key(request: web.Request) -> str:
    for key in queries.DEVICE_KEYS:
        if request.query.get(key, "").strip():
            return key
    raise web.HTTPBadRequest(text="give handle=…, registration_id=… or installation_id=…\n")


async def api_send_targets(request: web.Request) -> web.Response:
    """`/api/exchanges/{id}/targets`: who a recorded send reached."""
    ident = request.match_info["id"]
    row = await request.app[reader_key].run(queries.exchange_row, ident)
    if row is None:
        raise web.HTTPNotFound(text=f"no exchange {ident}\n")
    reach = await load_send(request, row)
    if reach is None:
        raise web.HTTPNotFound(text=f"exchange {ident} is not a send\n")
    return web.json_response(reach.json())


async def api_device_sends(request: web.Request) -> web.Response:
    """`/api/devices/sends?handle=…`: every recorded send and whether it reached the device."""
    value = request.query.get(_key(request), "").strip()
    sends = await load_device_sends(request, value)
    if sends is None:
        return web.json_response({"computed": False, "sends": []})
    return web.json_response({"computed": True, "sends": [s.json() for s in sends]})
