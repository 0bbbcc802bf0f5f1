"""Pages of an SQLite file read ahead by a second process, so the audit uses two cores.

Reading a page (three queries, every value made a Python object) costs as much as
judging it; a forked reader does it beside the judge and sends each page through a
pipe, which holds at most a page or two: the reader waits while the judge is behind, so
memory stays bounded. Forking is only safe in a process with one thread (a thread's
locks would be copied held), and only on Linux (macOS frameworks refuse a forked child);
anywhere else the pages are read in this process as before. The parent's buffered output
is flushed before the fork (multiprocessing does), so the reader never writes it again.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable, Generator
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from proxy import store
from proxy.audit.pages import (
    API_VERSION,
    EXAMPLES,
    HUB,
    ID,
    METHOD,
    OPERATION,
    OPS,
    RULESET,
    SESSION,
    Page,
    Tally,
    pages,
)
from proxy.audit.printed import Printer
from proxy.model import Op
from proxy.store import findings as stored


def pages_ahead(
    path: Path, session: str, size: int, *, printed: bool
) -> Generator[Page, None, None]:
    """`pages(…)` of the SQLite file at `path`, read by a forked process when it can be;
    `printed`: with the stored findings printed and counted there, for `--format json`."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        db = store.connect(path, readonly=True)
        try:
            yield from pages(db, session, size)
        finally:
            db.conn.close()
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    reader = context.Process(target=_read, args=(path, session, size, printed, send), daemon=True)
    reader.start()
    send.close()
    try:
        while True:
            try:
                item = receive.recv()
            except EOFError:
                reader.join(timeout=5)
                stopped = f"the audit's page reader stopped (exit {reader.exitcode})"
                raise RuntimeError(stopped) from None
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        receive.close()  # a reader still sending gets a broken pipe and ends
        reader.join(timeout=5)
        if reader.is_alive():
            reader.kill()
            reader.join()


def _read(path: Path, session: str, size: int, printed: bool, send: Connection) -> None:
    """The reader process: each page, then None (or the error that stopped it)."""
    try:
        db = store.connect(path, readonly=True)
        printer, ruleset = Printer(), stored.ruleset()
        for page in pages(db, session, size):
            send.send(_shared(_printed(page, printer, ruleset) if printed else page))
        send.send(None)
    except (BrokenPipeError, ConnectionResetError):  # the judge stopped reading
        return
    except Exception as error:
        send.send(error)


def _printed(page: Page, printer: Printer, ruleset: str) -> Page:
    """The page with its stored findings printed and counted (the judge then touches each
    only as text), unless some exchange must be judged again: its findings interleave."""
    rows = page.rows
    if any(row[RULESET] != ruleset for row in rows):
        return page
    printed: dict[str, str] = {}
    tally = Tally()
    severities, counts, candidates = tally.severities, tally.counts, tally.candidates
    for row in rows:
        found = page.findings.get(row[ID])
        if not found:
            continue
        operation = OPS.get(row[OPERATION] or "", Op.UNKNOWN).value
        printed[row[ID]] = ", ".join([printer.stored(values) for values in found])
        for values in found:
            severities[values[2]] += 1
            key = (operation, values[1])
            counts[key] += 1
            kept = candidates.get(key)
            if kept is None:
                candidates[key] = [values]
            elif len(kept) < EXAMPLES and all((k[3] or "") != (values[3] or "") for k in kept):
                kept.append(values)
    return Page(rows, {}, page.devices, printed, tally)


_SHARED_EXCHANGE_COLUMNS = (SESSION, METHOD, OPERATION, HUB, API_VERSION, RULESET)
_SHARED_DEVICE_COLUMNS = (1, 2, 3, 4)  # direction, kind, source type, platform


def _shared(page: Page) -> Page:
    """The page with each repeated value of its few-valued columns one object, which the
    pipe then sends once (sqlite3 makes a new string for every value it reads)."""
    memo: dict[Any, Any] = {}
    same = memo.setdefault
    return replace(
        page,
        rows=_columns_shared(page.rows, _SHARED_EXCHANGE_COLUMNS, same),
        devices={
            key: _columns_shared(rows, _SHARED_DEVICE_COLUMNS, same)
            for key, rows in page.devices.items()
        },
    )


def _columns_shared(
    rows: list[tuple[Any, ...]], shared: tuple[int, ...], same: Callable[[Any, Any], Any]
) -> list[tuple[Any, ...]]:
    if not rows:
        return rows
    columns = list(zip(*rows, strict=True))
    for index in shared:
        columns[index] = tuple([same(value, value) for value in columns[index]])
    return list(zip(*columns, strict=True))
