"""Pages read ahead by a second process: the same pages, the same counts, no process left."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from proxy import store
from proxy.audit import Audit, JsonStream, run
from proxy.audit.ahead import pages_ahead
from proxy.audit.pages import ID, pages
from proxy.audit.printed import Printer
from proxy.store import rows
from tests.rules.factories import NOW, TOKEN_EL, el, reg


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """25 registrations judged at ingest, one session: tags with a space (a finding
    quoting the tag; one tag for three in a row, five in all), handles twice or more (a
    session finding)."""
    items = [reg(el("DeviceToken", f"{i % 12:064x}"), el("Tags", f"bad tag{i // 3 % 5}"), TOKEN_EL,
                 status=200)[0] for i in range(25)]  # fmt: skip
    items = [replace(ex, started_at=NOW + i, session="s") for i, ex in enumerate(items)]
    path = tmp_path_factory.mktemp("ahead") / "a.db"
    db = store.connect(path)
    store.ensure_session(db, "s", kind="proxy")
    store.write_rows(db, rows.build(items, body_cap=1 << 20, keys={}))
    db.conn.close()
    return path


def _audit(path: Path, *, ahead: bool) -> tuple[Audit, str]:
    printed: list[str] = []
    stream = JsonStream(printed.append, batch=3)
    db = store.connect(path, readonly=True)
    try:
        audit = run(db, page=4, stream=stream, read_ahead=path if ahead else None)
    finally:
        db.conn.close()
    stream.end(audit)
    return audit, "".join(printed)


def _summary(audit: Audit) -> object:
    return (audit.exchanges, audit.counts(), [
        (key, b.count, b.first, list(b.examples.items())) for key, b in audit.buckets.items()
    ])  # fmt: skip


def test_pages_read_ahead_are_the_pages(recorded: Path) -> None:
    db = store.connect(recorded, readonly=True)
    here = list(pages(db, "s", 4))
    db.conn.close()
    ahead = list(pages_ahead(recorded, "s", 4, printed=False))
    assert len(here) == 7 and ahead == here
    assert not multiprocessing.active_children()


def test_printed_and_counted_ahead_as_one_by_one(recorded: Path) -> None:
    assert len(list(pages_ahead(recorded, "s", 4, printed=True))[0].printed) == 4
    serial, text = _audit(recorded, ahead=False)
    parallel, text_ahead = _audit(recorded, ahead=True)
    assert text_ahead == text and '"exchange_id"' in text
    assert _summary(parallel) == _summary(serial)
    grammar = next(b for (_, rule), b in serial.buckets.items() if rule == "tags.grammar")
    assert grammar.count == 25 and list(grammar.examples) == [
        f"tag 'bad tag{i}'" for i in (0, 1, 2)
    ]
    assert any(rule.startswith("session.") for _, rule in serial.buckets)


def test_a_page_printed_ahead_holds_what_the_printer_prints(recorded: Path) -> None:
    db = store.connect(recorded, readonly=True)
    page = next(pages(db, "s", 4))
    db.conn.close()
    ahead = next(pages_ahead(recorded, "s", 4, printed=True))
    printer = Printer()
    assert ahead.findings == {} and ahead.tally is not None
    assert ahead.printed == [
        ", ".join(printer.stored(values) for values in page.findings.get(row[ID], ()))
        for row in page.rows
    ]
    assert all(ahead.printed)
    assert sum(ahead.tally.severities.values()) == sum(map(len, page.findings.values()))


def test_a_reader_the_judge_stops_listening_to_ends(recorded: Path) -> None:
    read = pages_ahead(recorded, "s", 2, printed=True)
    next(read)
    assert multiprocessing.active_children()
    read.close()
    assert not multiprocessing.active_children()


def test_with_another_thread_running_the_pages_are_read_here(recorded: Path) -> None:
    """Forking copies other threads' locks held: a process with threads reads in place."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        read = pages_ahead(recorded, "s", 4, printed=True)
        first = next(read)
        assert not multiprocessing.active_children() and first.tally is None
        assert len(first.rows) + sum(len(p.rows) for p in read) == 25
    finally:
        stop.set()
        other.join()


def test_what_stops_the_reader_is_raised_in_the_judge(recorded: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    with sqlite3.connect(recorded) as source, sqlite3.connect(broken) as copy:
        source.backup(copy)
        copy.execute("drop table devices")
    with pytest.raises(sqlite3.OperationalError, match="no such table: devices"):
        list(pages_ahead(broken, "s", 4, printed=True))
    assert not multiprocessing.active_children()
