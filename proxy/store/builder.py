"""A batch's rows as a store writes them, built by an object that can travel to another process.

The writer builds rows (redaction, decoding, device and tag rows, findings) in worker
processes when it is behind (`proxy/recording/prepare.py`); a `RowBuilder` carries what
that needs (the keys, the instance name, whether to judge now) and pickles cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from proxy.store.rows import AddRows, Captured, build_one, fallback_row
from proxy.store.write import Rows


@dataclass(frozen=True)
class RowBuilder:
    """Builds the rows of a batch of captured exchanges; calling it never raises."""

    keys: dict[str, str] = field(default_factory=dict)
    """Hub keys the redactor replaces wherever they appear."""
    instance: str | None = None
    """The proxy instance every exchange row names (`--db postgresql://`, several proxies)."""
    add_rows: AddRows | None = None
    """Rows of other tables per exchange; a function rarely pickles, so with one set the
    builder stays in the writer's own process."""

    judge: bool = True
    """Whether findings are judged with the rows; False stores the batch unjudged."""
    judge_backlog_later: bool = False
    """Whether a backlog may be stored first and judged in the quiet (`unjudged()`): the
    target then judges what it stored unjudged (`proxy/store/judge_later.py`)."""

    def unjudged(self) -> RowBuilder:
        """This builder for a backlog: its findings left for later, if the target allows."""
        return replace(self, judge=False) if self.judge_backlog_later else self

    @property
    def portable(self) -> bool:
        """Whether the builder can run in another process."""
        return self.add_rows is None

    def __call__(self, batch: Sequence[Captured]) -> list[Rows]:
        built = [
            build_one(captured, self.keys, self.add_rows, judge=self.judge) for captured in batch
        ]
        if self.instance is not None:
            for one in built:
                for row in one.exchanges:
                    row["instance"] = self.instance
        return built

    def fallback(self, captured: Captured, why: str) -> Rows:
        """The least `captured` is stored as, when its rows would not go in (`fallback_row`)."""
        row = fallback_row(captured, RuntimeError(why))
        if self.instance is not None:
            row["instance"] = self.instance
        return Rows([row], [], [])
