"""The export pipeline: masking learns every value before writing the first exchange, and a
masked exchange is decoded and judged again as it now reads."""

from __future__ import annotations

import io
import json
from typing import Any

from proxy.io.export import export, items
from proxy.store import headers_to_text
from tests.replaying import apple

TAG = "user:alice-42"


def _row(
    ident: str, started: float, method: str, path: str, body: bytes, answer: bytes
) -> dict[str, Any]:
    return {
        "id": ident, "session": "s", "started_at": started, "duration_ms": 1.0,
        "method": method, "url": f"https://ns.servicebus.windows.net/hub{path}",
        "request_headers": headers_to_text([("Content-Type", "application/atom+xml")]),
        "request_body": body, "request_body_size": len(body), "request_body_sha256": "x",
        "request_truncated": 0, "status": 200, "reason": "OK",
        "response_headers": headers_to_text([]), "response_body": answer,
        "response_body_size": len(answer), "response_truncated": 0,
    }  # fmt: skip


ROWS = [
    # a send whose payload names the tag: nothing here says it is one …
    _row("1" * 32, 1.0, "POST", "/messages?api-version=2020-06", f'{{"m":"{TAG}"}}'.encode(), b""),
    # … until a later registration carries it
    _row("2" * 32, 2.0, "POST", "/registrations?api-version=2020-06", apple(TAG), b""),
]


def test_masking_learns_from_the_whole_export_before_writing() -> None:
    out = io.StringIO()
    assert export(lambda: iter(ROWS), out, "jsonl", mask=frozenset({"tags"})) == 2
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert TAG not in out.getvalue()
    assert json.loads(first["request"]["text"]) == {"m": "tag-1"}
    assert second["decoded"]["request"]["devices"][0]["tags"] == ["tag-1"]
    assert first["request"]["sha256"] is None  # the original's hash would confirm a guess


def test_a_masked_exchange_is_judged_as_it_now_reads() -> None:
    plain = list(items(lambda: iter(ROWS)))
    masked = list(items(lambda: iter(ROWS), frozenset({"tags"})))
    assert [i.exchange.id for i in masked] == [i.exchange.id for i in plain]
    assert masked[1].decoded.request.devices[0].tags == ("tag-1",)
    assert all(TAG not in f.actual for i in masked for f in i.findings)
    assert {f.rule for f in masked[1].findings} == {f.rule for f in plain[1].findings}


def test_an_empty_selection_is_an_empty_but_valid_har() -> None:
    from tests.io.harschema import errors

    out = io.StringIO()
    assert export(lambda: iter([]), out, "har", comment="nothing") == 0
    document = json.loads(out.getvalue())
    assert document["log"]["entries"] == [] and errors(document) == []
    assert document["log"]["comment"] == "nothing"
