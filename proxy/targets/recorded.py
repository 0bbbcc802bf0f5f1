"""A recording read for targeting: the device history and the sends, from one pass over a store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlite_utils import Database

from proxy import store
from proxy.decode import Send, decode_exchange, decode_send
from proxy.exchange import Exchange
from proxy.model import Decoded, Op
from proxy.targets.history import History, hub_of
from proxy.targets.reach import (
    UNSUPPORTED_FORMAT,
    InvalidTarget,
    Target,
    Verdict,
    judge,
    parse_target,
)
from proxy.targets.state import Hub, Snapshot, expiry_of

__all__ = ["RecordedSend", "Recording", "from_exchanges", "load", "matches"]


@dataclass(frozen=True, slots=True)
class RecordedSend:
    """One send as recorded: when, where, what it aimed at, and what the hub answered."""

    exchange_id: str
    at: float
    status: int | None
    hub: Hub | None
    send: Send
    error: str | None
    """The hub's 4xx detail, when it refused the send."""

    @property
    def judged_at(self) -> float:
        """When the hub picks who the send reaches: a scheduled send's `ScheduleTime` (read as
        UTC; it is delivered then, to the devices registered then), any other send its call."""
        if self.send.operation is Op.SCHEDULE_SEND and self.send.schedule_time:
            scheduled = _utc(self.send.schedule_time)
            if scheduled is not None and scheduled > self.at:
                return scheduled
        return self.at

    def target(self) -> Target:
        """The send's target as the service reads it; raises InvalidTarget when it would refuse."""
        if self.send.format is None and self.send.operation is not Op.SEND_BATCH:
            raise InvalidTarget(UNSUPPORTED_FORMAT)
        return parse_target(self.send.tags, self.send.format, self.send.handles)

    @property
    def refusal(self) -> str | None:
        """Why the service refuses (or would refuse) this send's target, if it does."""
        try:
            self.target()
        except InvalidTarget as exc:
            return str(exc)
        return None


def _utc(text: str) -> float | None:
    """An ISO 8601 time as Unix seconds, its offset honoured, UTC without one (as the hub
    reads `ServiceBusNotification-ScheduleTime`)."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return expiry_of(text)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


@dataclass(slots=True)
class Recording:
    """The device history and the sends of a recording, in time order."""

    history: History = field(default_factory=History)
    sends: list[RecordedSend] = field(default_factory=list)
    exchanges: int = 0

    def add(self, exchange: Exchange, decoded: Decoded) -> None:
        self.exchanges += 1
        self.history.add(exchange, decoded)
        send = decode_send(
            exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
        )
        if send is not None:
            error = decoded.response.error if decoded.response else None
            self.sends.append(
                RecordedSend(
                    exchange_id=exchange.id,
                    at=exchange.started_at,
                    status=exchange.status,
                    hub=hub_of(exchange, decoded),
                    send=send,
                    error=error.detail if error else None,
                )
            )

    def reach(self, target: Target, when: float | None, hub: Hub | None) -> list[Verdict]:
        """Every registration's verdict for a send made at `when` (None: after everything)."""
        return judge(self.history.at(when, hub), target, when)

    def reach_of(self, send: RecordedSend) -> list[Verdict]:
        """What a recorded send reached, from the state just before the hub picked its targets
        (`RecordedSend.judged_at`); raises InvalidTarget."""
        return self.reach(send.target(), send.judged_at, send.hub)


def load(db: Database, session: str | None = None, *, until: float | None = None) -> Recording:
    """Read one session (or all) once, re-decoding each exchange as the audit does."""
    return from_exchanges(_decoded(db, session, until))


def _decoded(
    db: Database, session: str | None, until: float | None
) -> Iterable[tuple[Exchange, Decoded]]:
    for row in store.iter_exchange_rows(db, session):
        exchange = store.exchange_from_row(row)
        if until is not None and exchange.started_at >= until:
            return
        decoded = decode_exchange(
            exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
        )
        yield exchange, decoded


def from_exchanges(items: Iterable[tuple[Exchange, Decoded]]) -> Recording:
    """A recording from exchanges in time order (tests and the viewer build them directly)."""
    recording = Recording()
    for exchange, decoded in items:
        recording.add(exchange, decoded)
    return recording


def matches(snapshot: Snapshot, ident: str) -> bool:
    """Whether `ident` names this record: its id, one of its registrations' ids, or its handle."""
    wanted = ident.strip().lower()
    if not wanted:
        return False
    if snapshot.ident.lower() == wanted or (snapshot.handle or "").lower() == wanted:
        return True
    return any((rid or "").lower() == wanted for _, rid in snapshot.aliases)
