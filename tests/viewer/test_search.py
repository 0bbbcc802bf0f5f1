"""Substring search over URL, headers and bodies: the same answer indexed or not, as a scan says."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from proxy import store
from tests.viewer.conftest import ids
from viewer.search import Indexer, Term, progress, terms


def brute_force(path: Path, term: str, scope: str = "text") -> set[str]:
    """The rows whose text holds `term` (ASCII case ignored), by reading every row in Python."""
    db = store.connect(path, readonly=True)
    found = set()
    for row in db.query("select * from exchanges"):
        headers = "\n".join(
            f"{k}: {v}" for side in ("request_headers", "response_headers")
            for k, v in json.loads(row[side] or "[]")
        )  # fmt: skip
        bodies = "\n".join((row[s] or b"").decode("utf-8", "replace")
                           for s in ("request_body", "response_body"))  # fmt: skip
        text = {"url": row["url"], "header": headers, "body": bodies,
                "text": "\n".join([row["url"], headers, bodies])}[scope]  # fmt: skip
        pieces = [p for p in term.lower().split("*") if p]
        at, ok = 0, True
        for piece in pieces:
            at = text.lower().find(piece, at)
            if at < 0:
                ok = False
                break
            at += len(piece)
        if ok:
            found.add(row["id"])
    db.conn.close()
    return found


CASES = [
    ("text", "9f8e7d6c-0000"),               # a TrackingId fragment in an <Error> body
    ("text", "1a2b,TimeStamp"),              # across punctuation
    ("text", "charset=utf-8"),               # a header value
    ("text", "Content-Type: application/xml"),  # a header as it is shown
    ("text", "APPLICATION/XML; CHARSET"),    # case does not matter
    ("text", "AppleRegistration*"),          # a prefix
    ("text", "Fcm*Description"),             # pieces in order
    ("text", "does-not-exist"),              # the URL
    ("text", "vi"),                          # too short to index: read
    ("url", "does-not"),
    ("body", "does-not"),
    ("header", "x-ms-version: 2015"),
    ("body", "x-ms-version"),
]


@pytest.mark.parametrize(("scope", "term"), CASES)
async def test_search_finds_what_a_scan_finds(
    triage: TestClient, triage_db: Path, scope: str, term: str
) -> None:
    expected = brute_force(triage_db, term, scope)
    query = f"q={quote(term)}" if scope == "text" and " " not in term else (
        f"f={quote(scope + ':' + json.dumps(term))}")  # fmt: skip
    assert set(await ids(triage, query)) == expected


async def test_known_answers(triage: TestClient) -> None:
    assert len(await ids(triage, "q=9f8e7d6c-0000")) == 1
    assert len(await ids(triage, "q=does-not-exist")) == 3
    assert len(await ids(triage, f"f={quote('body:does-not')}")) == 0
    phrase = quote('"Content-Type: application/xml"')
    assert len(await ids(triage, f"q={phrase}")) == 4


async def test_indexed_and_unindexed_rows_answer_alike(triage: TestClient, triage_db: Path) -> None:
    before = {term: set(await ids(triage, f"q={quote(term)}")) for _, term in CASES[:8]}
    indexer = Indexer(triage_db)
    try:
        while indexer.step(batch=5):
            pass
    finally:
        indexer.close()
    conn = sqlite3.connect(triage_db)
    indexed, newest = progress(conn)
    assert indexed == newest == 26
    proposed = conn.execute(
        "select count(*) from exchanges_fts where exchanges_fts match ?",
        [Term("9f8e7d6c-0000").match()],
    ).fetchone()[0]
    conn.close()
    assert proposed == 1
    after = {term: set(await ids(triage, f"q={quote(term)}")) for _, term in CASES[:8]}
    assert after == before


def test_terms_and_trigrams() -> None:
    assert [t.text for t in terms('vip "two words" "say ""hi""" a* *')] == [
        "vip", "two words", 'say "hi"', "a*"]  # fmt: skip
    assert Term("abcd").match() == '"abc" AND "bcd"'
    assert Term("ab").match() is None
    assert Term('x"yz').match() == '"x""y" AND """yz"'
    assert Term("a*bcd").verify_sql("p")[0].endswith("glob :p")
    assert Term("a*bcd").verify_sql("p")[1] == {"p": "*a*bcd*"}
    assert Term("[x]?").verify_sql("p")[1] == {"p": "[x]?"}


async def test_without_the_index_search_reads_rows(aiohttp_client, triage_db: Path) -> None:
    from viewer.app import make_app
    from viewer.filterlang import parse
    from viewer.filtersql import plan
    from viewer.state import ViewerSettings

    client = await aiohttp_client(make_app(ViewerSettings(db=triage_db, index=False)))
    assert len(await ids(client, "q=9f8e7d6c-0000")) == 1
    conn = sqlite3.connect(triage_db)
    assert progress(conn) == (0, 26)  # nothing was written
    conn.close()
    unindexed = plan(parse("vip"), lambda sql, params: 0, indexed=False)
    assert "exchanges_fts" not in " ".join(unindexed.where)
