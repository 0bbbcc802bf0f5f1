"""What hubscope knows about a stored exchange, as JSON: decoded records and findings.

Shared by every export format. Findings are recomputed from the stored exchange, like
`hubscope audit` and the viewer do, so an export judges with the rules of its day.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from proxy import store
from proxy.decode import decode_exchange
from proxy.exchange import Exchange, Message
from proxy.model import Decoded
from proxy.rules import RANK, Ctx, Finding, check_ctx

FORMAT_VERSION = 1
"""Bumped when the meaning of an exported field changes."""


@dataclass(frozen=True, slots=True)
class Item:
    """One stored exchange with what hubscope made of it."""

    row: dict[str, Any]
    exchange: Exchange
    decoded: Decoded
    findings: tuple[Finding, ...]

    @property
    def request_truncated(self) -> bool:
        return bool(self.row.get("request_truncated"))

    @property
    def response_truncated(self) -> bool:
        return bool(self.row.get("response_truncated"))


def judge(row: dict[str, Any]) -> Item:
    """Decode one `exchanges` row and run the per-exchange rules (violations only)."""
    return assess(store.exchange_from_row(row), row)


def assess(exchange: Exchange, row: dict[str, Any]) -> Item:
    """Decode and judge an exchange; `row` gives sizes, hashes and truncation."""
    decoded = decode_exchange(
        exchange.method, exchange.url, exchange.request, exchange.status, exchange.response
    )
    ctx = Ctx(exchange, decoded, truncated=bool(row.get("request_truncated")))
    try:
        found = [f for f in check_ctx(ctx) if f.severity != "ok"]
    except Exception as error:  # a rule bug must not stop an export
        found = [
            Finding(
                exchange_id=exchange.id,
                rule="hubscope.rule-crashed",
                severity="note",
                expected="every rule runs",
                actual=f"{type(error).__name__}: {error}",
                spec="(internal)",
                source="hubscope",
            )
        ]
    found.sort(key=lambda f: -RANK[f.severity])
    return Item(row, exchange, decoded, tuple(found))


def judged(rows: Iterable[dict[str, Any]]) -> Iterator[Item]:
    for row in rows:
        yield judge(row)


def finding_json(finding: Finding) -> dict[str, Any]:
    return {**finding.as_json(), "pointer": finding.pointer}


def decoded_json(decoded: Decoded) -> dict[str, Any]:
    """The normalized records and what the call was, as plain JSON values."""
    value: dict[str, Any] = dataclasses.asdict(decoded)
    return value


def body_json(body: bytes) -> dict[str, Any]:
    """A body as `text` when it is UTF-8, else as `base64`: never lossy."""
    try:
        return {"text": body.decode("utf-8"), "base64": None}
    except UnicodeDecodeError:
        return {"text": None, "base64": base64.b64encode(body).decode("ascii")}


def body_from_json(value: dict[str, Any]) -> bytes:
    """The bytes `body_json` described."""
    if value.get("base64") is not None:
        return base64.b64decode(str(value["base64"]), validate=True)
    text = value.get("text")
    return str(text).encode("utf-8") if text is not None else b""


def message_json(message: Message, row: dict[str, Any], side: str) -> dict[str, Any]:
    """Headers in wire order and the body, with the stored size, hash and truncation."""
    return {
        "headers": [list(pair) for pair in message.headers],
        **body_json(message.body),
        "size": row.get(f"{side}_body_size"),
        "sha256": row.get(f"{side}_body_sha256"),
        "truncated": bool(row.get(f"{side}_truncated")),
    }
