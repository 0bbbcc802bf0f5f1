"""The replay report: one line per exchange with its semantic diff, a summary, an exit code."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

from proxy.replay.load import Recorded
from proxy.replay.run import Outcome, Prepared, Result

EXIT_SAME = 0
EXIT_DIFFERENT = 1
VERDICTS = ("same", "different", "failed", "skipped")
BODY_PREVIEW = 2000


def summary(result: Result) -> dict[str, int]:
    """How many exchanges got each verdict, plus how many were never sent."""
    counts: Counter[str] = Counter(o.comparison.verdict for o in result.outcomes)
    out = {verdict: counts.get(verdict, 0) for verdict in VERDICTS}
    out["total"] = result.total
    out["not_sent"] = result.total - len(result.outcomes)
    return out


def exit_code(result: Result) -> int:
    """0 when every exchange was replayed and answered the same, 1 otherwise."""
    counts = summary(result)
    if result.interrupted or counts["different"] or counts["failed"]:
        return EXIT_DIFFERENT
    return EXIT_SAME


def hint(result: Result) -> str | None:
    """What to do when the answers point at the replay's own setup, not at the hub."""
    answered = [o for o in result.outcomes if o.status is not None]
    refused = [o for o in answered if o.status == 401 and o.recorded.exchange.status != 401]
    if answered and len(refused) == len(answered):
        why = next((o.detail for o in refused if o.detail), None)
        detail = f" ({why})" if why else ""
        return (
            f"every request was refused with 401{detail}: check the key — --connection-string "
            "must name a SharedAccessKeyName and SharedAccessKey of the target hub's namespace "
            f"({result.target}) with the rights these calls need (Listen, Manage, Send)"
        )
    return None


def _path(url: str) -> str:
    parts = urlsplit(url)
    return unquote(parts.path) + (f"?{parts.query}" if parts.query else "")


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    item = outcome.recorded
    return {
        "index": item.index,
        "original_id": item.exchange.id,
        "replay_id": outcome.replay_id,
        "operation": str(item.op),
        "method": item.exchange.method,
        "original_url": item.exchange.url,
        "replay_url": outcome.sent.url if outcome.sent else None,
        "original_status": item.exchange.status,
        "replay_status": outcome.status,
        "verdict": outcome.comparison.verdict,
        "detail": outcome.detail,
        "differences": [
            {"field": d.field, "original": d.original, "replay": d.replay}
            for d in outcome.comparison.differences
        ],
        "notes": list(outcome.comparison.notes),
    }


def as_json(result: Result) -> dict[str, Any]:
    """The whole report as one JSON-ready object."""
    return {
        "session": result.session,
        "replay_session": result.replay_session,
        "target": result.target,
        "interrupted": result.interrupted,
        "summary": summary(result),
        "hint": hint(result),
        "exchanges": [outcome_json(o) for o in result.outcomes],
    }


def as_text(result: Result) -> str:
    """A line per exchange, its differences and notes indented below, then the summary."""
    lines = [f"replay of {result.session} → {result.target} (recorded as {result.replay_session})"]
    for outcome in result.outcomes:
        item = outcome.recorded
        verdict = outcome.comparison.verdict
        shown = verdict.upper() if verdict != "same" else verdict
        lines.append(
            f"  #{item.index:<4} {item.exchange.method:<6} {_path(item.exchange.url)}  "
            f"[{item.op}] {item.exchange.status} → {outcome.status or '-'}  {shown}"
        )
        lines += [f"        {d}" for d in outcome.comparison.differences]
        if outcome.detail and verdict != "same":
            lines.append(f"        answer: {outcome.detail}")
        lines += [f"        note: {n}" for n in outcome.comparison.notes]
    counts = summary(result)
    text = (
        f"{counts['total']} exchanges: {counts['same']} same, {counts['different']} "
        f"different, {counts['failed']} failed, {counts['skipped']} skipped"
    )
    if result.interrupted:
        text += f"; interrupted, {counts['not_sent']} not sent"
    lines.append(text)
    advice = hint(result)
    if advice:
        lines.append(f"hint: {advice}")
    return "\n".join(lines)


def _body_text(body: bytes) -> str:
    text = body[:BODY_PREVIEW].decode("utf-8", "replace")
    return text + (f"… ({len(body)} bytes)" if len(body) > BODY_PREVIEW else "")


def dry_run_text(plan: list[tuple[Recorded, Prepared | None]]) -> str:
    """What a replay would send, request by request; tokens carry placeholders."""
    lines: list[str] = []
    for item, prepared in plan:
        if prepared is None:
            lines.append(f"#{item.index} skipped: request body was truncated when recorded\n")
            continue
        lines.append(f"#{item.index} [{item.op}] {prepared.method} {prepared.url}")
        lines += [f"{name}: {value}" for name, value in prepared.headers]
        if prepared.body:
            lines += ["", _body_text(prepared.body)]
        lines.append("")
    lines.append(f"{len(plan)} requests would be sent; nothing was sent.")
    return "\n".join(lines)
