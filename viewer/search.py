"""Substring search over URL, headers and bodies, and the trigram index that speeds it up.

A search term matches an exchange when its text (`proxy.store.schema.SEARCH_TEXT`: the URL,
headers as `Name: value`, the first 64 KiB of each body) contains it, ASCII case ignored;
`*` inside a term stands for any run of characters. The truth is always `instr`/`glob`
over that text; the index (`exchanges_fts`, trigrams, no positions) only proposes rows
that hold every trigram of the term, so a selective term reads few rows. The viewer fills
the index in the background (`Indexer`), off the proxy's recording path; rows not indexed
yet are checked directly.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from proxy import store
from proxy.store.schema import SEARCH_TEXT

log = logging.getLogger(__name__)

SCOPES = {
    "text": SEARCH_TEXT.format(p="e."),
    "url": "e.url",
    "header": "replace(coalesce(e.request_headers, '') || char(10) || "
    "coalesce(e.response_headers, ''), '\", \"', ': ')",
    "body": "cast(coalesce(e.request_body, '') as text) || char(10) || "
    "cast(coalesce(e.response_body, '') as text)",
}
"""Where a term may match: everything, or only the URL, the headers or the bodies."""

MAX_TRIGRAMS = 24
BATCH = 2000
PAUSE_SECONDS = 0.02
"""Between index batches, so a proxy writing the same file gets the lock."""


@dataclass(frozen=True, slots=True)
class Term:
    """One search term: text that must appear (`*` = anything), in one scope."""

    text: str
    scope: str = "text"

    @property
    def pieces(self) -> list[str]:
        return [p for p in self.text.lower().split("*") if p]

    def verify_sql(self, name: str) -> tuple[str, dict[str, str]]:
        """An exact SQL test of the term on `exchanges e`; parameters named after `name`."""
        column = f"lower({SCOPES[self.scope]})"
        pieces = self.pieces
        if not pieces:
            return "1", {}
        if "*" not in self.text.strip("*"):
            return f"instr({column}, :{name}) > 0", {name: pieces[0]}
        pattern = "*" + "*".join(glob_escape(p) for p in pieces) + "*"
        return f"{column} glob :{name}", {name: pattern}

    def match(self) -> str | None:
        """An FTS5 query every matching row satisfies (None: the term is too short to index)."""
        grams: list[str] = []
        for piece in self.pieces:
            grams += [piece[i : i + 3] for i in range(len(piece) - 2)]
        distinct = list(dict.fromkeys(grams))
        if not distinct:
            return None
        if len(distinct) > MAX_TRIGRAMS:
            step = len(distinct) / MAX_TRIGRAMS
            distinct = [distinct[int(i * step)] for i in range(MAX_TRIGRAMS)]
        return " AND ".join('"' + g.replace('"', '""') + '"' for g in distinct)


def glob_escape(text: str) -> str:
    return re.sub(r"([\[\]?*])", r"[\1]", text)


_TOKEN = re.compile(r'"((?:[^"]|"")*)"|(\S+)')


def terms(text: str, scope: str = "text") -> list[Term]:
    """`q=` text as terms: words, or "quoted phrases" (a doubled quote inside is a quote)."""
    out = []
    for quoted, word in _TOKEN.findall(text):
        value = quoted.replace('""', '"') if quoted else word
        if value.strip("*"):
            out.append(Term(value, scope))
    return out


def candidates_sql(match: str, name: str) -> tuple[str, dict[str, object]]:
    """Rowids the index proposes, plus every row it has not indexed yet."""
    sql = (
        f"select rowid from exchanges_fts where exchanges_fts match :{name}"
        " union all select rowid from exchanges where rowid >"
        " (select indexed_upto from exchanges_fts_progress)"
    )
    return sql, {name: match}


def has_index(db: sqlite3.Connection) -> bool:
    row = db.execute(
        "select 1 from sqlite_master where name = 'exchanges_fts_progress'"
    ).fetchone()
    return row is not None


def progress(db: sqlite3.Connection) -> tuple[int, int]:
    """(highest rowid indexed, highest rowid recorded)."""
    indexed = 0
    if has_index(db):
        row = db.execute("select indexed_upto from exchanges_fts_progress").fetchone()
        indexed = int(row[0]) if row else 0
    newest = db.execute("select max(rowid) from exchanges").fetchone()[0] or 0
    return indexed, int(newest)


class Indexer:
    """Fills `exchanges_fts` with rows recorded since the last run, in short transactions."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if isinstance(path, Path) else path
        self.disabled: str | None = None if isinstance(path, Path) else "a PostgreSQL store"
        """Why indexing stopped for good (a read-only file); search then reads rows."""
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = store.connect(self.path).conn
        return self._conn

    def step(self, batch: int = BATCH) -> int:
        """Index up to `batch` rows; how many were indexed (0: caught up or disabled)."""
        if self.disabled or not isinstance(self.path, Path):
            return 0
        if not os.access(self.path, os.W_OK) or not os.access(self.path.parent, os.W_OK):
            self.disabled = "the database file is read-only here"
            return 0
        with self._lock:
            try:
                conn = self._connection()
                if not has_index(conn):
                    self.disabled = "no search index in this file"
                    return 0
                conn.execute("begin immediate")
                try:
                    (upto,) = conn.execute(
                        "select indexed_upto from exchanges_fts_progress"
                    ).fetchone()
                    text = SEARCH_TEXT.format(p="")
                    rows = conn.execute(
                        f"select rowid, {text} from exchanges where rowid > ?"
                        " order by rowid limit ?",
                        [upto, batch],
                    ).fetchall()
                    if rows:
                        conn.executemany(
                            "insert into exchanges_fts(rowid, text) values (?, ?)", rows
                        )
                        conn.execute(
                            "update exchanges_fts_progress set indexed_upto = ?", [rows[-1][0]]
                        )
                    conn.execute("commit")
                except BaseException:
                    conn.execute("rollback")
                    raise
                return len(rows)
            except sqlite3.OperationalError as error:
                if "readonly" in str(error) or "read-only" in str(error):
                    self.disabled = str(error)
                    log.info("search index not written (%s); search reads rows instead", error)
                    return 0
                raise

    def catch_up(self, budget_seconds: float = 60.0) -> int:
        """Index until caught up or the budget is spent; how many rows were indexed."""
        done, started = 0, time.monotonic()
        while time.monotonic() - started < budget_seconds:
            count = self.step()
            done += count
            if count < BATCH:
                break
            time.sleep(PAUSE_SECONDS)
        return done

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
