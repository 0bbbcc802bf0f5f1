"""The writer process yields the CPU to the proxy: it and its workers run at a lower priority."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proxy.recording import writer_process
from proxy.recording.writer_process import NICE, NICE_ENV, ProcessRecorder

ROOT = Path(__file__).resolve().parents[2]

WRITER_AND_WORKER = """
import os
from proxy.recording.prepare import PreparePool
from proxy.recording.writer_process import lower_priority
if __name__ == "__main__":
    lower_priority()
    pool = PreparePool(workers=1)
    print(os.nice(0), pool.executor().submit(os.nice, 0).result(), flush=True)
    pool.close()
"""


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _run(tmp_path: Path, nice: str | None) -> list[int]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER_AND_WORKER)
    env = {k: v for k, v in os.environ.items() if k != NICE_ENV}
    if nice is not None:
        env[NICE_ENV] = nice
    out = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return [int(n) for n in out.stdout.split()]


def test_the_writer_and_its_row_building_workers_run_at_a_lower_priority(tmp_path: Path) -> None:
    here = os.nice(0)
    lowered = min(19, here + NICE)
    assert _run(tmp_path, None) == [lowered, lowered], "the worker inherits the writer's"
    assert _run(tmp_path, "3") == [min(19, here + 3)] * 2
    assert _run(tmp_path, "0") == [here, here], "0 keeps the proxy's priority"


def test_the_proxy_s_writer_process_is_started_lowered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(NICE_ENV, raising=False)
    recorder = ProcessRecorder(tmp_path / "n.db", session="s")
    recorder.start()
    try:
        lowered = min(19, os.nice(0) + writer_process.NICE)
        deadline = time.monotonic() + 60
        while _niceness(recorder.writer_pid) != lowered and time.monotonic() < deadline:
            time.sleep(0.05)  # the spawned writer lowers itself as it starts
        assert _niceness(recorder.writer_pid) == lowered
    finally:
        recorder.close()
