"""A stored finding printed from its row reads exactly as the `Finding` it stands for."""

from __future__ import annotations

import json

import pytest

from proxy.audit.pages import StoredFinding, stored_finding
from proxy.audit.printed import JsonStream, Printer

ROWS: list[StoredFinding] = [
    ("x1", "tags.grammar", "warning", "tag 'bad tag'", "Tags", None, None, None),
    (
        "x2",
        "tags.grammar",
        "warning",
        "tag 'é \"q\" \\ \n\t\x01 \u2028 😀'",
        None,
        None,
        None,
        None,
    ),
    ("x3", "tags.grammar", "warning", None, None, None, None, None),
    ("x4", "tags.grammar", "error", "rule failed", None, "a specific expectation", None, None),
    ("x5", "tags.grammar", "warning", "a", None, None, "another sentence", "seeds/x.md#y"),
    ("x6", "no.such-rule", "note", "a rule this version no longer has", None, None, None, None),
    ("x7", "tags.grammar", "warning", "", None, "", "", "spec/nh-rest-api.md §14"),
]


@pytest.mark.parametrize("values", ROWS, ids=lambda v: v[0])
def test_a_stored_row_prints_as_its_finding(values: StoredFinding) -> None:
    printer = Printer()
    expected = printer.finding(stored_finding(values))
    assert printer.stored(values) == expected
    assert printer.stored(values) == expected  # the second time from cached fragments
    assert json.loads(expected) == stored_finding(values).as_json()


def test_rows_of_one_rule_share_fragments_but_not_values() -> None:
    printer = Printer()
    first, second = printer.stored(ROWS[0]), printer.stored(ROWS[2])
    assert '"exchange_id": "x1"' in first and '"actual": "tag \'bad tag\'"' in first
    assert '"exchange_id": "x3"' in second and '"actual": ""' in second


def test_the_stream_is_one_json_document_whatever_the_batches() -> None:
    for batch in (1, 2, 500):
        written: list[str] = []
        stream = JsonStream(written.append, batch=batch)
        for values in ROWS:
            stream.stored(values)
        stream.finding(stored_finding(ROWS[0]))
        stream.printed(Printer().stored(ROWS[1]) + ", " + Printer().stored(ROWS[2]))

        class Done:
            exchanges = 7

        stream.end(Done())
        data = json.loads("".join(written))
        assert data["exchanges"] == 7 and len(data["findings"]) == len(ROWS) + 3
        assert [f["exchange_id"] for f in data["findings"]][-3:] == ["x1", "x2", "x3"]
