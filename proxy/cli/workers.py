"""`hubscope proxy --workers N`: N proxy processes on one port, so the proxy can use every core.

Each worker is the same `hubscope proxy` command, started again with `HUBSCOPE_WORKER`
set: it listens with SO_REUSEPORT (the kernel spreads new connections over the
workers) and records through its own capture-journal run and writer process into the
same store and session. The parent only starts them, passes SIGINT/SIGTERM on, and
stops them all when one fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

import click

WORKER_ENV = "HUBSCOPE_WORKER"
"""Set in a worker's environment to its number (0 … N-1); worker 0 prints the banner."""


def worker_index() -> int | None:
    """This process's worker number, or None when it is not one of several workers."""
    value = os.environ.get(WORKER_ENV)
    return int(value) if value and value.isdigit() else None


def worker_argv(argv: Sequence[str], session: str) -> list[str]:
    """The command line of one worker: the parent's, with one worker and a fixed session."""
    return [sys.executable, "-m", "proxy", *argv, "--workers", "1", "--session", session]


def run_workers(count: int, argv: Sequence[str], session: str) -> int:
    """Start `count` workers and wait for them; the first non-zero exit code, or 0."""
    procs: list[subprocess.Popen[bytes]] = []
    passed_on: set[int] = set()

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        passed_on.add(signum)
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signum)

    def failed(proc: subprocess.Popen[bytes]) -> bool:
        # A worker still starting when the stop signal came dies of it before its own
        # handler is installed: it had answered nothing, so that is an orderly stop.
        return proc.returncode not in (None, 0) and -proc.returncode not in passed_on

    previous = {sig: signal.signal(sig, pass_on) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for index in range(count):
            env = {**os.environ, WORKER_ENV: str(index)}
            procs.append(subprocess.Popen(worker_argv(argv, session), env=env))
        click.echo(
            f"hubscope proxy: {count} worker processes on one port (SO_REUSEPORT), "
            f"pids {', '.join(str(p.pid) for p in procs)}",
            err=True,
        )
        code = 0
        while any(proc.poll() is None for proc in procs):
            for proc in procs:
                if failed(proc) and code == 0:
                    code = proc.returncode or 1
                    pass_on(signal.SIGTERM, None)  # one failed: stop the others
            time.sleep(0.2)
        return code or next((p.returncode for p in procs if failed(p)), 0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
