"""Real servers on 127.0.0.1 for tests: start on a free port, wait until they answer, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

from proxy import serve
from proxy.capture.app import make_app
from proxy.capture.settings import ProxySettings

REPO = Path(__file__).resolve().parents[1]
HUBSCOPE = [sys.executable, "-m", "proxy"]
STARTUP = 60.0
"""Seconds a spawned server may take to answer: `make test` runs 4 pytest workers on 2
cores, and there a Python process has taken over 15 s just to import and listen."""


_HANDED_OUT: deque[int] = deque(maxlen=256)


def _xdist_share() -> tuple[int, int]:
    """This pytest-xdist worker's index and the number of workers ((0, 1) when serial)."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return (int(name.removeprefix("gw")) if name.startswith("gw") else 0), max(workers, 1)


def free_port() -> int:
    """A port nothing listens on, for a server the test starts next (often as a process).

    The port is free only until someone binds it, so two callers must never be handed the
    same one: this process never hands a port out twice in a row of 256, and under
    pytest-xdist each worker takes only ports of its own share (`port // 2` modulo the
    workers: Linux gives bind() odd ports and connect() even ones, so the share is taken
    on the halved number to keep both kinds in every share).
    """
    index, workers = _xdist_share()
    for _ in range(1000):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if (port // 2) % workers == index and port not in _HANDED_OUT:
            _HANDED_OUT.append(port)
            return port
    raise RuntimeError("no free port of this worker's share in 1000 tries")


async def start_app(app: serve.App) -> serve.Running:
    return await serve.start(app, serve.Listen("127.0.0.1", 0))


async def start_proxy(upstream: str, db: Path | None, **options: object) -> serve.Running:
    settings = ProxySettings(
        upstream=upstream, db=db, session=str(options.pop("session", "test")), **options
    )  # type: ignore[arg-type]
    return await start_app(make_app(settings))


async def start_forward_proxy(db: Path | None, **options: object) -> serve.Running:
    """`hubscope proxy --forward` in this loop (CONNECT understood), on a free port."""
    from proxy.capture import connect

    settings = ProxySettings(
        upstream="forward proxy",
        db=db,
        session=str(options.pop("session", "test")),
        forward=True,
        **options,  # type: ignore[arg-type]
    )
    return await connect.start(make_app(settings), serve.Listen("127.0.0.1", 0))


async def spawn_hubscope(
    *args: str, stdout: Any = asyncio.subprocess.PIPE, **options: Any
) -> asyncio.subprocess.Process:
    """`hubscope ARGS` as a real process, stderr folded into stdout."""
    return await asyncio.create_subprocess_exec(
        *HUBSCOPE, *args, cwd=REPO, stdout=stdout, stderr=asyncio.subprocess.STDOUT, **options
    )


async def wait_for_port(port: int, proc: asyncio.subprocess.Process) -> None:
    """Wait until a spawned server accepts connections; fail if it exits first."""
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"hubscope exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {STARTUP:.0f} s")


def wait_until_responds(
    url: str, *, timeout: float = STARTUP, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll `url` until any HTTP answer comes back (datasette's conftest helper)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        try:
            urlopen(url, timeout=1).close()
            return
        except URLError as error:
            if getattr(error, "code", None):
                return
            time.sleep(0.05)
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@contextmanager
def hubscope_process(
    args: Sequence[str], *, url: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `hubscope ARGS` as a real process; always stopped (SIGTERM, then SIGKILL)."""
    proc = subprocess.Popen(
        [*HUBSCOPE, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    try:
        wait_until_responds(url, proc=proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()
