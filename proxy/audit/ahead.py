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
from collections import Counter
from collections.abc import Generator
from multiprocessing.connection import Connection
from pathlib import Path

from proxy import store
from proxy.audit.pages import (
    CURRENT,
    EXAMPLES,
    ID,
    OPERATION,
    Page,
    StoredFinding,
    Tally,
    operation_name,
    pages,
)
from proxy.audit.printed import Printer


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
        printer = Printer()
        for page in pages(db, session, size):
            send.send(_printed(page, printer) if printed else page)
        send.send(None)
    except (BrokenPipeError, ConnectionResetError):  # the judge stopped reading
        return
    except Exception as error:
        send.send(error)


def _printed(page: Page, printer: Printer) -> Page:
    """The page with its stored findings printed and counted (the judge then touches each
    only as text), unless some exchange must be judged again: its findings interleave."""
    rows = page.rows
    if not all(row[CURRENT] for row in rows):
        return page
    printed: list[str] = []
    keys: list[tuple[str, str]] = []
    severities: list[str] = []
    candidates: dict[tuple[str, str], list[StoredFinding]] = {}
    actuals: dict[tuple[str, str], set[str]] = {}
    stored, findings = printer.stored, page.findings
    for row in rows:
        found = findings.get(row[ID])
        if not found:
            printed.append("")
            continue
        operation = operation_name(row[OPERATION])
        printed.append(", ".join([stored(values) for values in found]))
        for values in found:
            key = (operation, values[1])
            keys.append(key)
            severities.append(values[2])
            kept = candidates.get(key)
            if kept is None:
                candidates[key] = [values]
                actuals[key] = {values[3] or ""}
            elif len(kept) < EXAMPLES and (values[3] or "") not in actuals[key]:
                actuals[key].add(values[3] or "")
                kept.append(values)
    tally = Tally(Counter(severities), Counter(keys), candidates)
    return Page(rows, {}, page.devices, printed, tally)
