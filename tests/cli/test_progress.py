"""Long operations draw a progress bar on a terminal, and nothing at all into pipes."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.cli.test_database import RECORDING, hubscope
from tests.servers import HUBSCOPE, REPO


def on_a_terminal(*args: str) -> tuple[int, str, str]:
    """Run `hubscope ARGS` with stderr on a pseudo-terminal; (status, stdout, terminal text)."""
    leader, follower = pty.openpty()
    with tempfile.TemporaryFile() as stdout:
        try:
            proc = subprocess.Popen(
                [*HUBSCOPE, *args],
                cwd=REPO,
                stdout=stdout,
                stderr=follower,
                env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
            )
            os.close(follower)
            shown = b""
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed: the process is done with it
                    break
                if not chunk:
                    break
                shown += chunk
            proc.wait(timeout=60)
        finally:
            os.close(leader)
        stdout.seek(0)
        out = stdout.read()
    return proc.returncode, out.decode(), shown.decode(errors="replace")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "hubscope.db"
    assert hubscope("import", str(RECORDING), "--db", str(path)).returncode == 0
    return path


@pytest.mark.parametrize(
    ("args", "label"),
    [
        (("audit", "--fail-on", "never"), "auditing hubscope.db"),
        (("decode",), "re-decoding hubscope.db"),
        (("import", str(RECORDING)), "importing into hubscope.db"),
    ],
    ids=["audit", "decode", "import"],
)
def test_a_bar_on_a_terminal_and_none_in_a_pipe(
    db: Path, args: tuple[str, ...], label: str
) -> None:
    command = [args[0], *args[1:], "--db", str(db)]
    status, out, terminal = on_a_terminal(*command)
    assert status == 0, terminal
    assert label in terminal
    piped = hubscope(*command)
    assert piped.returncode == 0
    assert piped.stderr == ""
    numbered = re.compile(r"-\d+$", re.MULTILINE)  # a second import gets a new session name
    assert numbered.sub("", piped.stdout) == numbered.sub("", out)
