"""A replay beside its original: exchange by exchange, with the differences by meaning."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

PAIRS_LIMIT = 2000


def replay_pairs(db: Database, session: str) -> list[dict[str, Any]]:
    """Each exchange of a replay session with the original it re-sent, in replay order."""
    sql = (
        "select r.id as replay_id, r.status as replay_status, r.error as replay_error,"
        " o.id as original_id, o.status as original_status, o.method, o.path,"
        " coalesce(o.operation, 'unknown') as operation, l.verdict, l.diff"
        " from replay_links l"
        " join exchanges r on r.id = l.replay_exchange_id"
        " join exchanges o on o.id = l.original_exchange_id"
        " where r.session = ? order by r.started_at, r.id limit ?"
    )
    pairs = []
    for row in db.query(sql, [session, PAIRS_LIMIT]):
        pairs.append({**row, "diff": _differences(row["diff"])})
    return pairs


def replays_of(db: Database, session: str) -> list[dict[str, Any]]:
    """The replay sessions of an original session, newest first, with their verdict counts."""
    sql = (
        "select s.name, s.started_at, s.upstream,"
        " sum(l.verdict = 'same') as same, sum(l.verdict != 'same') as different"
        " from sessions s left join exchanges r on r.session = s.name"
        " left join replay_links l on l.replay_exchange_id = r.id"
        " where s.replay_of = ? group by s.name order by s.started_at desc"
    )
    return list(db.query(sql, [session]))


def _differences(text: str | None) -> list[list[str]]:
    """`[[field, original, replay], …]` as stored by `hubscope replay`, read leniently."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return [["diff", "", text]]
    if not isinstance(value, list):
        return [["diff", "", str(value)]]
    return [
        [str(part) for part in item] if isinstance(item, list) else ["", "", str(item)]
        for item in value
    ]


def links_of(db: Database, exchange_id: str) -> dict[str, Any]:
    """For one exchange: the original it replayed, and the replays made of it, with verdicts."""
    original = next(iter(db.query(
        "select l.original_exchange_id as id, l.verdict, l.diff, o.session, o.status"
        " from replay_links l join exchanges o on o.id = l.original_exchange_id"
        " where l.replay_exchange_id = ?", [exchange_id],
    )), None)  # fmt: skip
    if original is not None:
        original = {**original, "diff": _differences(original["diff"])}
    replays = [
        {**row, "diff": _differences(row["diff"])}
        for row in db.query(
            "select l.replay_exchange_id as id, l.verdict, l.diff, r.session, r.status"
            " from replay_links l join exchanges r on r.id = l.replay_exchange_id"
            " where l.original_exchange_id = ? order by r.started_at", [exchange_id],
        )
    ]  # fmt: skip
    return {"original": original, "replays": replays}
