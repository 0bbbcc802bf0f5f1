"""The audit's pages: every exchange of a session once, in time order, with its own
stored findings and devices."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from sqlite_utils import Database

from proxy import store
from proxy.audit.pages import CURRENT, ID, STARTED_AT, pages
from proxy.store import findings, rows
from tests.rules.factories import NOW, TOKEN_EL, el, reg


def _recorded(path: Path) -> list[str]:
    """Nine exchanges in session `s` (three at each of three instants) and one in `t`."""
    items = [reg(TOKEN_EL, el("Tags", f"t{i}"), status=200)[0] for i in range(10)]
    items = [replace(ex, started_at=NOW + i // 3, session="s") for i, ex in enumerate(items)]
    items[-1] = replace(items[-1], session="t")
    db = store.connect(path)
    for session in ("s", "t"):
        store.ensure_session(db, session, kind="proxy")
    store.write_rows(db, rows.build(items, body_cap=1 << 20, keys={}))
    db.conn.close()
    return [ex.id for ex in sorted(items[:-1], key=lambda ex: (ex.started_at, ex.id))]


def test_pages_hold_each_exchange_once_in_time_order(tmp_path: Path) -> None:
    order = _recorded(tmp_path / "p.db")
    db = store.connect(tmp_path / "p.db", readonly=True)
    read = list(pages(db, "s", size=2))
    assert [len(p.rows) for p in read] == [2, 2, 2, 2, 1]
    assert [row[ID] for p in read for row in p.rows] == order
    assert all(row[CURRENT] == 1 for p in read for row in p.rows)
    assert [row[STARTED_AT] for row in read[0].rows] == [NOW, NOW]
    for page in read:
        ids = [row[ID] for row in page.rows]
        assert set(page.findings) == set(ids) == set(page.devices)
        stored = findings.load(db, ids)
        for ident in ids:
            assert [values[1] for values in page.findings[ident]] == [f.rule for f in stored[ident]]
            assert [(d[1], d[5]) for d in page.devices[ident]] == [
                ("request", "00fc13adff785122"), ("response", "00fc13adff785122"),
            ] or [d[1] for d in page.devices[ident]] == ["request"]  # fmt: skip
    db.conn.close()


def test_a_file_older_than_the_findings_tables_has_no_judged_marks(tmp_path: Path) -> None:
    _recorded(tmp_path / "old.db")
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("drop table findings")
        conn.execute("drop table findings_judged")
    db = Database(sqlite3.connect(tmp_path / "old.db"))
    read = list(pages(db, "t", size=5))
    assert len(read) == 1 and read[0].rows[0][CURRENT] == 0
    assert read[0].findings == {} and read[0].devices
    db.conn.close()


def test_an_exchange_judged_under_another_rule_set_is_not_current(tmp_path: Path) -> None:
    order = _recorded(tmp_path / "stale.db")
    with sqlite3.connect(tmp_path / "stale.db") as conn:
        conn.execute("update findings_judged set ruleset = 'old' where exchange_id = ?", order[4:5])
        conn.execute("delete from findings_judged where exchange_id = ?", [order[7]])
    db = store.connect(tmp_path / "stale.db", readonly=True)
    current = {row[ID]: row[CURRENT] for p in pages(db, "s", size=4) for row in p.rows}
    db.conn.close()
    assert current == {ident: int(i not in (4, 7)) for i, ident in enumerate(order)}
