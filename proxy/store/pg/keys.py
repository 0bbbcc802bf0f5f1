"""Each table's key: what an insert of a row already there conflicts on (SQLite's
`INSERT OR REPLACE|IGNORE` and the writer's `ON CONFLICT` name it)."""

CONFLICT_KEYS = {
    "sessions": "name",
    "exchanges": "id",
    "devices": "id",
    "device_tags": "device_id, tag",
    "replay_links": "replay_exchange_id",
    "journal_progress": "segment",
    "findings": "exchange_id, position",
    "findings_judged": "exchange_id",
}
