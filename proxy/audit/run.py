"""Judge every recorded exchange of a store against the spec rules.

Findings are recomputed from the stored raw exchanges (re-decoded, never read back from
decode columns), so an improved rule or decoder re-judges an old database as it is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlite_utils import Database

from proxy import store
from proxy.decode import decode_exchange
from proxy.rules import RANK, Ctx, Finding, check_ctx, check_session_ctx

FailOn = Literal["error", "warning", "never"]
Format = Literal["text", "json", "markdown"]
EXAMPLES = 3


@dataclass(slots=True)
class Audit:
    """Findings (violations only) of every exchange audited, and each exchange's operation."""

    exchanges: int = 0
    findings: list[Finding] = field(default_factory=list)
    operations: dict[str, str] = field(default_factory=dict)
    """Exchange id → operation name, for grouping."""

    def counts(self) -> Counter[str]:
        return Counter(f.severity for f in self.findings)

    def fails(self, fail_on: FailOn) -> bool:
        """Whether any finding is at or above `fail_on`."""
        if fail_on == "never":
            return False
        return any(RANK[f.severity] >= RANK[fail_on] for f in self.findings)


def count(db: Database, session: str | None = None) -> int:
    """How many exchanges `run` will judge (for a progress bar)."""
    where, args = ("where session = ?", [session]) if session is not None else ("", [])
    return int(db.execute(f"select count(*) from exchanges {where}", args).fetchone()[0])


def run(
    db: Database,
    session: str | None = None,
    *,
    page: int = 1000,
    on_progress: Callable[[int], None] | None = None,
) -> Audit:
    """Audit the exchanges of one session (or all), reading rows in pages.

    `on_progress(n)` is called after every `n` exchanges judged.
    """
    result = Audit()
    by_session: dict[str, list[Ctx]] = defaultdict(list)
    for position, row in enumerate(store.iter_exchange_rows(db, session, batch=page), start=1):
        if on_progress is not None and position % 100 == 0:
            on_progress(100)
        exchange = store.exchange_from_row(row)
        decoded = decode_exchange(
            exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
        )
        ctx = Ctx(exchange, decoded, truncated=bool(row.get("request_truncated")))
        result.exchanges += 1
        result.operations[exchange.id] = ctx.op.value
        result.findings.extend(check_ctx(ctx))
        by_session[exchange.session].append(_slim(ctx))
    if on_progress is not None and result.exchanges % 100:
        on_progress(result.exchanges % 100)
    for ctxs in by_session.values():
        result.findings.extend(check_session_ctx(ctxs))
    return result


def _slim(ctx: Ctx) -> Ctx:
    """The context without bodies: session rules read headers and decoded records only."""
    exchange = ctx.exchange
    response = exchange.response
    slim = replace(
        exchange,
        request=replace(exchange.request, body=b""),
        response=replace(response, body=b"") if response is not None else None,
    )
    return Ctx(slim, ctx.decoded, truncated=ctx.truncated)
