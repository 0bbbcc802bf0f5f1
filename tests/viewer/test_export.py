"""The viewer's exports: the list's current filter and a session, as HAR or JSON Lines
downloads, masked on request; links on the list and session pages."""

from __future__ import annotations

import json

import aiohttp

from proxy import serve
from tests.exports import Capture, capture_fixture, rows  # noqa: F401
from tests.io.harschema import errors
from tests.replaying import TOKEN
from viewer.app import start_viewer


async def test_exports_of_a_filter_and_of_a_session(capture: Capture) -> None:
    viewer = await start_viewer(capture.db)
    base = f"http://127.0.0.1:{viewer.port}"
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{base}/export?session=orig&format=har") as resp:
                assert resp.status == 200
                disposition = resp.headers["Content-Disposition"]
                document = json.loads(await resp.read())
            async with client.get(f"{base}/export?method=GET&format=jsonl") as resp:
                assert resp.headers["Content-Type"].startswith("application/x-ndjson")
                lines = [json.loads(x) for x in (await resp.text()).splitlines()]
            async with client.get(f"{base}/api/export?format=jsonl&mask=handles,tags,ids") as resp:
                masked = await resp.text()
            async with client.get(f"{base}/export?format=pdf") as resp:
                assert resp.status == 400
            async with client.get(f"{base}/export?status=9xx") as resp:
                assert resp.status == 400
            async with client.get(f"{base}/?method=GET") as resp:
                listing = await resp.text()
            async with client.get(f"{base}/sessions/orig") as resp:
                session_page = await resp.text()
    finally:
        await serve.stop([viewer])
    stored = rows(capture.db, capture.session)
    assert 'attachment; filename="hubscope-orig-' in disposition and disposition.endswith('.har"')
    assert errors(document) == [] and len(document["log"]["entries"]) == len(stored)
    assert [x["id"] for x in lines] == [r["id"] for r in stored if r["method"] == "GET"]
    assert TOKEN.lower() in json.dumps(lines).lower()
    assert masked and TOKEN.lower() not in masked.lower() and "inst-1" not in masked
    assert 'href="/export?f=method%3AGET&amp;format=har"' in listing  # the filter as f=
    assert "format=jsonl&amp;mask=handles,tags,ids" in listing
    assert 'href="/export?session=orig&amp;format=jsonl"' in session_page
