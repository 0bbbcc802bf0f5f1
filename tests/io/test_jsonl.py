"""JSON Lines out: one self-contained exchange per line with records and findings; back in
byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proxy.io import jsonl
from tests.exports import (  # noqa: F401  (the capture fixture)
    Capture,
    capture_fixture,
    differences,
    export,
    import_,
    rows,
)


async def test_one_line_per_exchange_with_records_and_findings(capture: Capture) -> None:
    result = await export(capture.db, "--session", capture.session, "--format", "jsonl")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    stored = rows(capture.db, capture.session)
    assert [(x["id"], x["method"], x["url"], x["status"]) for x in lines] == [
        (r["id"], r["method"], r["url"], r["status"]) for r in stored
    ]
    assert all(x["hubscope"] == 1 and x["session"] == capture.session for x in lines)
    put = lines[1]
    assert put["operation"] == "create_or_update_registration"
    assert put["decoded"]["request"]["devices"][0]["tags"] == ["a", "b"]
    assert put["request"]["text"] == stored[1]["request_body"].decode()
    assert put["request"]["size"] == len(stored[1]["request_body"])
    assert put["response"]["headers"][0] == json.loads(stored[1]["response_headers"])[0]
    assert any(x["findings"] for x in lines)
    assert f"{len(lines)} exchanges → standard output (JSON Lines)" in result.stderr


async def test_jsonl_round_trip_keeps_every_byte(capture: Capture, tmp_path: Path) -> None:
    out = tmp_path / "orig.jsonl"
    await export(capture.db, "--session", capture.session, "-o", str(out))  # format from suffix
    assert jsonl.is_lines(out.read_text())
    copy = await import_(capture.db, out, "--session", "copied")
    assert copy == "copied"
    assert differences(rows(capture.db, capture.session), rows(capture.db, copy)) == []


def test_a_binary_body_goes_as_base64_and_comes_back() -> None:
    from proxy.exchange import Exchange, Message
    from proxy.io.facts import assess

    body = bytes(range(256))
    exchange = Exchange(
        id="a" * 32, session="s", started_at=2.0, duration_ms=1.0, method="POST",
        url="http://h/hub/messages?api-version=2020-06",
        request=Message(headers=(("Content-Type", "application/octet-stream"),), body=body),
        status=201, response=Message(headers=(), body=b""),
    )  # fmt: skip
    line = jsonl.line(assess(exchange, {}))
    assert line["request"]["text"] is None
    back = jsonl.exchange(json.loads(json.dumps(line)), "copy")
    assert back.request.body == body and back.session == "copy" and back.id != exchange.id


def test_lines_that_are_not_exchanges_name_their_line() -> None:
    with pytest.raises(jsonl.LinesError, match="line 2: not JSON"):
        list(jsonl.read(["", "{nope"], "s"))
    with pytest.raises(jsonl.LinesError, match="line 1: not a hubscope exchange: 'started_at'"):
        list(jsonl.read(['{"hubscope": 1, "request": {}}'], "s"))
    with pytest.raises(jsonl.LinesError, match="line 1: not a hubscope exchange$"):
        list(jsonl.read(['{"log": {}}'], "s"))
    assert not jsonl.is_lines('{"log": {"entries": []}}')
