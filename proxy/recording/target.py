"""What the writer follows the journal into: a store's interface, and how a write can fail.

`SqliteTarget` and `PgTarget` implement it; `Follower` (`follow.py`) drives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from proxy.recording import records
from proxy.recording.prepare import PreparePool
from proxy.recording.worker_writes import SharedFile
from proxy.store.builder import RowBuilder
from proxy.store.rows import Captured


class StoreBusy(Exception):
    """The store cannot be written now (locked, unreachable) but may be soon: wait."""


class StoreFull(Exception):
    """The store's disk is full: recording must stop, loudly."""


class StoreFatal(Exception):
    """The store cannot be used (not a hubscope database, permissions): stop recording."""


@dataclass(frozen=True, slots=True)
class Written:
    stored: int
    rejected: list[tuple[int, str]] = field(default_factory=list)
    """(index in the batch, why) of exchanges no form of which the store would take."""


class Target(Protocol):
    """A store the journal is followed into."""

    name: str

    def positions(self) -> dict[str, int]:
        """How far into each journal segment the store has stored."""
        ...

    def ensure_session(self, session: records.SessionStart) -> None: ...

    prepare: RowBuilder
    """The batch as the store's rows (decoded, redacted); done once, however long it waits."""

    def write(self, batch: Sequence[Captured], prepared: Any, progress: dict[str, int]) -> Written:
        """Store the batch and the positions together; raises StoreBusy, StoreFull, StoreFatal."""
        ...

    def check(self) -> str | None:
        """None while the store is the one opened; else what happened (it is reopened)."""
        ...

    def forget(self, segments: list[str]) -> None: ...

    def judge_some(self, pool: PreparePool) -> bool:
        """Judge a few exchanges a backlog stored unjudged (`pool`); whether any are left."""
        ...

    def shared_file(self) -> SharedFile | None:
        """The file the row-building workers may store a backlog into themselves; None:
        they send the rows back to be written here."""
        ...
