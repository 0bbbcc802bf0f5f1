"""`hubscope resend --edit`: the edited call is re-signed, sent, recorded as a new exchange
linked to the original, and the difference shows the edited tag."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from click.testing import CliRunner

from proxy import store
from proxy.cli import cli
from tests.exports import Capture, capture_fixture, rows, sessions  # noqa: F401


async def resend(capture: Capture, exchange_id: str, *extra: str, editor: str = "") -> Any:
    return await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["resend", exchange_id, "--db", str(capture.db), "--target", capture.hub.url,
         "--connection-string", capture.connection_string, *extra],
        env={"EDITOR": editor} if editor else {},
        catch_exceptions=False,
    )  # fmt: skip


def links(capture: Capture) -> list[dict[str, Any]]:
    conn = store.connect(capture.db, readonly=True)
    try:
        return list(conn.query("select * from replay_links"))
    finally:
        conn.conn.close()


async def test_an_edited_tag_is_sent_recorded_linked_and_shown(capture: Capture) -> None:
    put = rows(capture.db, capture.session)[1]  # PUT registration, tags a,b
    assert b"<Tags>a,b</Tags>" in put["request_body"]
    result = await resend(
        capture, put["id"], "--edit", "--json", editor="sed -i 's/<Tags>a,b</<Tags>a,edited</'"
    )
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["status"] == 200 and outcome["verdict"] == "different"
    assert ["request.record[0].tags", "a,b", "a,edited"] in outcome["diff"]
    assert ["record[0].tags", "a,b", "a,edited"] in outcome["diff"]
    (link,) = links(capture)
    assert link["original_exchange_id"] == put["id"]
    assert link["replay_exchange_id"] == outcome["exchange_id"]
    assert "a,edited" in link["diff"] and link["verdict"] == "different"
    session = next(s for s in sessions(capture.db) if s["name"] == "resend-of-orig")
    assert session["kind"] == "replay" and session["replay_of"] == "orig"
    (sent,) = rows(capture.db, "resend-of-orig")
    assert b"<Tags>a,edited</Tags>" in sent["request_body"]
    assert sent["sas_verdict"] == "valid", "signed again with the key, for the same URL"


async def test_an_unedited_resend_means_the_same_and_shows_both_sides(capture: Capture) -> None:
    put = rows(capture.db, capture.session)[1]
    result = await resend(capture, put["id"])
    assert result.exit_code == 0, result.output
    assert "verdict: same" in result.stdout
    assert "original" in result.stdout and "resend" in result.stdout
    assert "recorded as" in result.stdout
    emptied = await resend(capture, put["id"], "--edit", editor="truncate -s 0")
    assert emptied.exit_code == 1 and "nothing sent" in emptied.output
    assert len(links(capture)) == 1
