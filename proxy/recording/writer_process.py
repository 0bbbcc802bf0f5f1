"""The proxy's recorder: the journal on the request path, a writer process behind it.

`submit()` cuts the bodies at the body cap and appends the exchange to the capture
journal (one `pwrite`, before the answer goes out); a child process, with its own GIL,
follows the journal into SQLite (`follow.py`). Nothing sits in memory between the two:
when the store is locked or slow the journal grows on disk, not the proxy. If the
writer process dies it is started again and resumes from what the store says it has;
if it dies on the same record three times, that record is set aside (`rejected.seg`).
Only a full disk (journal or store) stops recording: then `healthy` is false, the
proxy answers 503 and exits non-zero.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from proxy import redact, store
from proxy.recording import journal, records, stores
from proxy.recording.follow import Follower
from proxy.recording.prepare import PreparePool, collect_rarely
from proxy.recording.recorder import JournalRecorder, RecorderFailed
from proxy.recording.target import StoreFatal, StoreFull
from proxy.store import location

log = logging.getLogger(__name__)

RECORD_SLACK = 256 << 10
"""Room reserved for one exchange beyond its two capped bodies: headers, URL, framing."""
SHUTDOWN_WAIT = 60.0
"""Seconds a stopping proxy waits for the store to take the rest; after that it stays
in the journal for the next run on this database."""
RESTARTS_BEFORE_SKIP = 3
NICE_ENV = "HUBSCOPE_WRITER_NICE"
NICE = 10
"""How much lower the writer's CPU priority is than the proxy's (`$HUBSCOPE_WRITER_NICE`):
when both want the CPU, forwarding goes first and the journal holds the lag."""


def lower_priority() -> int:
    """Lower this process's CPU priority by `$HUBSCOPE_WRITER_NICE` (default `NICE`);
    threads and workers started after inherit it. Returns the niceness now."""
    value = os.environ.get(NICE_ENV, "")
    step = int(value) if value.isdigit() else NICE
    return os.nice(step)


def _child(control: Connection, report: Connection, args: dict[str, Any]) -> None:
    """The writer process: catch up abandoned runs, then follow this proxy's run."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group;
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the parent stops us on its own stop
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )  # fmt: skip
    redact.install_logging()  # like the proxy's own process: no secret in any log line
    # Started as a daemon so that it never outlives the proxy; multiprocessing refuses a
    # daemon children, and the row-building workers watch this process themselves.
    multiprocessing.current_process().daemon = False
    lower_priority()  # before any thread starts: they inherit it
    directory, run_name = Path(args["journal"]), args["run"]

    def send(message: tuple[str, Any]) -> None:
        try:
            report.send(message)
        except OSError:
            pass  # the proxy is gone; the journal and the store say everything

    parent = {"live": True}

    def live() -> bool:
        if parent["live"] and control.poll():
            try:
                control.recv()  # "stop": the end frame is already in the journal
            except EOFError:
                pass  # the proxy died: store what it wrote, then stop
            parent["live"] = False
        return parent["live"]

    target = stores.open_target(args["db_path"], keys=args["keys"], instance=args["instance"])
    pool = PreparePool()
    follower = Follower(
        directory,
        target,
        on_stored=lambda total: send(("stored", total)),
        skip_first=args["skip_first"],
        pool=pool,
    )
    also = None
    if args.get("also"):
        also = stores.open_target(args["also"], keys=args["keys"], instance=args["instance"])
    collect_rarely()
    try:
        if also is None:
            run = journal.run_named(directory, run_name)
            lock = journal.hold(run, exclusive=False)
            follower.catch_up(skip=run_name)
            if lock is not None:
                follower.follow(run, lock_fd=lock, live=live)
        else:
            second = Follower(directory, also, skip_first=args["skip_first"], pool=pool)
            both = [follower, second]
            _follow_both(both, directory, run_name, live)
    except (StoreFull, StoreFatal) as error:
        send(("fatal", str(error)))
    finally:
        pool.close()
        stores.close(target)
        if also is not None:
            stores.close(also)
        send(("done", follower.stored))


def _follow_both(
    followers: list[Follower], directory: Path, run_name: str, live: Callable[[], bool]
) -> None:
    """Follow each run into every store at once, each at its own pace from its own positions;
    a run is removed once every store has it, so a store that is away only holds it longer."""
    asked = threading.Lock()

    def shared_live() -> bool:
        with asked:  # the control pipe is read by one thread at a time
            return live()

    def together(run: journal.Run, still: Callable[[], bool]) -> None:
        errors: list[BaseException] = []

        def one(follower: Follower) -> None:
            try:
                follower.follow(run, lock_fd=None, live=still)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=one, args=(f,), daemon=True) for f in followers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    for old, fd in journal.abandoned(directory, skip=run_name):
        log.info("storing %s left in the journal by an earlier run", old.name)
        try:
            together(old, lambda: False)
        except BaseException:
            os.close(fd)
            raise
        journal.remove_run(journal.run_named(directory, old.name), fd)
    run = journal.run_named(directory, run_name)
    lock = journal.hold(run, exclusive=False)
    if lock is not None:
        together(run, shared_live)
        journal.remove_run(journal.run_named(directory, run_name), lock)


class ProcessRecorder(JournalRecorder):
    """What the proxy records through: `healthy`, `submit()`, `close()`."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        session: str,
        upstream: str | None = None,
        body_cap: int = 1 << 20,
        keys: dict[str, str] | None = None,
        on_fatal: Callable[[str], None] | None = None,
        instance: str | None = None,
        also: str | Path | None = None,
    ) -> None:
        """`also`: a second store (`--also-db`) the same journal is followed into."""
        super().__init__(
            db_path, session=session, upstream=upstream, body_cap=body_cap, keys=keys,
            on_fatal=on_fatal,
        )  # fmt: skip
        self.also = location.parse(also) if also is not None else None
        self.instance = instance or stores.instance_name()
        self._reserve = 2 * body_cap + RECORD_SLACK
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._control: Connection | None = None
        self._monitor: threading.Thread | None = None
        self._closing = False
        self._finished = threading.Event()
        self._written_before = 0
        self._deaths = 0

    @property
    def shown(self) -> str:
        """The database as it may be printed (a URL without its password)."""
        return location.describe(self.db_path)

    @property
    def writer_pid(self) -> int:
        """The writer process's id (for `make bench`, which reads its CPU time)."""
        return int(self._process.pid)

    @property
    def healthy(self) -> bool:
        """False once recording has stopped; checks the journal has room for one more exchange."""
        if self.failure is not None:
            return False
        try:
            self.journal.reserve(self._reserve)
        except journal.JournalFull as error:
            self._fail(str(error))
            return False
        return True

    def start(self, *, kind: str = "proxy", replay_of: str | None = None) -> None:
        """Open (migrate) the database, start the journal run and the writer process."""
        try:
            if location.is_postgres(self.db_path):
                raise _Later()  # the writer migrates it and makes the session from the journal
            db = store.connect(self.db_path)
            db.conn.execute("PRAGMA busy_timeout = 1000")  # a lock is the writer's to wait out
            try:
                store.ensure_session(
                    db, self.session, kind=kind, upstream=self.upstream, replay_of=replay_of
                )
            finally:
                db.conn.close()
        except _Later:
            pass
        except Exception as error:
            if store.classify(error) != "busy":
                raise
            log.warning("%s is locked; recording into the journal until it is free", self.db_path)
        session = records.SessionStart(self.session, kind, self.upstream, replay_of)
        self.journal.open(records.encode_session(session))
        self._spawn(skip_first=False)

    def close(self) -> None:
        """End the journal run, let the writer store it, and stop the writer."""
        if self._control is None:
            return
        self._closing = True
        self.journal.close()
        try:
            self._control.send("stop")
        except OSError:
            pass
        started = time.monotonic()
        while not self._finished.wait(5.0):
            waited = time.monotonic() - started
            if waited >= SHUTDOWN_WAIT:
                log.warning(
                    "the store has not taken the rest of the journal after %.0f s; it stays in "
                    "%s and the next `hubscope proxy --db %s` stores it",
                    waited, self.journal.directory, location.describe(self.db_path),
                )  # fmt: skip
                self._process.kill()
                break
            log.info("waiting for the writer to store the rest of the journal (%.0f s)", waited)
        if self._monitor is not None:
            self._monitor.join()
        self._process.join()
        self._control.close()
        self._control = None
        if self.failure is not None:
            raise RecorderFailed(self.failure)

    def _spawn(self, *, skip_first: bool) -> None:
        control, to_child = self._context.Pipe(duplex=False)
        from_child, report = self._context.Pipe(duplex=False)
        args = {
            "db_path": str(self.db_path), "keys": self._keys, "skip_first": skip_first,
            "instance": self.instance,
            "also": None if self.also is None else str(self.also),
            "journal": str(self.journal.directory), "run": self.journal.run,
        }  # fmt: skip
        self._process = self._context.Process(
            target=_child, args=(control, report, args), name="hubscope-writer", daemon=True
        )
        self._written_before = self.written
        self._process.start()
        control.close()
        report.close()
        self._control = to_child
        self._monitor = threading.Thread(
            target=self._watch, args=(from_child,), name="writer-monitor", daemon=True
        )
        self._monitor.start()

    def _watch(self, from_child: Connection) -> None:
        while True:
            try:
                kind, value = from_child.recv()
            except EOFError:
                kind, value = "died", None
            if kind == "stored":
                self.written = self._written_before + int(value)
                continue
            if kind == "fatal":
                self._fail(str(value))
                continue
            from_child.close()
            if self._closing or self.failure is not None:
                self._finished.set()
                return
            self._process.join()
            self._deaths = self._deaths + 1 if self.written == self._written_before else 1
            log.error(
                "the writer process died (exit %s); starting it again: it resumes from the "
                "store's journal positions, nothing is lost", self._process.exitcode,
            )  # fmt: skip
            if self._control is not None:
                self._control.close()
            self._spawn(skip_first=self._deaths >= RESTARTS_BEFORE_SKIP)
            return


class _Later(Exception):
    """A server's store is opened by the writer process, where a lost connection is waited out."""


__all__ = ["ProcessRecorder"]
