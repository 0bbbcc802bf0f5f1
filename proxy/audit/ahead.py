"""Pages of an SQLite file read ahead by a second process, so the audit uses two cores.

Reading a page (three queries, every value made a Python object) costs as much as
judging it; a forked reader does it beside the judge and sends each page through a
pipe, which holds at most a page or two: the reader waits while the judge is behind, so
memory stays bounded. Forking is only safe in a process with one thread (a thread's
locks would be copied held), so anywhere else, or where `fork` does not exist, the pages
are read in this process as before.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from proxy import store
from proxy.audit.pages import Page, pages


def pages_ahead(path: Path, session: str, size: int) -> Iterator[Page]:
    """`pages(…)` of the SQLite file at `path`, read by a forked process when it can be."""
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        db = store.connect(path, readonly=True)
        try:
            yield from pages(db, session, size)
        finally:
            db.conn.close()
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    reader = context.Process(target=_read, args=(path, session, size, send), daemon=True)
    reader.start()
    send.close()
    try:
        while True:
            try:
                item = receive.recv()
            except EOFError:
                raise RuntimeError(
                    f"the audit's page reader stopped (exit {reader.exitcode})"
                ) from None
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield Page(*item)
    finally:
        receive.close()  # a reader still sending gets a broken pipe and ends
        reader.join(timeout=5)
        if reader.is_alive():
            reader.kill()
            reader.join()


def _read(path: Path, session: str, size: int, send: Connection) -> None:
    """The reader process: each page as a tuple, then None (or the error that stopped it)."""
    try:
        db = store.connect(path, readonly=True)
        for page in pages(db, session, size):
            send.send((page.rows, page.findings, page.devices))
        send.send(None)
    except (BrokenPipeError, ConnectionResetError):  # the judge stopped reading
        return
    except Exception as error:
        send.send(error)
