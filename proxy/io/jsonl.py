"""JSON Lines in and out: one exchange per line, with its normalized records and findings.

For jq, pandas (`read_json(lines=True)`) or another database. Every line stands alone:

    {"hubscope": 1, "id": …, "session": …, "started_at": …, "duration_ms": …,
     "method": …, "url": …, "client": …,
     "request": {"headers": [[name, value], …], "text": … | null, "base64": … | null,
                 "size": …, "sha256": …, "truncated": …},
     "status": …, "reason": …, "response": {…} | null, "error": …, "proxy_status": …,
     "sas_verdict": …, "operation": …, "hub": …, "resource_id": …,
     "decoded": {"operation": {…}, "request": {"format": …, "devices": […], …}, …},
     "findings": [{"rule": …, "severity": …, "expected": …, "actual": …, …}, …]}

A body is `text` when it is UTF-8 and `base64` otherwise, so bytes come back exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from proxy.exchange import Exchange, Message, new_id
from proxy.io.facts import (
    FORMAT_VERSION,
    Item,
    body_from_json,
    decoded_json,
    finding_json,
    message_json,
)

MARKER = "hubscope"
"""The key every line carries (its value: the format version)."""


class LinesError(ValueError):
    """A line that is not a hubscope exchange."""


def line(item: Item) -> dict[str, Any]:
    """One exchange as a JSON object."""
    ex, row = item.exchange, item.row
    operation = item.decoded.operation
    return {
        MARKER: FORMAT_VERSION,
        "id": ex.id,
        "session": ex.session,
        "started_at": ex.started_at,
        "duration_ms": ex.duration_ms,
        "method": ex.method,
        "url": ex.url,
        "client": ex.client,
        "request": message_json(ex.request, row, "request"),
        "status": ex.status,
        "reason": ex.reason,
        "response": message_json(ex.response, row, "response") if ex.response else None,
        "error": ex.error,
        "proxy_status": ex.proxy_status,
        "sas_verdict": ex.sas_verdict,
        "operation": str(operation.name),
        "hub": operation.hub,
        "resource_id": operation.resource_id,
        "decoded": decoded_json(item.decoded),
        "findings": [finding_json(f) for f in item.findings],
    }


def write(items: Iterable[Item], out: IO[str]) -> int:
    """One line per exchange; returns how many."""
    count = 0
    for item in items:
        out.write(json.dumps(line(item), ensure_ascii=False) + "\n")
        count += 1
    return count


def is_lines(head: str) -> bool:
    """Whether a file's first line is a hubscope exchange."""
    first = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    if not first.startswith("{"):
        return False
    try:
        value = json.loads(first)
    except ValueError:
        return False
    return isinstance(value, dict) and MARKER in value and "request" in value


def _message(value: object) -> Message:
    if not isinstance(value, dict):
        raise LinesError("request/response is not an object")
    headers = tuple((str(k), str(v)) for k, v in value.get("headers") or [])
    return Message(headers=headers, body=body_from_json(value))


def exchange(value: dict[str, Any], session: str) -> Exchange:
    """The exchange a line describes, under a new id in `session`."""
    try:
        status = value.get("status")
        return Exchange(
            id=new_id(),
            session=session,
            started_at=float(value["started_at"]),
            duration_ms=float(value.get("duration_ms") or 0.0),
            method=str(value["method"]),
            url=str(value["url"]),
            request=_message(value["request"]),
            status=int(status) if status is not None else None,
            reason=value.get("reason"),
            response=_message(value["response"]) if value.get("response") else None,
            error=value.get("error"),
            client=value.get("client"),
            proxy_status=value.get("proxy_status"),
            sas_verdict=value.get("sas_verdict"),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LinesError(f"not a hubscope exchange: {error}") from None


def read(lines: Iterable[str], session: str) -> Iterator[Exchange]:
    """Exchanges of a JSON Lines file, in file order (blank lines skipped)."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as error:
            raise LinesError(f"line {number}: not JSON: {error}") from None
        if not isinstance(value, dict) or MARKER not in value:
            raise LinesError(f"line {number}: not a hubscope exchange")
        try:
            yield exchange(value, session)
        except LinesError as error:
            raise LinesError(f"line {number}: {error}") from None
