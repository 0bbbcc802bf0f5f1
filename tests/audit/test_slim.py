"""The context rebuilt from stored columns says what a fresh decode says, for what
session rules read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from proxy import store
from proxy.audit.pages import ID, pages
from proxy.audit.slim import SlimCtx
from proxy.rules import Ctx
from proxy.store import findings, rows
from tests.rules.factories import NOW
from tests.rules.test_examples import EXAMPLES
from tests.rules.test_session import SESSION_EXAMPLES


def _facts(ctx: Ctx) -> tuple[object, ...]:
    op = ctx.decoded.operation
    devices = [
        (d.kind, d.source_type, d.platform, d.handle, d.registration_id, d.installation_id,
         d.etag, d.templates[0].name if d.templates else None)
        for d in (*ctx.request_devices, *ctx.response_devices)
    ]  # fmt: skip
    return (ctx.id, ctx.op, op.hub, op.resource_id, op.api_version, ctx.status, ctx.method,
            ctx.header("User-Agent"), ctx.header("If-Match"),
            ctx.response_header("Location"), ctx.exchange.client, devices)  # fmt: skip


def test_slim_contexts_match_fresh_decodes(tmp_path: Path) -> None:
    items = [item for pair in SESSION_EXAMPLES.values() for seq in pair for item in seq]
    items += [item for pair in EXAMPLES.values() for item in pair]
    items = [(replace(ex, started_at=NOW + i), dec) for i, (ex, dec) in enumerate(items)]
    db = store.connect(tmp_path / "slim.db")
    store.ensure_session(db, "s", kind="proxy")
    store.write_rows(db, rows.build([ex for ex, _ in items], body_cap=1 << 20, keys={}))
    page = next(pages(db, "s", size=len(items)))
    stored = {row[ID]: row for row in page.rows}
    compared = 0
    for ex, decoded in items:
        fresh = Ctx(ex, decoded)
        slim = SlimCtx(stored[ex.id], page.devices.get(ex.id, []))
        assert _facts(slim) == _facts(fresh), ex.id
        assert [f.rule for f in findings.load(db, [ex.id]).get(ex.id, [])] == [
            values[1] for values in page.findings.get(ex.id, [])
        ]
        compared += bool(fresh.request_devices or fresh.response_devices)
    assert compared > 50
