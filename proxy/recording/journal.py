"""The capture journal: every answered exchange on local disk before any store sees it.

A folder beside the database (`hubscope.db` → `hubscope.db.capture/`) holds, per proxy
run, numbered segment files of length-prefixed, CRC-checked frames, and a lock file the
run holds (shared) for as long as it or its writer lives. The proxy appends a frame
with one `pwrite` before it answers (so a SIGKILL loses nothing answered) and a thread
fsyncs every `FSYNC_INTERVAL` (so a power cut loses at most that). Room is reserved
ahead with `posix_fallocate`: a full disk is found before a request is forwarded, not
after it was answered. Whoever follows the journal into a store (`follow.py`) records
how far it got in that store, and deletes what is stored.

Frames: `<u32 length><u32 crc32>` then the payload, whose first byte says what it is.
A zero length is the unwritten (preallocated) rest of a segment.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MAGIC = b"HSJRNL01"
FRAME = struct.Struct("<II")
SEGMENT_BYTES = 64 << 20
"""A run starts a new segment past this size, so stored parts can be deleted early."""
FSYNC_INTERVAL = 0.05
GROW_STEP = 8 << 20
"""Room reserved at a time; the reservation for one exchange is asked of the proxy."""

SESSION, EXCHANGE, NEXT, END = b"S", b"X", b"N", b"E"
"""Payload kinds: a session starts, one exchange, continued in the next segment, run over."""

_SEGMENT = re.compile(r"^(?P<run>[0-9TZ]+-\d+-[0-9a-f]+)\.(?P<seq>\d{6})\.seg$")


class JournalFull(OSError):
    """The journal could not reserve or write room: the disk (or the file size limit) is full."""


def journal_dir(db_path: Path) -> Path:
    """Where the journal of a database file lives: beside it, named after it."""
    return db_path.with_name(db_path.name + ".capture")


def segment_name(run: str, seq: int) -> str:
    return f"{run}.{seq:06d}.seg"


def frame(kind: bytes, body: bytes) -> bytes:
    payload = kind + body
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


class JournalWriter:
    """One proxy run's appender: `reserve()` before forwarding, `append()` before answering."""

    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.run = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}-" + (
            secrets.token_hex(3)
        )
        self.segment_bytes = segment_bytes
        self.failure: str | None = None
        self.appended = 0
        self._seq = 0
        self._fd = -1
        self._pos = 0
        self._room = 0
        self._dirty = False
        self._swap = threading.Lock()
        self._closing = threading.Event()
        self._lock_fd = -1
        self._syncer: threading.Thread | None = None

    def open(self, first: bytes) -> None:
        """Create the folder, take the run's lock, start the first segment with `first`."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Lock a hidden name, then rename: a lock file is never visible unlocked, so no
        # one takes a starting run for an abandoned one.
        hidden = self.directory / f".{self.run}.lock"
        self._lock_fd = os.open(hidden, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
        os.rename(hidden, self.lock_path)
        self._start_segment()
        self.append(SESSION, first)
        self._syncer = threading.Thread(target=self._sync_loop, name="journal-fsync", daemon=True)
        self._syncer.start()

    @property
    def lock_path(self) -> Path:
        return self.directory / f"{self.run}.lock"

    def reserve(self, size: int) -> None:
        """Make sure `size` more bytes can be appended without the disk saying no."""
        if self.failure is not None:
            raise JournalFull(self.failure)
        try:
            if self._pos + size > self.segment_bytes and self._pos > len(MAGIC):
                self._seq += 1
                self._start_segment(seal=True)
            if self._pos + size <= self._room:
                return
            step = max(min(GROW_STEP, self.segment_bytes), self._pos + size - self._room)
            os.posix_fallocate(self._fd, self._room, step)
            self._room += step
        except OSError as error:
            raise self._failed(f"cannot reserve room in {self.directory}: {error}") from error

    def append(self, kind: bytes, body: bytes) -> None:
        """Write one frame; it survives the process the moment this returns."""
        data = frame(kind, body)
        self.reserve(len(data))
        try:
            self._pwrite(data)
        except OSError as error:
            raise self._failed(f"cannot write to {self.directory}: {error}") from error
        self.appended += kind == EXCHANGE

    def close(self) -> None:
        """Mark the run as over, flush it to disk and let go (the lock stays with the writer)."""
        if self._fd < 0:
            return
        self._closing.set()
        if self._syncer is not None:
            self._syncer.join()
        if self.failure is None:
            try:
                self._pwrite(frame(END, b""))
            except OSError as error:
                log.error("could not mark the journal run %s as over: %s", self.run, error)
        with self._swap:
            os.fdatasync(self._fd)
            os.close(self._fd)
            self._fd = -1
        os.close(self._lock_fd)

    def _pwrite(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, self._pos)
            self._pos += written
            view = view[written:]
        self._dirty = True

    def _start_segment(self, *, seal: bool = False) -> None:
        """Open the next segment; only once it exists is the current one sealed (NEXT)."""
        path = self.directory / segment_name(self.run, self._seq)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.pwrite(fd, MAGIC, 0)
        with self._swap:
            if self._fd >= 0:
                if seal:
                    self._pwrite(frame(NEXT, b""))
                os.fdatasync(self._fd)
                os.close(self._fd)
            self._fd, self._pos, self._room = fd, len(MAGIC), 0
        self._dirty = True

    def _failed(self, message: str) -> JournalFull:
        if self.failure is None:
            self.failure = message
            log.critical("hubscope journal stopped: %s", message)
        return JournalFull(message)

    def _sync_loop(self) -> None:
        while not self._closing.wait(FSYNC_INTERVAL):
            if not self._dirty:
                continue
            self._dirty = False
            with self._swap:
                try:
                    os.fdatasync(self._fd)
                except OSError as error:
                    self._failed(f"cannot fsync {self.directory}: {error}")
                    return


@dataclass(frozen=True, slots=True)
class Frame:
    kind: bytes
    body: bytes
    end: int
    """Offset just past this frame: where reading resumes."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Frames read from one segment, and why reading stopped."""

    frames: list[Frame]
    end: int
    stop: str
    """`more` (a limit was hit), `tail` (no complete frame yet), or `torn` (a bad frame)."""


def read_frames(path: Path, offset: int, *, max_bytes: int, max_frames: int) -> Chunk:
    """Complete frames from `offset`, up to about `max_bytes` and `max_frames` of them."""
    with path.open("rb", buffering=1 << 20) as file:
        if offset == 0:
            magic = file.read(len(MAGIC))
            if magic != MAGIC:
                return Chunk([], 0, "tail" if MAGIC.startswith(magic) else "torn")
            offset = len(MAGIC)
        file.seek(offset)
        frames: list[Frame] = []
        pos, total = offset, 0
        while len(frames) < max_frames and total < max_bytes:
            head = file.read(FRAME.size)
            if len(head) < FRAME.size:
                return Chunk(frames, pos, "tail")
            length, crc = FRAME.unpack(head)
            if length == 0:
                return Chunk(frames, pos, "tail")
            payload = file.read(length)
            if len(payload) < length:
                return Chunk(frames, pos, "tail")
            if zlib.crc32(payload) != crc:
                return Chunk(frames, pos, "torn")
            pos += FRAME.size + length
            total += length
            frames.append(Frame(payload[:1], payload[1:], pos))
        return Chunk(frames, pos, "more")


@dataclass(frozen=True, slots=True)
class Run:
    """One proxy run's segments in the journal folder."""

    directory: Path
    name: str
    segments: list[str]

    @property
    def lock_path(self) -> Path:
        return self.directory / f"{self.name}.lock"


def runs(directory: Path) -> list[Run]:
    """The runs in a journal folder, oldest first, each with its segments in order."""
    found: dict[str, list[tuple[int, str]]] = {}
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        match = _SEGMENT.match(name)
        if match:
            found.setdefault(match["run"], []).append((int(match["seq"]), name))
        elif name.endswith(".lock") and not name.startswith("."):
            found.setdefault(name[: -len(".lock")], [])
    return [
        Run(directory, run, [n for _, n in sorted(segs)]) for run, segs in sorted(found.items())
    ]


def run_named(directory: Path, name: str) -> Run:
    """One run with the segments it has now."""
    for run in runs(directory):
        if run.name == name:
            return run
    return Run(directory, name, [])


def hold(run: Run, *, exclusive: bool) -> int | None:
    """Lock a run's lock file (shared: I follow my own run; exclusive: it is abandoned).

    Returns the descriptor that holds the lock, or None when a live process holds it.
    """
    try:
        fd = os.open(run.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def abandoned(directory: Path, *, skip: str | None = None) -> Iterator[tuple[Run, int]]:
    """Runs no live process holds (but `skip`), each with the descriptor of its exclusive
    lock: the caller removes the run (`remove_run`) or closes the descriptor."""
    for run in runs(directory):
        if run.name == skip:
            continue
        fd = hold(run, exclusive=True)
        if fd is not None:
            yield run, fd


def remove_run(run: Run, lock_fd: int) -> None:
    """Delete a run that is stored in full: its segments, then its lock file."""
    for name in run.segments:
        (run.directory / name).unlink(missing_ok=True)
    run.lock_path.unlink(missing_ok=True)
    os.close(lock_fd)
    try:
        run.directory.rmdir()  # only when nothing else is left in it
    except OSError:
        pass


def pending_bytes(run: Run, segment: str, position: int) -> int:
    """Bytes of the journal after `position` in `segment` (allocated, not only written)."""
    total, seen = 0, False
    for name in run.segments:
        if name == segment:
            seen = True
        if not seen:
            continue
        try:
            size = (run.directory / name).stat().st_size
        except FileNotFoundError:
            continue
        total += max(0, size - position) if name == segment else size
    return total


def iter_segments(run: Run, start: str | None) -> Iterator[str]:
    """The run's segments from `start` on (all of them when None)."""
    seen = start is None
    for name in run.segments:
        seen = seen or name == start
        if seen:
            yield name
